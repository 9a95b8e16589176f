"""The API frame: operations recorded for OpenAPI, JSON bodies, filters, cursor pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from lifecycle.bounds import parse_day, parse_int
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.listing import BEFORE_MEANS, FROM_MEANS, RANGE_BEFORE, RANGE_FROM
from lifecycle.web.paging import id_page, parse_limit

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass
class QueryParam:
    name: str
    kind: type  # int | str | date | bool | an Enum class
    description: str = ""
    column: str = ""  # the field it compares (default: its name)
    compare: str = "eq"  # "eq" | "from" (>=) | "before" (<)
    deprecated: bool = False  # an old name kept working; OpenAPI says so
    required: bool = False  # the operation refuses to run without it (422)
    # names one record the answer is about, not a filter: one the caller may not see
    # is a 404, as in a path
    names_record: bool = False


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    query: list[QueryParam] = field(default_factory=list)
    public: bool = False
    # only some roles may call it (the others get a 403): set by `operation` from the
    # view's require_roles
    role_gated: bool = False
    # how the request body comes: JSON, or a form with a file (an upload)
    content: str = "application/json"

    @property
    def path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []


def operation(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    response: type[BaseModel] | None = None,
    request: type[BaseModel] | None = None,
    many: bool = False,
    status: int = 200,
    query: list[QueryParam] | None = None,
    public: bool = False,
    content: str = "application/json",
) -> Callable[[F], F]:
    """Register a view on the API blueprint and describe it for the OpenAPI document."""

    def decorator(view: F) -> F:
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        OPERATIONS.append(
            Operation(
                rule=bp.url_prefix + rule,  # type: ignore[operator]
                method=method.lower(),
                endpoint=f"api.{endpoint}",
                summary=summary,
                tag=tag,
                response=response,
                request=request,
                many=many,
                status=status,
                query=query or [],
                public=public,
                role_gated=getattr(view, "allowed_roles", None) is not None,
                content=content,
            )
        )
        if public:
            view.public = True  # type: ignore[attr-defined]
        return view

    return decorator


def json_body(
    model: type[BaseModel] | None = None, *, read_only: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The request's JSON object, or a 422 that says what is wrong with it.

    With the request's model, a field it does not have is refused rather than
    silently dropped: a misspelt field must not look like a successful save. Fields
    in `read_only` (name → the value the API shows) may be sent back unchanged, as a
    client that PATCHes what it read does; they are dropped, and a changed one is
    refused.
    """
    if not request.is_json:
        raise ValidationFailed(
            {"body": "send a JSON object with Content-Type: application/json"}
        )
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        # json.loads recurses per level: a body nested a few thousand deep exhausts
        # the stack before any validation could refuse it
        raise ValidationFailed({"body": "is nested too deeply"}) from exc
    if data is None:
        raise ValidationFailed({"body": "is not valid JSON"})
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "must be a JSON object"})
    read_only = read_only or {}
    errors: dict[str, str] = {}
    for name in list(data):
        if name in read_only:
            if data.pop(name) != read_only[name]:
                errors[name] = "is read-only"
        elif model is not None and name not in model.model_fields:
            errors[name] = "is not a field this request accepts"
    if errors:
        raise ValidationFailed(errors)
    return data


def body_as(
    model: type[M],
    resource: type[BaseModel] | None = None,
    current: Any | None = None,
    **known: Any,
) -> M:
    """The request's JSON object validated as `model` (422 with field messages).

    With the `resource` the API answers, its other fields may be sent back unchanged
    (see `read_only_fields` for `current` and `known`)."""
    read_only = (
        read_only_fields(resource, model, current, **known) if resource else None
    )
    return validate(model, json_body(model, read_only=read_only))


def read_only_fields(
    resource: type[BaseModel],
    writable: type[BaseModel],
    current: Any | None = None,
    **known: Any,
) -> dict[str, Any]:
    """The fields of `resource` a request cannot set, with the values the API shows
    for `current` (None for a record being created, unless given in `known`)."""
    shown = dump(resource, current) if current is not None else {}
    return {
        name: known.get(name, shown.get(name))
        for name in resource.model_fields
        if name not in writable.model_fields
    }


def dump(model: type[BaseModel], obj: Any, **extra: Any) -> dict[str, Any]:
    data = model.model_validate(obj, from_attributes=True).model_dump(mode="json")
    data.update(extra)
    return data


def stale(
    session: Session, obj: Any, resource: type[BaseModel], exc: Conflict
) -> Conflict:
    """A write's 409 with the record as it is now, as the API shows it (`resource`)."""
    session.rollback()
    session.refresh(obj)
    return Conflict(
        exc.message,
        extra={"current_version": obj.version, "current": dump(resource, obj)},
    )


def one(model: type[BaseModel], obj: Any, status: int = 200) -> Response:
    response = jsonify(dump(model, obj))
    response.status_code = status
    return response


def enum_value(name: str, enum: type[Enum], raw: Any) -> Any:
    """A filter value as a member of its enum, or a 422 that lists the choices."""
    try:
        return enum(raw)
    except ValueError as exc:
        choices = ", ".join(str(m.value) for m in enum)
        raise ValidationFailed({name: f"must be one of: {choices}"}) from exc


def _parse(param: QueryParam, raw: str) -> Any:
    if isinstance(param.kind, type) and issubclass(param.kind, Enum):
        return enum_value(param.name, param.kind, raw)
    try:
        if param.kind is int:
            return parse_int(raw)
        if param.kind is date:
            return parse_day(raw)
        if param.kind is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError("must be true or false")
            return raw.lower() in ("true", "1")
    except ValueError as exc:
        raise ValidationFailed({param.name: str(exc)}) from exc
    return raw


def date_range(
    name: str, what: str | None = None, *, old: tuple[str, ...] = ()
) -> list[QueryParam]:
    """The `<name>_from` and `<name>_before` filters of a date field, as on the pages
    (web.listing: inclusive from, exclusive before), and the names that filtered it
    before that convention: `<name>_after` and `<old>_before` / `<old>_after` keep
    the meaning they had (after: on or after; before: strictly before)."""
    what = what or name
    params = [
        QueryParam(name + RANGE_FROM, date, f"{what} {FROM_MEANS}", name, "from"),
        QueryParam(name + RANGE_BEFORE, date, f"{what} {BEFORE_MEANS}", name, "before"),
    ]
    for short in (name, *old):
        for suffix, compare, same in (
            ("_before", "before", name + RANGE_BEFORE),
            ("_after", "from", name + RANGE_FROM),
        ):
            if short + suffix not in {p.name for p in params}:
                params.append(
                    QueryParam(
                        short + suffix,
                        date,
                        f"deprecated: the same as {same}",
                        name,
                        compare,
                        deprecated=True,
                    )
                )
    return params


PAGING_PARAMS = [
    QueryParam("limit", int, "page size, 1–500 (default 50)"),
    QueryParam("cursor", str, "the next_cursor of the previous page"),
]


def filters(params: list[QueryParam], *, paged: bool = True) -> dict[str, Any]:
    """Parse the declared filters; an unknown query parameter is a 422, not silently
    ignored, and so is a missing required one. Lists (`paged`) also take limit and
    cursor."""
    allowed = {p.name: p for p in [*params, *(PAGING_PARAMS if paged else [])]}
    unknown = [name for name in request.args if name not in allowed]
    if unknown:
        what = "a filter of this list" if paged else "a parameter of this operation"
        raise ValidationFailed({name: f"is not {what}" for name in unknown})
    missing = [p.name for p in params if p.required and not request.args.get(p.name)]
    if missing:
        raise ValidationFailed({name: "is required" for name in missing})
    return {
        name: _parse(allowed[name], raw)
        for name, raw in request.args.items()
        if name not in ("limit", "cursor") and raw != ""
    }


def apply_filters(
    stmt: Select[Any], model: type, values: dict[str, Any], params: list[QueryParam]
) -> Select[Any]:
    """The parsed filters as WHERE clauses: equality, or a date range's edge."""
    declared = {p.name: p for p in params}
    for name, value in values.items():
        param = declared[name]
        column = col(getattr(model, param.column or name))
        if param.compare == "from":
            stmt = stmt.where(column >= value)
        elif param.compare == "before":
            stmt = stmt.where(column < value)
        else:
            stmt = stmt.where(column == value)
    return stmt


def page(
    session: Session,
    stmt: Select[Any],
    model: type,
    read: type[BaseModel],
    params: list[QueryParam],
) -> Response:
    """A list response: {"items": [...], "next_cursor": ...}, ordered by id."""
    stmt = apply_filters(stmt, model, filters(params), params)
    return items_page(session, stmt, model, read)


def items_page(
    session: Session,
    stmt: Select[Any],
    model: type,
    read: type[BaseModel],
    *,
    present: Callable[[Session, list[Any]], list[dict[str, Any]]] | None = None,
) -> Response:
    """One cursor page of `stmt` in id order, as {"items": [...], "next_cursor": ...}.

    `present` shows a page's rows when `read` alone cannot (it may query once for
    the whole page, never once per row)."""
    result = id_page(
        session,
        stmt,
        col(model.id),  # type: ignore[attr-defined]
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    return jsonify(
        {
            "items": (
                present(session, result.items)
                if present is not None
                else [dump(read, row) for row in result.items]
            ),
            "next_cursor": result.next_cursor,
        }
    )
