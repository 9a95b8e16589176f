"""Renewals journeys in real Chromium: the timeline and table after a real scan, the bell,
acknowledge / snooze / renew in place (the row and the bell swap without a reload),
filters with the URL following, the scan job page, read-only viewers, and reading a
notification from the bell.

Data comes from factories with dates relative to the district's today, then the real
scan and reminder run (tests/renewals/test_actions_data.py does the same for the
server-side tests), so the pages, the scan and the reminders agree on dates.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Locator, Page, expect
from sqlmodel import Session, col, select

from lifecycle.enums import ObligationKind, ObligationState, RenewalType
from lifecycle.models import (
    Device,
    License,
    Notification,
    Obligation,
    ServiceContract,
    TermRecord,
    User,
)
from lifecycle.notices.reminders import send_due_reminders
from lifecycle.scan.engine import scan_district
from lifecycle.work.queue import EmbeddedWorker
from tests import factories
from tests.factories import World
from tests.renewals.test_actions_data import today_of

from .conftest import LiveServer, sign_in

BELL = re.compile(r"^Notifications, \d+ unread$")


@dataclass
class Renewals:
    today: date
    device: Device
    license: License
    contract: ServiceContract

    def obligation(
        self, db: Session, subject_type: str, subject_id: int, kind: ObligationKind
    ) -> Obligation:
        db.expire_all()
        found = db.exec(
            select(Obligation).where(
                col(Obligation.subject_type) == subject_type,
                col(Obligation.subject_id) == subject_id,
                col(Obligation.kind) == kind,
            )
        ).first()
        assert found is not None, (subject_type, subject_id, kind)
        return found

    def warranty(self, db: Session) -> Obligation:
        return self.obligation(db, "device", self.device.id, ObligationKind.WARRANTY)  # type: ignore[arg-type]

    def license_renewal(self, db: Session) -> Obligation:
        return self.obligation(
            db,
            "license",
            self.license.id,  # type: ignore[arg-type]
            ObligationKind.LICENSE_RENEWAL,
        )

    def contract_renewal(self, db: Session) -> Obligation:
        return self.obligation(
            db,
            "contract",
            self.contract.id,  # type: ignore[arg-type]
            ObligationKind.CONTRACT_RENEWAL,
        )


@pytest.fixture
def renewals(db: Session, world: World) -> Renewals:
    """Alpha ISD after tonight's scan and reminders:

    - CB-0100, refresh due in ~8 months (upcoming); its warranty ends in 100 days,
      inside the 120-day threshold (notified);
    - Reading Suite, an express license whose term ends in ~2 months (notified);
    - Core switch maintenance, a tacit contract to cancel by ~5 months from now
      (upcoming, no threshold due yet).
    District IT gets one notification summarising the two reminders.
    Bravo ISD has an obligation of its own that must never show.
    """
    district = world.a.district
    today = today_of(db, district)
    device = factories.make_device(
        db,
        district,
        asset_tag="CB-0100",
        purchase_date=today - relativedelta(months=40),
        lifespan_months=48,
        warranty_end=today + timedelta(days=100),
        school_id=world.a.school.id,
    )
    lic = factories.make_license(
        db,
        district,
        product="Reading Suite",
        term_start=today - relativedelta(months=10),
        renewal_type=RenewalType.EXPRESS,
        seats=100,
        seats_used=80,
        price_per_seat=Decimal("5.00"),
    )
    contract = factories.make_contract(
        db,
        district,
        name="Core switch maintenance",
        term_start=today - relativedelta(months=5),
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        cost_per_period=Decimal("12000.00"),
    )
    factories.make_contract(
        db,
        world.b.district,
        name="Bravo copier lease",
        term_start=today - relativedelta(months=5),
    )
    db.commit()
    for d in (district, world.b.district):
        scan_district(db, district_id=d.id, today=today)  # type: ignore[arg-type]
        send_due_reminders(db, district_id=d.id, today=today)  # type: ignore[arg-type]
        db.commit()
    arranged = Renewals(today, device, lic, contract)
    assert arranged.warranty(db).state == ObligationState.NOTIFIED
    assert arranged.license_renewal(db).state == ObligationState.NOTIFIED
    assert arranged.contract_renewal(db).state == ObligationState.UPCOMING
    return arranged


def day(d: date) -> str:
    """A date as the pages show it: Jan 5, 2027."""
    return f"{d:%b} {d.day}, {d.year}"


def rows(page: Page) -> Locator:
    return page.get_by_role("region", name="Obligations").locator("tbody tr")


def subjects(page: Page) -> Locator:
    return rows(page).get_by_role("rowheader").get_by_role("link")


def row(page: Page, subject: str, kind: str | None = None) -> Locator:
    """The table row of one obligation, by its subject (and kind, for a device)."""
    found = rows(page).filter(has=page.get_by_role("rowheader", name=subject))
    return found.filter(has_text=kind) if kind else found


def bell(page: Page) -> Locator:
    return page.get_by_role("banner").get_by_role("link", name=BELL)


def mark_page(page: Page) -> None:
    """Mark the document; `expect_same_page` then proves nothing reloaded it."""
    page.evaluate("window.__notReloaded = true")


def expect_same_page(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"


def table_shape(page: Page) -> dict[str, tuple[int, int]]:
    """Each table of the page: (header rows, body rows). An action's answer swaps one
    row and, out of band, the numbers and the chart: no table may gain or lose rows."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('main table')].map(
            (t, i) => [t.dataset.testid || t.className || String(i),
                       [t.querySelectorAll('thead tr').length,
                        t.querySelectorAll('tbody tr').length]]))"""
    )


def unread(db: Session, user: User) -> int:
    db.expire_all()
    return len(
        db.exec(
            select(Notification).where(
                col(Notification.user_id) == user.id,
                col(Notification.read_at).is_(None),
            )
        ).all()
    )


def test_the_page_shows_the_timeline_the_table_and_the_bell(
    page: Page, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.it.email)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Renewals"
    ).click()

    expect(page).to_have_title("Renewals · Lifecycle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals and refreshes")
    chart = page.get_by_role("img", name=re.compile(r"^Estimated cost per month, "))
    expect(chart).to_be_visible()
    expect(chart.locator("g.month")).to_have_count(24)
    expect(page.get_by_test_id("timeline-table").locator("tbody tr")).to_have_count(24)
    expect(page.get_by_test_id("open-count")).to_have_text("4")
    expect(page.get_by_test_id("obligation-count")).to_have_text("4 obligations")
    # Sorted by decide-by: the license (~2 months), the warranty (100 days), the
    # contract's notice date (~5 months), the refresh (~8 months).
    expect(subjects(page)).to_have_text(
        ["Reading Suite", "CB-0100", "Core switch maintenance", "CB-0100"]
    )
    expect(rows(page).nth(1)).to_contain_text("Warranty end")
    expect(rows(page).nth(1).get_by_role("rowheader")).to_contain_text(
        "Alpha ISD High School"
    )
    expect(row(page, "Reading Suite").get_by_test_id("state")).to_have_text("Notified")
    expect(page.get_by_text("Bravo copier lease")).to_have_count(0)
    expect(bell(page)).to_have_accessible_name("Notifications, 1 unread")
    expect(page.get_by_role("button", name="Run scan now")).to_be_visible()


def test_acknowledge_updates_the_row_and_the_bell_in_place(
    page: Page, db: Session, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.it.email)
    page.goto("/renewals")
    contract = row(page, "Core switch maintenance")
    expect(contract.get_by_test_id("state")).to_have_text("Upcoming")
    expect(bell(page)).to_have_accessible_name("Notifications, 1 unread")
    mark_page(page)
    # Meanwhile another reminder reaches this user: the action's answer brings the
    # header's bell up to date out of band.
    db.add(
        Notification(
            user_id=world.a.it.id,  # type: ignore[arg-type]
            district_id=world.a.district.id,
            title="1 renewal to decide",
            link="/renewals",
        )
    )
    db.commit()
    shape = table_shape(page)
    assert set(shape) == {"timeline-table", "obligations"}

    contract.get_by_role("button", name="Acknowledge").click()

    expect(contract.get_by_test_id("state")).to_have_text("Acknowledged")
    assert table_shape(page) == shape
    expect(contract.get_by_role("status")).to_have_text(
        "Acknowledged: no more reminders for this term."
    )
    expect(contract.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(contract.get_by_text("Snooze…")).to_be_visible()  # still open
    expect(bell(page)).to_have_accessible_name("Notifications, 2 unread")
    expect(page.get_by_test_id("open-count")).to_have_text("4")
    expect_same_page(page)
    ob = renewals.contract_renewal(db)
    assert ob.state == ObligationState.ACKNOWLEDGED
    assert ob.acknowledged_by_id == world.a.it.id

    # The state filter finds it among the acknowledged ones.
    page.get_by_label("State").select_option("acknowledged")
    expect(page).to_have_url(re.compile(r"[?&]state=acknowledged(&|$)"))
    expect(subjects(page)).to_have_text(["Core switch maintenance"])


def test_snooze_needs_a_future_date(
    page: Page, db: Session, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.it.email)
    page.goto("/renewals")
    warranty = row(page, "CB-0100", "Warranty end")
    mark_page(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    warranty.get_by_text("Snooze…").click()
    until = warranty.get_by_label("Until")
    yesterday = renewals.today - timedelta(days=1)
    until.fill(yesterday.isoformat())
    warranty.get_by_role("button", name="Snooze").click()

    # The browser refuses a date before the field's minimum and says why.
    assert until.evaluate("e => e.validity.rangeUnderflow")
    assert until.evaluate("e => e.validationMessage")
    page.wait_for_timeout(300)
    assert posts == []
    # A browser that does not check (here: told not to) gets the server's answer.
    warranty.locator("form", has=page.get_by_label("Until")).evaluate(
        "f => { f.noValidate = true }"
    )
    warranty.get_by_role("button", name="Snooze").click()
    expect(warranty.get_by_role("alert")).to_contain_text(
        "until: must be a date after today"
    )
    expect(warranty.get_by_test_id("state")).to_have_text("Notified")
    assert renewals.warranty(db).state == ObligationState.NOTIFIED

    later = renewals.today + timedelta(days=21)
    warranty.get_by_text("Snooze…").click()
    warranty.get_by_label("Until").fill(later.isoformat())
    warranty.get_by_role("button", name="Snooze").click()

    expect(warranty.get_by_test_id("state")).to_have_text("Snoozed")
    expect(warranty).to_contain_text(f"until {day(later)}")
    expect(warranty.get_by_role("status")).to_have_text("Snoozed.")
    expect(warranty.get_by_role("alert")).to_have_count(0)
    expect_same_page(page)
    ob = renewals.warranty(db)
    assert (ob.state, ob.snoozed_until) == (ObligationState.SNOOZED, later)


def test_renew_the_express_license_with_new_seats_and_see_the_new_term(
    page: Page, db: Session, world: World, renewals: Renewals
) -> None:
    lic = renewals.license
    first_end = lic.term_start + relativedelta(months=12) - timedelta(days=1)
    second_end = lic.term_start + relativedelta(months=24) - timedelta(days=1)
    sign_in(page, world.a.it.email)
    page.goto("/renewals")
    license_row = row(page, "Reading Suite")

    license_row.get_by_text("Renew…").click()
    expect(license_row.get_by_label("Seats")).to_have_value("100")
    license_row.get_by_label("Seats").fill("120")
    license_row.get_by_role("button", name="Renew for the next term").click()

    expect(license_row.get_by_test_id("state")).to_have_text("Done")
    expect(license_row.get_by_role("status")).to_contain_text(
        "Renewed: the next term is recorded"
    )
    expect(license_row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_test_id("open-count")).to_have_text("3")

    license_row.get_by_role("link", name="Reading Suite").click()
    expect(page).to_have_url(re.compile(rf"/licenses/{lic.id}$"))
    # Today's term keeps its 100 seats; the renewed term 2 has the 120.
    expect(page.get_by_test_id("seats-summary")).to_have_text("80 of 100")
    # The decision moved to the end of the new term, and the term history has it.
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
            "120",
            "$600.00",
        ]
    )
    db.expire_all()
    record = db.exec(
        select(TermRecord).where(
            col(TermRecord.subject_type) == "license",
            col(TermRecord.subject_id) == lic.id,
            col(TermRecord.term_number) == 2,
        )
    ).one()
    assert (record.seats, record.price, record.recorded_by_id) == (
        120,
        Decimal("600.00"),
        world.a.it.id,
    )
    assert renewals.license_renewal(db).state == ObligationState.DONE


def test_filters_narrow_the_table_and_the_url_follows(
    page: Page, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.it.email)
    page.goto("/renewals")
    expect(rows(page)).to_have_count(4)

    page.get_by_label("Kind", exact=True).select_option("warranty")
    expect(rows(page)).to_have_count(1)
    expect(subjects(page)).to_have_text(["CB-0100"])
    expect(page).to_have_url(re.compile(r"/renewals\?.*kind=warranty"))
    expect(page.get_by_test_id("obligation-count")).to_have_text("1 obligation")
    expect(page.locator("#filter-summary")).to_contain_text("Kind: warranty")

    page.get_by_label("Kind", exact=True).select_option("license_renewal")
    page.get_by_label("State").select_option("upcoming")
    expect(page).to_have_url(re.compile(r"kind=license_renewal.*state=upcoming"))
    expect(page.get_by_text("No obligations match these filters.")).to_be_visible()

    page.get_by_label("State").select_option("notified")
    expect(subjects(page)).to_have_text(["Reading Suite"])
    page.reload()  # the pushed URL is the page
    expect(page.get_by_label("Kind", exact=True)).to_have_value("license_renewal")
    expect(page.get_by_label("State")).to_have_value("notified")
    expect(rows(page)).to_have_count(1)

    page.get_by_label("Search").fill("")
    page.get_by_label("Kind", exact=True).select_option("")
    page.get_by_label("State").select_option("")
    expect(rows(page)).to_have_count(4)


@pytest.fixture
def paused_worker(live_server: LiveServer) -> Iterator[Callable[[], None]]:
    """Stop the live server's job worker; the test calls the result to start one again.

    So a job page is seen while its job is still queued, whatever the machine's speed.
    """
    app = live_server.app
    (running,) = [
        t
        for t in threading.enumerate()
        if isinstance(t, EmbeddedWorker) and t.app is app and t.is_alive()
    ]
    running.stop()
    started: list[EmbeddedWorker] = []

    def resume() -> None:
        worker = EmbeddedWorker(app, poll_seconds=0.2)
        worker.start()
        started.append(worker)

    yield resume
    for worker in started:
        worker.stop()


def test_run_scan_now_shows_the_job_until_it_finishes(
    page: Page,
    db: Session,
    world: World,
    renewals: Renewals,
    paused_worker: Callable[[], None],
) -> None:
    # A device added since the last scan: only a scan makes its refresh a decision.
    today = renewals.today
    factories.make_device(
        db,
        world.a.district,
        asset_tag="CB-0200",
        purchase_date=today - relativedelta(months=44),
        lifespan_months=48,
    )
    db.commit()
    sign_in(page, world.a.it.email)
    page.goto("/renewals")
    expect(page.get_by_role("link", name="CB-0200")).to_have_count(0)
    polls: list[str] = []
    page.on(
        "request",
        lambda r: polls.append(r.url) if r.headers.get("hx-request") else None,
    )

    page.get_by_role("button", name="Run scan now").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lifecycle scan")
    state = page.get_by_test_id("job-state")
    expect(state).to_have_text("Queued")
    # The page asks every second while the job waits for a worker.
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        pass
    expect(state).to_have_text("Queued")

    paused_worker()

    expect(state).to_have_text("Finished")
    expect(
        page.get_by_text(re.compile(r"^Scan finished: [1-9][\d,]* obligations?"))
    ).to_be_visible()
    expect(page.get_by_role("link", name="Back to renewals")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_have_attribute(
        "value", "100"
    )
    assert set(polls) == {page.url}
    # A finished job answers 286: the page stops asking.
    done_polls = len(polls)
    page.wait_for_timeout(1_300)
    assert len(polls) == done_polls

    page.goto("/renewals")
    expect(page.get_by_role("link", name="CB-0200")).to_be_visible()
    expect(page.get_by_test_id("open-count")).to_have_text("5")


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(
    page: Page, db: Session, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.viewer.email)
    page.goto("/renewals")
    expect(rows(page)).to_have_count(4)
    expect(page.get_by_role("img", name=re.compile("per month"))).to_be_visible()

    for name in ("Acknowledge", "Snooze", "Let lapse", "Cancel", "Mark replaced"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_text("Renew…")).to_have_count(0)
    expect(page.get_by_role("button", name="Run scan now")).to_have_count(0)
    expect(rows(page).locator("td.row-actions")).to_have_text(["—"] * 4)

    # The viewer's own session and CSRF token, posting what the page does not offer.
    token = page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']"
    )
    ob = renewals.contract_renewal(db)
    for action, form in (
        ("acknowledge", {}),
        ("snooze", {"until": (renewals.today + timedelta(days=7)).isoformat()}),
    ):
        response = page.request.post(
            f"/renewals/{ob.id}/{action}",
            form=form,
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
        assert response.status == 403, (action, response.status)
        assert "Only district IT or finance staff" in response.text()
    response = page.request.post("/renewals/scan", headers={"X-CSRFToken": token})
    assert response.status == 403
    ob = renewals.contract_renewal(db)
    assert (ob.state, ob.snoozed_until) == (ObligationState.UPCOMING, None)


def test_open_a_notification_from_the_bell_and_mark_it_read(
    page: Page, db: Session, world: World, renewals: Renewals
) -> None:
    sign_in(page, world.a.it.email)
    expect(bell(page)).to_have_accessible_name("Notifications, 1 unread")

    bell(page).click()

    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.get_by_test_id("notification")
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading")).to_contain_text("1 renewal to decide by")
    expect(item).to_contain_text("Reading Suite")
    expect(item).to_contain_text("1 Chromebook warranty ends on")
    expect(item.get_by_role("link", name="Review renewals")).to_have_attribute(
        "href", "/renewals?state=notified"
    )
    mark_page(page)

    item.get_by_role("button", name=re.compile(r"^Mark read\b")).click()

    expect(item.get_by_text("Unread")).to_have_count(0)
    expect(item.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)
    expect(bell(page)).to_have_accessible_name("Notifications, 0 unread")
    expect_same_page(page)
    assert unread(db, world.a.it) == 0

    # The link in the notification opens the renewals it is about.
    item.get_by_role("link", name="Review renewals").click()
    expect(page).to_have_url(re.compile(r"/renewals\?state=notified$"))
    expect(subjects(page)).to_have_text(["Reading Suite", "CB-0100"])
