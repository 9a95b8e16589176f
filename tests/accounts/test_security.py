"""Security headers, CSRF protection and the login rate limit."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from lifecycle.auth import create_token
from lifecycle.models import ApiToken, School
from tests.api.conftest import fresh, sign_in
from tests.conftest import bearer, htmx
from tests.factories import PASSWORD

PAGES = ["/login", "/profile", "/admin/users", "/admin/settings", "/admin/activity"]


def _page(response):
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_the_security_headers(client, world, url):
    sign_in(client, world.admin)
    if url == "/login":
        client.post("/logout")

    response = client.get(url)

    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_nothing_the_csp_would_block(client, world, url):
    sign_in(client, world.admin)
    if url == "/login":
        client.post("/logout")

    page = _page(client.get(url))

    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    assert all(' src="/static/' in tag for tag in scripts)
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)  # no inline code
    assert " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert "https://" not in page.split("<body", 1)[0]  # no CDN


def test_the_session_cookie_is_httponly_and_samesite(client, world):
    response = client.post(
        "/login", data={"email": world.a.it.email, "password": PASSWORD}
    )

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_json_errors_carry_the_headers_too(client):
    response = client.get("/api/v1/schools")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


# --- CSRF --------------------------------------------------------------------


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def _hidden_token(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _header_token(page):
    headers = re.search(r"<body hx-headers='([^']+)'", page).group(1)
    return json.loads(headers)["X-CSRFToken"]


def test_a_form_post_without_the_csrf_token_is_refused_kindly(csrf_app, world):
    client = csrf_app.test_client()
    client.get("/login")

    response = client.post(
        "/login", data={"email": world.a.it.email, "password": PASSWORD}
    )

    assert response.status_code == 400
    page = _page(response)
    assert "Your form expired or came from another site." in page
    assert "Reload the page and try again." in page
    assert client.get("/profile").status_code in (302, 303)  # not signed in


def test_a_form_post_with_the_pages_csrf_token_is_accepted(csrf_app, world):
    client = csrf_app.test_client()
    token = _hidden_token(_page(client.get("/login")))

    response = client.post(
        "/login",
        data={"email": world.a.it.email, "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 303
    assert client.get("/profile").status_code == 200


def test_an_htmx_post_sends_the_token_from_hx_headers(csrf_app, world, db):
    client = csrf_app.test_client()
    sign_in(client, world.a.it)
    token = _header_token(_page(client.get("/profile")))

    refused = client.post("/profile/tokens", data={"name": "No token"}, headers=htmx())
    accepted = client.post(
        "/profile/tokens",
        data={"name": "With token"},
        headers=htmx(**{"X-CSRFToken": token}),
    )

    assert refused.status_code == 400
    assert "<html" not in _page(refused)  # an htmx error is a fragment
    assert accepted.status_code == 200
    names = [t.name for t in fresh(db).exec(select(ApiToken)).all()]
    assert names == ["With token"]


def test_a_token_from_another_session_is_refused(csrf_app, world):
    other = csrf_app.test_client()
    foreign = _hidden_token(_page(other.get("/login")))
    client = csrf_app.test_client()
    client.get("/login")

    response = client.post(
        "/login",
        data={"email": world.a.it.email, "password": PASSWORD, "csrf_token": foreign},
    )

    assert response.status_code == 400


def test_the_api_needs_no_csrf_token_it_uses_bearer_tokens(csrf_app, world, db):
    _token, secret = create_token(db, user=world.a.it, name="script")
    db.commit()

    response = csrf_app.test_client().post(
        "/api/v1/schools", json={"name": "Alpha Annex"}, headers=bearer(secret)
    )

    assert response.status_code == 201
    assert fresh(db).exec(select(School).where(School.name == "Alpha Annex")).one()


# --- login rate limit --------------------------------------------------------


def test_too_many_failed_logins_are_refused_with_429(make_app, world):
    app = make_app(settings={"login_rate_limit": "3 per minute"})
    client = app.test_client()
    wrong = {"email": world.a.it.email, "password": "guess-guess-guess"}

    statuses = [client.post("/login", data=wrong).status_code for _ in range(3)]
    blocked = client.post("/login", data=wrong)
    right = client.post(
        "/login", data={"email": world.a.it.email, "password": PASSWORD}
    )

    assert statuses == [401, 401, 401]
    assert blocked.status_code == 429
    assert "Too many attempts. Please wait a minute and try again." in _page(blocked)
    assert "Retry-After" in blocked.headers
    # While limited even the right password waits; the page itself still loads.
    assert right.status_code == 429
    assert client.get("/login").status_code == 200


def test_the_default_limit_allows_a_few_typos(client, world):
    wrong = {"email": world.a.it.email, "password": "typo-typo-typo"}

    statuses = [client.post("/login", data=wrong).status_code for _ in range(3)]
    right = client.post(
        "/login", data={"email": world.a.it.email, "password": PASSWORD}
    )

    assert statuses == [401, 401, 401]
    assert right.status_code == 303


# --- no cached copies of exports and feeds -----------------------------------------

EXPORTS = [
    "/devices/export.csv",
    "/licenses/export.csv",
    "/contracts/export.csv",
    "/schools/export.csv",
    "/budget/lines.csv",
]
WORKBOOKS = ["/budget/export.xlsx"]
# cooperative staff's downloads
COOP_EXPORTS = ["/pipeline/estimate.csv", "/pipeline/estimate.xlsx"]
# downloads of one record, checked no-store where the record is made
# (tests/imports/test_pages.py)
RECORD_EXPORTS = ["/import/<int:import_id>/errors.csv"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("url", EXPORTS + WORKBOOKS)
def test_every_export_is_no_store(client, world, url):
    sign_in(client, world.a.it)

    response = client.get(url)

    assert response.status_code == 200
    assert response.mimetype == ("text/csv" if url.endswith(".csv") else XLSX)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", COOP_EXPORTS)
def test_every_cooperative_export_is_no_store(client, world, url):
    sign_in(client, world.coop_staff)

    response = client.get(url)

    assert response.status_code == 200
    assert response.mimetype == ("text/csv" if url.endswith(".csv") else XLSX)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_calendar_feed_is_no_store(client, world):
    sign_in(client, world.a.it)
    html = _page(client.post("/renewals/calendar"))
    feed = re.search(r'data-testid="feed-url">([^<]+)<', html).group(1)

    response = client.application.test_client().get(
        feed.replace("http://localhost", "")
    )

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_list_of_exports_and_feeds_above_is_complete(app):
    downloads = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.endswith((".csv", ".ics", ".xlsx"))
    }

    assert downloads == {
        *EXPORTS,
        *WORKBOOKS,
        *COOP_EXPORTS,
        *RECORD_EXPORTS,
        "/calendar/<token>.ics",
    }


def test_static_files_may_be_cached(client):
    response = client.get("/static/vendor/htmx.min.js")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


# --- password change rate limit ----------------------------------------------------


def _wrong_current(client):
    return client.post(
        "/profile/password",
        data={
            "current_password": "guess-guess-guess",
            "new_password": "violet-tractor-sunrise",
            "confirm_password": "violet-tractor-sunrise",
        },
    )


def test_too_many_password_changes_are_refused_with_429(make_app, world):
    app = make_app(settings={"login_rate_limit": "3 per minute"})
    mine = sign_in(app.test_client(), world.a.it)
    other = sign_in(app.test_client(), world.a.finance)

    statuses = [_wrong_current(mine).status_code for _ in range(3)]
    blocked = _wrong_current(mine)

    assert statuses == [422, 422, 422]
    assert blocked.status_code == 429
    assert "Too many attempts. Please wait a minute and try again." in _page(blocked)
    assert "Retry-After" in blocked.headers
    # Counted per person: a colleague behind the same address is not held back.
    assert _wrong_current(other).status_code == 422
    assert mine.get("/profile").status_code == 200


def test_guesses_at_one_account_from_many_addresses_are_limited(make_app, world):
    """The limit counts per account as well as per address: spreading guesses at one
    person's password over many addresses does not get past it."""
    app = make_app(settings={"login_rate_limit": "3 per minute"})
    wrong = {"email": world.a.it.email, "password": "guess-guess-guess"}

    statuses = [
        app.test_client()
        .post("/login", data=wrong, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
        .status_code
        for n in range(4)
    ]
    other = app.test_client().post(
        "/login",
        data={"email": world.a.finance.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )

    assert statuses == [401, 401, 401, 429]
    assert other.status_code == 303  # another account, another address: not limited
