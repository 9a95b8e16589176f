"""Cooperative staff's pipeline in real Chromium, at desktop and phone width: the
hand-worked table of tests/pipeline/conftest.py, the districts behind a number swapped
in, a filter that swaps the body, and the quantity estimate downloaded and read back.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlmodel import Session

from lifecycle.pipeline import services
from tests.factories import World
from tests.pipeline.conftest import TODAY, arrange

from .conftest import sign_in


def overflow(page: Page) -> int:
    return int(
        page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_coop_staff_read_the_pipeline_and_take_the_estimate(
    page: Page, db: Session, world: World, monkeypatch, width: int
) -> None:
    monkeypatch.setattr(services, "today_utc", lambda: TODAY)
    pipe = arrange(db, world)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, world.coop_staff.email)
    page.get_by_role("link", name="Pipeline", exact=True).click()
    expect(
        page.get_by_role("heading", name="Pipeline — all member districts")
    ).to_be_visible()
    grand = page.get_by_test_id("pipeline-grand")
    expect(grand).to_have_attribute("data-value", "7530.00")
    expect(page.get_by_test_id("pipeline-overdue")).to_contain_text("$300")
    expect(page.get_by_test_id("pipeline-legend")).to_contain_text("Dell Technologies")
    assert overflow(page) <= 0

    # the districts behind Dell's first quarter, swapped in without a reload
    page.get_by_role("link", name="Dell Technologies, Q1 2027: $610.00").click()
    drill = page.get_by_test_id("drill")
    expect(drill.get_by_test_id("drill-title")).to_contain_text(
        "Dell Technologies · Q1 2027"
    )
    expect(drill.get_by_role("link", name="Bravo ISD")).to_be_visible()
    expect(drill.get_by_role("link", name="Alpha ISD")).to_be_visible()
    expect(drill.get_by_test_id("drill-total")).to_have_attribute(
        "data-value", "610.00"
    )
    assert page.url.endswith("/pipeline")  # a swap, not a navigation
    assert overflow(page) <= 0

    # a filter swaps the body and the address says what is shown
    page.get_by_label("Kind").select_option("license_renewal")
    expect(page.get_by_test_id("pipeline-filter-summary")).to_contain_text(
        "License renewal"
    )
    expect(grand).to_have_attribute("data-value", "1000.00")
    assert "kind=license_renewal" in page.url
    page.get_by_label("Kind").select_option("")
    expect(grand).to_have_attribute("data-value", "7530.00")

    # the quantity estimate: the workbook's total is the page's, and names no district
    with page.expect_download() as download:
        page.get_by_role("link", name="Quantity estimate for a bid (XLSX)").click()
    ws = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[4][12] == "Estimated spend"
    spend = sum(Decimal(str(r[12])) for r in rows[5:-1])
    assert spend == Decimal("7530.00")
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "Alpha" not in flat and "Bravo" not in flat
    with page.expect_download() as download:
        page.get_by_role("link", name="Quantity estimate (CSV)").click()
    lines = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert sum(Decimal(r[12]) for r in lines[1:]) == Decimal("7530.00")
    assert pipe.dell.name in {r[7] for r in lines[1:]}
    assert overflow(page) <= 0
