"""The term rules of licenses and service contracts as SQL expressions
(docs/rules.md#terms-and-renewal-dates).

What the scan's set-based statements share (agreements/advance.py, decisions.py,
scan/obligations.py), each the SQL twin of a rule in agreements/rules.py, and the term
lines a forecast reads; tests/agreements/test_rules_sql.py holds SQL and rules to the
same worked cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import Agreement, License, ServiceContract, TermRecord
from lifecycle.money import CENT
from lifecycle.scan.binds import DISTRICT
from lifecycle.sqlfuncs import (
    add_days,
    add_months,
    built_once,
    compounded,
    ids_param,
    ids_value,
    in_ids,
)

SUBJECTS: dict[str, type[Agreement]] = {"license": License, "contract": ServiceContract}


def term_end_expr(model: type[Agreement], n: Any) -> sa.ColumnElement[Any]:
    """End of term n: start + (initial + (n−1)·renewal) months − 1 day."""
    months = col(model.initial_term_months) + (n - 1) * col(model.renewal_term_months)
    return add_days(add_months(col(model.term_start), months), -1)


def price_expr(model: type[Agreement]) -> Any:
    """The price of the current term: seats × price per seat, or the contract's cost."""
    if model is License:
        return col(License.seats) * col(License.price_per_seat)
    return col(ServiceContract.cost_per_period)


def decide_by_of(model: type[Agreement], term: Any) -> sa.ColumnElement[Any]:
    """The decide-by date of a decision about term `term`.

    Tacit: the term's end − notice days; express: its end; no term (NULL, as a `none`
    agreement has): NULL. `term` appears once in the expression, so an expensive one
    is evaluated once."""
    notice = sa.case(
        (col(model.renewal_type) == RenewalType.TACIT, col(model.notice_days)), else_=0
    )
    return add_days(term_end_expr(model, term), -notice)


def decide_by_expr(model: type[Agreement]) -> sa.ColumnElement[Any]:
    """The decide-by date of the stored decision term."""
    return decide_by_of(model, col(model.decision_term_number))


def term_start_expr(model: type[Agreement], n: Any) -> sa.ColumnElement[Any]:
    """Start of term n: the original start, or start + (initial + (n−2)·renewal) months."""
    months = sa.case(
        (n == 1, 0),
        else_=col(model.initial_term_months) + (n - 2) * col(model.renewal_term_months),
    )
    return add_months(col(model.term_start), months)


# ---------------------------------------------------------------------------
# Term prices (rules.term_prices)

MONEY = sa.Numeric(14, 2)
UNTIL = sa.bindparam("p_until", type_=sa.Date())


def priced_terms(
    model: type[Agreement],
    subject_type: str,
    *,
    where: list[sa.ColumnElement[bool]],
    name: str,
    until: Any,
) -> sa.CTE:
    """The agreements `where` selects, each with its terms from the current one to the
    last starting on or before `until` (a date) and their prices (rules.term_prices):
    columns id, k (the term number), price, seats, recorded (1 when the price is
    known rather than projected: today's term, or one on record).

    Only an active agreement that renews has terms after the current one. A term on
    record keeps its recorded price and seats; any other costs the last final price
    (today's, or the record before it) compounded over the terms since, at full
    precision and rounded once, however many terms ahead.
    """
    is_license = model is License
    renews = sa.and_(
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.renewal_type) != RenewalType.NONE,
    )
    seats = col(License.seats) if is_license else sa.null()
    pct = sa.literal(0) if is_license else col(ServiceContract.escalator_pct)
    n = col(model.current_term_number)
    today_price = sa.cast(price_expr(model), MONEY)
    carried: dict[str, Any] = {
        "id": col(model.id),
        "k": n,
        "price": today_price,
        "seats": sa.cast(seats, sa.Integer()),
        "base": today_price,  # the last final price …
        "since": n,  # … and its term
        "pct": sa.cast(pct, sa.Numeric(5, 2)),
        "renews": sa.case((renews, 1), else_=0),
        "recorded": sa.literal(1),  # today's price is known
        "term_start": col(model.term_start),
        "initial": col(model.initial_term_months),
        "renewal": col(model.renewal_term_months),
    }
    anchor = sa.select(*[expr.label(key) for key, expr in carried.items()]).where(
        *where
    )
    terms = anchor.cte(name, recursive=True)
    before = terms.alias(f"{name}_before")
    record = sa.inspect(TermRecord).local_table.alias(f"{name}_record")
    nxt = before.c.k + 1
    on_record = sa.and_(
        record.c.subject_type == subject_type,
        record.c.subject_id == before.c.id,
        record.c.term_number == nxt,
    )
    on_file = record.c.price.is_not(None)
    base = sa.cast(sa.func.coalesce(record.c.price, before.c.base), MONEY)
    since = sa.case((on_file, nxt), else_=before.c.since)
    if is_license:
        price: Any = base
    else:
        growth = 1 + before.c.pct / 100
        price = sa.case(
            (on_file, base),
            else_=to_cents(before.c.base * compounded(growth, nxt - before.c.since)),
        )
    step: dict[str, Any] = {
        **{key: before.c[key] for key in carried},
        "k": nxt,
        "price": sa.cast(price, MONEY),
        "seats": sa.func.coalesce(record.c.seats, before.c.seats),
        "base": base,
        "since": since,
        "recorded": sa.case((on_file, 1), else_=0),
    }
    months = before.c.initial + (before.c.k - 1) * before.c.renewal
    following = (
        sa.select(*[expr.label(key) for key, expr in step.items()])
        .select_from(before.outerjoin(record, on_record))
        .where(before.c.renews == 1, add_months(before.c.term_start, months) <= until)
    )
    return terms.union_all(following)


def to_cents(expr: Any) -> sa.ColumnElement[Any]:
    """An amount rounded half-up to the cent, as a money column holds it."""
    return sa.cast(sa.func.round(expr, 2), MONEY)


@dataclass(frozen=True, slots=True)
class TermLine:
    """One term of a license or contract, what it costs, and whether the district is
    already committed to it (the current term, a tacit term whose notice date has
    passed, an express term renewed ahead) or it is still open (it follows an open
    decision: it is paid only if the agreement renews)."""

    subject_type: str
    subject_id: int
    number: int
    start: date
    end: date
    price: Decimal
    seats: int | None
    committed: bool
    recorded: bool = False  # the price is known, not projected
    district_id: int = 0


def _term_lines_select(
    session: Session, subject_type: str, by_ids: bool, many: bool = False
) -> sa.Select[Any]:
    model = SUBJECTS[subject_type]
    n = col(model.current_term_number)
    district = (
        in_ids(session, col(model.district_id), ids_param(session, "p_districts"))
        if many
        else col(model.district_id) == DISTRICT
    )
    where = [district, n.is_not(None)]
    if by_ids:
        where.append(in_ids(session, col(model.id), ids_param(session, "p_ids")))
    priced = priced_terms(
        model, subject_type, where=where, name=f"{subject_type}_lines", until=UNTIL
    )
    k = priced.c.k
    decided = sa.func.coalesce(col(model.decision_term_number), n)
    columns: dict[str, Any] = {
        "subject_type": sa.literal(subject_type),
        "subject_id": priced.c.id,
        "district_id": col(model.district_id),
        "number": k,
        "start": term_start_expr(model, k),
        "end": term_end_expr(model, k),
        "price": priced.c.price,
        "seats": priced.c.seats,
        "recorded": priced.c.recorded,
        "committed": sa.case((sa.or_(k == n, k <= decided), True), else_=False),
    }
    return (
        sa.select(*[expr.label(key) for key, expr in columns.items()])
        .select_from(priced)
        .join(model, col(model.id) == priced.c.id)
        .where(term_start_expr(model, k) <= UNTIL)
    )


def term_lines(
    session: Session,
    *,
    district_id: int | None = None,
    until: date,
    subject_type: str | None = None,
    ids: list[int] | None = None,
    district_ids: list[int] | None = None,
) -> list[TermLine]:
    """Every term of a district's licenses and contracts (or those of one kind, or some
    ids of it) from the current term to the last one starting by `until`, priced and
    marked committed or open, in one statement (what a multi-year forecast needs).
    `district_ids` instead of `district_id`: the terms of several districts in the
    same statement (each line names its district).

    From the stored term fields, which the scan and every edit keep current.
    """
    if ids is not None and subject_type is None:
        raise ValueError("ids name records of one kind: give subject_type too")
    if (district_id is None) == (district_ids is None):
        raise ValueError("name one district (district_id) or several (district_ids)")
    many = district_ids is not None
    kinds = [subject_type] if subject_type else list(SUBJECTS)
    name = (
        f"term lines {kinds} {'by ids' if ids is not None else 'all'}"
        f"{' of districts' if many else ''}"
    )

    def build(session: Session) -> Any:
        selects = [
            _term_lines_select(session, kind, ids is not None, many) for kind in kinds
        ]
        lines = sa.union_all(*selects).subquery("lines")
        return sa.select(lines).order_by(
            lines.c.subject_type, lines.c.subject_id, lines.c.number
        )

    stmt = built_once(session, name, build)
    params: dict[str, Any] = {"p_until": until}
    if district_ids is not None:
        params["p_districts"] = ids_value(session, district_ids)
    else:
        params["p_district_id"] = district_id
    if ids is not None:
        params["p_ids"] = ids_value(session, ids)
    session.flush()  # the lines read the stored term fields: pending edits first
    rows = session.connection().execute(stmt, params).mappings()
    return [
        TermLine(
            subject_type=row["subject_type"],
            subject_id=int(row["subject_id"]),
            number=int(row["number"]),
            start=row["start"],
            end=row["end"],
            price=Decimal(row["price"]).quantize(CENT),
            seats=row["seats"],
            committed=bool(row["committed"]),
            recorded=bool(row["recorded"]),
            district_id=int(row["district_id"]),
        )
        for row in rows
    ]
