"""Only administrators reach the administration pages (docs/rules.md#tenancy-and-access)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from lifecycle.models import User
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx

PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user_id}",
    "/admin/districts",
    "/admin/districts/new",
    "/admin/districts/{district_id}",
    "/admin/activity",
    "/admin/settings",
    "/admin/mail",
]
NOT_ADMINS = ["coop_staff", "a.it", "a.finance", "a.viewer"]


def _user(world, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    return user


def _url(world, page):
    return page.format(user_id=world.a.it.id, district_id=world.a.district.id)


@pytest.mark.parametrize("page", PAGES)
def test_an_admin_reaches_every_admin_page(client, world, page):
    sign_in(client, world.admin)

    response = client.get(_url(world, page))

    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", NOT_ADMINS)
@pytest.mark.parametrize("page", PAGES)
def test_everyone_else_is_refused_with_a_403_page(client, world, who, page):
    sign_in(client, _user(world, who))

    response = client.get(_url(world, page))

    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_a_non_admin_cannot_create_an_account_by_posting_the_form(
    client, world, db, who
):
    sign_in(client, _user(world, who))

    response = client.post(
        "/admin/users",
        data={
            "email": "sneaky@example.org",
            "name": "Sneaky",
            "role": "admin",
            "password": "a-long-enough-password",
        },
    )

    assert response.status_code == 403
    found = fresh(db).exec(select(User).where(User.email == "sneaky@example.org"))
    assert found.all() == []


def test_a_non_admin_cannot_promote_themself(client, world, db):
    me = world.a.it
    sign_in(client, me)

    response = client.post(
        f"/admin/users/{me.id}",
        data={"name": me.name, "role": "admin", "is_active": "1", "version": "1"},
    )

    assert response.status_code == 403
    assert fresh(db).get(User, me.id).role == "district_it"


def test_the_admin_nav_shows_only_for_admins(client, world):
    sign_in(client, world.coop_staff)
    staff_home = client.get("/").get_data(as_text=True)
    client.post("/logout")
    sign_in(client, world.admin)
    admin_home = client.get("/").get_data(as_text=True)

    assert 'href="/admin/users"' not in staff_home
    assert 'href="/admin/users"' in admin_home


@pytest.mark.parametrize("page", ["/admin/users", "/admin/settings"])
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, world, page):
    response = client.get(page)

    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith("/login?next=")
    assert page in response.headers["Location"].replace("%2F", "/")


def test_an_anonymous_htmx_request_is_told_to_navigate_to_sign_in(client, world):
    response = client.get("/admin/users?q=x", headers=htmx())

    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
