"""Changing a password ends the user's other sessions."""

from tests.conftest import login
from tests.factories import PASSWORD


def test_a_password_change_signs_out_other_sessions(app, world):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, world.a.it.email)
    login(phone, world.a.it.email)
    response = laptop.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-secret",
            "confirm_password": "a-brand-new-secret",
        },
    )
    assert response.status_code == 303
    assert laptop.get("/").status_code == 200  # this session carries on
    assert phone.get("/").status_code == 302  # the other one must sign in again
