"""The scan's set-based term bookkeeping for licenses and service contracts (docs/rules.md#terms-and-renewal-dates).

Each night the scan moves tacit agreements whose term ended into their next term (from the
ORIGINAL start, never chained), records the new term's price in the term history, lapses
express agreements nobody renewed, ends `none` agreements, and keeps the stored decide-by
date on the decision that is still open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.agreements.decisions import (
    DecisionTerm,
    decide_by_stale,
    decide_by_update,
    decision_term,
    recorded_through,
    start_term,
)
from lifecycle.agreements.sql import (
    MONEY,
    SUBJECTS,
    decide_by_of,
    price_expr,
    term_end_expr,
)
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import Agreement, License, ServiceContract, TermRecord
from lifecycle.scan.binds import DISTRICT, NOW, TODAY, scan_params
from lifecycle.sqlfuncs import add_days, built_once, insert_ignore, rowcount

# Rounds of a catching-up step: a safety bound, never reached in practice (a notice
# stepped a term at a time over a century of monthly terms).
MAX_CATCH_UP = 1200


@dataclass
class AgreementChanges:
    initialised: int = 0
    renewed: int = 0  # moves into a later term (several tacit terms at once: one move)
    lapsed: int = 0
    ended: int = 0
    # writes that moved an open decision (its term and decide-by date), besides those
    # of `initialised`, which set it in the same write
    decide_by_moved: int = 0


def _uninitialised(model: type[Agreement]) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(model.district_id) == DISTRICT, col(model.current_term_number).is_(None)
    )


def _term_ended(model: type[Agreement]) -> sa.ColumnElement[bool]:
    """An active agreement whose current term is over: renewed, lapsed or ended next."""
    return sa.and_(
        col(model.district_id) == DISTRICT,
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.current_term_end) < TODAY,
    )


def _initialise(model: type[Agreement], subject_type: str) -> Any:
    """Agreements loaded without derived columns start at the last term on record that has
    begun (or term 1); terms renewed ahead are entered when they begin.

    An active agreement whose term has not ended gets its open decision in the same
    write (what `DecisionTerm.reset` would give it next): a first scan writes each such
    row once, not once per step. One whose term ended is caught up first; the decision
    steps give it its decision afterwards.
    """
    # n and the highest term on record once per agreement (the SET clause refers to n
    # many times); each a probe of the term history's unique index
    on_record = (
        sa.select(
            col(model.id).label("id"),
            sa.func.coalesce(
                recorded_through(model, subject_type, started_by=TODAY), 1
            ).label("n"),
            sa.func.coalesce(recorded_through(model, subject_type), 0).label(
                "recorded"
            ),
        )
        .where(_uninitialised(model))
        .cte("on_record")
        .prefix_with("MATERIALIZED", dialect="postgresql")  # not inlined into SET
    )
    n = on_record.c.n
    end = term_end_expr(model, n)
    live = sa.and_(col(model.status) == AgreementStatus.ACTIVE, end >= TODAY)
    decision = start_term(model, n, on_record.c.recorded)
    return (
        sa.update(model)
        # the district's rows on both sides: the planner joins two small sets
        .where(_uninitialised(model), col(model.id) == on_record.c.id)
        .values(
            current_term_number=n,
            current_term_start=sa.case(
                (n == 1, col(model.term_start)),
                else_=add_days(term_end_expr(model, n - 1), 1),
            ),
            current_term_end=end,
            decision_term_number=sa.case(
                (live, decision), else_=col(model.decision_term_number)
            ),
            decide_by=sa.case(
                (live, decide_by_of(model, decision)), else_=col(model.decide_by)
            ),
        )
        .add_cte(on_record)
        .execution_options(synchronize_session=False)
    )


# A NUMERIC 1 (SQLite: a float) so that a price over seats never divides as integers.
ONE = sa.literal(Decimal(1), sa.Numeric(2, 0))
TACIT_STEP = 12  # terms a round can enter: a year of monthly terms


def _tacit_renewal(
    session: Session, model: type[Agreement], subject_type: str
) -> list[Any]:
    """Record the terms tacit agreements renewed into since their term ended (up to
    TACIT_STEP of them) in the history, then move each into the last of them; the
    caller repeats the pair until none moves.

    Term n + j follows while term n + j − 1 ended before today. As renewing one term
    at a time would: each term's end comes from the ORIGINAL start, the first one
    starts the day after the stored end, and a contract's price is escalated and
    rounded to the cent term by term.
    """
    due = sa.and_(_term_ended(model), col(model.renewal_type) == RenewalType.TACIT)
    n = col(model.current_term_number)
    steps = sa.union_all(
        *[
            sa.select(sa.literal_column(str(j)).label("j"))
            for j in range(1, TACIT_STEP + 1)
        ]
    ).subquery("steps")
    j = steps.c.j
    missed = sa.or_(j == 1, term_end_expr(model, n + j - 1) < TODAY)

    def start_of(k: Any) -> sa.ColumnElement[Any]:  # of term n + k
        return sa.case(
            (k == 1, add_days(col(model.current_term_end), 1)),
            else_=add_days(term_end_expr(model, n + k - 1), 1),
        )

    def price_of(k: Any) -> Any:  # of term n + k: each the one before, rounded
        if model is not ServiceContract:
            return price_expr(model)
        factor = 1 + col(ServiceContract.escalator_pct) / 100
        price: Any = col(ServiceContract.cost_per_period)
        prices = {}
        for step in range(1, TACIT_STEP + 1):
            price = sa.func.round(price * factor, 2)
            prices[step] = price
        return sa.case(prices, value=k)

    # named columns: INSERT … SELECT pairs them by position, so build both from one map
    recorded: dict[str, Any] = {
        "district_id": col(model.district_id),
        "subject_type": sa.literal(subject_type),
        "subject_id": col(model.id),
        "term_number": n + j,
        "start": start_of(j),
        "end": term_end_expr(model, n + j),
        "price": price_of(j),
        "seats": col(License.seats) if model is License else sa.null(),
        "recorded_at": NOW,
    }
    history = (
        sa.select(*[expr.label(name) for name, expr in recorded.items()])
        .select_from(model)
        .join(steps, missed)
        .where(due)
    )
    taken = (
        sa.select(col(model.id).label("id"), n.label("n"), sa.func.max(j).label("m"))
        .select_from(model)
        .join(steps, missed)
        .where(due)
        .group_by(col(model.id), n)
        .cte(f"tacit_{subject_type}_steps")
        .prefix_with("MATERIALIZED", dialect="postgresql")  # not inlined into SET
    )
    m = taken.c.m
    values: dict[str, Any] = {
        "current_term_number": n + m,
        "current_term_start": start_of(m),
        "current_term_end": term_end_expr(model, n + m),
        "version": col(model.version) + m,  # as one write per term would
    }
    if model is ServiceContract:
        values["cost_per_period"] = price_of(m)
    return [
        insert_ignore(session, TermRecord).from_select(list(recorded), history),
        sa.update(model)
        # the district's rows on both sides: the planner joins two small sets; a row
        # another scan moved meanwhile is left to it (m was counted from the term the
        # row was in when this statement began)
        .where(due, col(model.id) == taken.c.id, n == taken.c.n)
        .values(**values)
        .add_cte(taken)
        # a row whose new term has ended too is still behind: another round
        .returning(col(model.current_term_end))
        .execution_options(synchronize_session=False),
    ]


def _recorded(subject_type: str, number: Any, field: str) -> Any:
    """A field of the term on record with this number, of the agreement being updated."""
    model = SUBJECTS[subject_type]
    return (
        sa.select(getattr(TermRecord, field))
        .where(
            col(TermRecord.subject_type) == subject_type,
            col(TermRecord.subject_id) == col(model.id),
            col(TermRecord.term_number) == number,
        )
        .scalar_subquery()
    )


def _enter_renewed_express(model: type[Agreement], subject_type: str) -> Any:
    """Move express agreements whose term ended into the next term someone renewed.

    An express renewal is recorded in the term history ahead of time; only a term with
    no recorded successor lapses.
    """
    n = col(model.current_term_number)
    recorded_next = (
        sa.select(col(TermRecord.id))
        .where(
            col(TermRecord.subject_type) == subject_type,
            col(TermRecord.subject_id) == col(model.id),
            col(TermRecord.term_number) == n + 1,
        )
        .exists()
    )
    due = sa.and_(
        _term_ended(model),
        col(model.renewal_type) == RenewalType.EXPRESS,
        recorded_next,
    )
    values: dict[str, Any] = {
        "current_term_number": n + 1,
        "current_term_start": add_days(col(model.current_term_end), 1),
        "current_term_end": term_end_expr(model, n + 1),
        "version": col(model.version) + 1,
    }
    # what it costs now is the renewed term's price (terms.enter_recorded)
    price = _recorded(subject_type, n + 1, "price")
    if model is ServiceContract:
        values["cost_per_period"] = price
    else:
        seats = _recorded(subject_type, n + 1, "seats")
        values["seats"] = sa.func.coalesce(seats, col(License.seats))
        values["price_per_seat"] = sa.case(
            (seats > 0, sa.cast(sa.func.round(price * ONE / seats, 2), MONEY)),
            else_=col(License.price_per_seat),
        )
    return (
        sa.update(model)
        .where(due)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _close(model: type[Agreement]) -> list[Any]:
    """Express terms nobody renewed lapse; `none` agreements end with their term."""
    return [
        sa.update(model)
        .where(_term_ended(model), col(model.renewal_type) == kind)
        .values(status=status, version=col(model.version) + 1)
        .execution_options(synchronize_session=False)
        for kind, status in (
            (RenewalType.EXPRESS, AgreementStatus.LAPSED),
            (RenewalType.NONE, AgreementStatus.ENDED),
        )
    ]


def _work_to_do(model: type[Agreement], decision: DecisionTerm) -> Any:
    """One read of the district's agreements: which groups of steps have anything to do.

    On most nights nothing has, and this read stands for all the steps' statements."""
    terms = sa.or_(_uninitialised(model), _term_ended(model))
    return sa.select(
        *[
            sa.func.count().filter(where)
            for where in (
                terms,
                sa.or_(decision.reset, decision.step),
                decide_by_stale(model),
            )
        ]
    ).where(col(model.district_id) == DISTRICT)


@dataclass(frozen=True)
class _Statements:
    """One agreement table's term bookkeeping, built once per process."""

    work_to_do: Any
    initialise: Any
    tacit_renewal: list[Any]
    enter_renewed_express: Any
    close: list[Any]
    decision_terms: list[Any]
    decide_by: Any

    @classmethod
    def build(
        cls, session: Session, model: type[Agreement], subject_type: str
    ) -> _Statements:
        decision = decision_term(model, subject_type)
        return cls(
            _work_to_do(model, decision),
            _initialise(model, subject_type),
            _tacit_renewal(session, model, subject_type),
            _enter_renewed_express(model, subject_type),
            _close(model),
            decision.statements(model),
            decide_by_update(model),
        )


def _until_none_left(run: Callable[[], int]) -> int:
    """Run a catching-up step until it changes nothing; the rows it changed in all."""
    total = 0
    for _ in range(MAX_CATCH_UP):
        changed = run()
        if changed == 0:
            break
        total += changed
    return total


def _while_behind(run: Callable[[], list[Any]], today: date) -> int:
    """Run a catching-up step that returns a date for each row it moved, again while
    one of those dates is before `today` (that row is still behind; the others are
    not, and the rows it did not move had nothing to do); the rows moved in all."""
    total = 0
    for _ in range(MAX_CATCH_UP):
        moved = run()
        total += len(moved)
        if not any(day is not None and day < today for day in moved):
            break
    return total


def _advance(
    conn: Any, params: dict[str, Any], built: _Statements, changes: AgreementChanges
) -> None:
    def run(stmt: Any) -> int:
        return rowcount(conn.execute(stmt, params), conn)

    def dates(stmt: Any) -> list[Any]:  # a statement that returns one date a row
        return list(conn.execute(stmt, params).scalars())

    today = params["p_today"]
    terms, decision, decide_by = conn.execute(built.work_to_do, params).one()
    if terms:
        changes.initialised += run(built.initialise)
        changes.renewed += _while_behind(
            partial(_renew_tacit, conn, params, built), today
        )
        changes.renewed += _until_none_left(lambda: run(built.enter_renewed_express))
        lapse, end = built.close
        changes.lapsed += run(lapse)
        changes.ended += run(end)
    if terms or decision:
        reset, step = built.decision_terms
        changes.decide_by_moved += run(reset)
        changes.decide_by_moved += _while_behind(lambda: dates(step), today)
    if terms or decision or decide_by:
        changes.decide_by_moved += run(built.decide_by)


def _renew_tacit(conn: Any, params: dict[str, Any], built: _Statements) -> list[Any]:
    """Record the next terms of the tacit agreements still behind, then move them on;
    the new term end of each that moved."""
    record, move = built.tacit_renewal
    conn.execute(record, params)
    return list(conn.execute(move, params).scalars())


def advance_agreements(
    session: Session, *, district_id: int, today: date
) -> AgreementChanges:
    """Bring every license and contract of a district to the term containing `today`."""
    params = scan_params(district_id, today)
    conn = session.connection()  # Core: the parameters are not ORM values
    changes = AgreementChanges()
    for subject_type, model in SUBJECTS.items():
        build = partial(_Statements.build, model=model, subject_type=subject_type)
        built = built_once(session, f"advance {subject_type} terms", build)
        _advance(conn, params, built, changes)
    return changes
