"""Which term's end is an agreement's open decision, and its decide-by date, in SQL
(docs/rules.md#decide-by-dates): the scan's statements that keep them stored (agreements/advance.py runs
them), the SQL twin of rules.derive's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from lifecycle.agreements.sql import decide_by_expr, decide_by_of, term_end_expr
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import Agreement, TermRecord
from lifecycle.scan.binds import DISTRICT, TODAY
from lifecycle.sqlfuncs import add_days


def recorded_through(
    model: type[Agreement], subject_type: str, started_by: Any = None
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


@dataclass(frozen=True)
class DecisionTerm:
    """Which term's end is the open decision (stored, so obligations can name it).

    Express: the last term renewed ahead, else the current one. Tacit: the first term from
    the current one whose notice date has not passed (a notice period may exceed a term):
    `reset` sets the starting term, `step` (repeated until nothing moves) steps a tacit
    agreement on while its notice date has passed.
    """

    start: sa.ColumnElement[Any]
    reset: sa.ColumnElement[bool]  # where the stored term is not the starting one
    step: sa.ColumnElement[bool]

    def statements(self, model: type[Agreement]) -> list[Any]:
        """Reset, then step: each sets the decide-by of the term it moves to as well.

        The step returns the new decide-by dates (a tacit one is the notice date): one
        already passed means another step."""
        k = col(model.decision_term_number)
        reset, step = [
            sa.update(model)
            .where(where)
            .values(decision_term_number=term, decide_by=decide_by_of(model, term))
            .execution_options(synchronize_session=False)
            for where, term in ((self.reset, self.start), (self.step, k + 1))
        ]
        return [reset, step.returning(col(model.decide_by))]


def start_term(model: type[Agreement], n: Any, recorded: Any) -> sa.ColumnElement[Any]:
    """The decision a current term n starts from: none for a `none` agreement, the last
    term renewed ahead for an express one (`recorded`: the highest term on record),
    else term n itself."""
    return sa.case(
        (col(model.renewal_type) == RenewalType.NONE, sa.null()),
        (
            sa.and_(col(model.renewal_type) == RenewalType.EXPRESS, recorded > n),
            recorded,
        ),
        else_=n,
    )


def decision_term(model: type[Agreement], subject_type: str) -> DecisionTerm:
    n = col(model.current_term_number)
    k = col(model.decision_term_number)
    mine = sa.and_(
        col(model.district_id) == DISTRICT,
        col(model.status) == AgreementStatus.ACTIVE,
    )
    start = start_term(
        model, n, sa.func.coalesce(recorded_through(model, subject_type), 0)
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
        notice(k) >= TODAY,
        sa.or_(k == n, notice(k - 1) < TODAY),
    )
    notice_passed = sa.and_(
        mine,
        col(model.renewal_type) == RenewalType.TACIT,
        notice(k) < TODAY,
    )
    reset = sa.and_(mine, k.is_distinct_from(start), sa.not_(tacit_settled))
    return DecisionTerm(start, reset, notice_passed)


def decide_by_stale(model: type[Agreement]) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(model.district_id) == DISTRICT,
        col(model.status) == AgreementStatus.ACTIVE,
        col(model.decide_by).is_distinct_from(decide_by_expr(model)),
    )


def decide_by_update(model: type[Agreement]) -> Any:
    return (
        sa.update(model)
        .where(decide_by_stale(model))
        .values(decide_by=decide_by_expr(model))
        .execution_options(synchronize_session=False)
    )
