"""One shape for every list page and export: filters, sorting, keyset pages, CSV.

A `ListSpec` names the filters a list accepts and the columns it can sort on. Pages use
keyset pagination on (sort column, id), so page 500 costs what page 1 costs; the count
runs as its own indexed query. Exports stream the same filtered query as CSV in batches,
with no row cap.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import sqlalchemy as sa
from flask import Response
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from lifecycle.bounds import is_id, out_of_range, parse_amount, parse_day, parse_int
from lifecycle.db import get_db
from lifecycle.models.base import StrEnumType
from lifecycle.spreadsheet import csv_cell
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.paging import decode_cursor, encode_cursor

# Any SELECT, whatever its columns (SQLAlchemy 2.1 types selects by their column tuple).
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Filter:
    """A query-string filter: its parameter, value type and the WHERE it produces."""

    name: str
    label: str
    kind: type = str  # str | int | date | Decimal | an Enum class
    where: Callable[[Any], ColumnElement[bool]] | None = None
    column: Any = None  # for plain equality filters
    choices: tuple[str, ...] = ()  # the only values a text filter takes, if given
    # the value in force when the request names none (not shown as a chosen filter)
    default: str | None = None

    def parse(self, raw: str) -> Any:
        raw = raw.strip()
        if self.choices and raw not in self.choices:
            raise ValidationFailed(
                {self.name: "must be one of: " + ", ".join(self.choices)}
            )
        try:
            if self.kind is int:
                return parse_int(raw)
            if self.kind is date:
                return parse_day(raw)
        except ValueError as exc:
            raise ValidationFailed({self.name: str(exc)}) from exc
        try:
            if self.kind is Decimal:
                return parse_amount(raw)
            if isinstance(self.kind, type) and issubclass(self.kind, Enum):
                return self.kind(raw)
        except ValueError as exc:
            raise ValidationFailed({self.name: self._problem()}) from exc
        return raw

    def _problem(self) -> str:
        if self.kind is Decimal:
            return "must be a number"
        if isinstance(self.kind, type) and issubclass(self.kind, Enum):
            return "must be one of: " + ", ".join(str(m.value) for m in self.kind)
        return "is not valid"

    def clause(self, value: Any) -> ColumnElement[bool]:
        if self.where is not None:
            return self.where(value)
        assert self.column is not None, f"filter {self.name} needs where or column"
        return self.column == value  # type: ignore[no-any-return]


# Every date range, on the pages and in the API alike, is a pair of filters named after
# the field: `<field>_from` keeps dates on or after its value (inclusive) and
# `<field>_before` dates strictly before it (exclusive). Consecutive ranges then neither
# overlap nor leave a gap: a fiscal year is `due_date_from=2026-07-01` and
# `due_date_before=2027-07-01`.
RANGE_FROM = "_from"
RANGE_BEFORE = "_before"
FROM_MEANS = "on or after this date (inclusive)"
BEFORE_MEANS = "strictly before this date (exclusive)"


def date_range(name: str, label: str, column: Any) -> list[Filter]:
    """The `<name>_from` and `<name>_before` filters of a date column (see above)."""
    return [
        Filter(name + RANGE_FROM, f"{label} from", date, where=lambda v: column >= v),
        Filter(
            name + RANGE_BEFORE, f"{label} before", date, where=lambda v: column < v
        ),
    ]


@dataclass(frozen=True)
class SortKey:
    name: str
    label: str
    column: Any
    nullable: bool = False
    # the sort value of a result row, when it is not an attribute of the row's first
    # entity (an expression such as lower(name), selected into the row)
    value_of: Callable[[Any], Any] | None = None


@dataclass
class ListSpec:
    filters: list[Filter]
    sorts: list[SortKey]
    default_sort: str
    id_column: Any
    search: Callable[[str], ColumnElement[bool]] | None = None
    page_size: int | None = None  # None: the configured LIFECYCLE_PAGE_SIZE

    def sort_key(self, raw: str | None) -> tuple[SortKey, bool]:
        """The sort column and whether it is descending ("-name" sorts descending)."""
        raw = raw or self.default_sort
        descending = raw.startswith("-")
        name = raw.lstrip("-")
        for key in self.sorts:
            if key.name == name:
                return key, descending
        raise ValidationFailed({"sort": "is not a column this list can sort on"})


@dataclass
class ListQuery:
    """A parsed list request: search text, filter values, sort and cursor."""

    q: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    sort: str = ""
    cursor: str | None = None
    raw: dict[str, str] = field(default_factory=dict)

    def args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments of this view (for links), with changes applied."""
        out = {k: v for k, v in self.raw.items() if v}
        if self.q:
            out["q"] = self.q
        if self.sort:
            out["sort"] = self.sort
        for key, value in changes.items():
            if value in (None, ""):
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out


def contains(text: str) -> str:
    """An ILIKE pattern (escape character \\) for `text` anywhere, % and _ literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def parse_query(spec: ListSpec, args: Mapping[str, str]) -> ListQuery:
    """Read search, filters, sort and cursor; collect every bad value before failing."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for flt in spec.filters:
        text = (args.get(flt.name) or "").strip()
        if not text:
            if flt.default is not None:
                values[flt.name] = flt.parse(flt.default)
            continue
        raw[flt.name] = text
        try:
            values[flt.name] = flt.parse(text)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    sort = args.get("sort") or ""
    try:
        spec.sort_key(sort)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors, "Some filters are not valid.")
    return ListQuery(
        q=(args.get("q") or "").strip()[:200],
        values=values,
        sort=sort,
        cursor=args.get("cursor") or None,
        raw=raw,
    )


def filtered(spec: ListSpec, stmt: AnySelect, query: ListQuery) -> AnySelect:
    for flt in spec.filters:
        if flt.name in query.values:
            stmt = stmt.where(flt.clause(query.values[flt.name]))
    if query.q and spec.search is not None:
        stmt = stmt.where(spec.search(query.q))
    return stmt


def ordered(spec: ListSpec, stmt: AnySelect, query: ListQuery) -> AnySelect:
    """The filtered query in the list's order (for exports)."""
    key, descending = spec.sort_key(query.sort)
    order = key.column.desc() if descending else key.column.asc()
    if key.nullable:
        order = order.nulls_last()
    return filtered(spec, stmt, query).order_by(order, spec.id_column.asc())


def count(session: Session, stmt: AnySelect) -> int:
    # maintain_column_froms: an unfiltered SELECT of one table must still count FROM it
    # (without, "SELECT count(*)" has no FROM and answers 1).
    counted = (
        stmt.with_only_columns(sa.func.count(), maintain_column_froms=True)
        .order_by(None)
        .limit(None)
        .offset(None)
    )
    return int(session.execute(counted).scalar_one())


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    return value


def _sort_value(column: Any, value: Any) -> Any:
    """A cursor's sort value as the column compares it (ValueError if it cannot be one:
    page() writes dates and amounts as text, whole numbers as numbers)."""
    kind = column.type
    try:
        python_type = kind.python_type
    except NotImplementedError:
        python_type = object
    if isinstance(value, bool | list | dict):
        raise ValueError("not a sort value")
    if isinstance(kind, StrEnumType):
        if not isinstance(value, str):
            raise ValueError("not a member")
        return kind.enum_cls(value)
    if python_type is int:
        if not isinstance(value, int) or out_of_range(value):
            raise ValueError("not a whole number in range")
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("not a UTC timestamp")
        return moment
    if python_type is Decimal:
        return parse_amount(value)
    value.encode()  # a lone surrogate is no text a database can compare
    return value


def _after(
    key: SortKey, descending: bool, id_col: Any, last: list[Any]
) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (sort value, id) order, NULL values last."""
    value, last_id = last
    # A cursor comes back from the client: anything but what page() wrote is a 422,
    # never a database error.
    if not is_id(last_id) or (value is None and not key.nullable):
        raise ValidationFailed({"cursor": "is not a cursor this list gave out"})
    col = key.column
    if value is None:
        # The cursor is inside the trailing NULLs: only NULLs with a larger id follow.
        return sa.and_(col.is_(None), id_col > last_id)
    try:
        value = _sort_value(col, value)
    except (ValueError, InvalidOperation) as exc:
        raise ValidationFailed(
            {"cursor": "is not a cursor this list gave out"}
        ) from exc
    beyond = col < value if descending else col > value
    tie = sa.and_(col == value, id_col > last_id)
    if not key.nullable:
        return sa.or_(beyond, tie)
    return sa.or_(beyond, tie, col.is_(None))


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None
    total: int
    sort: str
    descending: bool


def _configured_page_size() -> int:
    from lifecycle import get_settings

    return get_settings().page_size


def page(
    session: Session,
    spec: ListSpec,
    stmt: AnySelect,
    query: ListQuery,
    *,
    limit: int | None = None,
    with_total: bool = True,
    row_key: Callable[[Any], tuple[Any, int]] | None = None,
) -> Page:
    """One keyset page of a filtered list, and the total count of the filter."""
    limit = limit or spec.page_size or _configured_page_size()
    key, descending = spec.sort_key(query.sort)
    stmt = filtered(spec, stmt, query)
    total = count(session, stmt) if with_total else -1
    last = decode_cursor(query.cursor)
    if last is not None:
        if len(last) != 2:
            raise ValidationFailed({"cursor": "is not a cursor this list gave out"})
        stmt = stmt.where(_after(key, descending, spec.id_column, last))
    order = key.column.desc() if descending else key.column.asc()
    if key.nullable:
        order = order.nulls_last()
    stmt = stmt.order_by(order, spec.id_column.asc()).limit(limit + 1)
    rows = list(session.execute(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        sort_value, row_id = (row_key or _default_row_key(key))(rows[-1])
        next_cursor = encode_cursor([_json_value(sort_value), row_id])
    return Page(
        rows=rows,
        next_cursor=next_cursor,
        total=total,
        sort=key.name,
        descending=descending,
    )


def _default_row_key(key: SortKey) -> Callable[[Any], tuple[Any, int]]:
    def row_key(row: Any) -> tuple[Any, int]:
        obj = row[0]
        if key.value_of is not None:
            return key.value_of(row), obj.id
        return getattr(obj, key.column.key), obj.id

    return row_key


def stream_csv(
    session: Session,
    stmt: AnySelect,
    header: list[str],
    to_row: Callable[[Any], Iterable[Any]],
    *,
    batch: int = 2000,
) -> Iterator[str]:
    """CSV text in chunks, reading the query in batches (no row cap, bounded memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    result = session.execute(stmt.execution_options(yield_per=batch))
    for partition in result.partitions():
        for row in partition:
            writer.writerow(["" if v is None else csv_cell(v) for v in to_row(row)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    stmt: AnySelect,
    header: list[str],
    to_row: Callable[[Any], Iterable[Any]],
    *,
    filename: str,
) -> Response:
    """A streamed CSV download of `stmt` (already scoped and ordered).

    The rows are read by a session of their own, closed when the response is, so the
    stream needs no request context (`stream_with_context` re-pushes the request's
    app context, which breaks when a test already pushed one).
    """
    session = get_db().session()

    def rows() -> Iterator[str]:
        try:
            yield from stream_csv(session, stmt, header, to_row)
        finally:
            # Done (or the client went away): end the read transaction now, so no
            # connection sits idle in it until the response object is closed.
            session.close()

    response = Response(
        rows(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    response.call_on_close(session.close)
    return response
