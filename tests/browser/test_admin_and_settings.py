"""Settings journeys in real Chromium: the district policy re-dating devices, the
personal calendar feed, an administrator creating an account that then signs in,
notification preferences, and sending again an e-mail the mail server refused.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from lifecycle.enums import DeviceCategory, Role
from lifecycle.models import CategoryPolicy, Device, OutboxEmail, User
from lifecycle.scan.refresh import recompute_device_refresh
from tests import factories
from tests.factories import World
from tests.renewals.test_actions_data import arrange

from .conftest import Mailbox, sign_in


@pytest.fixture
def fleet(db: Session, world: World) -> dict[str, Device]:
    """Alpha ISD keeps Chromebooks 48 months by policy; one has its own lifespan."""
    a = world.a.district
    db.add(
        CategoryPolicy(
            district_id=a.id,  # type: ignore[arg-type]
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=48,
        )
    )
    made = {
        "cb1": factories.make_device(
            db, a, asset_tag="CB-0001", purchase_date=date(2023, 7, 15)
        ),
        "cb2": factories.make_device(
            db, a, asset_tag="CB-0002", purchase_date=date(2024, 1, 10)
        ),
        "own": factories.make_device(
            db,
            a,
            asset_tag="CB-0003",
            purchase_date=date(2023, 7, 15),
            lifespan_months=36,
        ),
        "laptop": factories.make_device(
            db,
            a,
            asset_tag="LT-0001",
            category=DeviceCategory.LAPTOP,
            purchase_date=date(2023, 7, 15),
            lifespan_months=60,
        ),
        "theirs": factories.make_device(
            db,
            world.b.district,
            asset_tag="BRAVO-0001",
            purchase_date=date(2023, 7, 15),
        ),
    }
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    return made


def refresh_due(db: Session, device: Device) -> date | None:
    db.expire_all()
    found = db.get(Device, device.id)
    assert found is not None
    return found.refresh_due


def test_a_new_lifespan_in_the_policy_redates_the_devices(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    sign_in(page, world.a.it.email)
    page.goto(f"/devices/{fleet['cb1'].id}")
    expect(page.get_by_test_id("refresh-info")).to_contain_text("Jul 15, 2027")

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Policy"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Alpha ISD: refresh and planning policy"
    )
    lifespan = page.get_by_role("spinbutton", name="Chromebook lifespan in months")
    expect(lifespan).to_have_value("48")
    lifespan.fill("60")
    page.get_by_role("button", name="Save policy").click()

    # CB-0001 and CB-0002 follow the policy; CB-0003 keeps its own 36 months.
    expect(page.get_by_role("status").filter(has_text="Saved the policy")).to_have_text(
        "Saved the policy of Alpha ISD. 2 devices have a new refresh date (Chromebook)."
    )
    expect(page).to_have_url(re.compile(r"/policy$"))
    expect(
        page.get_by_role("spinbutton", name="Chromebook lifespan in months")
    ).to_have_value("60")

    page.goto(f"/devices/{fleet['cb1'].id}")
    info = page.get_by_test_id("refresh-info")
    expect(info).to_contain_text("Jul 15, 2028")
    expect(info).to_contain_text("60 months of lifespan (district policy)")
    expect(page.get_by_test_id("refresh-pending")).to_have_count(0)
    page.goto(f"/devices/{fleet['own'].id}")
    expect(page.get_by_test_id("refresh-info")).to_contain_text("Jul 15, 2026")
    expect(page.get_by_test_id("refresh-info")).to_contain_text("(this device)")

    assert refresh_due(db, fleet["cb1"]) == date(2028, 7, 15)
    assert refresh_due(db, fleet["cb2"]) == date(2029, 1, 10)
    assert refresh_due(db, fleet["own"]) == date(2026, 7, 15)
    assert refresh_due(db, fleet["laptop"]) == date(2028, 7, 15)
    assert refresh_due(db, fleet["theirs"]) is None  # Bravo has no such policy


def test_a_bad_lifespan_keeps_the_form_and_says_why(
    page: Page, db: Session, world: World, fleet: dict[str, Device]
) -> None:
    sign_in(page, world.a.it.email)
    page.goto("/policy")
    lifespan = page.get_by_role("spinbutton", name="Chromebook lifespan in months")
    lifespan.fill("999")
    lifespan.evaluate("e => e.form.noValidate = true")  # what the server says
    page.get_by_role("button", name="Save policy").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please fix 1 problem")
    expect(alert.get_by_role("link")).to_contain_text("Chromebook lifespan (months)")
    expect(lifespan).to_have_value("999")
    expect(lifespan).to_have_attribute("aria-invalid", "true")
    assert refresh_due(db, fleet["cb1"]) == date(2027, 7, 15)


def test_the_personal_calendar_feed_lists_the_decisions(
    page: Page, db: Session, world: World
) -> None:
    arrange(db, world.a.district, school_id=world.a.school.id)
    sign_in(page, world.a.finance.email)
    page.goto("/renewals")
    page.get_by_role("link", name="Add to your calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your renewals calendar")
    expect(page.get_by_test_id("feed-state")).to_have_text("Off")

    page.get_by_role("button", name="Create my calendar address").click()

    expect(page.get_by_test_id("feed-state")).to_have_text("On")
    url = page.get_by_test_id("feed-url").inner_text().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/calendar/[\w-]+\.ics", url), url
    # A calendar app fetches it without a session.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    text = feed.text().replace("\r\n ", "")  # unfold long lines
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.rstrip().endswith("END:VCALENDAR")
    events = text.count("BEGIN:VEVENT")
    assert events == text.count("END:VEVENT") >= 4
    assert "SUMMARY:Decide by: License renewal — Reading Suite" in text
    assert "SUMMARY:Decide by: Contract renewal — Core switch maintenance" in text
    assert "Bravo" not in text

    # Turning it off makes the address stop working.
    sign_in(page, world.a.finance.email)
    page.goto("/renewals/calendar")
    expect(page.get_by_test_id("feed-state")).to_have_text("On")
    expect(page.get_by_test_id("feed-url")).to_have_count(0)  # shown once only
    page.get_by_role("button", name="Turn the feed off").click()
    expect(
        page.get_by_text(
            "Your calendar feed is turned off; the old address no longer works."
        )
    ).to_be_visible()
    expect(page.get_by_test_id("feed-state")).to_have_text("Off")
    assert page.request.get(url).status == 404


def test_admin_creates_a_user_who_signs_in_with_the_given_password(
    page: Page, db: Session, world: World
) -> None:
    sign_in(page, world.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Users"
    ).click()
    page.get_by_role("link", name="Add a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a user")
    expect(page.get_by_label("First password")).not_to_have_value("")  # a suggestion

    page.get_by_label("E-mail").fill("new.tech@example.org")
    page.get_by_label("Name").fill("Nia Tech")
    page.get_by_label("Role").select_option(label="District IT")
    page.get_by_label("District").select_option(label="Alpha ISD (TX)")
    page.get_by_label("First password").fill("short")
    page.get_by_label("First password").evaluate("e => e.form.noValidate = true")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Password")
    expect(page.get_by_label("E-mail")).to_have_value("new.tech@example.org")

    page.get_by_label("First password").fill("a-first-password-42")
    page.get_by_role("button", name="Create account").click()

    expect(
        page.get_by_role("status").filter(has_text="Account created")
    ).to_contain_text("Account created for new.tech@example.org.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia Tech")
    db.expire_all()
    created = db.exec(select(User).where(User.email == "new.tech@example.org")).one()
    assert (created.role, created.district_id) == (
        Role.DISTRICT_IT,
        world.a.district.id,
    )

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "new.tech@example.org", "a-first-password-42")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha ISD")
    expect(page.get_by_role("link", name=re.compile(r"^Nia Tech"))).to_be_visible()


def test_notification_preferences_are_saved(
    page: Page, db: Session, world: World
) -> None:
    user = world.a.it
    sign_in(page, user.email)
    page.get_by_role("link", name=re.compile(r"^Notifications, ")).click()
    page.get_by_role("link", name="E-mail and digest preferences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Notification preferences"
    )
    email = page.get_by_role("checkbox", name="E-mail me when reminders are due")
    digest = page.get_by_role("checkbox", name="Send me the weekly digest")
    expect(email).to_be_checked()
    expect(digest).to_be_checked()

    email.uncheck()
    page.get_by_role("button", name="Save preferences").click()

    expect(page.get_by_text("Saved your notification preferences.")).to_be_visible()
    expect(email).not_to_be_checked()
    expect(digest).to_be_checked()
    db.expire_all()
    saved = db.get(User, user.id)
    assert saved is not None
    assert (saved.notify_email, saved.weekly_digest) == (False, True)

    email.check()
    digest.uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Saved your notification preferences.")).to_be_visible()
    page.reload()
    expect(email).to_be_checked()
    expect(digest).not_to_be_checked()
    db.expire_all()
    saved = db.get(User, user.id)
    assert saved is not None
    assert (saved.notify_email, saved.weekly_digest) == (True, False)


def test_admin_sends_again_an_email_the_mail_server_refused(
    page: Page, db: Session, world: World, mailbox: Mailbox
) -> None:
    """A reminder whose retries ran out waits on the admin page until sent again."""
    db.add(
        OutboxEmail(
            district_id=world.a.district.id,
            user_id=world.a.it.id,
            dedupe_key="browser:refused",
            to_address=world.a.it.email,
            subject="Lifecycle: 1 renewal to decide by Dec 31, 2026",
            body_text="Decide on Reading Plus.",
            attempts=6,
            last_error="mail server 127.0.0.1:2525 refused the connection",
        )
    )
    db.commit()
    sign_in(page, world.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Settings"
    ).click()
    expect(
        page.get_by_text("1 message the mail server has not accepted")
    ).to_be_visible()
    page.get_by_role("link", name="Undelivered e-mail").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Undelivered e-mail")
    row = page.get_by_role("row").filter(has_text=world.a.it.email)
    expect(row).to_contain_text("refused the connection")
    row.get_by_role("button", name=re.compile(r"^Send again")).click()

    expect(page.get_by_role("status").filter(has_text="Queued again")).to_be_visible()
    for _ in range(100):
        if mailbox.messages:
            break
        page.wait_for_timeout(100)
    [message] = mailbox.messages
    assert message["To"] == world.a.it.email
    assert message["Subject"] == "Lifecycle: 1 renewal to decide by Dec 31, 2026"
    page.reload()
    expect(page.get_by_text("Every message written so far")).to_be_visible()
