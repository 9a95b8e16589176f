"""Date arithmetic in SQL that behaves the same on PostgreSQL and SQLite.

Set-based scans compute dates in the database. Month arithmetic must match python-dateutil's
relativedelta (31 Jan + 1 month = 28/29 Feb, clamped to the month's last day): PostgreSQL's
interval arithmetic does that; SQLite's date() modifiers overflow into the next month, so
there we clamp explicitly.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

FAR_FUTURE = date(9999, 12, 31)


class add_months(FunctionElement[Any]):  # noqa: N801  (reads like SQL)
    """date + N months, clamped to the end of the month (relativedelta semantics)."""

    type = sa.Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = list(element.clauses)
    return (
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
    return f"min({same_day}, {month_end})"


class add_days(FunctionElement[Any]):  # noqa: N801
    """date + N days (N may be negative)."""

    type = sa.Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"CAST({compiler.process(day, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER) AS DATE)"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({day}, ({days}) || ' days')"


def earliest(*dates: Any) -> ColumnElement[Any]:
    """The earliest non-NULL date, or NULL when all are NULL, on every dialect."""
    far = sa.literal(FAR_FUTURE, sa.Date())
    coalesced = [sa.func.coalesce(d, far) for d in dates]
    smallest: ColumnElement[Any] = coalesced[0]
    for other in coalesced[1:]:
        smallest = sa.case((other < smallest, other), else_=smallest)
    return sa.func.nullif(smallest, far)


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE/INSERT (a CursorResult's rowcount)."""
    return int(result.rowcount)
