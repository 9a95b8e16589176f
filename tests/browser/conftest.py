"""Browser tests: real Chromium through Playwright against a live server of a fresh app.

Each test gets its own app and database (a SQLite file or truncated PostgreSQL;
fakeredis or Redis, as tests/conftest.py decides), served on 127.0.0.1 by a threaded
Werkzeug server, with the embedded job worker running and CSRF on, as users get it.
One Chromium serves the whole session.

Here the `app` fixture is the live server's app, so `db` and `world` arrange data the
browser sees (commit what it must see).

A test fails when its page reports a problem: a console error (a CSP violation is one),
an uncaught exception, a 5xx response, or a failed script, stylesheet, image or font.
A test that expects one says so with `page_problems.allow(pattern)`. On failure a
screenshot and a Playwright trace (`playwright show-trace trace.zip`) are saved under
test-results/browser/ (or LIFECYCLE_BROWSER_ARTIFACTS).

LIFECYCLE_CHROMIUM names the Chromium binary (default /usr/bin/chromium). Without a
working Chromium the tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import os
import re
import shutil
import socket
import sys
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, NoReturn

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from lifecycle.db import get_db
from lifecycle.work.queue import EmbeddedWorker
from tests.conftest import CI, build_app
from tests.factories import PASSWORD

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("LIFECYCLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, and the test network is closed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get("LIFECYCLE_BROWSER_ARTIFACTS")
    or HERE.parents[1] / "test-results" / "browser"
)
TIMEOUT_MS = 10_000

WATCH = pytest.StashKey["ProblemWatch"]()
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


# --- marking and reporting ---------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory is a browser test (`-m "not browser"` drops it)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test whose page reported problems, even when its own assertions passed."""
    watch = item.stash.get(WATCH, None)
    try:
        result = yield
    except BaseException:
        if watch is not None and watch.collect():
            item.add_report_section("call", "browser problems", watch.describe())
        raise
    if watch is not None and watch.collect():
        pytest.fail(f"the page reported problems:\n{watch.describe()}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


# --- the browser ---------------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    if CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session; each test gets its own context."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium executable at {CHROMIUM} (set LIFECYCLE_CHROMIUM)")
    try:
        browser = _playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
    except Error as exc:
        _unavailable(f"Chromium at {CHROMIUM} does not start: {exc.message}")
    yield browser
    browser.close()


# --- mail ------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the live server's SMTP server received during one test.

    `hold()` makes the server keep each message waiting until `release()`, so a test can
    watch a mail job while it is still running.
    """

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def hold(self) -> None:
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.to_thread(self.released.wait, 30)
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        self.messages.append(parsed)
        return "250 Message accepted"


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[Mailbox]:
    with socket.socket() as probe:  # aiosmtpd's Controller cannot use port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox(host="127.0.0.1", port=port)
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def mailbox(_smtp_server: Mailbox) -> Iterator[Mailbox]:
    """The messages the app sends in this test (the live server mails here)."""
    _smtp_server.messages.clear()
    _smtp_server.release()
    yield _smtp_server
    _smtp_server.release()


# --- the live server -------------------------------------------------------------


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture
def live_settings(mailbox: Mailbox) -> dict[str, Any]:
    """Settings overrides of the live app (see tests/conftest.make_settings)."""
    return {"smtp_host": mailbox.host, "smtp_port": mailbox.port}


@pytest.fixture
def live_server(
    database_url: str,
    redis_url: str | None,
    tmp_path: Path,
    live_settings: dict[str, Any],
) -> Iterator[LiveServer]:
    """The app served over HTTP with its job worker running (the embedded default)."""
    app = build_app(
        database_url,
        redis_url,
        tmp_path,
        WTF_CSRF_ENABLED=True,
        settings=live_settings,
    )
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
        name="lifecycle-live-server",
        daemon=True,
    )
    serving.start()
    worker = EmbeddedWorker(app, poll_seconds=0.2)
    worker.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        serving.join(5)
        worker.stop()
        get_db(app).dispose()


@pytest.fixture
def app(live_server: LiveServer) -> Iterator[Flask]:
    """The live server's app, so `db` and `world` arrange data the browser will see."""
    with live_server.app.app_context():
        yield live_server.app


# --- the page and what it reports ------------------------------------------------


# base.html names an empty icon, so Chromium asks for no favicon; nothing is ignored.
IGNORED_URLS: tuple[re.Pattern[str], ...] = ()
FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with")


@dataclass
class ProblemWatch:
    """Console errors, uncaught exceptions and failed responses of one test's pages."""

    page: Page | None = None
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect a problem matching `pattern` (a regex) in this test."""
        self.allowed.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium logs every 4xx/5xx as "Failed to load resource"; responses are judged
        # by on_response, which knows what kind of request it was.
        if FAILED_LOAD.match(message.text):
            return
        where = message.location.get("url", "")
        self.problems.append(f"console error: {message.text} ({where})")

    def on_page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught exception: {error.message}")

    def on_response(self, response: Response) -> None:
        status, request = response.status, response.request
        if status < 400 or any(p.search(response.url) for p in IGNORED_URLS):
            return
        # A page that answers 4xx (a failed sign-in, a 404) or an htmx request that
        # answers 422/409 is the app speaking; the test checks what the user sees.
        # A 5xx, or a 4xx for a script, stylesheet, image or font, is a bug.
        app_answer = request.is_navigation_request() or request.resource_type in (
            "xhr",
            "fetch",
        )
        if status >= 500 or not app_answer:
            self.problems.append(
                f"HTTP {status} for {request.method} {response.url}"
                f" ({request.resource_type})"
            )

    def collect(self) -> list[str]:
        """Problems not allowed, once the events the browser already sent are in."""
        if self.page is not None and not self.page.is_closed():
            # A round trip delivers pending events; if the page is navigating or has
            # crashed, what was reported so far still counts.
            with contextlib.suppress(Error):
                self.page.evaluate("0")
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]

    def describe(self) -> str:
        return "\n".join(f"  - {p}" for p in self.collect())


@pytest.fixture
def page_problems(request: pytest.FixtureRequest) -> ProblemWatch:
    watch = ProblemWatch()
    request.node.stash[WATCH] = watch
    return watch


@pytest.fixture
def page(
    browser: Browser,
    live_server: LiveServer,
    page_problems: ProblemWatch,
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.tracing.start(snapshots=True, screenshots=True)
    page = context.new_page()
    page_problems.page = page
    page.on("console", page_problems.on_console)
    page.on("pageerror", page_problems.on_page_error)
    page.on("response", page_problems.on_response)
    yield page
    reports = request.node.stash.get(REPORTS, {})
    failed = any(r.failed for r in reports.values())
    if failed:
        _save_artifacts(request.node, page, context)
    else:
        context.tracing.stop()
    context.close()


def _save_artifacts(node: pytest.Item, page: Page, context: BrowserContext) -> None:
    target = ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.nodeid)
    shutil.rmtree(target, ignore_errors=True)  # an older run's files would mislead
    target.mkdir(parents=True)
    with contextlib.suppress(Error):
        page.screenshot(path=target / "screenshot.png", full_page=True)
    context.tracing.stop(path=target / "trace.zip")
    print(f"browser artifacts: {target}", file=sys.stderr)


expect.set_options(timeout=TIMEOUT_MS)


# --- helpers --------------------------------------------------------------------


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form and wait for the signed-in page."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
