"""First journeys: every role signs in through the real login form and sees its home;
signing out, a wrong password, the keyboard, a background job watched to the end, and
every simple page loading without a browser problem."""

from __future__ import annotations

import re
from operator import attrgetter

import pytest
from flask import Flask
from playwright.sync_api import Browser, Dialog, Page, Route, expect
from sqlmodel import Session

from lifecycle.enums import DeviceStatus
from tests import factories
from tests.factories import World

from .conftest import LiveServer, Mailbox, ProblemWatch, sign_in

ADMIN_NAV = ("Users", "Activity", "Settings")


@pytest.fixture
def arranged(db: Session, world: World) -> World:
    """Alpha: 3 devices (2 in service), 1 license. Bravo: more of everything."""
    a, b = world.a.district, world.b.district
    factories.make_device(db, a)
    factories.make_device(db, a)
    factories.make_device(db, a, status=DeviceStatus.RETIRED)
    factories.make_license(db, a)
    for _ in range(4):
        factories.make_device(db, b)
    factories.make_license(db, b)
    factories.make_license(db, b)
    factories.make_contract(db, b)
    db.commit()
    return world


def stat(page: Page, name: str) -> str:
    return page.get_by_test_id(f"count-{name}").locator(".value").inner_text()


def expect_nav(page: Page, *, admin: bool, cooperative: bool = False) -> None:
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    for label in ADMIN_NAV:
        link = nav.get_by_role("link", name=label, exact=True)
        if admin:
            expect(link).to_be_visible()
        else:
            expect(link).to_have_count(0)
    # administrators manage the districts; cooperative staff have their member pages
    districts = nav.get_by_role("link", name="Districts", exact=True)
    expect(districts).to_have_count(1 if admin or cooperative else 0)


@pytest.mark.parametrize("role", ["it", "finance", "viewer"])
def test_district_user_sees_own_district_and_counts(
    page: Page, arranged: World, role: str
) -> None:
    user = getattr(arranged.a, role)
    sign_in(page, user.email)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page).to_have_title("Home · Lifecycle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha ISD")
    expect(page.get_by_role("heading", name="Your inventory")).to_be_visible()
    assert stat(page, "devices") == "3"
    expect(page.get_by_test_id("count-devices")).to_contain_text("2 in service")
    assert stat(page, "licenses") == "1"
    assert stat(page, "contracts") == "0"
    assert stat(page, "schools") == "1"
    expect(page.get_by_text("Bravo ISD")).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(0)
    expect_nav(page, admin=False)


@pytest.mark.parametrize("role", ["coop_staff", "admin"])
def test_cooperative_user_sees_member_districts(
    page: Page, arranged: World, role: str
) -> None:
    sign_in(page, getattr(arranged, role).email)

    expect(page.get_by_role("heading", level=1)).to_have_text("Member districts")
    table = page.get_by_role("table", name="Member districts and their records")
    rows = table.get_by_role("row").filter(has=page.get_by_role("rowheader"))
    expect(rows.get_by_role("rowheader")).to_have_text(["Alpha ISD", "Bravo ISD"])
    # Columns: district | state, NCES id, enrollment, devices, licenses, contracts
    expect(rows.nth(0).get_by_role("cell")).to_have_text(
        ["TX", re.compile(r"\d{7}"), "5,000", "3", "1", "0"]
    )
    expect(rows.nth(1).get_by_role("cell")).to_have_text(
        ["TX", re.compile(r"\d{7}"), "5,000", "4", "2", "1"]
    )
    expect_nav(page, admin=role == "admin", cooperative=True)


def test_htmx_is_loaded_with_the_safe_config(page: Page, world: World) -> None:
    page.goto("/login")
    assert page.evaluate("typeof htmx") == "object"
    sign_in(page, world.a.it.email)
    assert page.evaluate("typeof htmx") == "object"
    # The meta htmx-config is what lets the CSP forbid eval and inline styles.
    config = page.evaluate(
        "({eval: htmx.config.allowEval, scripts: htmx.config.allowScriptTags,"
        " styles: htmx.config.includeIndicatorStyles,"
        " self: htmx.config.selfRequestsOnly})"
    )
    assert config == {"eval": False, "scripts": False, "styles": False, "self": True}
    # htmx requests carry the CSRF token from <body hx-headers>.
    token = page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']"
    )
    assert len(token) > 20


def test_wrong_password_shows_the_error_on_the_login_page(
    page: Page, world: World
) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(world.a.it.email)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "That e-mail and password do not match an active account."
    )
    expect(page).to_have_title("Sign in · Lifecycle")
    expect(page.get_by_label("E-mail")).to_have_value(world.a.it.email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # The form still works after a failed attempt.
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha ISD")


def test_sign_out_returns_to_the_login_page(page: Page, world: World) -> None:
    sign_in(page, world.b.finance.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bravo ISD")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in to Lifecycle")).to_be_visible()
    flash = page.get_by_role("status").filter(has_text="You are signed out.")
    expect(flash).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_sign_out_everywhere_asks_first_and_ends_the_other_browser_too(
    page: Page, browser: Browser, live_server: LiveServer, world: World
) -> None:
    other = browser.new_context(base_url=live_server.url).new_page()
    sign_in(other, world.a.it.email)
    sign_in(page, world.a.it.email)
    page.goto("/profile")
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    button = page.get_by_role("button", name="Sign out everywhere…")
    button.click()  # dismissed: nothing happens
    expect(page).to_have_url(re.compile(r"/profile$"))
    button.click()

    expect(page).to_have_url(re.compile(r"/login$"))
    flash = page.get_by_role("status").filter(has_text="You are signed out everywhere")
    expect(flash).to_be_visible()
    assert asked and asked[0].startswith("Sign out everywhere, this browser too?")
    other.goto("/profile")
    expect(other).to_have_url(re.compile(r"/login\?next="))
    other.context.close()


def test_signed_out_visitor_is_sent_to_sign_in_and_back(
    page: Page, world: World
) -> None:
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))
    expect(page.get_by_text("Please sign in to continue.")).to_be_visible()
    page.get_by_label("E-mail").fill(world.admin.email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Member districts")


def test_login_form_works_from_the_keyboard(page: Page, world: World) -> None:
    page.goto("/login")
    email = page.get_by_label("E-mail")
    expect(email).to_be_focused()  # autofocus: typing can start at once
    page.keyboard.type(world.a.viewer.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(factories.PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Alpha ISD")
    # The first Tab on a page reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_admin_sends_a_test_email_and_watches_the_job(
    page: Page, world: World, mailbox: Mailbox
) -> None:
    """A CSRF-protected POST starts a job, the worker runs it, and the job page polls
    until it is done, then stops polling."""
    sign_in(page, world.admin.email)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cooperative settings")
    polls: list[str] = []
    page.on(
        "request",
        lambda r: polls.append(r.url) if r.headers.get("hx-request") else None,
    )
    mailbox.hold()  # the mail server answers only when the test says so

    page.get_by_role("button", name="Send me a test e-mail").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Test e-mail")
    state = page.get_by_test_id("job-state")
    expect(state).to_have_text(re.compile("Queued|Running"))
    expect(
        page.get_by_text(re.compile(r"^Connecting to 127\.0\.0\.1:"))
    ).to_be_visible()
    mailbox.release()
    expect(state).to_have_text("Finished")
    expect(page.get_by_text(f"Sent to {world.admin.email}.")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_have_attribute("value", "100")
    assert polls, "the job page never polled"
    assert set(polls) == {page.url}
    # A finished job answers 286 without a trigger: the page stops asking.
    done_polls = len(polls)
    page.wait_for_timeout(1_500)
    assert len(polls) == done_polls
    assert [m["To"] for m in mailbox.messages] == [world.admin.email]
    assert mailbox.messages[0]["Subject"] == "Lifecycle test e-mail"


@pytest.mark.parametrize("who", ["admin", "coop_staff", "a.it"])
def test_every_page_without_parameters_loads_cleanly(
    page: Page, arranged: World, app: Flask, who: str
) -> None:
    """No page breaks in the browser: no 5xx, CSP violation, script error or missing
    asset (the page fixture fails the test on any). Refusals (403) are fine here;
    tests/test_isolation.py checks who may see what."""
    sign_in(page, attrgetter(who)(arranged).email)
    paths = sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            and not rule.arguments
            and not rule.rule.startswith(("/api/", "/static/"))
            and not rule.rule.endswith((".csv", ".xlsx", ".json"))  # downloads, data
            and rule.rule != "/healthz"
        }
    )
    assert "/" in paths
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status in (200, 403), f"{path}: {response.status}"
        expect(page.get_by_role("heading", level=1)).to_have_count(1)


def test_harness_reports_csp_violations(
    page: Page, world: World, page_problems: ProblemWatch
) -> None:
    """Guards the guard: an inline script in a page must show up as a problem."""

    def inject(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace(
            "</body>", "<script>document.title = 'ran'</script></body>"
        )
        route.fulfill(response=response, body=body)

    page.route("**/login", inject)
    page.goto("/login")

    problems = page_problems.collect()
    assert any("Content Security Policy" in p for p in problems), problems
    expect(page).to_have_title("Sign in · Lifecycle")  # the script did not run
    page_problems.allow("Content Security Policy")
