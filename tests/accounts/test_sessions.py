"""Signing out ends a sign-in on the server: a copied session or remember cookie is
refused after logout, sign-out-everywhere, deactivation (and reactivation), a role
change and a password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select, update

from lifecycle.auth import LOGIN_LIFETIME, SESSION_LIFETIME, forget_ended_sign_ins
from lifecycle.models import ApiToken, AuditEvent, LoginSession, User, utcnow
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx, login
from tests.factories import PASSWORD

NEW = "a-brand-new-passphrase"
SESSION, REMEMBER = "session", "remember_token"


def _remembered_login(client, email, password=PASSWORD):
    response = client.post(
        "/login", data={"email": email, "password": password, "remember": "1"}
    )
    assert response.status_code == 303
    return {name: client.get_cookie(name).value for name in (SESSION, REMEMBER)}


def _replay(app, name, value):
    """A browser holding only this one copied cookie asks for a page."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief.get("/profile")


def _refused(response):
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/login"
    )


def _works(response):
    return response.status_code == 200


@pytest.fixture
def copied(app, world):
    """The cookies of world.a.it's remembered sign-in, proven to work when copied."""
    browser = app.test_client()
    cookies = _remembered_login(browser, world.a.it.email)
    for name, value in cookies.items():
        assert _works(_replay(app, name, value)), name
    return browser, cookies


def _assert_both_refused(app, cookies):
    for name, value in cookies.items():
        assert _refused(_replay(app, name, value)), name


@pytest.fixture
def admin(app, world):
    return sign_in(app.test_client(), world.admin)


def _edit_user(admin, db, user, **changes):
    user = fresh(db).get(User, user.id)
    data = {
        "name": user.name,
        "role": str(user.role),
        "district_id": str(user.district_id or ""),
        "is_active": "1" if user.is_active else "",
        "version": str(user.version),
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v != "" or k == "district_id"}
    response = admin.post(f"/admin/users/{user.id}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


# --- logout ------------------------------------------------------------------------


def test_after_logout_the_copied_session_and_remember_cookies_are_refused(
    app, world, copied
):
    browser, cookies = copied

    assert browser.post("/logout").status_code == 303

    _assert_both_refused(app, cookies)
    assert _refused(browser.get("/profile"))


def test_a_replayed_cookie_from_htmx_is_a_401_that_sends_to_the_login(
    app, world, copied
):
    browser, cookies = copied
    browser.post("/logout")
    thief = app.test_client()
    thief.set_cookie(SESSION, cookies[SESSION])

    response = thief.get("/profile", headers=htmx())

    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_signing_out_in_one_browser_leaves_the_others_signed_in(app, world):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, world.a.it.email)
    login(phone, world.a.it.email)

    laptop.post("/logout")

    assert _refused(laptop.get("/profile"))
    assert _works(phone.get("/profile"))


def test_signing_in_and_out_are_in_the_activity_log(app, db, world):
    browser = app.test_client()
    login(browser, world.a.it.email)
    browser.post("/logout")

    actions = (
        fresh(db)
        .exec(
            select(AuditEvent.action)
            .where(
                AuditEvent.entity_id == world.a.it.id,
                col(AuditEvent.action).startswith("sign_"),
            )
            .order_by(col(AuditEvent.id))
        )
        .all()
    )
    assert actions == ["sign_in", "sign_out"]
    assert fresh(db).exec(select(LoginSession)).all() == []


def test_a_sign_in_older_than_its_lifetime_is_refused(app, db, world, copied):
    _browser, cookies = copied
    db.exec(
        update(LoginSession).values(
            created_at=utcnow() - LOGIN_LIFETIME - timedelta(minutes=1)
        )
    )
    db.commit()

    _assert_both_refused(app, cookies)


def test_a_sign_in_without_keep_me_signed_in_ends_after_a_working_day(app, db, world):
    """Closing the browser on a shared computer leaves a session cookie a thief could
    copy: the server refuses it once SESSION_LIFETIME has passed. A remembered sign-in
    of the same age still works."""
    brief, kept = app.test_client(), app.test_client()
    login(brief, world.a.it.email)
    login(kept, world.a.finance.email, remember=True)
    db.exec(
        update(LoginSession).values(
            created_at=utcnow() - SESSION_LIFETIME - timedelta(minutes=1)
        )
    )
    db.commit()

    assert _refused(brief.get("/profile"))
    assert _works(kept.get("/profile"))


def test_the_daily_sweep_forgets_only_ended_sign_ins(app, db, world):
    for client, email, remember in (
        (app.test_client(), world.a.it.email, False),
        (app.test_client(), world.a.finance.email, True),
        (app.test_client(), world.a.viewer.email, False),
    ):
        login(client, email, remember=remember)
    db.exec(
        update(LoginSession)
        .where(col(LoginSession.user_id) != world.a.viewer.id)
        .values(created_at=utcnow() - SESSION_LIFETIME - timedelta(minutes=1))
    )
    db.commit()

    assert forget_ended_sign_ins(db) == 1
    db.commit()
    left = {s.user_id for s in fresh(db).exec(select(LoginSession)).all()}
    assert left == {world.a.finance.id, world.a.viewer.id}


def test_a_cookie_of_the_old_kind_is_refused(app, world):
    # Before sign-ins were stored, the key was the user id and a password stamp.
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = f"{world.a.it.id}.0123456789abcdef"

    assert _refused(browser.get("/profile"))


# --- sign out everywhere -----------------------------------------------------------


def test_signing_out_everywhere_ends_every_sign_in_but_not_the_api_tokens(
    app, db, world, copied, token_for
):
    _browser, cookies = copied
    headers = token_for(world.a.it)
    here = sign_in(app.test_client(), world.a.it)

    response = here.post("/profile/sign-out-everywhere")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    _assert_both_refused(app, cookies)
    assert _refused(here.get("/profile"))
    assert app.test_client().get("/api/v1/schools", headers=headers).status_code == 200
    event = (
        fresh(db)
        .exec(select(AuditEvent).where(AuditEvent.action == "sign_out_everywhere"))
        .one()
    )
    assert (event.entity_id, event.changes) == (world.a.it.id, {"sessions_ended": 2})


def test_the_profile_offers_sign_out_everywhere_as_a_confirmed_post(app, world):
    page = sign_in(app.test_client(), world.a.it).get("/profile")

    html = page.get_data(as_text=True)
    assert 'action="/profile/sign-out-everywhere"' in html
    assert 'hx-confirm="Sign out everywhere' in html
    assert app.test_client().get("/profile/sign-out-everywhere").status_code in (
        302,
        405,
    )


# --- password change ---------------------------------------------------------------


def test_a_password_change_refuses_the_old_cookies_and_other_sessions(
    app, world, copied
):
    laptop, cookies = copied
    phone = app.test_client()
    login(phone, world.a.it.email)

    response = laptop.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW,
            "confirm_password": NEW,
        },
    )

    assert response.status_code == 303
    assert _works(laptop.get("/profile"))  # this browser carries on, under a new key
    assert _refused(phone.get("/profile"))
    _assert_both_refused(app, cookies)
    # The laptop's remember cookie was renewed with the new key: it alone signs in.
    renewed = laptop.get_cookie(REMEMBER).value
    assert renewed != cookies[REMEMBER]
    assert _works(_replay(app, REMEMBER, renewed))


def test_an_admins_password_reset_ends_the_persons_sign_ins(app, world, admin, copied):
    _browser, cookies = copied

    response = admin.post(f"/admin/users/{world.a.it.id}/reset-password")

    assert response.status_code == 200
    _assert_both_refused(app, cookies)


# --- deactivation and role changes -------------------------------------------------


def test_deactivation_refuses_the_cookies_even_after_reactivation(
    app, db, world, admin, copied
):
    _browser, cookies = copied

    _edit_user(admin, db, world.a.it, is_active="")
    _assert_both_refused(app, cookies)
    _edit_user(admin, db, world.a.it, is_active="1")

    _assert_both_refused(app, cookies)
    # A new sign-in works as before.
    assert _works(sign_in(app.test_client(), world.a.it).get("/profile"))


def test_deactivation_revokes_api_tokens_and_the_calendar_feed_for_good(
    app, db, world, admin, token_for
):
    headers = token_for(world.a.it)
    browser = sign_in(app.test_client(), world.a.it)
    html = browser.post("/renewals/calendar").get_data(as_text=True)
    feed = html.split('data-testid="feed-url">')[1].split("<")[0]
    feed = feed.replace("http://localhost", "")
    api = app.test_client()
    assert api.get("/api/v1/schools", headers=headers).status_code == 200
    assert app.test_client().get(feed).status_code == 200

    _edit_user(admin, db, world.a.it, is_active="")
    assert api.get("/api/v1/schools", headers=headers).status_code == 401
    _edit_user(admin, db, world.a.it, is_active="1")

    assert api.get("/api/v1/schools", headers=headers).status_code == 401
    assert app.test_client().get(feed).status_code == 404
    tokens = (
        fresh(db).exec(select(ApiToken).where(ApiToken.user_id == world.a.it.id)).all()
    )
    assert tokens and all(t.revoked_at is not None for t in tokens)


@pytest.mark.parametrize(
    "change",
    [{"role": "district_viewer"}, {"role": "coop_staff", "district_id": ""}],
    ids=["role", "role-and-district"],
)
def test_a_role_change_refuses_the_cookies(app, db, world, admin, copied, change):
    _browser, cookies = copied

    _edit_user(admin, db, world.a.it, **change)

    _assert_both_refused(app, cookies)


def test_a_name_change_keeps_the_person_signed_in(app, db, world, admin, copied):
    _browser, cookies = copied

    _edit_user(admin, db, world.a.it, name="Renamed Person")

    assert _works(_replay(app, SESSION, cookies[SESSION]))


def test_a_deactivated_users_token_is_refused_even_without_a_revoke(
    app, db, world, token_for
):
    # The token check itself refuses an inactive owner (a deactivation by SQL).
    headers = token_for(world.a.it)
    db.exec(update(User).where(User.id == world.a.it.id).values(is_active=False))
    db.commit()

    response = app.test_client().get("/api/v1/schools", headers=headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("headers", "back_to"),
    [
        ({"HX-Request": "true", "HX-Current-URL": "http://localhost/renewals?state=notified"},
         "/renewals?state=notified"),
        ({"Referer": "http://localhost/renewals"}, "/renewals"),
        ({"Referer": "https://elsewhere.example/renewals"}, "/"),
        ({}, "/"),
    ],
)  # fmt: skip
def test_a_form_posted_from_a_page_left_open_returns_to_that_page_after_signing_in(
    client, headers, back_to
):
    """A POST cannot be replayed by a redirect: after signing in the person lands on
    the page they posted from, not on a GET of the action (a 405)."""
    from urllib.parse import parse_qs, urlsplit

    response = client.post("/renewals/2/acknowledge", headers=headers)

    target = response.headers.get("HX-Redirect") or response.headers["Location"]
    assert parse_qs(urlsplit(target).query)["next"] == [back_to]
