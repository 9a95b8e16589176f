"""A district stocked for the budget: devices with a policy and tiers, a license, a
contract, scanned on TODAY."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlmodel import Session

from lifecycle.enums import RenewalType
from lifecycle.scan.jobs import run_scan
from tests import factories
from tests.factories import World

TODAY = date(2026, 12, 2)  # FY2027 for a July start


@pytest.fixture
def stocked(db: Session, world: World) -> World:
    """District A: 120 Chromebooks (policy: 48 months, replaced by an item with a
    100-unit tier), one express license and one tacit contract, scanned today."""
    district = world.a.district
    assert district.id is not None and world.b.district.id is not None
    factories.make_chromebook_cohort(
        db, district, world.coop,
        [date(2023, 3, 1 + k % 20) for k in range(120)],
        school_id=world.a.school.id,
    )  # fmt: skip
    factories.make_license(
        db, district, seats=500, seats_used=420, price_per_seat=D("4.00"),
        term_start=date(2026, 8, 1), renewal_type=RenewalType.EXPRESS,
    )  # fmt: skip
    factories.make_contract(
        db, district, cost_per_period=D("10000.00"), escalator_pct=D("3.00"),
        term_start=date(2026, 1, 1),
    )  # fmt: skip
    factories.make_device(db, world.b.district)  # another district's
    db.commit()
    run_scan(db, district.id, TODAY)
    run_scan(db, world.b.district.id, TODAY)
    db.commit()
    return world
