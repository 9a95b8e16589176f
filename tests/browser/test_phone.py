"""On a phone (390 px wide) no list page scrolls sideways, even with long option texts
(a contract vehicle's number and title, a covering contract, a district's name)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlmodel import Session

from lifecycle.enums import CoverageType
from tests import factories
from tests.factories import World

from .conftest import sign_in

LONG = "Statewide Cooperative Master Agreement for Classroom Technology and Services"


@pytest.fixture
def long_names(db: Session, world: World) -> None:
    vendor = factories.make_vendor(db, name="Long Name Vendor")
    vehicle = factories.make_vehicle(
        db, world.coop, vendor, contract_number="TX-DIR-CPO-4321-2026-A", title=LONG
    )
    a = world.a.district
    factories.make_device(db, a, asset_tag="P-1", vehicle_id=vehicle.id)
    factories.make_license(db, a, product=LONG, vehicle_id=vehicle.id)
    factories.make_contract(
        db, a, name=LONG, coverage=CoverageType.DEVICES, vehicle_id=vehicle.id
    )
    factories.make_district(
        db, world.coop, name=f"Independent School District of {LONG}"
    )
    db.commit()


def overflow(page: Page) -> int:
    return int(
        page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


@pytest.mark.usefixtures("long_names")
@pytest.mark.parametrize(
    "path", ["/devices", "/licenses", "/contracts", "/renewals", "/catalog", "/schools"]
)
def test_district_lists_fit_a_phone(page: Page, world: World, path: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, world.a.it.email)
    page.goto(path)
    assert overflow(page) <= 0


@pytest.mark.usefixtures("long_names")
def test_the_activity_log_fits_a_phone(page: Page, world: World) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, world.admin.email)
    page.goto("/admin/activity")
    assert overflow(page) <= 0
