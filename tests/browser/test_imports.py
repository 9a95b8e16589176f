"""The import journey in real Chromium: upload a Google Admin export, fix the mapping,
preview, dry run, run, watch the bar, download the error file, fix the rows and
import them again."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from lifecycle.models import Device
from tests import factories
from tests.factories import World
from tests.imports.files import GAM_DEVICES, csv_bytes, gam_devices

from .conftest import sign_in


def test_a_gam_export_from_upload_to_the_fixed_rows(
    page: Page, db: Session, world: World, tmp_path
):
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    db.commit()
    rows = list(csv.reader(io.StringIO(gam_devices(4).decode())))[1:]
    rows[1][GAM_DEVICES.index("status")] = "Vaporized"  # file row 3
    rows[2][GAM_DEVICES.index("annotatedAssetId")] = "CB-0001"  # row 4: a duplicate tag
    path = tmp_path / "chromebooks.csv"
    path.write_bytes(csv_bytes(GAM_DEVICES, rows))

    sign_in(page, world.a.it.email)
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import", exact=True)).to_be_visible()
    page.locator("#f-file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.get_by_role("heading", name="Import chromebooks.csv")).to_be_visible()

    # fix the mapping: match by serial, and the AUE from the reference list
    page.get_by_label("Match existing records by").select_option("serial")
    page.get_by_label("AUE date").select_option("")
    page.get_by_role("button", name="Save the columns and preview").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("2031-06-30")
    expect(preview).to_contain_text("Lincoln Elementary")
    expect(preview).to_contain_text("'Vaporized' is not a device status we know")

    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_test_id("import-message")).to_contain_text(
        "Dry run finished", timeout=20_000
    )
    assert db.exec(select(Device)).all() == []

    page.get_by_role("button", name="Import devices").click()
    expect(page.get_by_test_id("import-progress")).to_be_visible()
    expect(page.get_by_test_id("import-message")).to_have_text(
        "Import finished: 2 created, 0 updated, 0 unchanged, 2 rejected.",
        timeout=20_000,
    )
    expect(page.get_by_test_id("import-progress")).to_have_attribute("value", "100")
    with page.expect_download() as info:
        page.get_by_role(
            "link", name=re.compile("Download the 2 rejected rows")
        ).click()
    errors = info.value.path().read_text(encoding="utf-8-sig")
    fixed = list(csv.reader(io.StringIO(errors)))
    assert fixed[0][-1] == "error"
    assert fixed[1][-1] == "row 3, status: 'Vaporized' is not a device status we know"
    assert "the same serial" not in errors and "row 4, annotatedAssetId" in errors

    # fix the two rows, upload them again
    fixed[1][GAM_DEVICES.index("status")] = "ACTIVE"
    fixed[2][GAM_DEVICES.index("annotatedAssetId")] = "CB-0003"
    again = tmp_path / "fixed.csv"
    again.write_bytes(csv_bytes(GAM_DEVICES, [r[:-1] for r in fixed[1:]]))
    page.goto("/import")
    page.locator("#f-file").set_input_files(str(again))
    page.get_by_label("Match existing records by").select_option("serial")
    page.get_by_role("button", name="Upload and check the columns").click()
    page.get_by_role("button", name="Import devices").click()
    expect(page.get_by_test_id("import-message")).to_have_text(
        "Import finished: 2 created, 0 updated, 0 unchanged, 0 rejected.",
        timeout=20_000,
    )
    db.expire_all()
    tags = db.exec(
        select(Device.asset_tag).where(col(Device.district_id) == world.a.district.id)
    ).all()
    assert sorted(tags) == ["CB-0001", "CB-0002", "CB-0003", "CB-0004"]
