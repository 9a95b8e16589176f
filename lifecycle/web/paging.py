"""Keyset pagination: an opaque cursor holding the last row's sort key and id."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from lifecycle.bounds import is_id, parse_int
from lifecycle.web.errors import ValidationFailed

T = TypeVar("T")
MAX_LIMIT = 500


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise ValidationFailed({"cursor": "is not a cursor this API gave out"}) from exc
    if not isinstance(values, list) or not values:
        raise ValidationFailed({"cursor": "is not a cursor this API gave out"})
    return values


def parse_limit(raw: str | None, default: int = 50) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = parse_int(raw)
    except ValueError as exc:
        raise ValidationFailed({"limit": str(exc)}) from exc
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"must be between 1 and {MAX_LIMIT}"})
    return value


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def id_page(
    session: Session,
    stmt: Select[Any],
    id_column: ColumnElement[Any] | Mapped[Any],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[Any]:
    """Page through rows ordered by id, fetching one extra row to know if more follow."""
    after = decode_cursor(cursor)
    if after is not None:
        last = after[0]
        if len(after) != 1 or not is_id(last):
            raise ValidationFailed({"cursor": "is not a cursor this API gave out"})
        stmt = stmt.where(id_column < last if descending else id_column > last)
    stmt = stmt.order_by(id_column.desc() if descending else id_column.asc()).limit(
        limit + 1
    )
    rows = list(session.exec(stmt).all())  # type: ignore[call-overload]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].id]) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)
