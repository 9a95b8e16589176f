"""Forms every feature's pages share: a form saved with 422 (field messages) or 409
(what the record holds now) re-renders; a click-to-edit field likewise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, flash, request

from lifecycle.bounds import parse_int
from lifecycle.db import get_session
from lifecycle.web.errors import Conflict, NotFound, ValidationFailed
from lifecycle.web.forms import refuse_unknown
from lifecycle.web.htmx import is_fragment, redirect_to
from lifecycle.web.records import record_key

T = TypeVar("T")
# A form page: (record or None, values, *, errors=, status=, conflict=) -> Response.
FormView = Callable[..., Response]


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
    raw = request.form.get("version", "")
    if not raw.strip():
        raise ValidationFailed({"version": "is required"})
    try:
        return parse_int(raw)
    except ValueError as exc:
        raise ValidationFailed({"version": str(exc)}) from exc


def form_values(obj: Any) -> dict[str, Any]:
    """A record as form values: enums by value, lists comma-separated, None blank."""
    out: dict[str, Any] = {}
    for key, value in obj.model_dump().items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out[key] = "" if value is None else getattr(value, "value", value)
    return out


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

    The editor sends its one field: another is refused (422), as every form does.

    On a stale version the editor keeps what the user typed and carries the current
    version, and the message shows what the record holds now. With `page_url`, a save
    without htmx goes back to the detail page.
    """
    session = get_session()
    raw = request.form.get(name, "").strip()
    value = raw if name in text_fields else (raw or None)
    try:
        refuse_unknown(request.form.keys(), (name,))
    except ValidationFailed as exc:
        error = f"was not saved: this form does not accept {', '.join(exc.fields)}"
        return show(obj, name, editing=True, status=422, value=raw, error=error)
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
    response = show(obj, name, editing=False)
    # the page's other forms for this record carry the version it had: move them on
    version = obj.version  # type: ignore[attr-defined]  # every edited record is Versioned
    response.headers["HX-Trigger"] = json.dumps(
        {"lifecycle:version": {"of": record_key(obj), "version": version}}
    )
    return response
