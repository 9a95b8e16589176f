"""Turn submitted HTML forms into the same validated models the JSON API uses."""

from __future__ import annotations

import types
import typing
from collections.abc import Collection, Iterable
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from lifecycle.web.errors import ValidationFailed, field_errors

M = TypeVar("M", bound=BaseModel)
# Sent by our forms besides what they save: the CSRF token, and the version the record
# was opened at (checked by the write itself; a create form sends none).
FORM_MECHANICS = frozenset({"csrf_token", "version"})


def refuse_unknown(names: Iterable[str], accepted: Collection[str]) -> None:
    """A field the form does not take is a 422 naming it, as the API answers: a
    misspelt or forged field (a `district_id` on a device) must not look saved."""
    unknown = [n for n in names if n not in accepted and n not in FORM_MECHANICS]
    if unknown:
        raise ValidationFailed(
            {
                name: "is not a field this form accepts"
                for name in dict.fromkeys(unknown)
            }
        )


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(
            _is_list(a) for a in typing.get_args(annotation) if a is not type(None)
        )
    return origin is list


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return bool in typing.get_args(annotation)
    return False


def form_data(
    model: type[BaseModel],
    form: MultiDict[str, str],
    *,
    checkboxes: bool = True,
    exclude: Collection[str] = (),
) -> dict[str, Any]:
    """The model's fields from a form: blanks become "not given", lists split on commas.

    Unchecked checkboxes send nothing, so with `checkboxes` a missing bool field is False.
    A field the model lacks, or one in `exclude` (the model's fields the page decides
    itself), is refused with a 422 naming it.
    """
    fields = {n: i for n, i in model.model_fields.items() if n not in exclude}
    refuse_unknown(form.keys(), fields)
    data: dict[str, Any] = {}
    for name, info in fields.items():
        if _is_bool(info.annotation):
            if name in form:
                data[name] = form.get(name) not in ("", "0", "false", "off")
            elif checkboxes:
                data[name] = False
            continue
        if name not in form:
            continue
        raw = form.get(name, "")
        if "password" not in name:  # spaces may be part of a password
            raw = raw.strip()
        if _is_list(info.annotation):
            if raw:
                parts = raw.replace(";", ",").split(",")
                data[name] = [p.strip() for p in parts if p.strip()]
            elif not info.is_required() and info.default is None:
                data[name] = None  # blank means "none" where the field allows it
            continue
        if raw == "":
            if info.is_required():
                data[name] = raw  # let validation say "is required"
            elif info.default is None:
                data[name] = None
            continue
        data[name] = raw
    return data


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate or raise ValidationFailed with one message per field (a 422)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from exc


def parse_form(model: type[M], form: MultiDict[str, str], **kwargs: Any) -> M:
    return validate(model, form_data(model, form, **kwargs))


def blanks_clear(form: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """An emptied optional text field clears it (form_data reads blank as not given)."""
    for name in names:
        if name in request.form and not request.form[name].strip():
            form[name] = ""
    return form
