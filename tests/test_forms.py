"""Every web form refuses a field it does not take (422 naming it, nothing written), as
the API does; and accepts every field its own page sends."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from lifecycle.enums import ObligationState
from lifecycle.models import Device, District, Obligation, User
from tests import factories
from tests.conftest import fresh, htmx, sign_in, text
from tests.renewals.test_actions_data import arrange

REFUSED = "is not a field this form accepts"


@pytest.fixture
def it(client, world):
    return sign_in(client, world.a.it)


def test_a_district_posted_to_the_device_form_is_a_422_naming_it(it, db, world):
    response = it.post(
        "/devices",
        data={
            "asset_tag": "A-900",
            "category": "chromebook",
            "status": "in_service",
            "district_id": str(world.b.district.id),
        },
    )

    assert response.status_code == 422
    assert f"District id {REFUSED}" in text(response)
    assert 'value="A-900"' in text(response)  # the entries are kept
    assert not fresh(db).exec(select(Device).where(Device.asset_tag == "A-900")).all()


def test_an_unknown_field_on_a_device_edit_from_htmx_answers_the_form_fragment(
    it, db, world
):
    device = factories.make_device(db, world.a.district, asset_tag="A-1")
    db.commit()

    response = it.post(
        f"/devices/{device.id}",
        data={
            "asset_tag": "A-1-renamed",
            "category": device.category.value,
            "status": device.status.value,
            "version": str(device.version),
            "owner": "someone",
        },
        headers=htmx(),
    )

    assert response.status_code == 422
    assert "HX-Request" in response.headers["Vary"]
    assert text(response).lstrip().startswith('<section class="panel" id="device-form"')
    assert f"Owner {REFUSED}" in text(response)
    assert fresh(db).get(Device, device.id).asset_tag == "A-1"


def test_the_click_to_edit_form_takes_only_its_field(it, db, world):
    device = factories.make_device(db, world.a.district, assigned_to="Ms. Park")
    db.commit()

    response = it.post(
        f"/devices/{device.id}/fields/assigned_to",
        data={
            "assigned_to": "Mr. Reyes",
            "version": str(device.version),
            "status": "retired",
        },
        headers=htmx(),
    )

    assert response.status_code == 422
    assert "this form does not accept status" in text(response)
    stored = fresh(db).get(Device, device.id)
    assert (stored.assigned_to, stored.status.value) == ("Ms. Park", "in_service")


def test_the_policy_form_refuses_a_field_it_does_not_have(it, db, world):
    district = world.a.district
    page = text(it.get("/policy"))
    form = _fields(page, f"/districts/{district.id}/policy")

    response = it.post(
        f"/districts/{district.id}/policy", data={**form, "nces_id": "9999999"}
    )

    assert response.status_code == 422
    assert f"Nces id {REFUSED}" in text(response)
    assert fresh(db).get(District, district.id).nces_id == district.nces_id


def test_an_admin_user_form_refuses_a_password_hash(client, db, world):
    sign_in(client, world.admin)
    user = world.a.viewer
    page = text(client.get(f"/admin/users/{user.id}"))
    form = _fields(page, f"/admin/users/{user.id}")

    response = client.post(
        f"/admin/users/{user.id}", data={**form, "password_hash": "x"}
    )

    assert response.status_code == 422
    assert f"Password hash {REFUSED}" in text(response)
    assert fresh(db).get(User, user.id).password_hash == user.password_hash


# --- every form's own fields are accepted -------------------------------------------


def _fields(page: str, action: str) -> dict[str, str]:
    """The fields the form posting to `action` sends, with the values it shows."""
    match = re.search(
        rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S
    )
    assert match, f"no form posts to {action}"
    body = match.group(1)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", body):
        name = re.search(r'\bname="([^"]+)"', tag)
        if name is None or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    return fields


@pytest.fixture
def records(db, world):
    coop = world.coop
    vendor = factories.make_vendor(db, name="Acme Forms")
    device = factories.make_device(db, world.a.district)
    lic = factories.make_license(db, world.a.district)
    contract = factories.make_contract(db, world.a.district)
    db.commit()
    return {
        "coop": coop,
        "vendor": vendor,
        "device": device,
        "license": lic,
        "contract": contract,
    }


FORMS = [
    # (who, page, the form's action; {…} filled from the records and the world)
    ("it", "/devices/new", "/devices"),
    ("it", "/devices/{device}/edit", "/devices/{device}"),
    ("it", "/licenses/new", "/licenses"),
    ("it", "/licenses/{license}/edit", "/licenses/{license}"),
    ("it", "/contracts/new", "/contracts"),
    ("it", "/contracts/{contract}/edit", "/contracts/{contract}"),
    ("it", "/schools/new", "/schools"),
    ("it", "/schools/{school}/edit", "/schools/{school}"),
    ("it", "/policy", "/districts/{district}/policy"),
    ("admin", "/vendors/new", "/vendors"),
    ("admin", "/vendors/{vendor}/edit", "/vendors/{vendor}"),
    ("admin", "/admin/users/new", "/admin/users"),
    ("admin", "/admin/users/{viewer}", "/admin/users/{viewer}"),
    ("admin", "/admin/districts/new", "/admin/districts"),
    ("admin", "/admin/districts/{district}", "/admin/districts/{district}"),
]


@pytest.mark.parametrize(("who", "page", "action"), FORMS)
def test_every_field_a_form_page_sends_is_one_it_accepts(
    client, world, records, who, page, action
):
    ids = {
        "device": records["device"].id,
        "license": records["license"].id,
        "contract": records["contract"].id,
        "vendor": records["vendor"].id,
        "school": world.a.school.id,
        "district": world.a.district.id,
        "viewer": world.a.viewer.id,
    }
    sign_in(client, world.a.it if who == "it" else world.admin)
    html = text(client.get(page.format(**ids)))
    form = _fields(html, action.format(**ids))
    assert "csrf_token" in form

    response = client.post(action.format(**ids), data=form)

    assert REFUSED not in text(response), (response.status_code, form)
    assert "this form does not accept" not in text(response)


def test_a_renewal_action_refuses_a_field_it_does_not_take(client, db, world):
    arranged = arrange(db, world.a.district)
    sign_in(client, world.a.it)
    ob = arranged.warranty(db)
    before = ob.state

    response = client.post(
        f"/renewals/{ob.id}/acknowledge", data={"until": "2030-01-01"}, headers=htmx()
    )

    assert response.status_code == 422
    assert f"until: {REFUSED}" in text(response)
    assert (
        fresh(db).get(Obligation, ob.id).state == before != ObligationState.ACKNOWLEDGED
    )
