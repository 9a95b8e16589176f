"""One password rule wherever a password is set: long enough, not the person's e-mail,
not a common or guessable one (zxcvbn)."""

from __future__ import annotations

import pytest
from flask.cli import ScriptInfo
from sqlmodel import select

from lifecycle.accounts.passwords import password_problem
from lifecycle.cli import main
from lifecycle.models import User
from tests.api.conftest import fresh, sign_in
from tests.factories import PASSWORD

EMAIL = "maria.lopez@alpha-isd.org"
GOOD = "violet-tractor-sunrise"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        (GOOD, None),
        (PASSWORD, None),
        ("Tr4mpoline&Quokka", None),
        ("short-pw", "must be at least 10 characters"),
        ("x" * 201, "must be at most 200 characters"),
        (" " + GOOD, "must not start or end with spaces"),
        (GOOD + " ", "must not start or end with spaces"),
        (EMAIL, "must not contain your e-mail address"),
        (EMAIL.upper(), "must not contain your e-mail address"),
        ("maria.lopez-2024", "must not contain your e-mail address"),
        ("MariaLopez!!99", "must not contain your e-mail address"),
        ("Lopez.Maria.2024", "must not contain your e-mail address"),
        ("password123", "is too easy to guess (this is a very common password)"),
        ("qwertyuiop", "is too easy to guess (this is a top-100 common password)"),
        ("iloveyou12345", "is too easy to guess"),
        ("Password2024!", "is too easy to guess"),
        ("1234567890", "is too easy to guess"),
        ("aaaaaaaaaaaa", "is too easy to guess"),
        # Built on the person's own words or the product's name.
        ("alpha-isd-2024", "is too easy to guess"),
        ("alphaisd1234", "is too easy to guess"),
        ("lifecycle-demo", "is too easy to guess"),
        # Beyond 72 characters only the start is judged, and it must hold up.
        ("a" * 150, "is too easy to guess"),
        (GOOD * 8, None),
    ],
)
def test_the_password_rule(password, problem):
    found = password_problem(password, email=EMAIL, name="Maria Lopez")

    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found


def test_a_guessable_password_is_told_what_to_do_instead():
    problem = password_problem("password123", email=EMAIL)

    assert problem == (
        "is too easy to guess (this is a very common password): use a longer "
        "phrase of three or four unrelated words"
    )


# --- every way of setting one --------------------------------------------------------


def _change(client, new):
    return client.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "confirm_password": new,
        },
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("password123", "New password is too easy to guess"),
        ("lifecycle-demo", "New password is too easy to guess"),
        (None, "New password must not contain your e-mail address"),
    ],
    ids=["common", "demo", "e-mail"],
)
def test_the_profile_refuses_a_weak_new_password(client, db, world, new, message):
    me = world.a.it
    before = me.password_hash
    sign_in(client, me)

    response = _change(client, new or me.email)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(db).get(User, me.id).password_hash == before


def _new_user(password, email="new.person@example.org"):
    return {
        "email": email,
        "name": "New Person",
        "role": "coop_staff",
        "password": password,
    }


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "First password is too easy to guess"),
        ("new.person-2025", "First password must not contain your e-mail address"),
    ],
)
def test_an_admin_cannot_give_a_weak_first_password(
    client, db, world, password, message
):
    sign_in(client, world.admin)

    response = client.post("/admin/users", data=_new_user(password))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert not fresh(db).exec(select(User).where(User.name == "New Person")).all()


def test_an_admins_suggested_first_password_passes_the_rule(client, world):
    sign_in(client, world.admin)
    page = client.get("/admin/users/new").get_data(as_text=True)
    suggested = page.split('name="password" type="text" value="')[1].split('"')[0]

    response = client.post("/admin/users", data=_new_user(suggested))

    assert response.status_code == 303


def test_a_reset_password_passes_the_rule_and_signs_in(app, client, world):
    sign_in(client, world.admin)
    page = client.post(f"/admin/users/{world.a.viewer.id}/reset-password")
    html = page.get_data(as_text=True)
    temporary = html.split('data-testid="temp-password">')[1].split("<")[0]

    assert password_problem(temporary, email=world.a.viewer.email) is None
    response = app.test_client().post(
        "/login", data={"email": world.a.viewer.email, "password": temporary}
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("password", "code", "said"),
    [
        (GOOD, 0, "Created new.person@example.org"),
        ("password123", 2, "password: is too easy to guess"),
        ("new.person@example.org", 2, "password: must not contain your e-mail"),
    ],
)
def test_the_command_line_applies_the_same_rule(app, db, password, code, said):
    result = app.test_cli_runner().invoke(
        main,
        [
            "create-user",
            "new.person@example.org",
            "--name",
            "New Person",
            "--role",
            "coop_staff",
            "--password",
            password,
        ],
        obj=ScriptInfo(create_app=lambda: app),
    )

    assert result.exit_code == code, result.output
    assert said in result.output
    created = fresh(db).exec(select(User).where(User.name == "New Person")).all()
    assert len(created) == (1 if code == 0 else 0)
