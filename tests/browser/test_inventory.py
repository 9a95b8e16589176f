"""Device inventory journeys in real Chromium: active search with the URL following,
sorting then searching, click-to-edit, bulk retire through the confirm dialog, and the
409 conflict message of the edit form and of a refused delete."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlmodel import Session, select

from lifecycle.enums import CoverageType, DeviceCategory, DeviceStatus
from lifecycle.models import ContractCoveredDevice, Device
from lifecycle.scan.refresh import recompute_device_refresh
from tests import factories
from tests.factories import World

from .conftest import sign_in


@pytest.fixture
def fleet(db: Session, world: World) -> dict[str, Device]:
    """District A: three devices; district B: one that must never show."""
    a = world.a.district
    made = {
        "chromebook": factories.make_device(
            db,
            a,
            asset_tag="CB-0001",
            model="Lenovo 100e Chromebook Gen 3",
            purchase_date=date(2022, 7, 15),
            lifespan_months=48,
            school_id=world.a.school.id,
        ),
        "laptop": factories.make_device(
            db,
            a,
            asset_tag="LT-0001",
            model="HP ProBook 450 G9",
            category=DeviceCategory.LAPTOP,
            purchase_date=date(2021, 1, 10),
            lifespan_months=60,
        ),
        "spare": factories.make_device(
            db,
            a,
            asset_tag="CB-0002",
            model="Lenovo 100e Chromebook Gen 3",
            purchase_date=date(2024, 7, 15),
            lifespan_months=48,
        ),
        "theirs": factories.make_device(
            db, world.b.district, asset_tag="BRAVO-0001", model="HP ProBook 450 G9"
        ),
    }
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    return made


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#results tbody tr")


def test_search_narrows_the_list_as_you_type_and_the_url_follows(
    page: Page, world: World, fleet: dict[str, Device]
) -> None:
    sign_in(page, world.a.it.email)
    page.goto("/devices")
    expect(rows(page)).to_have_count(3)
    expect(page.get_by_test_id("device-count")).to_have_text("3 devices")

    page.get_by_label("Search").press_sequentially("probook", delay=30)

    expect(rows(page)).to_have_count(1)
    expect(rows(page).get_by_role("rowheader")).to_have_text("LT-0001")
    expect(page).to_have_url(re.compile(r"/devices\?q=probook$"))
    expect(page.get_by_test_id("device-count")).to_have_text("1 device")
    expect(page.locator("#filter-summary")).to_contain_text("matches for “probook”")
    expect(page.get_by_text("BRAVO-0001")).to_have_count(0)

    # Sorting by a header, then searching again, keeps the sort (the form learns it).
    page.get_by_label("Search").fill("")
    expect(rows(page)).to_have_count(3)
    page.get_by_role("link", name="Refresh due").click()
    expect(page).to_have_url(re.compile(r"sort=refresh_due"))
    page.get_by_role("link", name=re.compile("Refresh due")).click()
    expect(page).to_have_url(re.compile(r"sort=-refresh_due"))
    expect(rows(page).get_by_role("rowheader")).to_have_text(
        ["CB-0002", "CB-0001", "LT-0001"]
    )
    page.get_by_label("Search").press_sequentially("CB-", delay=30)
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=CB-"))
    expect(page).to_have_url(re.compile(r"sort=-refresh_due"))
    expect(rows(page).get_by_role("rowheader")).to_have_text(["CB-0002", "CB-0001"])

    # A filter select narrows too; reloading the pushed URL shows the same list.
    page.get_by_label("Category").select_option("laptop")
    expect(rows(page)).to_have_count(0)
    expect(page.get_by_text("No devices match these filters.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Category")).to_have_value("laptop")
    expect(page.get_by_label("Search")).to_have_value("CB-")


def test_click_to_edit_saves_a_field_and_shows_the_new_value(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    device = fleet["chromebook"]
    sign_in(page, world.a.it.email)
    page.goto(f"/devices/{device.id}")
    expect(page.get_by_test_id("refresh-info")).to_contain_text("Jul 15, 2026")

    page.get_by_role("link", name="Edit assigned to").click()
    box = page.get_by_role("textbox", name="Assigned to")
    expect(box).to_be_focused()
    box.fill("Room 114 cart")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("value-assigned_to")).to_have_text("Room 114 cart")
    expect(page.get_by_role("textbox", name="Assigned to")).to_have_count(0)

    # A lifespan change moves the refresh date in the panel beside it (out of band).
    page.get_by_role("link", name="Edit lifespan (months)").click()
    page.get_by_role("spinbutton", name="Lifespan (months)").fill("60")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("value-lifespan_months")).to_have_text("60")
    expect(page.get_by_test_id("refresh-info")).to_contain_text("Jul 15, 2027")

    # Cancel puts the value back without saving.
    page.get_by_role("link", name="Edit notes").click()
    page.get_by_role("textbox", name="Notes").fill("never saved")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("value-notes")).to_have_text("—")

    db.expire_all()
    saved = db.get(Device, device.id)
    assert saved is not None
    assert (saved.assigned_to, saved.lifespan_months, saved.notes) == (
        "Room 114 cart",
        60,
        "",
    )
    assert saved.refresh_due == date(2027, 7, 15)


def test_bulk_retire_of_the_selected_devices_after_confirming(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    sign_in(page, world.a.it.email)
    page.goto("/devices?q=CB-")
    expect(rows(page)).to_have_count(2)

    page.get_by_label("Select CB-0001").check()
    page.get_by_label("Select CB-0002").check()
    page.get_by_label("With selected:").select_option("retire")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_text("2 devices retired.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/devices\?q=CB-$"))
    # retired devices leave the default (active) list; "all" shows them
    expect(rows(page)).to_have_count(0)
    page.goto("/devices?q=CB-&status=all")
    expect(rows(page).locator(".badge")).to_have_text(["Retired", "Retired"])
    assert dialogs == ["Apply this to the selected devices?"]
    db.expire_all()
    statuses = {
        d.asset_tag: d.status
        for d in db.exec(select(Device).where(Device.asset_tag != "")).all()
    }
    assert statuses == {
        "CB-0001": DeviceStatus.RETIRED,
        "CB-0002": DeviceStatus.RETIRED,
        "LT-0001": DeviceStatus.IN_SERVICE,
        "BRAVO-0001": DeviceStatus.IN_SERVICE,
    }


def test_select_all_then_dismissing_the_confirm_changes_nothing(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    page.on("dialog", lambda dialog: dialog.dismiss())
    sign_in(page, world.a.it.email)
    page.goto("/devices")

    page.get_by_label("Select all devices on this page").check()
    expect(page.locator('input[name="ids"]:checked')).to_have_count(3)
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_text("devices retired")).to_have_count(0)
    db.expire_all()
    assert {d.status for d in db.exec(select(Device)).all()} == {
        DeviceStatus.IN_SERVICE
    }


def test_a_conflicting_edit_shows_the_current_values_and_keeps_mine(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    device = fleet["laptop"]
    sign_in(page, world.a.it.email)
    page.goto(f"/devices/{device.id}/edit")
    page.get_by_label("Model").fill("HP ProBook 450 G10")
    page.get_by_label("Funding source").fill("Title IV-A")

    # Meanwhile a colleague changes the same device.
    device.model = "HP EliteBook 840"
    device.status = DeviceStatus.IN_REPAIR
    db.commit()
    page.get_by_role("button", name="Save").click()

    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Someone else changed this device")
    expect(conflict.get_by_test_id("current-model")).to_have_text("HP EliteBook 840")
    expect(conflict.get_by_test_id("current-status")).to_have_text("In repair")
    expect(page.get_by_label("Model")).to_have_value("HP ProBook 450 G10")
    expect(page).to_have_url(re.compile(rf"/devices/{device.id}/edit$"))

    # Saving again, having seen the current values, replaces them.
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/devices/{device.id}$"))
    expect(page.get_by_text(f"Device {device.asset_tag} saved.")).to_be_visible()
    db.expire_all()
    saved = db.get(Device, device.id)
    assert saved is not None
    assert (saved.model, saved.funding_source) == ("HP ProBook 450 G10", "Title IV-A")


def test_a_refused_delete_says_to_retire_instead(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    device = fleet["chromebook"]
    contract = factories.make_contract(
        db, world.a.district, name="Repairs", coverage=CoverageType.DEVICES
    )
    db.add(
        ContractCoveredDevice(
            contract_id=contract.id,
            device_id=device.id,
            district_id=world.a.district.id,
        )
    )
    db.commit()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, world.a.it.email)
    page.goto(f"/devices/{device.id}")

    page.get_by_role("button", name="Delete…").click()

    problem = page.get_by_test_id("device-problem")
    expect(problem).to_contain_text("cannot be deleted because a service contract")
    expect(problem).to_contain_text("Retire it instead")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    page.get_by_role("button", name="Retire").click()
    expect(page.get_by_text("is retired; its history is kept")).to_be_visible()
    db.expire_all()
    assert db.get(Device, device.id).status == DeviceStatus.RETIRED  # type: ignore[union-attr]
