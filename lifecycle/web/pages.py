"""The view mechanics every feature's pages share, so each feature has one shape.

A list: parse the query (bad filters are shown, not raised) → one keyset page → the
whole page, or for htmx only its result blocks. The CSV download of the same filter.
A form saved with 422 (field messages) or 409 (what the record holds now) re-renders;
a click-to-edit field likewise; bulk actions from a POST form of checkboxes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from flask import Response, flash, request

from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.models import User
from lifecycle.web import listing
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lifecycle.web.htmx import is_fragment, redirect_to, render

T = TypeVar("T")
RowKey = Callable[[Any], tuple[Any, int]]
# A form page: (record or None, values, *, errors=, status=, conflict=) -> Response.
FormView = Callable[..., Response]
# The regions an htmx list request replaces: the results, and out of band the count
# and the filter summary.
RESULT_BLOCKS = ["results", "count_oob", "summary_oob"]


def is_district_it(user: User) -> bool:
    """District IT staff are the ones who change a district's inventory and schools."""
    return Role(user.role) is Role.DISTRICT_IT


def require_district_it(user: User, what: str) -> None:
    if not is_district_it(user):
        raise Forbidden(f"Only district IT staff can change {what}.")


# --- lists ----------------------------------------------------------------------------


def parse_list(
    spec: listing.ListSpec, args: Mapping[str, str] | None = None
) -> tuple[listing.ListQuery, dict[str, str]]:
    """The list request, or an empty one and the problems (shown with a 422)."""
    try:
        return listing.parse_query(spec, request.args if args is None else args), {}
    except ValidationFailed as exc:
        return listing.ListQuery(), exc.fields


def key_by_sort(
    spec: listing.ListSpec, key_for: Callable[[str], RowKey]
) -> Callable[[listing.ListQuery], RowKey]:
    """The cursor key of a list's rows, chosen by the column the query sorts on."""
    return lambda query: key_for(spec.sort_key(query.sort)[0].name)


def load_list(
    spec: listing.ListSpec,
    stmt: listing.AnySelect,
    *,
    row_key: Callable[[listing.ListQuery], RowKey | None] | None = None,
    recover: bool = False,
) -> tuple[listing.ListQuery, listing.Page, dict[str, str]]:
    """The parsed query, its page and any problems with the request.

    With `recover`, a cursor the page refuses is shown as a problem too, above the
    unfiltered list; without, it is the error page.
    """
    session = get_session()
    query, errors = parse_list(spec)
    key = row_key(query) if row_key else None
    try:
        return query, listing.page(session, spec, stmt, query, row_key=key), errors
    except ValidationFailed as exc:
        if not recover:
            raise
        query = listing.ListQuery()
        key = row_key(query) if row_key else None
        return query, listing.page(session, spec, stmt, query, row_key=key), exc.fields


def render_list(
    template: str,
    *,
    errors: Mapping[str, str],
    blocks: list[str] | None = None,
    status: int = 200,
    fragment: Mapping[str, Any] | None = None,
    full: Callable[[], Mapping[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """The list page, or (htmx) its result blocks; 422 when the request had problems.

    The template gets `errors` and `context`; `fragment` is context only the blocks get; `full` is called for what only the
    whole page needs (filter choices), so a fragment does not query for it.
    """
    status = 422 if errors else status
    context["errors"] = errors
    if is_fragment():
        context.update(fragment or {})
        return render(template, blocks or RESULT_BLOCKS, status=status, **context)
    if full is not None:
        context.update(full())
    return render(template, status=status, **context)


def export_csv(
    spec: listing.ListSpec,
    stmt: listing.AnySelect,
    header: list[str],
    row: Callable[[Any], Iterable[Any]],
    name: str,
    *,
    day: date | None = None,
) -> Response:
    """The list's current filter and order as a streamed CSV file, with no row cap."""
    query = listing.parse_query(spec, request.args)
    ordered = listing.ordered(spec, stmt, query)
    day = day or datetime.now(UTC).date()
    filename = f"{name}-{day.isoformat()}.csv"
    return listing.csv_response(ordered, header, row, filename=filename)


# --- forms ----------------------------------------------------------------------------


def done(message: str, url: str) -> Response:
    """Say what was done and go to `url` (an htmx request navigates there)."""
    flash(message, "success")
    return redirect_to(url)


def submit(
    apply: Callable[[], T],
    *,
    form: FormView,
    record: Any,
    then: Callable[[T], Response],
    reload: Callable[[], Any] | None = None,
) -> Response:
    """Run a create or update and commit it, or re-render the form with its entries.

    Invalid input answers 422 with the field messages; a stale version (only when
    `reload` is given) 409 with the record as it is now and what it holds.
    """
    session = get_session()
    values = request.form.to_dict()
    try:
        result = apply()
    except ValidationFailed as exc:
        session.rollback()
        return form(record, values, errors=exc.fields, status=422)
    except Conflict as exc:
        if reload is None:
            raise
        session.rollback()
        current = exc.extra.get("current", {})
        return form(reload(), values, status=409, conflict=current)
    session.commit()
    return then(result)


def form_version() -> int:
    """The version the form was opened at (required by writes that check it)."""
    try:
        return int(request.form.get("version", ""))
    except ValueError as exc:
        raise ValidationFailed({"version": "is required"}) from exc


def form_values(obj: Any) -> dict[str, Any]:
    """A record as form values: enums by value, lists comma-separated, None blank."""
    out: dict[str, Any] = {}
    for key, value in obj.model_dump().items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out[key] = "" if value is None else getattr(value, "value", value)
    return out


# --- click-to-edit --------------------------------------------------------------------


def inline_field(field: str, allowed: tuple[str, ...]) -> str:
    """A field the detail page edits in place, or 404."""
    if field not in allowed:
        raise NotFound("That field cannot be edited here.")
    return field


def first_problem(exc: ValidationFailed, name: str) -> str:
    """The field's own message, else the first one given, else the general one."""
    return exc.fields.get(name) or next(iter(exc.fields.values()), exc.message)


def save_field(
    obj: T,
    name: str,
    *,
    update: Callable[[T, dict[str, Any]], Any],
    show: Callable[..., Response],
    reload: Callable[[], T],
    text_fields: tuple[str, ...],
    explain: Callable[[ValidationFailed, str], str] = first_problem,
    page_url: str | None = None,
) -> Response:
    """Click-to-edit save: 422 keeps the editor and says why; 409 shows the value.

    On a stale version the editor keeps what the user typed and carries the current
    version, and the message shows what the record holds now. With `page_url`, a save
    without htmx goes back to the detail page.
    """
    session = get_session()
    raw = request.form.get(name, "").strip()
    value = raw if name in text_fields else (raw or None)
    try:
        update(obj, {"version": request.form.get("version"), name: value})
    except ValidationFailed as exc:
        session.rollback()
        error = explain(exc, name)
        return show(obj, name, editing=True, status=422, value=raw, error=error)
    except Conflict:
        session.rollback()
        return show(reload(), name, editing=True, status=409, conflict=True, value=raw)
    session.commit()
    if page_url is not None and not is_fragment():
        return redirect_to(page_url)
    return show(obj, name, editing=False)


# --- bulk actions ---------------------------------------------------------------------


def run_bulk(
    action_fn: Callable[..., int],
    verbs: Mapping[str, str],
    noun: str,
    *,
    back: Callable[[], str],
    unchanged: str | None = None,
) -> Response:
    """A bulk action from a POST form of checkboxes; back to the list it came from.

    The caller checks the role. `unchanged`, when given, is said (as information)
    instead of "0 …" when nothing needed the change.
    """
    user = get_user()
    session = get_session()
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    action = request.form.get("action", "")
    value = request.form.get("value") or request.form.get(f"value_{action}")
    try:
        changed = action_fn(session, user=user, ids=ids, action=action, value=value)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
        return redirect_to(back())
    session.commit()
    if changed or unchanged is None:
        what = noun if changed == 1 else f"{noun}s"
        flash(f"{changed} {what} {verbs[action]}.", "success")
    else:
        flash(unchanged, "info")
    return redirect_to(back())


def same_site_referrer(home: str) -> str:
    """The page the form was posted from when it is ours, else `home`."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else home
