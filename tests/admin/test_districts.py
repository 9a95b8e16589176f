"""Administering member districts."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from lifecycle.models import District
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx


@pytest.fixture
def admin(client, world):
    sign_in(client, world.admin)
    return client


def _page(response):
    return response.get_data(as_text=True)


def _new_district(**changes):
    data = {
        "nces_id": "4808940",
        "state": "tx",
        "name": "Austin ISD",
        "enrollment": "72000",
        "fy_start_month": "9",
        "erate_c2_discount_pct": "60",
        "inflation_pct": "2.5",
        "reminder_thresholds": "30, 120; 60",
        "max_deferral_months": "12",
        "timezone": "America/Chicago",
    }
    data.update(changes)
    return data


def _by_nces(db, nces_id):
    return fresh(db).exec(select(District).where(District.nces_id == nces_id)).all()


def test_an_admin_adds_a_member_district(admin, world, db):
    response = admin.post("/admin/districts", data=_new_district())

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/districts"
    [district] = _by_nces(db, "4808940")
    assert district.name == "Austin ISD"
    assert district.state == "TX"
    assert district.fy_start_month == 9
    assert district.reminder_thresholds == [120, 60, 30]
    assert district.cooperative_id == world.coop.id
    listing = _page(admin.get("/admin/districts"))
    assert "Austin ISD" in listing
    assert "September 1" in listing
    assert "72,000" in listing


def test_the_new_district_form_starts_from_the_cooperatives_thresholds(
    admin, world, db
):
    world.coop.default_reminder_thresholds = [100, 50, 10]
    db.add(world.coop)
    db.commit()

    page = _page(admin.get("/admin/districts/new"))

    assert 'name="reminder_thresholds" type="text" value="100, 50, 10"' in page


def test_a_new_district_left_without_thresholds_gets_the_cooperatives(admin, world, db):
    world.coop.default_reminder_thresholds = [100, 50, 10]
    db.add(world.coop)
    db.commit()

    response = admin.post(
        "/admin/districts", data=_new_district(reminder_thresholds="")
    )

    assert response.status_code == 303
    [district] = _by_nces(db, "4808940")
    assert district.reminder_thresholds == [100, 50, 10]


@pytest.mark.parametrize(
    ("nces_id", "message"),
    [
        ("480894", "the NCES district id is 7 digits, e.g. 4808940"),
        ("48O8940", "the NCES district id is 7 digits, e.g. 4808940"),
        ("480894²", "the NCES district id is 7 digits, e.g. 4808940"),
        ("٤٨٠٨٩٤٠", "the NCES district id is 7 digits, e.g. 4808940"),
        ("", "the NCES district id is 7 digits, e.g. 4808940"),
        ("48089401", "must be at most 7 characters"),
    ],
)
def test_an_invalid_nces_id_is_refused_with_a_friendly_message(
    admin, db, nces_id, message
):
    response = admin.post("/admin/districts", data=_new_district(nces_id=nces_id))

    assert response.status_code == 422
    page = _page(response)
    assert (
        f'<p class="field-error" id="e-nces_id">NCES district id {message}</p>' in page
    )
    # The form keeps what was typed.
    assert 'value="Austin ISD"' in page
    assert (
        fresh(db).exec(select(District).where(District.name == "Austin ISD")).all()
        == []
    )


def test_an_nces_id_already_a_member_is_refused(admin, world, db):
    taken = world.a.district.nces_id

    response = admin.post(
        "/admin/districts", data=_new_district(nces_id=taken, name="Copy ISD")
    )

    assert response.status_code == 422
    assert "is already a member district" in _page(response)
    assert [d.name for d in _by_nces(db, taken)] == ["Alpha ISD"]


def test_an_invalid_state_is_refused(admin, db):
    response = admin.post("/admin/districts", data=_new_district(state="T1"))

    assert response.status_code == 422
    assert "use the two-letter state code" in _page(response)


def _edit_form(admin, district_id):
    """The edit form's fields as the browser would send them back."""
    page = _page(admin.get(f"/admin/districts/{district_id}"))
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    selected = re.search(
        r'<select id="f-fy_start_month".*?<option value="(\d+)" selected', page, re.S
    )
    data["fy_start_month"] = selected.group(1)
    return data


def test_an_admin_changes_a_districts_fiscal_year_start(admin, world, db):
    district = world.b.district
    form = _edit_form(admin, district.id)
    assert form["fy_start_month"] == "7"

    response = admin.post(
        f"/admin/districts/{district.id}", data={**form, "fy_start_month": "1"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/districts/{district.id}"
    stored = fresh(db).get(District, district.id)
    assert stored.fy_start_month == 1
    assert stored.version == int(form["version"]) + 1
    # Nothing else moved.
    assert stored.name == "Bravo ISD"
    assert stored.reminder_thresholds == [120, 90, 60, 30, 7]
    page = _page(admin.get(f"/admin/districts/{district.id}"))
    assert "Saved Bravo ISD." in page
    assert "fy start month</span>: <del>7</del> → <ins>1</ins>" in page
    assert f'href="/districts/{district.id}/policy">refresh policy of Bravo ISD' in page
    assert admin.get(f"/districts/{district.id}/policy").status_code == 200


def test_editing_a_district_with_a_stale_version_is_a_409(admin, world, db):
    district = world.a.district
    form = _edit_form(admin, district.id)
    first = admin.post(
        f"/admin/districts/{district.id}", data={**form, "enrollment": "5100"}
    )

    second = admin.post(
        f"/admin/districts/{district.id}", data={**form, "enrollment": "9999"}
    )

    assert first.status_code == 303
    assert second.status_code == 409
    assert "Someone else changed this record" in _page(second)
    assert fresh(db).get(District, district.id).enrollment == 5100


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reminder_thresholds", "abc", "must be a whole number"),
        ("reminder_thresholds", "30, 900", "between 0 and 730"),
        ("fy_start_month", "13", "must be at most 12"),
        ("erate_c2_discount_pct", "lots", "must be an amount"),
    ],
)
def test_an_invalid_district_edit_is_refused_in_the_form(
    admin, world, db, field, value, message
):
    district = world.a.district
    form = _edit_form(admin, district.id)

    response = admin.post(
        f"/admin/districts/{district.id}", data={**form, field: value}
    )

    assert response.status_code == 422
    page = _page(response)
    assert message in page
    assert f'aria-describedby="e-{field}"' in page
    stored = fresh(db).get(District, district.id)
    assert stored.version == int(form["version"])


def test_a_district_form_error_from_htmx_swaps_only_the_form(admin, world):
    district = world.a.district
    form = _edit_form(admin, district.id)

    response = admin.post(
        f"/admin/districts/{district.id}",
        data={**form, "max_deferral_months": "99"},
        headers=htmx(),
    )

    page = _page(response)
    assert response.status_code == 422
    assert "<html" not in page
    assert 'id="district-form"' in page
    assert "must be at most 60" in page


def test_an_unknown_district_is_a_404(admin):
    assert admin.get("/admin/districts/999999").status_code == 404
    assert (
        admin.post("/admin/districts/999999", data={"version": "1"}).status_code == 404
    )
