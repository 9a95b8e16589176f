"""The profile page: changing one's password and personal API tokens."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from lifecycle.auth import create_token
from lifecycle.models import ApiToken
from tests.api.conftest import fresh, sign_in
from tests.conftest import bearer, htmx
from tests.factories import PASSWORD

NEW = "a-brand-new-passphrase"


@pytest.fixture
def me(client, world):
    sign_in(client, world.a.it)
    return client


def _page(response):
    return response.get_data(as_text=True)


def _signs_in(app, email, password):
    response = app.test_client().post(
        "/login", data={"email": email, "password": password}
    )
    return response.status_code == 303


# --- password ----------------------------------------------------------------


def test_the_profile_shows_who_i_am(me, world):
    page = _page(me.get("/profile"))

    assert world.a.it.email in page
    assert "District IT" in page
    assert "Alpha ISD" in page


def test_changing_my_password_makes_the_new_one_work_and_the_old_one_not(
    app, me, world
):
    response = me.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW,
            "confirm_password": NEW,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/profile"
    assert "Your password is changed;" in _page(me.get("/profile"))
    assert _signs_in(app, world.a.it.email, NEW)
    assert not _signs_in(app, world.a.it.email, PASSWORD)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"current_password": "not-my-password", "new_password": NEW},
            "current_password",
            "is not your current password",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": NEW,
                "confirm_password": NEW + "x",
            },
            "confirm_password",
            "does not match the new password",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": "short",
                "confirm_password": "short",
            },
            "new_password",
            "must be at least 10 characters",
        ),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, me, world, form, field, message
):
    form = {"confirm_password": NEW, **form}

    response = me.post("/profile/password", data=form)

    assert response.status_code == 422
    page = _page(response)
    assert f'<p class="field-error" id="e-{field}">' in page
    assert message in page
    assert NEW not in page  # passwords are never echoed back
    assert _signs_in(app, world.a.it.email, PASSWORD)


# --- API tokens --------------------------------------------------------------


def _new_secret(page):
    match = re.search(r'data-testid="new-token">([^<]+)<', page)
    assert match, page
    return match.group(1)


def test_a_new_token_is_shown_once_and_works_in_the_api(app, me, world, db):
    response = me.post("/profile/tokens", data={"name": "Inventory sync"})

    assert response.status_code == 200
    secret = _new_secret(_page(response))
    api = app.test_client().get("/api/v1/users/me", headers=bearer(secret))
    assert api.status_code == 200
    assert api.json["id"] == world.a.it.id
    later = _page(me.get("/profile"))
    token = fresh(db).exec(select(ApiToken)).one()
    assert secret not in later
    assert f"<code>{token.prefix}…</code>" in later
    assert "Inventory sync" in later
    assert (token.user_id, token.name) == (world.a.it.id, "Inventory sync")


def test_creating_a_token_from_htmx_swaps_only_the_tokens_panel(me):
    response = me.post(
        "/profile/tokens", data={"name": "Budget export"}, headers=htmx()
    )

    page = _page(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<section class="panel" id="tokens"')
    assert _new_secret(page).startswith("lc_")


@pytest.mark.parametrize(
    ("name", "message"), [("  ", "is required"), ("x" * 81, "at most 80")]
)
def test_a_token_needs_a_sensible_name(me, db, name, message):
    response = me.post("/profile/tokens", data={"name": name}, headers=htmx())

    assert response.status_code == 422
    page = _page(response)
    assert message in page
    assert 'data-testid="new-token"' not in page
    assert fresh(db).exec(select(ApiToken)).all() == []


def test_revoking_a_token_stops_it_working(app, me, world, db):
    token, secret = create_token(db, user=world.a.it, name="Old script")
    db.commit()
    api = app.test_client()
    assert api.get("/api/v1/users/me", headers=bearer(secret)).status_code == 200

    response = me.post(f"/profile/tokens/{token.id}/revoke")

    assert response.status_code == 303
    assert api.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401
    page = _page(me.get("/profile"))
    assert "Token “Old script” is revoked; it no longer works." in page
    assert "Revoked" in page
    assert f"/profile/tokens/{token.id}/revoke" not in page


def test_revoking_from_htmx_navigates_back_to_the_profile(me, world, db):
    token, _secret = create_token(db, user=world.a.it, name="Old script")
    db.commit()

    response = me.post(f"/profile/tokens/{token.id}/revoke", headers=htmx())

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/profile"
    assert fresh(db).get(ApiToken, token.id).revoked_at is not None


def test_someone_elses_token_cannot_be_revoked_or_seen(app, me, world, db):
    theirs, secret = create_token(db, user=world.b.it, name="Bravo sync")
    db.commit()

    response = me.post(f"/profile/tokens/{theirs.id}/revoke")

    assert response.status_code == 404
    assert fresh(db).get(ApiToken, theirs.id).revoked_at is None
    assert (
        app.test_client().get("/api/v1/users/me", headers=bearer(secret)).status_code
        == 200
    )
    assert "Bravo sync" not in _page(me.get("/profile"))
    assert me.post("/profile/tokens/999999/revoke").status_code == 404


def test_the_profile_shows_when_a_token_was_last_used(app, me, world, db):
    token, secret = create_token(db, user=world.a.it, name="Nightly report")
    db.commit()

    app.test_client().get("/api/v1/schools", headers=bearer(secret))

    assert fresh(db).get(ApiToken, token.id).last_used_at is not None
