"""Cooperative staff's home page leads with open rounds, the members' needs due by the
end of next quarter and the contract vehicles whose term is ending."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta

from lifecycle.enums import ObligationKind, ObligationState, RoundState
from lifecycle.home.services import coop_figures
from lifecycle.models import PurchaseRound
from tests import factories
from tests.api.conftest import sign_in
from tests.renewals.test_actions_data import make_obligation


def _quarter_end_after_next(today: date) -> date:
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return start + relativedelta(months=6)


@pytest.fixture
def cooperative(db, world):
    today = datetime.now(UTC).date()
    until = _quarter_end_after_next(today)
    vendor = factories.make_vendor(db)
    factories.make_vehicle(
        db, world.coop, vendor, contract_number="ENDS-SOON",
        term_start=today - timedelta(days=700), term_end=today + timedelta(days=30),
    )  # fmt: skip
    factories.make_vehicle(
        db, world.coop, vendor, contract_number="RUNS-ON",
        term_start=today - timedelta(days=10), term_end=today + timedelta(days=400),
    )  # fmt: skip
    for name, state, days in [("Spring laptops", RoundState.OPEN, 9),
                              ("Old round", RoundState.AWARDED, -30)]:  # fmt: skip
        db.add(
            PurchaseRound(
                cooperative_id=world.coop.id,
                name=name,
                state=state,
                need_start=today,
                need_end=today + timedelta(days=180),
                closes_at=datetime.now(UTC) + timedelta(days=days),
            )
        )
    a, b = world.a.district, world.b.district
    for district, due, cost, kind, state in [
        (a, until - timedelta(days=1), "100.10", ObligationKind.REFRESH, ObligationState.UPCOMING),
        (a, today - timedelta(days=40), "200.25", ObligationKind.LICENSE_RENEWAL, ObligationState.IN_ROUND),
        (b, today + timedelta(days=5), "50.00", ObligationKind.REFRESH, ObligationState.ACKNOWLEDGED),
        (b, until, "999.00", ObligationKind.REFRESH, ObligationState.UPCOMING),  # after
        (b, today, "999.00", ObligationKind.REFRESH, ObligationState.ORDERED),  # bought
        (b, today, "0.00", ObligationKind.WARRANTY, ObligationState.UPCOMING),  # no buy
    ]:  # fmt: skip
        make_obligation(
            db, district, kind=kind, due_date=due, estimated_cost=Decimal(cost),
            state=state,
        )  # fmt: skip
    db.commit()
    return world, today, until


def test_the_figures_count_what_the_cooperative_may_pool(db, cooperative):
    _world, today, until = cooperative

    found = coop_figures(db, today)

    assert [r.name for r in found.open_rounds] == ["Spring laptops"]
    assert (found.needs, found.needs_cost, found.needs_districts) == (
        3,
        Decimal("350.35"),
        2,
    )
    assert found.needs_until == until - timedelta(days=1)
    assert [v.contract_number for v in found.expiring] == ["ENDS-SOON"]


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_staff_see_them_on_the_home_page_with_links(client, cooperative, who):
    world, _today, _until = cooperative
    sign_in(client, getattr(world, who))

    page = client.get("/").get_data(as_text=True)

    assert 'data-testid="home-coop"' in page
    assert '>1</span><span class="label">round open; the next closes' in page
    assert "Spring laptops</a> — commitments close" in page
    assert "$350" in page and "3 from 2 districts" in page
    assert "ENDS-SOON on" in page
    assert 'href="/catalog/vehicles?state=expiring"' in page
    assert 'href="/pipeline?quarters=4"' in page


def test_district_users_do_not_get_the_cooperative_figures(client, cooperative):
    world, _today, _until = cooperative
    sign_in(client, world.a.it)
    assert 'data-testid="home-coop"' not in client.get("/").get_data(as_text=True)
