"""Set-based term bookkeeping for licenses and service contracts (DESIGN §3.1).

Each night the scan moves tacit agreements whose term ended into their next term (from the
ORIGINAL start, never chained), records the new term's price in the term history, lapses
express agreements nobody renewed, ends `none` agreements, and keeps the stored decide-by
date on the decision that is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import AgreementStatus, RenewalType
from ..models import License, ServiceContract, TermRecord, UtcDateTime, utcnow
from ..sqlfuncs import add_days, add_months, insert_ignore, rowcount

Agreement = type[License] | type[ServiceContract]
SUBJECTS: dict[str, Agreement] = {"license": License, "contract": ServiceContract}
MAX_CATCH_UP = (
    1200  # monthly terms for a century: a safety bound, never reached in practice
)


def term_end_expr(model: Agreement, n: Any) -> sa.ColumnElement[Any]:
    """End of term n: start + (initial + (n−1)·renewal) months − 1 day."""
    months = col(model.initial_term_months) + (n - 1) * col(model.renewal_term_months)
    return add_days(add_months(col(model.term_start), months), -1)


def price_expr(model: Agreement) -> Any:
    """The price of the current term: seats × price per seat, or the contract's cost."""
    if model is License:
        return col(License.seats) * col(License.price_per_seat)
    return col(ServiceContract.cost_per_period)


@dataclass
class AgreementChanges:
    initialised: int = 0
    renewed: int = 0
    lapsed: int = 0
    ended: int = 0
    decide_by_moved: int = 0


def _recorded_through(
    model: Agreement, subject_type: str, started_by: date | None = None
) -> sa.ColumnElement[Any]:
    """The highest term on record (optionally: among those started by a date)."""
    where = [
        col(TermRecord.subject_type) == subject_type,
        col(TermRecord.subject_id) == col(model.id),
    ]
    if started_by is not None:
        where.append(col(TermRecord.start) <= started_by)
    return (
        sa.select(sa.func.max(col(TermRecord.term_number)))
        .where(*where)
        .scalar_subquery()
    )


def _initialise(
    session: Session, model: Agreement, subject_type: str, district_id: int, today: date
) -> int:
    """Agreements loaded without derived columns start at the last term on record that has
    begun (or term 1); terms renewed ahead are entered when they begin."""
    n = sa.func.coalesce(_recorded_through(model, subject_type, started_by=today), 1)
    stmt = (
        sa.update(model)
        .where(
            col(model.district_id) == district_id,
            col(model.current_term_number).is_(None),
        )
        .values(
            current_term_number=n,
            current_term_start=sa.case(
                (n == 1, col(model.term_start)),
                else_=add_days(term_end_expr(model, n - 1), 1),
            ),
            current_term_end=term_end_expr(model, n),
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


def _renew_tacit(
    session: Session, model: Agreement, subject_type: str, district_id: int, today: date
) -> int:
    """Move every tacit agreement whose term ended into its next term; repeat to catch up."""
    renewed = 0
    due = sa.and_(
        col(model.district_id) == district_id,
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.renewal_type) == RenewalType.TACIT,
        col(model.current_term_end) < today,
    )
    n = col(model.current_term_number)
    for _ in range(MAX_CATCH_UP):
        if model is ServiceContract:
            factor = 1 + col(ServiceContract.escalator_pct) / 100
            new_price: sa.ColumnElement[Any] = sa.func.round(
                col(ServiceContract.cost_per_period) * factor, 2
            )
        else:
            new_price = price_expr(model)
        history = sa.select(
            col(model.district_id),
            sa.literal(subject_type),
            col(model.id),
            n + 1,
            add_days(col(model.current_term_end), 1),
            term_end_expr(model, n + 1),
            new_price,
            col(License.seats) if model is License else sa.null(),
            sa.literal(utcnow(), UtcDateTime()),
        ).where(due)
        remaining = session.execute(
            sa.select(sa.func.count()).select_from(model).where(due)
        )
        behind = int(remaining.scalar_one())
        if behind == 0:
            break
        columns = ["district_id", "subject_type", "subject_id", "term_number", "start", "end",
                   "price", "seats", "recorded_at"]  # fmt: skip
        session.execute(
            insert_ignore(session, TermRecord).from_select(columns, history)
        )
        values: dict[str, Any] = {
            "current_term_number": n + 1,
            "current_term_start": add_days(col(model.current_term_end), 1),
            "current_term_end": term_end_expr(model, n + 1),
            "version": col(model.version) + 1,
        }
        if model is ServiceContract:
            values["cost_per_period"] = new_price
        session.execute(
            sa.update(model)
            .where(due)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        renewed += behind
    return renewed


def _enter_renewed_express(
    session: Session, model: Agreement, subject_type: str, district_id: int, today: date
) -> int:
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
        col(model.district_id) == district_id,
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.renewal_type) == RenewalType.EXPRESS,
        col(model.current_term_end) < today,
        recorded_next,
    )
    moved = 0
    for _ in range(MAX_CATCH_UP):
        values: dict[str, Any] = {
            "current_term_number": n + 1,
            "current_term_start": add_days(col(model.current_term_end), 1),
            "current_term_end": term_end_expr(model, n + 1),
            "version": col(model.version) + 1,
        }
        count = rowcount(
            session.execute(
                sa.update(model)
                .where(due)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )
        if count == 0:
            break
        moved += count
    return moved


def _close(
    session: Session, model: Agreement, district_id: int, today: date
) -> tuple[int, int]:
    ended_term = sa.and_(
        col(model.district_id) == district_id,
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.current_term_end) < today,
    )
    lapsed = session.execute(
        sa.update(model)
        .where(ended_term, col(model.renewal_type) == RenewalType.EXPRESS)
        .values(status=AgreementStatus.LAPSED, version=col(model.version) + 1)
        .execution_options(synchronize_session=False)
    )
    ended = session.execute(
        sa.update(model)
        .where(ended_term, col(model.renewal_type) == RenewalType.NONE)
        .values(status=AgreementStatus.ENDED, version=col(model.version) + 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(lapsed), rowcount(ended)


def _decision_terms(
    session: Session, model: Agreement, subject_type: str, district_id: int, today: date
) -> int:
    """Which term's end is the open decision (stored, so obligations can name it).

    Express: the last term renewed ahead, else the current one. Tacit: the first term from
    the current one whose notice date has not passed (a notice period may exceed a term).
    """
    n = col(model.current_term_number)
    k = col(model.decision_term_number)
    mine = sa.and_(
        col(model.district_id) == district_id,
        col(model.status) == AgreementStatus.ACTIVE,
    )
    recorded = sa.func.coalesce(_recorded_through(model, subject_type), 0)
    start = sa.case(
        (col(model.renewal_type) == RenewalType.NONE, sa.null()),
        (
            sa.and_(col(model.renewal_type) == RenewalType.EXPRESS, recorded > n),
            recorded,
        ),
        else_=n,
    )

    def notice(term: Any) -> sa.ColumnElement[Any]:
        return add_days(term_end_expr(model, term), -col(model.notice_days))

    # A tacit agreement's stored term is already right when its notice date is still
    # ahead and the term before it (if after the current one) had its notice pass:
    # leaving it alone keeps an unchanged rescan from writing anything.
    tacit_settled = sa.and_(
        col(model.renewal_type) == RenewalType.TACIT,
        k.is_not(None),
        k >= n,
        notice(k) >= today,
        sa.or_(k == n, notice(k - 1) < today),
    )
    changed = rowcount(
        session.execute(
            sa.update(model)
            .where(mine, k.is_distinct_from(start), sa.not_(tacit_settled))
            .values(decision_term_number=start)
            .execution_options(synchronize_session=False)
        )
    )
    notice_passed = sa.and_(
        mine,
        col(model.renewal_type) == RenewalType.TACIT,
        notice(k) < today,
    )
    for _ in range(MAX_CATCH_UP):
        moved = rowcount(
            session.execute(
                sa.update(model)
                .where(notice_passed)
                .values(decision_term_number=k + 1)
                .execution_options(synchronize_session=False)
            )
        )
        if moved == 0:
            break
    return changed


def decide_by_expr(model: Agreement) -> sa.ColumnElement[Any]:
    """Tacit: the decision term's end − notice days; express: its end; none: nothing."""
    end = term_end_expr(model, col(model.decision_term_number))
    return sa.case(
        (col(model.decision_term_number).is_(None), sa.null()),
        (
            col(model.renewal_type) == RenewalType.TACIT,
            add_days(end, -col(model.notice_days)),
        ),
        else_=end,
    )


def _decide_by(
    session: Session, model: Agreement, subject_type: str, district_id: int, today: date
) -> int:
    _decision_terms(session, model, subject_type, district_id, today)
    expr = decide_by_expr(model)
    stmt = (
        sa.update(model)
        .where(
            col(model.district_id) == district_id,
            col(model.status) == AgreementStatus.ACTIVE,
            col(model.decide_by).is_distinct_from(expr),
        )
        .values(decide_by=expr)
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(stmt))


def advance_agreements(
    session: Session, *, district_id: int, today: date
) -> AgreementChanges:
    """Bring every license and contract of a district to the term containing `today`."""
    changes = AgreementChanges()
    for subject_type, model in SUBJECTS.items():
        changes.initialised += _initialise(
            session, model, subject_type, district_id, today
        )
        changes.renewed += _renew_tacit(
            session, model, subject_type, district_id, today
        )
        changes.renewed += _enter_renewed_express(
            session, model, subject_type, district_id, today
        )
        lapsed, ended = _close(session, model, district_id, today)
        changes.lapsed += lapsed
        changes.ended += ended
        changes.decide_by_moved += _decide_by(
            session, model, subject_type, district_id, today
        )
    return changes
