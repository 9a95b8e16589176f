"""License and service-contract journeys in real Chromium: active search with the URL
following, click-to-edit a seat count (and the 409 message of a stale edit), recording
an express renewal from the license page, and a contract's device coverage by asset tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Dialog, Locator, Page, expect
from sqlmodel import Session, col, select

from lifecycle.enums import ContractKind, CoverageType, RenewalType
from lifecycle.models import (
    ContractCoveredDevice,
    Device,
    License,
    ServiceContract,
    TermRecord,
)
from lifecycle.scan.engine import scan_district
from tests import factories
from tests.factories import World
from tests.renewals.test_actions_data import today_of

from .conftest import sign_in


@dataclass
class Agreements:
    today: date
    reading: License
    reading_plus: License
    math: License
    switches: ServiceContract
    repairs: ServiceContract
    devices: dict[str, Device]


@pytest.fixture
def agreements(db: Session, world: World) -> Agreements:
    """Alpha ISD: three licenses, two contracts (one covering a list of devices) and
    three devices, scanned so the terms are current. Bravo ISD: one of each, never shown.
    """
    a, b = world.a.district, world.b.district
    today = today_of(db, a)
    start = today - relativedelta(months=6)
    made = Agreements(
        today=today,
        reading=factories.make_license(
            db,
            a,
            product="Reading Suite",
            term_start=start,
            seats=100,
            seats_used=80,
            price_per_seat=Decimal("5.00"),
            renewal_type=RenewalType.EXPRESS,
        ),
        reading_plus=factories.make_license(
            db, a, product="Reading Plus", term_start=start
        ),
        math=factories.make_license(db, a, product="Math Lab", term_start=start),
        switches=factories.make_contract(
            db, a, name="Core switch maintenance", term_start=start
        ),
        repairs=factories.make_contract(
            db,
            a,
            name="Chromebook repairs",
            kind=ContractKind.SUPPORT,
            coverage=CoverageType.DEVICES,
            term_start=start,
        ),
        devices={
            tag: factories.make_device(db, a, asset_tag=tag)
            for tag in ("CB-0001", "CB-0002", "CB-0003")
        },
    )
    factories.make_license(db, b, product="Reading Suite (Bravo)", term_start=start)
    factories.make_contract(db, b, name="Bravo switch maintenance", term_start=start)
    factories.make_device(db, b, asset_tag="BRAVO-0001")
    db.commit()
    for district in (a, b):
        scan_district(db, district_id=district.id, today=today)  # type: ignore[arg-type]
    db.commit()
    return made


def rows(page: Page) -> Locator:
    return page.locator("#results tbody tr")


def names(page: Page) -> Locator:
    return rows(page).get_by_role("rowheader")


def day(d: date) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def accept_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    def accept(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return seen


# --- lists ------------------------------------------------------------------------


def test_license_search_narrows_the_list_and_the_url_follows(
    page: Page, world: World, agreements: Agreements
) -> None:
    sign_in(page, world.a.it.email)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Licenses"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Software licenses")
    expect(names(page)).to_have_text(["Math Lab", "Reading Plus", "Reading Suite"])
    expect(page.get_by_test_id("license-count")).to_have_text("3 licenses")

    page.get_by_label("Search").press_sequentially("reading", delay=30)

    expect(names(page)).to_have_text(["Reading Plus", "Reading Suite"])
    expect(page).to_have_url(re.compile(r"/licenses\?q=reading(&|$)"))
    expect(page.get_by_test_id("license-count")).to_have_text("2 licenses")
    expect(page.locator("#filter-summary")).to_contain_text("matches for “reading”")
    expect(page.get_by_text("Bravo")).to_have_count(0)

    page.get_by_label("Search").press_sequentially(" suite", delay=30)
    expect(names(page)).to_have_text(["Reading Suite"])
    expect(page).to_have_url(re.compile(r"q=reading(\+|%20)suite"))
    page.reload()  # the pushed URL is the page
    expect(page.get_by_label("Search")).to_have_value("reading suite")
    expect(names(page)).to_have_text(["Reading Suite"])

    page.get_by_label("Search").fill("nothing like it")
    expect(page.get_by_text("No licenses match these filters.")).to_be_visible()
    expect(page.get_by_test_id("license-count")).to_have_text("0 licenses")


def test_contract_search_and_filter_narrow_the_list_and_the_url_follows(
    page: Page, world: World, agreements: Agreements
) -> None:
    sign_in(page, world.a.finance.email)
    page.goto("/contracts")
    expect(names(page)).to_have_text(["Chromebook repairs", "Core switch maintenance"])

    page.get_by_label("Search").press_sequentially("switch", delay=30)
    expect(names(page)).to_have_text(["Core switch maintenance"])
    expect(page).to_have_url(re.compile(r"/contracts\?q=switch(&|$)"))
    expect(page.get_by_text("Bravo switch maintenance")).to_have_count(0)

    page.get_by_label("Search").fill("")
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Covers").select_option("devices")
    expect(names(page)).to_have_text(["Chromebook repairs"])
    expect(page).to_have_url(re.compile(r"[?&]coverage=devices(&|$)"))
    expect(page.get_by_test_id("contract-count")).to_have_text("1 contract")
    # Finance reads; only district IT may change contracts.
    expect(page.get_by_role("link", name="Add a contract")).to_have_count(0)
    expect(page.get_by_label("With selected:")).to_have_count(0)


# --- license detail ------------------------------------------------------------------


def test_click_to_edit_the_seat_count_updates_the_summaries(
    page: Page, db: Session, world: World, agreements: Agreements
) -> None:
    lic = agreements.reading
    sign_in(page, world.a.it.email)
    page.goto(f"/licenses/{lic.id}")
    expect(page.get_by_test_id("seats-summary")).to_have_text("80 of 100")
    expect(page.get_by_test_id("utilization")).to_have_text("80%")

    page.get_by_role("link", name="Edit seats owned").click()
    seats = page.get_by_role("spinbutton", name="Seats owned")
    expect(seats).to_be_focused()
    expect(seats).to_have_value("100")
    seats.fill("160")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("value-seats")).to_have_text("160")
    expect(seats).to_have_count(0)
    # The seat summary beside it follows, out of band.
    expect(page.get_by_test_id("seats-summary")).to_have_text("80 of 160")
    expect(page.get_by_test_id("utilization")).to_have_text("50%")
    expect(page.locator("#seat-info")).to_contain_text("consider renewing fewer seats")
    expect(page.locator("#seat-info")).to_contain_text("$800.00")

    # A bad value keeps the editor open and says why.
    page.get_by_role("link", name="Edit seats used").click()
    page.get_by_role("spinbutton", name="Seats used").fill("-5")
    page.get_by_role("spinbutton", name="Seats used").evaluate(
        "e => e.form.noValidate = true"
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Seats used")
    expect(page.get_by_role("spinbutton", name="Seats used")).to_have_value("-5")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("value-seats_used")).to_have_text("80")

    db.expire_all()
    saved = db.get(License, lic.id)
    assert saved is not None
    assert (saved.seats, saved.seats_used) == (160, 80)


def test_a_stale_click_to_edit_shows_the_409_message_and_saving_again_wins(
    page: Page, db: Session, world: World, agreements: Agreements
) -> None:
    lic = agreements.reading
    sign_in(page, world.a.it.email)
    page.goto(f"/licenses/{lic.id}")
    page.get_by_role("link", name="Edit seats owned").click()
    seats = page.get_by_role("spinbutton", name="Seats owned")
    seats.fill("140")

    # Meanwhile a colleague changes the seat count.
    other = db.get(License, lic.id)
    assert other is not None
    other.seats = 130
    db.commit()
    page.get_by_role("button", name="Save").click()

    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_have_text(
        "Someone else changed this license after you opened it. The current value is"
        " 130; save again to replace it with yours."
    )
    expect(conflict).to_have_role("alert")
    expect(seats).to_have_value("140")  # my entry is kept
    db.expire_all()
    assert db.get(License, lic.id).seats == 130  # type: ignore[union-attr]

    page.get_by_role("button", name="Save").click()

    expect(page.get_by_test_id("value-seats")).to_have_text("140")
    expect(page.get_by_test_id("seats-summary")).to_have_text("80 of 140")
    expect(conflict).to_have_count(0)
    db.expire_all()
    assert db.get(License, lic.id).seats == 140  # type: ignore[union-attr]


def test_record_an_express_renewal_from_the_license_page(
    page: Page, db: Session, world: World, agreements: Agreements
) -> None:
    lic = agreements.reading
    first_end = lic.term_start + relativedelta(months=12) - timedelta(days=1)
    second_end = lic.term_start + relativedelta(months=24) - timedelta(days=1)
    dialogs = accept_dialogs(page)
    sign_in(page, world.a.it.email)
    page.goto(f"/licenses/{lic.id}")
    expect(page.get_by_test_id("decide-by")).to_have_text(day(first_end))

    page.get_by_role("button", name="Record a renewal").click()

    expect(page.get_by_role("status").filter(has_text="renewed")).to_have_text(
        "Reading Suite is renewed for term 2."
    )
    assert dialogs == [
        "Record that Reading Suite was renewed for another term, at 100 seats × $5.00?"
    ]
    expect(page).to_have_url(re.compile(rf"/licenses/{lic.id}$"))
    expect(page.get_by_test_id("decide-by")).to_have_text(day(second_end))
    expect(page.get_by_test_id("explanation")).to_contain_text(
        "Already renewed through term 2."
    )
    terms = page.get_by_role("table", name="Terms of this license")
    second = terms.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="2", exact=True)
    )
    expect(second.get_by_role("cell")).to_have_text(
        [
            day(first_end + timedelta(days=1)),
            day(second_end),
            "Renewed",
            "100",
            "$500.00",
        ]
    )
    # The history on the page says who did what.
    history = page.get_by_role("region", name="History")
    renewed = history.get_by_role("listitem").filter(
        has_text=re.compile("^\\s*Renew by")
    )
    expect(renewed).to_contain_text(f"Renew by {world.a.it.email}")
    expect(renewed).to_contain_text("renewed through: 1 → 2")
    db.expire_all()
    record = db.exec(
        select(TermRecord).where(
            col(TermRecord.subject_type) == "license",
            col(TermRecord.subject_id) == lic.id,
        )
    ).one()
    assert (record.term_number, record.seats, record.price) == (
        2,
        100,
        Decimal("500.00"),
    )


def test_after_an_inline_save_the_page_renews_without_a_conflict(
    page: Page, db: Session, world: World, agreements: Agreements
) -> None:
    """The inline save moved the license's version on; the header's renew form carries
    the new one (it used to keep the old one and answer 409)."""
    lic = agreements.reading
    accept_dialogs(page)
    sign_in(page, world.a.it.email)
    page.goto(f"/licenses/{lic.id}")
    page.get_by_role("link", name="Edit seats owned").click()
    page.get_by_role("spinbutton", name="Seats owned").fill("120")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("value-seats")).to_have_text("120")

    page.get_by_role("button", name="Record a renewal").click()

    expect(page.get_by_role("status").filter(has_text="renewed")).to_have_text(
        "Reading Suite is renewed for term 2."
    )
    db.expire_all()
    saved = db.get(License, lic.id)
    assert saved is not None and saved.seats == 120
    renewed = db.exec(
        select(TermRecord).where(
            col(TermRecord.subject_type) == "license",
            col(TermRecord.subject_id) == lic.id,
        )
    ).one()
    assert (renewed.term_number, renewed.seats) == (2, 120)


# --- contract coverage -----------------------------------------------------------------


def test_add_devices_to_a_contract_by_asset_tag_and_remove_one(
    page: Page, db: Session, world: World, agreements: Agreements
) -> None:
    contract = agreements.repairs
    dialogs = accept_dialogs(page)
    sign_in(page, world.a.it.email)
    page.goto(f"/contracts/{contract.id}")
    expect(page.get_by_test_id("coverage")).to_have_text(
        "0 devices named in this contract."
    )
    tags = page.get_by_label("Add devices by asset tag")
    add = page.get_by_role("button", name="Add devices")

    # Another district's device is refused by name, and nothing is added.
    tags.fill("CB-0001 BRAVO-0001")
    add.click()
    expect(page.get_by_role("alert")).to_contain_text(
        "not devices of your district: BRAVO-0001"
    )
    expect(page.get_by_test_id("coverage")).to_have_text(
        "0 devices named in this contract."
    )

    page.get_by_label("Add devices by asset tag").fill("CB-0001, CB-0002\nCB-0003")
    page.get_by_role("button", name="Add devices").click()

    expect(page.get_by_role("status").filter(has_text="added")).to_have_text(
        "3 devices added."
    )
    covered = page.get_by_role("table", name="Devices covered by Chromebook repairs")
    expect(covered.get_by_role("rowheader")).to_have_text(
        ["CB-0001", "CB-0002", "CB-0003"]
    )
    expect(page.get_by_test_id("coverage")).to_have_text(
        "3 devices named in this contract."
    )

    covered.get_by_role("button", name="Remove CB-0002 from the contract").click()

    expect(page.get_by_role("status").filter(has_text="removed")).to_have_text(
        "Device removed from the contract."
    )
    expect(covered.get_by_role("rowheader")).to_have_text(["CB-0001", "CB-0003"])
    expect(page.get_by_test_id("coverage")).to_have_text(
        "2 devices named in this contract."
    )
    assert dialogs == ["Remove CB-0002 from this contract?"]
    db.expire_all()
    tags_covered = db.exec(
        select(Device.asset_tag)
        .join(ContractCoveredDevice, col(ContractCoveredDevice.device_id) == Device.id)
        .where(col(ContractCoveredDevice.contract_id) == contract.id)
        .order_by(col(Device.asset_tag))
    ).all()
    assert tags_covered == ["CB-0001", "CB-0003"]
