"""Signing in and out."""

from __future__ import annotations

import pytest
from sqlmodel import select

from lifecycle.models import AuditEvent, User
from tests.api.conftest import fresh, sign_in
from tests.conftest import login
from tests.factories import PASSWORD


def _page(response):
    return response.get_data(as_text=True)


def test_the_login_page_is_a_form(client):
    response = client.get("/login")

    page = _page(response)
    assert response.status_code == 200
    assert '<form method="post" action="/login">' in page
    assert 'name="password" type="password"' in page


def test_signing_in_opens_the_home_page_and_records_the_sign_in(client, world, db):
    response = client.post(
        "/login", data={"email": f"  {world.a.it.email.upper()} ", "password": PASSWORD}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert world.a.it.name in _page(home)
    fresh(db)
    assert db.get(User, world.a.it.id).last_login_at is not None
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
    assert (event.entity_id, event.actor_id) == (world.a.it.id, world.a.it.id)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("it", "wrong-password-123"),
        ("nobody@example.org", PASSWORD),
        ("it", ""),
        ("", ""),
    ],
)
def test_a_wrong_email_or_password_is_a_401_page_with_a_message(
    client, world, email, password
):
    email = world.a.it.email if email == "it" else email

    response = client.post("/login", data={"email": email, "password": password})

    assert response.status_code == 401
    page = _page(response)
    assert "That e-mail and password do not match an active account." in page
    assert f'value="{email}"' in page  # the e-mail is kept, the password is not
    assert client.get("/login").status_code == 200  # still signed out


def test_a_deactivated_account_cannot_sign_in(client, world, db):
    world.b.viewer.is_active = False
    db.add(world.b.viewer)
    db.commit()

    response = client.post(
        "/login", data={"email": world.b.viewer.email, "password": PASSWORD}
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/users?q=alpha", "/admin/users?q=alpha"),
        ("/profile", "/profile"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("http:evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_returns_only_to_a_page_of_this_site(client, world, target, expected):
    response = client.post(
        "/login",
        data={"email": world.admin.email, "password": PASSWORD, "next": target},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_an_htmx_sign_in_is_sent_on_to_a_page_of_this_site_only(client, world):
    response = client.post(
        "/login",
        data={
            "email": world.admin.email,
            "password": PASSWORD,
            "next": "/\\evil.example",
        },
        headers={"HX-Request": "true"},
    )

    assert response.headers["HX-Redirect"] == "/"


def test_the_next_page_survives_a_failed_attempt(client, world):
    failed = client.post(
        "/login",
        data={
            "email": world.admin.email,
            "password": "nope-nope-nope",
            "next": "/profile",
        },
    )

    assert 'name="next" value="/profile"' in _page(failed)


def test_the_login_page_sends_a_signed_in_user_on(client, world):
    sign_in(client, world.coop_staff)

    assert client.get("/login?next=/profile").headers["Location"] == "/profile"
    assert client.get("/login?next=https://evil.example/").headers["Location"] == "/"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, world):
    response = client.get("/profile")

    assert response.status_code in (302, 303)
    target = response.headers["Location"]
    assert target.startswith("/login?next=")

    login_page = client.get(target)
    assert 'name="next" value="/profile"' in _page(login_page)
    back = client.post(
        "/login",
        data={"email": world.a.it.email, "password": PASSWORD, "next": "/profile"},
    )
    assert back.headers["Location"] == "/profile"


def test_signing_out_ends_the_session(client, world):
    login(client, world.a.viewer.email)
    assert client.get("/profile").status_code == 200

    response = client.post("/logout")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "You are signed out." in _page(client.get("/login"))
    assert client.get("/profile").status_code in (302, 303)


def test_signing_out_takes_a_post(client, world):
    sign_in(client, world.a.viewer)

    assert client.get("/logout").status_code == 405
    assert client.get("/profile").status_code == 200
