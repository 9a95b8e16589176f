"""District finance's budget in real Chromium: the forecast, the drill-down, a new
"5-year Chromebook cycle" scenario with a fiscal-year cap (its preview following the
form), the scenario beside the baseline with what the cap deferred, and the board
workbook downloaded and read back — its totals equal the page's.

Dates are relative to the district's today (the page computes with it), so the test
means the same on any day.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlmodel import Session

from lifecycle.budget.fiscal import fiscal_year
from lifecycle.scan.engine import scan_district
from tests import factories
from tests.factories import World
from tests.renewals.test_actions_data import today_of

from .conftest import sign_in


@pytest.fixture
def chromebooks(db: Session, world: World) -> tuple[date, int]:
    """120 Chromebooks of Alpha ISD due for refresh in three months (policy: 48 months,
    replaced by an item with a 100-unit tier at 280.00); returns the due date and FY."""
    district = world.a.district
    today = today_of(db, district)
    bought = today + relativedelta(months=3) - relativedelta(months=48)
    factories.make_chromebook_cohort(
        db, district, world.coop, [bought] * 120, school_id=world.a.school.id
    )
    db.commit()
    scan_district(db, district_id=district.id, today=today)  # type: ignore[arg-type]
    db.commit()
    due = bought + relativedelta(months=48)
    return due, fiscal_year(due, district.fy_start_month)


def _grand(page: Page, series: int) -> Decimal:
    value = page.get_by_test_id(f"grand-{series}").get_attribute("data-value")
    assert value is not None
    return Decimal(value)


def test_finance_plans_a_five_year_chromebook_cycle(
    page: Page, world: World, chromebooks: tuple[date, int]
) -> None:
    _due, fy = chromebooks
    sign_in(page, world.a.finance.email)
    page.get_by_role("link", name="Budget", exact=True).click()
    expect(page.get_by_role("heading", name="Budget — Alpha ISD")).to_be_visible()
    table = page.get_by_test_id("budget-table")
    cell = table.locator(f'tr[data-fy="{fy}"] td[data-series="0"][data-kind="refresh"]')
    expect(cell).to_have_attribute("data-value", "33600.00")  # 120 × 280.00

    # the drill-down: the devices behind the number, and on to them
    cell.get_by_role("link").click()
    drill = page.get_by_test_id("drill")
    expect(drill.get_by_test_id("drill-total")).to_have_attribute(
        "data-value", "33600.00"
    )
    devices = drill.get_by_role("link", name="Chromebooks at Alpha ISD High School")
    expect(devices).to_be_visible()
    assert "/devices?category=chromebook" in (devices.get_attribute("href") or "")
    expect(
        page.get_by_role("heading", name="Budget — Alpha ISD")
    ).to_be_visible()  # page kept

    # a new scenario: 60-month Chromebooks and a cap on the year they move to
    page.get_by_role("link", name="New scenario").click()
    page.get_by_label("Name").fill("5-year Chromebook cycle")
    later = fiscal_year(
        _due + relativedelta(months=12), world.a.district.fy_start_month
    )
    preview = page.get_by_test_id("preview-total")
    before = preview.get_attribute("data-value")
    page.get_by_label("Chromebook lifespan").fill("60")
    page.get_by_label(f"FY{later} cap ($)").fill("20000")
    expect(preview).not_to_have_attribute("data-value", before or "")
    page.get_by_role("button", name="Save scenario").click()
    expect(
        page.get_by_text("Scenario “5-year Chromebook cycle” saved.")
    ).to_be_visible()

    # beside the baseline: nothing left in the due year, the capped year fits its cap
    # and the deferral report says what moved
    scen = table.locator(f'tr[data-fy="{fy}"] td[data-series="1"][data-kind="refresh"]')
    if later != fy:
        expect(scen).to_have_attribute("data-value", "0")
    capped = table.locator(
        f'tr[data-fy="{later}"] td[data-series="1"][data-kind="total"]'
    )
    assert Decimal(capped.get_attribute("data-value") or "0") <= Decimal("20000")
    expect(page.get_by_test_id("deferrals-1").get_by_role("row")).not_to_have_count(0)
    expect(page.get_by_test_id("deferrals-1")).to_contain_text(
        f"FY{later} → FY{later + 1}"
    )

    # the board workbook: its Lines add up to the page's totals, per scenario
    with page.expect_download() as download:
        page.get_by_role("link", name="Board workbook (XLSX)").click()
    data = download.value.path().read_bytes()
    book = load_workbook(io.BytesIO(data))
    rows = list(book["Lines"].iter_rows(values_only=True))
    who, amount = rows[0].index("Scenario"), rows[0].index("Amount")
    sums: dict[str, Decimal] = {}
    for row in rows[1:]:
        if isinstance(row[amount], int | float) and row[who]:
            key = str(row[who])
            sums[key] = sums.get(key, Decimal(0)) + Decimal(str(row[amount]))
    assert sums["Baseline"] == _grand(page, 0)
    assert sums["5-year Chromebook cycle"] == _grand(page, 1)
    summary = [str(c.value) for r in book["Summary"].iter_rows() for c in r]
    assert any(v.startswith("=SUMIFS(") for v in summary)  # formulas over Lines
