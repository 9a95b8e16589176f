"""Member districts for cooperative staff (docs/rules.md#member-districts): the list
with counts and what is due soon, one district's overview, and district roles refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lifecycle.enums import ObligationKind, ObligationState
from tests import factories
from tests.api.conftest import sign_in
from tests.conftest import htmx
from tests.renewals.test_actions_data import make_obligation, today_of


def _row(page: str, name: str) -> str:
    """The table row that holds `name`, from its <tr>."""
    at = page.index(name)
    return page[page.rindex("<tr", 0, at) :].split("</tr>")[0]


@pytest.fixture
def stocked(db, world):
    """Alpha: 3 devices, 1 license, open obligations overdue, in 30 and 200 days and
    one done; Bravo: one device."""
    a = world.a.district
    today = today_of(db, a)
    devices = [factories.make_device(db, a) for _ in range(3)]
    factories.make_license(db, a)
    factories.make_device(db, world.b.district)
    for days, cost, state in [
        (-10, "100.10", ObligationState.UPCOMING),
        (30, "200.25", ObligationState.NOTIFIED),
        (200, "999.00", ObligationState.UPCOMING),
        (20, "5000.00", ObligationState.DONE),
    ]:
        make_obligation(
            db, a, subject_id=devices[0].id, due_date=today + timedelta(days=days),
            estimated_cost=Decimal(cost), state=state,
            term_number=days + 100,
        )  # fmt: skip
    make_obligation(
        db, a, kind=ObligationKind.WARRANTY, subject_id=devices[1].id,
        due_date=today + timedelta(days=100), estimated_cost=Decimal("0.00"),
    )  # fmt: skip
    db.commit()
    return world


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_staff_see_every_member_with_counts_and_links(client, stocked, who):
    sign_in(client, getattr(stocked, who))
    a, b = stocked.a.district, stocked.b.district

    page = client.get("/districts").get_data(as_text=True)

    assert 'data-testid="district-count">2 districts' in page
    row = _row(page, a.name)
    cells = [c.split(">")[-1] for c in row.split("</a></td>")[:-1]]
    # devices, licenses, contracts, overdue or due within 90 days (the done one and
    # the ones due later are not)
    assert cells[:4] == ["3", "1", "0", "2"]
    assert f'href="/districts/{a.id}"' in row
    assert f'href="/budget?district_id={a.id}"' in row
    assert f'href="/devices?district_id={a.id}"' in row
    assert f'href="/licenses?district_id={a.id}"' in row
    assert _row(page, b.name).count(">1</a>") == 1  # Bravo's one device


def test_the_member_list_searches_filters_and_sorts(client, db, stocked):
    factories.make_district(db, stocked.coop, name="Zephyr ISD", state="MN")
    db.commit()
    sign_in(client, stocked.coop_staff)

    found = client.get("/districts?q=zeph", headers=htmx()).get_data(as_text=True)
    in_state = client.get("/districts?state=MN").get_data(as_text=True)
    by_name_desc = client.get("/districts?sort=-name").get_data(as_text=True)
    bad = client.get("/districts?state=MN&sort=nonsense")

    assert "Zephyr ISD" in found and stocked.a.district.name not in found
    assert "<html" not in found and "1 district<" in found
    assert "Zephyr ISD" in in_state and stocked.a.district.name not in in_state
    assert by_name_desc.index("Zephyr ISD") < by_name_desc.index(
        stocked.a.district.name
    )
    assert bad.status_code == 422


def test_an_empty_search_says_so(client, stocked):
    sign_in(client, stocked.coop_staff)
    page = client.get("/districts?q=nothing-like-this").get_data(as_text=True)
    assert "No member district matches these filters." in page


def test_the_overview_counts_what_is_coming_due_by_kind(client, stocked):
    sign_in(client, stocked.coop_staff)
    a = stocked.a.district

    page = client.get(f"/districts/{a.id}").get_data(as_text=True)

    assert f"<h1>{a.name}</h1>" in page
    assert 'data-testid="count-devices"' in page and ">3</span>" in page
    refresh = _row(page, ">Refresh<")
    nums = [c.split(">")[-1] for c in refresh.split("</td>")[:-1]]
    # overdue 1, next 90 days 1 (the overdue not counted again), next 12 months 2,
    # cost of the overdue and the next 90 days: 100.10 + 200.25
    assert nums == ["1", "1", "2", "$300.35"]
    warranty = _row(page, ">Warranty<")
    assert [c.split(">")[-1] for c in warranty.split("</td>")[:-1]][:3] == [
        "0",
        "0",
        "1",
    ]
    for path in ("devices", "licenses", "contracts", "renewals", "budget"):
        assert f'href="/{path}?district_id={a.id}"' in page


@pytest.mark.parametrize("who", ["a.it", "a.finance", "a.viewer"])
def test_district_roles_may_not_use_the_member_pages(client, stocked, who):
    user = stocked
    for part in who.split("."):
        user = getattr(user, part)
    sign_in(client, user)
    assert client.get("/districts").status_code == 403
    assert client.get(f"/districts/{stocked.a.district.id}").status_code == 403


def test_an_unknown_district_is_404(client, stocked):
    sign_in(client, stocked.coop_staff)
    assert client.get("/districts/999999").status_code == 404


def test_staff_can_open_a_members_licenses_filtered_to_it(client, db, stocked):
    factories.make_license(db, stocked.b.district, product="Bravo Only Suite")
    db.commit()
    sign_in(client, stocked.coop_staff)
    page = client.get(f"/licenses?district_id={stocked.a.district.id}")
    assert page.status_code == 200
    assert "Bravo Only Suite" not in page.get_data(as_text=True)
