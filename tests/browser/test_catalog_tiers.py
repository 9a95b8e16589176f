"""Cooperative staff edit an item's price table in place, on a desktop and a phone: the
editor opens where the table was, a bad row is named in place and nothing is saved, the
fixed table is saved and the whole page agrees with it afterwards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from lifecycle.models import CatalogItem, PriceTier
from tests import factories
from tests.factories import World

from .conftest import sign_in


def overflow(page: Page) -> int:
    return int(
        page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


@pytest.fixture
def item(db: Session, world: World) -> CatalogItem:
    vendor = factories.make_vendor(db, name="Dell Technologies")
    vehicle = factories.make_vehicle(
        db,
        world.coop,
        vendor,
        contract_number="R99-TECH-2025",
        title="Student computing devices",
        term_start=date.today() - timedelta(days=600),
        term_end=date.today() + timedelta(days=30),
    )
    made = factories.make_catalog_item(
        db,
        vehicle,
        sku="DELL-3120",
        name="Dell Chromebook 3120",
        list_price=Decimal("520.00"),
        tiers=[(1, "520.00"), (250, "495.00"), (1000, "470.00")],
    )
    db.commit()
    return made


@pytest.mark.parametrize("width", [1366, 390])
def test_coop_staff_edit_a_price_table_in_place(
    page: Page, db: Session, world: World, item: CatalogItem, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, world.coop_staff.email)
    url = f"/catalog/items/{item.id}"
    page.goto(url)
    expect(page.get_by_test_id("vehicle-state")).to_have_text("Expires in 30 days")

    page.get_by_role("link", name="Edit tiers").click()
    editor = page.get_by_test_id("tier-editor")
    expect(editor).to_be_visible()
    assert page.url.endswith(url)  # in place: the page did not change
    rows = page.get_by_test_id("tier-row")
    expect(rows).to_have_count(3)

    page.get_by_role("button", name="Add a row").click()
    expect(rows).to_have_count(4)
    page.get_by_label("Row 4, from quantity").fill("2000")
    page.get_by_label("Row 4, unit price").fill("480.00")  # above the row above
    page.get_by_role("button", name="Remove row 2").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_label("Row 3, unit price")).to_have_value("480.00")
    page.get_by_role("button", name="Save tiers").click()

    problem = page.locator("#te-2-unit_price")
    expect(problem).to_have_text(
        "cannot be above the row above (470.00): a larger quantity never costs more "
        "per unit"
    )
    expect(page.get_by_label("Row 3, unit price")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_test_id("tier-errors")).to_contain_text("Row 3: unit price")
    assert overflow(page) <= 0

    page.get_by_label("Row 3, unit price").fill("455.5")
    page.get_by_label("Row 3, unit price").press("Enter")  # Enter saves the table

    expect(page.get_by_test_id("tiers-saved")).to_be_visible()
    expect(editor).to_have_count(0)
    table = page.get_by_test_id("tiers")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("2,000 or more")
    expect(table).to_contain_text("$455.50")
    expect(table).not_to_contain_text("495.00")
    # the whole page after the swap: one heading, one table, the actions carrying the
    # new version, the history showing the change, nothing sideways
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("#tiers-panel")).to_have_count(1)
    expect(page.locator("#item-actions input[name=version]")).to_have_value("2")
    expect(page.locator("#item-history")).to_contain_text("tiers")
    expect(page.get_by_role("button", name="Discontinue…")).to_be_visible()
    assert overflow(page) <= 0

    db.expire_all()
    stored = db.exec(
        select(PriceTier.min_qty, PriceTier.unit_price)
        .where(col(PriceTier.catalog_item_id) == item.id)
        .order_by(col(PriceTier.min_qty))
    ).all()
    assert [(q, f"{p:.2f}") for q, p in stored] == [
        (1, "520.00"),
        (1000, "470.00"),
        (2000, "455.50"),
    ]
    assert db.get(CatalogItem, item.id).version == 2

    page.reload()  # what was swapped in is what the page shows
    expect(page.get_by_test_id("tiers")).to_contain_text("$455.50")
    expect(page.locator("#item-actions input[name=version]")).to_have_value("2")


def test_district_it_sees_the_table_without_editing(
    page: Page, world: World, item: CatalogItem
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, world.a.it.email)
    page.goto(f"/catalog/items/{item.id}")
    expect(page.get_by_test_id("tiers")).to_contain_text("1,000 or more")
    expect(page.get_by_role("link", name="Edit tiers")).to_have_count(0)
    assert overflow(page) <= 0
