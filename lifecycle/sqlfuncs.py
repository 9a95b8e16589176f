"""Date and money arithmetic in SQL that behaves the same on PostgreSQL and SQLite.

Set-based scans compute dates in the database. Month arithmetic must match python-dateutil's
relativedelta (31 Jan + 1 month = 28/29 Feb, clamped to the month's last day): PostgreSQL's
interval arithmetic does that; SQLite's date() modifiers overflow into the next month, so
there we clamp explicitly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

FAR_FUTURE = date(9999, 12, 31)


# Date arithmetic gives NULL, not an error or a date Python cannot read, when the
# result leaves years 1–9999: a row stored with a far-off date (before input dates
# were bounded) must not break the scan or a page that reads what the scan wrote.
# Each wrapper names its argument once, so the date is computed once.
def _in_calendar_pg(expr: str) -> str:
    after, before = "DATE '10000-01-01'", "DATE '0001-12-31 BC'"
    clamped = f"GREATEST(LEAST({expr}, {after}), {before})"
    return f"NULLIF(NULLIF({clamped}, {after}), {before})"


def _in_calendar_sqlite(expr: str) -> str:
    # date() is NULL past 9999 and writes '-0001-…' before year 0, which sorts first
    return f"nullif(max({expr}, '0000-12-31'), '0000-12-31')"


class add_months(FunctionElement[Any]):
    """date + N months, clamped to the end of the month (relativedelta semantics)."""

    type = sa.Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = list(element.clauses)
    return _in_calendar_pg(
        f"CAST({compiler.process(day, **kw)} + make_interval(months => "
        f"CAST({compiler.process(months, **kw)} AS INTEGER)) AS DATE)"
    )


@compiles(add_months, "sqlite")
def _add_months_sqlite(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    first = f"date({day}, 'start of month', '+' || ({months}) || ' months')"
    same_day = (
        f"date({first}, '+' || (CAST(strftime('%d', {day}) AS INTEGER) - 1) || ' days')"
    )
    month_end = f"date({first}, '+1 months', '-1 days')"
    return _in_calendar_sqlite(f"min({same_day}, {month_end})")


class month_start(FunctionElement[Any]):
    """The first day of a date's month (NULL stays NULL)."""

    type = sa.Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start, "postgresql")
def _month_start_pg(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = element.clauses
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = element.clauses
    return f"date({compiler.process(day, **kw)}, 'start of month')"


class add_days(FunctionElement[Any]):
    """date + N days (N may be negative)."""

    type = sa.Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = list(element.clauses)
    return _in_calendar_pg(
        f"CAST({compiler.process(day, **kw)} + "
        f"CAST({compiler.process(days, **kw)} AS INTEGER) AS DATE)"
    )


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return _in_calendar_sqlite(f"date({day}, ({days}) || ' days')")


class earliest(FunctionElement[Any]):
    """The earliest non-NULL date, or NULL when all are NULL, on every dialect.

    Each argument is evaluated once (a CASE ladder would repeat them, and with them
    any correlated subqueries they hold)."""

    type = sa.Date()
    inherit_cache = True
    name = "earliest"


@compiles(earliest, "postgresql")
def _earliest_pg(element: earliest, compiler: SQLCompiler, **kw: Any) -> str:
    # LEAST ignores NULLs and is NULL only when every argument is
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(earliest, "sqlite")
def _earliest_sqlite(element: earliest, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's multi-argument min() is NULL if any argument is: stand in a far date
    # (one argument would make min() the aggregate: the date itself is the answer)
    if len(element.clauses) == 1:
        return str(compiler.process(element.clauses, **kw))
    far = compiler.process(sa.literal(FAR_FUTURE, sa.Date()), **kw)
    args = ", ".join(
        f"coalesce({compiler.process(c, **kw)}, {far})" for c in element.clauses
    )
    return f"nullif(min({args}), {far})"


class compounded(FunctionElement[Any]):
    """base ** terms for a whole number of terms ≥ 0: growth compounded term by term
    (the escalator of any number of terms ahead, docs/rules.md#contract-prices-and-the-term-history).
    """

    type = sa.Numeric(30, 16)
    inherit_cache = True
    name = "compounded"


@compiles(compounded, "postgresql")
def _compounded_pg(element: compounded, compiler: SQLCompiler, **kw: Any) -> str:
    # numeric ** integer is exact multiplication in PostgreSQL, not exp(ln(x)·n)
    base, terms = (compiler.process(c, **kw) for c in element.clauses)
    return f"power(CAST({base} AS numeric), CAST({terms} AS integer))"


@compiles(compounded, "sqlite")
def _compounded_sqlite(element: compounded, compiler: SQLCompiler, **kw: Any) -> str:
    base, terms = (compiler.process(c, **kw) for c in element.clauses)
    return f"{SQLITE_POWER}({base}, {terms})"


# SQLite has pow() only when built with its math functions: db.make_engine registers
# this one on every SQLite connection instead.
SQLITE_POWER = "lc_compounded"


def sqlite_compounded(base: float | int | None, terms: int | None) -> float | None:
    if base is None or terms is None:
        return None
    return float(base) ** int(terms)


S = TypeVar("S", bound=Session)
T = TypeVar("T")
_BUILT: dict[tuple[str, str], Any] = {}


def built_once(session: S, name: str, build: Callable[[S], T]) -> T:
    """A statement (or list of them) built once per process and database dialect.

    The nightly scan runs the same few dozen statements for every district; building
    them anew each time cost as much as running them. Whatever differs between runs
    must be a bind parameter of the built statement, given at execution.
    """
    key = (session.get_bind().dialect.name, name)
    if key not in _BUILT:
        _BUILT[key] = build(session)
    found: T = _BUILT[key]
    return found


def rowcount(result: Any, conn: Session | Connection | None = None) -> int:
    """Rows written by a statement run with execution_options(preserve_rowcount=True).

    Python's sqlite3 reports -1 for a statement that starts with WITH; changes(), asked
    on the same session or connection (`conn`), knows.
    """
    count = int(result.rowcount)
    if count < 0 and conn is not None:
        bind = conn if isinstance(conn, Connection) else conn.get_bind()
        if bind.dialect.name == "sqlite":
            count = int(conn.execute(sa.text("SELECT changes()")).scalar_one())
    return count


def upsert_insert(session: Session, model: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's database (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


def insert_ignore(session: Session, model: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a row that already exists is left alone."""
    return upsert_insert(session, model).on_conflict_do_nothing()


def ids_param(
    session: Session, name: str, ids: Sequence[int] | None = None
) -> sa.BindParameter[Any]:
    """A list of ids as ONE bound parameter, however many: an integer array on
    PostgreSQL, JSON text on SQLite. Without `ids` (a statement built once), give its
    value at execution with `ids_value`."""
    postgres = session.get_bind().dialect.name == "postgresql"
    return sa.bindparam(
        name,
        None if ids is None else ids_value(session, ids),
        type_=postgresql.ARRAY(sa.Integer) if postgres else sa.String(),
        unique=ids is not None,
        required=ids is None,
    )


def ids_value(session: Session, ids: Sequence[int]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return list(ids)
    return json.dumps(list(ids))


def in_ids(
    session: Session, column: Any, param: sa.BindParameter[Any]
) -> sa.ColumnElement[bool]:
    """`column IN` the ids of an `ids_param`."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(param)  # type: ignore[no-any-return]
    values = sa.func.json_each(param).table_valued("value")
    return column.in_(sa.select(values.c.value))  # type: ignore[no-any-return]


def ids_in(session: Session, column: Any, ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """`column IN ids` as ONE bound parameter, however many ids."""
    return in_ids(session, column, ids_param(session, "run_ids", ids))


def among(column: Any, values: Iterable[str]) -> sa.ColumnElement[bool]:
    """`column IN ('a', 'b')` with the constants written into the statement.

    A list given to `in_` becomes an "expanding" parameter that SQLAlchemy rewrites on
    every execution; for the fixed lists of a statement built once (states, statuses:
    our own enum values, never user input) that is work for nothing.
    """
    literals = []
    for text in sorted(str(value) for value in values):  # the same SQL every run
        if "'" in text or "\\" in text:
            raise ValueError(f"not a plain constant: {text!r}")
        literals.append(sa.literal_column(f"'{text}'", sa.String()))
    return column.in_(literals)  # type: ignore[no-any-return]


def in_cents(column: Any) -> sa.ColumnElement[int]:
    """A money column as whole cents, so SUM adds exactly on SQLite too (its NUMERIC
    sums are floating point); divide the total by 100 as a Decimal."""
    return sa.cast(sa.func.round(column * 100), sa.Integer)
