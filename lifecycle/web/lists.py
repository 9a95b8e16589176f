"""Lists every feature's pages share: parse the query (bad filters are shown, not
raised) → one keyset page → the whole page, or for htmx only its result blocks; the CSV
download of the same filter; bulk actions from a POST form of checkboxes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, flash, request

from lifecycle.auth import get_user
from lifecycle.bounds import parse_id
from lifecycle.db import get_session
from lifecycle.web import listing
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.htmx import is_fragment, redirect_to, render

RowKey = Callable[[Any], tuple[Any, int]]
# The regions an htmx list request replaces: the results, and out of band the count
# and the filter summary.
RESULT_BLOCKS = ["results", "count_oob", "summary_oob"]


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
    action = request.form.get("action", "")
    value = request.form.get("value") or request.form.get(f"value_{action}")
    try:
        ids = _bulk_ids(request.form.getlist("ids"))
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


def _bulk_ids(raw: list[str]) -> list[int]:
    """The checked rows' ids; one that no row can have refuses the whole action (the
    checkboxes only ever send ids, so it is a hand-made request, not a slip)."""
    try:
        return [parse_id(i) for i in raw]
    except ValueError as exc:
        raise ValidationFailed(
            {"ids": "the selection holds an id that is not a record of this list"},
            "Nothing was changed:",
        ) from exc
