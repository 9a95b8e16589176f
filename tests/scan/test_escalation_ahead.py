"""A contract renewal decided several terms ahead is priced compounded over every term
between the current one and the renewed one — 1, 6, 12, 24 or 40 terms, monthly or
yearly — exactly as the pure rule (`term_cost`) prices it, on every database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.agreements.rules import term_cost
from lifecycle.enums import ObligationKind, RenewalType
from lifecycle.models import Obligation, ServiceContract
from lifecycle.scan.engine import scan_district
from lifecycle.scan.obligations import OPEN_STATES
from tests import factories

TODAY = date(2027, 1, 15)


def open_decision(db, contract: ServiceContract) -> Obligation:
    """The contract's open decision: the renewal obligation about its decision term."""
    db.expire_all()
    return db.exec(
        select(Obligation).where(
            col(Obligation.subject_type) == "contract",
            col(Obligation.subject_id) == contract.id,
            col(Obligation.kind) == ObligationKind.CONTRACT_RENEWAL,
            col(Obligation.state).in_(OPEN_STATES),
            col(Obligation.term_number) == contract.decision_term_number,
        )
    ).one()


@pytest.mark.parametrize(
    ("months", "notice_days", "ahead"),
    [
        (1, 10, 1),
        (1, 180, 7),  # docs/rules.md: 1,000.00 × 1.01⁷ = 1,072.14, not 1,010.00
        (1, 340, 12),
        (1, 700, 24),
        (1, 1200, 40),  # more than the forms allow (730): a row written by hand
        (12, 10, 1),
        (12, 400, 2),
        (12, 730, 3),
    ],
)
def test_a_renewal_far_ahead_is_compounded_over_every_term(
    db, world, months, notice_days, ahead
):
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=date(2027, 1, 1),
        initial_term_months=months,
        renewal_term_months=months,
        renewal_type=RenewalType.TACIT,
        notice_days=notice_days,
        cost_per_period=Decimal("1000.00"),
        escalator_pct=Decimal("1.00"),
    )
    db.commit()
    scan_district(db, district_id=world.a.district.id, today=TODAY)
    db.commit()
    db.refresh(contract)

    decision = open_decision(db, contract)
    current = contract.current_term_number
    assert decision.term_number + 1 - current == ahead
    expected = term_cost(Decimal("1000.00"), Decimal("1.00"), current, current + ahead)
    assert decision.estimated_cost == expected
    assert expected == (Decimal(1000) * Decimal("1.01") ** ahead).quantize(
        Decimal("0.01")
    )
