"""Cooperative staff keep contract vehicles: add, edit, delete when unused; the state
each shows; district roles are refused every write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, func, select

from lifecycle.catalog import services
from lifecycle.catalog.rules import VehicleState, vehicle_state
from lifecycle.models import AuditEvent, ContractVehicle
from tests import factories
from tests.conftest import fresh, htmx, sign_in, text

DISTRICT_ROLES = ["it", "finance", "viewer"]


def _vehicle_form(vendor, **overrides):
    form = {
        "vendor_id": str(vendor),
        "contract_number": "R99-NET-2026",
        "title": "Network equipment",
        "lead_agency": "Region 99 ESC",
        "term_start": "2026-01-01",
        "term_end": "2028-12-31",
        "renewal_options": "Two one-year renewals",
    }
    form.update(overrides)
    return form


def _events(db, entity_type, entity_id):
    return db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == entity_type,
            col(AuditEvent.entity_id) == entity_id,
        )
    ).all()


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_coop_staff_add_a_vehicle(client, db, world, shelf, who):
    sign_in(client, getattr(world, who))

    response = client.post("/catalog/vehicles", data=_vehicle_form(shelf.vendor.id))

    assert response.status_code == 303
    db = fresh(db)
    added = db.exec(
        select(ContractVehicle).where(
            col(ContractVehicle.contract_number) == "R99-NET-2026"
        )
    ).one()
    assert response.headers["Location"].endswith(f"/catalog/vehicles/{added.id}")
    assert added.cooperative_id == world.coop.id and added.version == 1
    assert added.renewal_options == "Two one-year renewals"
    [event] = _events(db, "vehicle", added.id)
    assert event.action == "create" and event.district_id is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"term_end": "2025-12-31"}, "term_end", "must be on or after the term start"),
        ({"contract_number": "r99-tech-2025"}, "contract_number", "is already"),
        ({"title": ""}, "title", "is required"),
        ({"term_start": "someday"}, "term_start", ""),
        ({"vendor_id": "999999"}, "vendor_id", "is not a vendor"),
    ],
)
def test_a_bad_vehicle_is_refused_with_the_field_named(
    client, db, world, shelf, overrides, field, message
):
    sign_in(client, world.coop_staff)
    before = db.exec(select(func.count()).select_from(ContractVehicle)).one()

    response = client.post(
        "/catalog/vehicles", data=_vehicle_form(shelf.vendor.id, **overrides)
    )

    assert response.status_code == 422
    page = text(response)
    assert f'id="e-{field}"' in page and message in page
    assert fresh(db).exec(select(func.count()).select_from(ContractVehicle)).one() == (
        before
    )


def test_a_form_field_it_does_not_take_is_refused(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    response = client.post(
        "/catalog/vehicles",
        data=_vehicle_form(shelf.vendor.id, cooperative_id="7"),
    )
    assert response.status_code == 422
    assert "is not a field this form accepts" in text(response)


def test_edit_a_vehicle_and_its_history(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/vehicles/{shelf.vehicle.id}"

    form = client.get(url + "/edit")
    response = client.post(
        url,
        data=_vehicle_form(
            shelf.vendor.id,
            contract_number="R99-TECH-2025",
            term_end="2029-06-30",
            version="1",
        ),
        headers=htmx(),
    )

    assert form.status_code == 200 and 'value="R99-TECH-2025"' in text(form)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == url
    vehicle = fresh(db).get(ContractVehicle, shelf.vehicle.id)
    assert vehicle.term_end == date(2029, 6, 30) and vehicle.version == 2
    [event] = [e for e in _events(db, "vehicle", vehicle.id) if e.action == "update"]
    assert event.changes["term_end"][1] == "2029-06-30"
    page = text(client.get(url))
    assert "History" in page and "term end" in page


def test_a_stale_edit_is_a_409_showing_what_is_stored(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/vehicles/{shelf.vehicle.id}"
    client.post(url, data=_vehicle_form(shelf.vendor.id, title="First", version="1"))

    response = client.post(
        url, data=_vehicle_form(shelf.vendor.id, title="Second", version="1")
    )

    assert response.status_code == 409
    page = text(response)
    assert 'data-testid="conflict"' in page and "<strong>First</strong>" in page
    assert 'value="Second"' in page  # the user's entry is kept
    assert fresh(db).get(ContractVehicle, shelf.vehicle.id).title == "First"


@pytest.mark.parametrize("role", DISTRICT_ROLES)
def test_district_roles_browse_but_never_write(client, db, world, shelf, role):
    sign_in(client, getattr(world.a, role))
    vid = shelf.vehicle.id

    page = text(client.get(f"/catalog/vehicles/{vid}"))
    listing = text(client.get("/catalog/vehicles"))
    refused = [
        client.get("/catalog/vehicles/new").status_code,
        client.post(
            "/catalog/vehicles", data=_vehicle_form(shelf.vendor.id)
        ).status_code,
        client.get(f"/catalog/vehicles/{vid}/edit").status_code,
        client.post(
            f"/catalog/vehicles/{vid}", data={"title": "Mine", "version": "1"}
        ).status_code,
        client.post(
            f"/catalog/vehicles/{vid}/delete", data={"version": "1"}
        ).status_code,
    ]

    assert refused == [403] * 5
    assert "R99-TECH-2025" in page and "/edit" not in page and "Delete" not in page
    assert "Add a contract vehicle" not in listing
    assert fresh(db).get(ContractVehicle, vid).title == "Student computing devices"


def test_a_vehicle_in_use_is_not_deleted(client, db, world, shelf):
    device = factories.make_device(db, world.a.district, vehicle_id=shelf.vehicle.id)
    db.commit()
    sign_in(client, world.coop_staff)
    url = f"/catalog/vehicles/{shelf.vehicle.id}/delete"

    confirm = text(client.get(url))
    response = client.post(url, data={"version": "1"})

    assert "cannot be deleted" in confirm and "1 catalog item, 1 device" in confirm
    assert "<form" not in confirm.split('id="vehicle-delete"')[1]
    assert response.status_code == 409
    assert "1 catalog item, 1 device still refer to it" in text(response)
    assert fresh(db).get(ContractVehicle, shelf.vehicle.id) is not None
    assert device.id is not None


def test_an_unused_vehicle_is_deleted_after_confirming(client, db, world, shelf):
    spare = factories.make_vehicle(db, world.coop, shelf.vendor, contract_number="X-1")
    db.commit()
    spare_id = spare.id
    sign_in(client, world.coop_staff)
    url = f"/catalog/vehicles/{spare_id}/delete"

    confirm = text(client.get(url))
    stale = client.post(url, data={"version": "7"})
    response = client.post(url, data={"version": "1"})

    assert "Delete X-1?" in confirm and "Delete X-1</button>" in confirm
    assert stale.status_code == 409
    assert response.status_code == 303
    db = fresh(db)
    assert db.get(ContractVehicle, spare_id) is None
    assert [e.action for e in _events(db, "vehicle", spare_id)] == ["create", "delete"]


def test_a_vehicle_ending_next_month_is_expiring_not_current(client, db, world, shelf):
    soon = factories.make_vehicle(
        db,
        world.coop,
        shelf.vendor,
        contract_number="R99-SOON",
        term_start=date.today() - timedelta(days=1000),
        term_end=date.today() + timedelta(days=30),
    )
    db.commit()
    sign_in(client, world.coop_staff)

    page = text(client.get(f"/catalog/vehicles/{soon.id}"))
    listing = text(client.get("/catalog/vehicles?state=expiring"))
    current = text(client.get("/catalog/vehicles?state=current", headers=htmx()))

    assert 'data-testid="vehicle-state">Expires in 30 days' in page
    assert "R99-SOON" in listing and "R99-TECH-2025" not in listing
    assert "R99-TECH-2025" in current and "R99-SOON" not in current


def test_an_unknown_state_filter_is_a_422(client, world, shelf):
    sign_in(client, world.a.it)
    response = client.get("/catalog/vehicles?state=soonish")
    assert response.status_code == 422 and "must be one of" in text(response)


def test_the_state_filter_agrees_with_the_rule(db, world, shelf):
    """Parity: the SQL of each state picks exactly the vehicles the pure rule puts in it."""
    today = date(2026, 5, 1)
    ends = [-400, -1, 0, 1, 89, 90, 91, 365]
    for n, offset in enumerate(ends):
        factories.make_vehicle(
            db,
            world.coop,
            shelf.vendor,
            contract_number=f"P-{n}",
            term_start=today - timedelta(days=500),
            term_end=today + timedelta(days=offset),
        )
    factories.make_vehicle(
        db,
        world.coop,
        shelf.vendor,
        contract_number="P-later",
        term_start=today + timedelta(days=10),
        term_end=today + timedelta(days=700),
    )
    db.commit()
    spec = services.vehicle_spec(today)
    [state_filter] = [f for f in spec.filters if f.name == "state"]
    everyone = db.exec(select(ContractVehicle)).all()
    for state in VehicleState:
        picked = db.exec(
            select(ContractVehicle.contract_number).where(state_filter.clause(state))
        ).all()
        expected = [
            v.contract_number
            for v in everyone
            if vehicle_state(v.term_start, v.term_end, today) is state
        ]
        assert sorted(picked) == sorted(expected), state
