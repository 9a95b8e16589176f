"""Administering user accounts: create, edit, deactivate, reset a password, search."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from lifecycle.enums import Role
from lifecycle.models import AuditEvent, User
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx, login
from tests.factories import make_user

NEW_PASSWORD = "first-day-password-42"


@pytest.fixture
def admin(client, world):
    sign_in(client, world.admin)
    return client


def _signs_in(app, email, password):
    response = app.test_client().post(
        "/login", data={"email": email, "password": password}
    )
    return response.status_code == 303


def _user_by_email(db, email):
    return fresh(db).exec(select(User).where(User.email == email)).first()


def _form(response):
    return response.get_data(as_text=True)


# --- create ------------------------------------------------------------------


def test_an_admin_creates_a_district_user_who_can_then_sign_in(app, admin, world, db):
    response = admin.post(
        "/admin/users",
        data={
            "email": "Dana.Reyes@AlphaISD.org",
            "name": "Dana Reyes",
            "role": "district_finance",
            "district_id": str(world.a.district.id),
            "password": NEW_PASSWORD,
        },
    )

    user = _user_by_email(db, "dana.reyes@alphaisd.org")
    assert user is not None
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert (user.name, user.role, user.district_id) == (
        "Dana Reyes",
        "district_finance",
        world.a.district.id,
    )
    assert NEW_PASSWORD not in user.password_hash
    assert _signs_in(app, "dana.reyes@alphaisd.org", NEW_PASSWORD)
    assert not _signs_in(app, "dana.reyes@alphaisd.org", "wrong-password-1")
    page = _form(admin.get(response.headers["Location"]))
    assert "Account created for dana.reyes@alphaisd.org" in page


def test_the_new_user_form_suggests_a_random_first_password(admin):
    first = _form(admin.get("/admin/users/new"))
    second = _form(admin.get("/admin/users/new"))

    pattern = r'name="password" type="text" value="([^"]+)"'
    suggested = re.search(pattern, first).group(1), re.search(pattern, second).group(1)
    assert len(suggested[0]) >= 12
    assert suggested[0] != suggested[1]


def test_the_new_user_form_starts_at_the_least_privileged_role(admin):
    page = _form(admin.get("/admin/users/new"))
    selected = re.findall(r'<option value="([a-z_]+)" selected>', page)
    assert selected == ["district_viewer"]


def test_a_district_role_without_a_district_is_refused_in_the_form(admin, db):
    response = admin.post(
        "/admin/users",
        data={
            "email": "nodistrict@example.org",
            "name": "Pat Nodistrict",
            "role": "district_it",
            "district_id": "",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    page = _form(response)
    assert "District is required for a district role" in page
    assert 'aria-invalid="true" aria-describedby="e-district_id"' in page
    # What was typed is kept.
    assert 'value="Pat Nodistrict"' in page
    assert 'value="nodistrict@example.org"' in page
    assert _user_by_email(db, "nodistrict@example.org") is None


def test_a_cooperative_role_with_a_district_is_refused(admin, world, db):
    response = admin.post(
        "/admin/users",
        data={
            "email": "staff2@example.org",
            "name": "Sam Staff",
            "role": "coop_staff",
            "district_id": str(world.a.district.id),
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert "must be empty for a cooperative or admin role" in _form(response)
    assert _user_by_email(db, "staff2@example.org") is None


def test_an_email_already_used_is_refused_whatever_its_case(admin, world, db):
    response = admin.post(
        "/admin/users",
        data={
            "email": world.a.it.email.upper(),
            "name": "Impostor",
            "role": "admin",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert "is already used by another account" in _form(response)
    users = fresh(db).exec(select(User).where(User.email == world.a.it.email)).all()
    assert [u.name for u in users] == [world.a.it.name]


@pytest.mark.parametrize(
    ("password", "message"),
    [("short-pw", "at least 10 characters"), ("", "at least 10 characters")],
)
def test_a_short_first_password_is_refused(admin, db, password, message):
    response = admin.post(
        "/admin/users",
        data={
            "email": "weak@example.org",
            "name": "Weak Password",
            "role": "coop_staff",
            "password": password,
        },
    )

    assert response.status_code == 422
    page = _form(response)
    assert 'aria-describedby="e-password"' in page
    assert message in page
    assert _user_by_email(db, "weak@example.org") is None


def test_a_short_first_password_gets_a_plain_sentence(admin):
    response = admin.post(
        "/admin/users",
        data={
            "email": "weak@example.org",
            "name": "Weak Password",
            "role": "coop_staff",
            "password": "short-pw",
        },
    )

    assert (
        '<p class="field-error" id="e-password">'
        "First password must be at least 10 characters</p>"
    ) in _form(response)


def test_an_invalid_email_is_refused(admin, db):
    response = admin.post(
        "/admin/users",
        data={
            "email": "not-an-address",
            "name": "No Mail",
            "role": "coop_staff",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert "enter an e-mail address" in _form(response)


# --- edit --------------------------------------------------------------------


def _edit_data(db, user, **changes):
    """The edit form as the admin's browser sends it, unchanged but for `changes`."""
    user = fresh(db).get(User, user.id)
    data = {
        "name": user.name,
        "role": str(user.role),
        "district_id": str(user.district_id or ""),
        "is_active": "1" if user.is_active else "",
        "version": str(user.version),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != "" or k == "district_id"}


def test_an_admin_moves_a_user_to_another_role_and_district(admin, world, db):
    user = world.a.viewer
    form = _edit_data(
        db, user, role="district_it", district_id=str(world.b.district.id)
    )

    response = admin.post(f"/admin/users/{user.id}", data=form)

    assert response.status_code == 303
    stored = fresh(db).get(User, user.id)
    assert (stored.role, stored.district_id) == ("district_it", world.b.district.id)
    assert stored.version == int(form["version"]) + 1
    history = _form(admin.get(f"/admin/users/{user.id}"))
    assert "district_viewer</del> → <ins>district_it" in history


def test_promoting_a_district_user_to_cooperative_staff_clears_their_district(
    admin, world, db
):
    user = world.b.it

    response = admin.post(
        f"/admin/users/{user.id}",
        data=_edit_data(db, user, role="coop_staff"),
    )

    assert response.status_code == 303
    stored = fresh(db).get(User, user.id)
    assert (stored.role, stored.district_id) == ("coop_staff", None)


def test_editing_a_user_with_a_stale_version_is_a_409(admin, world, db):
    user = world.a.finance
    form = _edit_data(db, user)
    first = admin.post(f"/admin/users/{user.id}", data={**form, "name": "First"})

    second = admin.post(f"/admin/users/{user.id}", data={**form, "name": "Second"})

    assert first.status_code == 303
    assert second.status_code == 409
    assert "Someone else changed this record" in _form(second)
    assert fresh(db).get(User, user.id).name == "First"


def test_an_admin_cannot_demote_themself(admin, world, db):
    me = world.admin

    response = admin.post(
        f"/admin/users/{me.id}", data=_edit_data(db, me, role="coop_staff")
    )

    assert response.status_code == 422
    assert "you cannot remove your own administrator access" in _form(response)
    assert fresh(db).get(User, me.id).role == "admin"
    assert admin.get("/admin/users").status_code == 200


def test_an_admin_cannot_deactivate_themself(admin, world, db):
    me = world.admin
    data = _edit_data(db, me)
    del data["is_active"]  # an unchecked checkbox sends nothing

    response = admin.post(f"/admin/users/{me.id}", data=data)

    assert response.status_code == 422
    assert fresh(db).get(User, me.id).is_active is True


def test_a_deactivated_user_cannot_sign_in_nor_use_their_session(app, admin, world, db):
    user = world.a.it
    theirs = app.test_client()
    sign_in(theirs, user)
    data = _edit_data(db, user)
    del data["is_active"]

    response = admin.post(f"/admin/users/{user.id}", data=data)

    assert response.status_code == 303
    assert fresh(db).get(User, user.id).is_active is False
    assert not _signs_in(app, user.email, "correct-horse-battery")
    # The session they already had ends with the account.
    assert theirs.get("/").status_code in (302, 303)
    listing = _form(admin.get("/admin/users"))
    assert "Deactivated" in listing


def test_reactivating_a_user_lets_them_sign_in_again(app, admin, world, db):
    user = world.a.it
    data = _edit_data(db, user)
    del data["is_active"]
    admin.post(f"/admin/users/{user.id}", data=data)

    response = admin.post(
        f"/admin/users/{user.id}", data=_edit_data(db, user, is_active="1")
    )

    assert response.status_code == 303
    assert _signs_in(app, user.email, "correct-horse-battery")


def test_editing_an_unknown_user_is_a_404(admin):
    assert admin.get("/admin/users/999999").status_code == 404


def test_a_user_signing_in_does_not_make_the_admins_open_form_stale(
    app, admin, world, db
):
    user = world.b.viewer
    form = _edit_data(db, user, name="Renamed While Signing In")
    login(app.test_client(), user.email)

    response = admin.post(f"/admin/users/{user.id}", data=form)

    assert response.status_code == 303
    assert fresh(db).get(User, user.id).name == "Renamed While Signing In"


# --- reset password ----------------------------------------------------------


def _temp_password(page):
    match = re.search(r'data-testid="temp-password">([^<]+)<', page)
    assert match, page
    return match.group(1)


def test_reset_password_shows_a_new_temporary_password_once(app, admin, world):
    user = world.b.finance

    response = admin.post(f"/admin/users/{user.id}/reset-password")

    assert response.status_code == 200
    temporary = _temp_password(_form(response))
    assert len(temporary) >= 12
    assert _signs_in(app, user.email, temporary)
    assert not _signs_in(app, user.email, "correct-horse-battery")
    assert temporary not in _form(admin.get(f"/admin/users/{user.id}"))


def test_reset_password_from_htmx_swaps_only_the_form(app, admin, world):
    user = world.b.viewer

    response = admin.post(f"/admin/users/{user.id}/reset-password", headers=htmx())

    page = _form(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert page.lstrip().startswith('<section class="panel" id="user-form">')
    assert _signs_in(app, user.email, _temp_password(page))


def test_a_password_reset_is_in_the_audit_trail_without_the_password(admin, world, db):
    user = world.a.viewer
    temporary = _temp_password(
        _form(admin.post(f"/admin/users/{user.id}/reset-password"))
    )

    events = (
        fresh(db)
        .exec(
            select(AuditEvent).where(
                AuditEvent.entity_type == "user",
                AuditEvent.entity_id == user.id,
                AuditEvent.action == "update",
            )
        )
        .all()
    )

    assert [e.changes for e in events] == [{"password_hash": ["•••", "•••"]}]
    assert events[0].actor_id == world.admin.id
    assert temporary not in repr(events[0].changes)


# --- list and active search --------------------------------------------------


@pytest.fixture
def searchable(world, db):
    make_user(db, Role.COOP_STAFF, name="Alphonse Alpha", email="a.alpha@coop.org")
    make_user(db, Role.ADMIN, name="Zed Zulu", email="zed@coop.org")
    db.commit()


def test_users_search_from_htmx_answers_only_the_results(admin, searchable):
    response = admin.get("/admin/users?q=alpha", headers=htmx())

    page = _form(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="results"' in page
    assert 'role="search"' not in page
    assert "a.alpha@coop.org" in page
    assert "zed@coop.org" not in page
    assert "1 user<" in page
    assert "HX-Request" in response.headers["Vary"]


def test_users_search_without_htmx_answers_the_whole_page(admin, searchable):
    response = admin.get("/admin/users?q=alpha")

    page = _form(response)
    assert response.status_code == 200
    assert "<html" in page
    assert 'role="search"' in page
    assert 'value="alpha"' in page
    assert "a.alpha@coop.org" in page
    assert "zed@coop.org" not in page
    assert "HX-Request" in response.headers["Vary"]


def test_users_search_matches_email_and_name_and_filters_by_role(
    admin, searchable, world
):
    by_email = _form(admin.get("/admin/users?q=ZED@", headers=htmx()))
    by_role = _form(admin.get("/admin/users?role=district_it", headers=htmx()))

    assert "Zed Zulu" in by_email
    assert "Alphonse" not in by_email
    assert world.a.it.email in by_role
    assert world.b.it.email in by_role
    assert world.a.viewer.email not in by_role
    assert "2 users" in by_role


def test_users_search_treats_wildcards_literally(admin, searchable, world):
    page = _form(admin.get("/admin/users?q=%25", headers=htmx()))

    assert "No users match" in page
    assert "a.alpha@coop.org" not in page


def test_a_boosted_navigation_gets_the_whole_page(admin, searchable):
    response = admin.get("/admin/users?q=alpha", headers=htmx(**{"HX-Boosted": "true"}))

    assert "<html" in _form(response)
