"""Adding, editing (forms and click-to-edit), retiring and deleting devices; the detail
page; stored refresh dates from the SQL rule; rescans after edits; who may write."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, col, select

from lifecycle.db import get_db
from lifecycle.enums import (
    CoverageType,
    DeviceCategory,
    DeviceStatus,
    ObligationKind,
    ObligationState,
)
from lifecycle.models import (
    AuditEvent,
    CategoryPolicy,
    ContractCoveredDevice,
    Device,
    Obligation,
    User,
)
from lifecycle.scan.jobs import run_scan
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.work.queue import get_queue, get_redis
from tests.conftest import fresh, htmx, sign_in, text
from tests.factories import (
    World,
    make_catalog_item,
    make_contract,
    make_device,
    make_vehicle,
    make_vendor,
)


def rescans(app: Flask) -> list[str]:
    registry = get_queue("default", get_redis(app)).scheduled_job_registry
    return [j for j in registry.get_job_ids() if j.startswith("rescan-")]


def form(**overrides: Any) -> dict[str, str]:
    values = {
        "asset_tag": "CB-1001",
        "serial": "5CG1234ABC",
        "model": "Lenovo 100e Chromebook Gen 3",
        "category": "chromebook",
        "status": "in_service",
        "purchase_date": "2023-07-15",
        "purchase_cost": "289.00",
        "lifespan_months": "",
        "aue_date": "",
        "eol_date": "",
        "warranty_end": "",
        "funding_source": "ESSER III",
        "assigned_to": "",
        "notes": "",
        "school_id": "",
        "catalog_item_id": "",
        "vehicle_id": "",
    }
    values.update({k: str(v) for k, v in overrides.items()})
    return values


def edit_form(device: Device, **overrides: Any) -> dict[str, str]:
    values = {
        k: ("" if v is None else str(getattr(v, "value", v)))
        for k, v in device.model_dump().items()
        if k in form()
    }
    values["version"] = str(device.version)
    values.update({k: str(v) for k, v in overrides.items()})
    return values


@pytest.fixture
def device(db: Session, world: World) -> Device:
    d = make_device(
        db,
        world.a.district,
        asset_tag="CB-0001",
        purchase_date=date(2023, 7, 15),
        lifespan_months=48,
        school_id=world.a.school.id,
    )
    db.commit()
    recompute_device_refresh(db, device_ids=[d.id])
    db.commit()
    db.refresh(d)
    return d


# --- adding --------------------------------------------------------------------------


def test_adding_a_device_stores_the_refresh_date_by_the_sql_rule(app, it, db, world):
    db.add(
        CategoryPolicy(
            district_id=world.a.district.id,
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=60,
        )
    )
    db.commit()

    response = it.post("/devices", data=form(aue_date="2027-06-01"))

    assert response.status_code == 303, text(response)[:800]
    created = fresh(db).exec(select(Device).where(Device.asset_tag == "CB-1001")).one()
    assert response.headers["Location"].endswith(f"/devices/{created.id}")
    assert created.district_id == world.a.district.id
    assert created.aue_date == date(2027, 6, 30)  # an AUE is the end of its month
    assert created.refresh_due == date(2027, 6, 30)
    assert created.refresh_reason == "aue"
    assert created.funding_source == "ESSER III"
    assert created.serial == "5CG1234ABC"
    assert rescans(app) == [
        j for j in rescans(app) if j.startswith(f"rescan-{world.a.district.id}-")
    ]
    assert len(rescans(app)) == 1
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "device", AuditEvent.entity_id == created.id
        )
    ).all()
    assert [e.action for e in events] == ["create"]
    page = text(it.get(response.headers["Location"]))
    assert "Device CB-1001 added." in page
    assert "auto-update expiration (AUE)" in page


def test_a_catalog_link_brings_its_vehicle_name_and_lifespan(it, db, world):
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    item = make_catalog_item(db, vehicle, name="Acer C734", lifespan_months=36)
    db.commit()

    response = it.post(
        "/devices", data=form(model="", catalog_item_id=item.id, serial="")
    )

    assert response.status_code == 303, text(response)[:800]
    created = fresh(db).exec(select(Device).where(Device.asset_tag == "CB-1001")).one()
    assert (created.model, created.vehicle_id) == ("Acer C734", vehicle.id)
    assert created.serial is None  # a blank serial is no serial, not ""
    assert created.refresh_due == date(2026, 7, 15)  # 2023-07-15 + 36 months
    assert created.refresh_reason == "lifespan"


@pytest.mark.parametrize("as_fragment", [False, True])
def test_a_bad_form_answers_422_with_a_message_per_field(
    it, db, world, device, as_fragment
):
    other_school = world.b.school.id
    headers = htmx() if as_fragment else {}

    response = it.post(
        "/devices",
        data=form(
            asset_tag=" ",
            purchase_date="15/07/2023",
            purchase_cost="-5",
            lifespan_months="0",
            school_id=other_school,
        ),
        headers=headers,
    )
    body = text(response)

    assert response.status_code == 422
    assert ("<html" in body) is not as_fragment
    assert 'id="device-form"' in body
    assert "Asset tag is required" in body
    assert "Purchase date must be a date (YYYY-MM-DD)" in body
    assert "Lifespan (months) must be at least 1" in body
    assert 'value="5CG1234ABC"' in body  # what the user typed is kept
    assert fresh(db).exec(select(sa.func.count()).select_from(Device)).one() == 1


def test_cross_field_and_reference_problems_are_422(it, db, world, device):
    dates = it.post(
        "/devices", data=form(purchase_date="2024-01-01", warranty_end="2023-01-01")
    )
    cost = it.post("/devices", data=form(purchase_cost="-1"))
    school = it.post("/devices", data=form(school_id=world.b.school.id))
    duplicate = it.post(
        "/devices", data=form(asset_tag="CB-0001", serial=device.serial)
    )

    assert dates.status_code == 422
    assert "Warranty end must be on or after the purchase date" in text(dates)
    assert cost.status_code == 422 and "must not be negative" in text(cost)
    assert school.status_code == 422
    assert "is not a school of your district" in text(school)
    assert duplicate.status_code == 422
    assert "Asset tag is already used by another device" in text(duplicate)
    assert "Serial number is already used by another device" in text(duplicate)


def test_another_districts_tag_and_serial_are_free(it, db, world):
    theirs = make_device(db, world.b.district, asset_tag="CB-1001")
    db.commit()

    response = it.post("/devices", data=form(serial=theirs.serial))

    assert response.status_code == 303


# --- editing --------------------------------------------------------------------------


def test_editing_moves_the_refresh_date_and_schedules_a_rescan(app, it, db, device):
    version = device.version
    page = text(it.get(f"/devices/{device.id}/edit"))
    assert (
        'value="CB-0001"' in page and f'name="version" value="{device.version}"' in page
    )

    response = it.post(
        f"/devices/{device.id}",
        data=edit_form(device, lifespan_months="60", assigned_to="  Room 12 "),
    )

    assert response.status_code == 303, text(response)[:800]
    saved = fresh(db).get(Device, device.id)
    assert saved.version == version + 1
    assert saved.lifespan_months == 60
    assert saved.assigned_to == "Room 12"
    assert saved.refresh_due == date(2028, 7, 15)
    assert len(rescans(app)) == 1
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "device", AuditEvent.entity_id == device.id)
        .order_by(col(AuditEvent.id))
    ).all()
    assert events[-2].changes["lifespan_months"] == [48, 60]
    assert events[-1].changes["refresh_due"] == ["2027-07-15", "2028-07-15"]


def test_clearing_fields_in_the_form_clears_them(it, db, device):
    response = it.post(
        f"/devices/{device.id}",
        data=edit_form(device, serial="", school_id="", lifespan_months=""),
    )

    assert response.status_code == 303, text(response)[:800]
    saved = fresh(db).get(Device, device.id)
    assert (saved.serial, saved.school_id, saved.lifespan_months) == (None, None, None)
    assert saved.refresh_due is None  # no lifespan from anywhere any more


def test_a_stale_edit_form_is_a_409_showing_the_current_values(it, db, device):
    opened = edit_form(device, model="My model", notes="mine")
    device.model = "Their model"
    device.status = DeviceStatus.IN_REPAIR
    db.commit()

    response = it.post(f"/devices/{device.id}", data=opened, headers=htmx())
    body = text(response)

    assert response.status_code == 409
    assert 'data-testid="conflict"' in body
    assert '<strong data-testid="current-model">Their model</strong>' in body
    assert '<strong data-testid="current-status">In repair</strong>' in body
    assert 'value="My model"' in body  # the user's entry is kept
    current = fresh(db).get(Device, device.id)
    assert f'name="version" value="{current.version}"' in body
    assert current.model == "Their model" and current.notes == ""
    again = it.post(
        f"/devices/{device.id}",
        data={**opened, "version": str(current.version)},
    )
    assert again.status_code == 303
    assert fresh(db).get(Device, device.id).model == "My model"


def test_an_edit_with_a_blank_tag_or_a_taken_tag_is_a_422(it, db, world, device):
    other = make_device(db, world.a.district, asset_tag="CB-0002")
    db.commit()

    blank = it.post(f"/devices/{device.id}", data=edit_form(device, asset_tag=""))
    taken = it.post(
        f"/devices/{device.id}", data=edit_form(device, asset_tag="CB-0002")
    )

    assert blank.status_code == 422 and "Asset tag is required" in text(blank)
    assert taken.status_code == 422 and "is already used" in text(taken)
    assert fresh(db).get(Device, device.id).asset_tag == "CB-0001"
    assert db.get(Device, other.id).asset_tag == "CB-0002"


# --- click-to-edit ------------------------------------------------------------------


def test_click_to_edit_opens_saves_and_refreshes_the_refresh_panel(it, db, device):
    opened = it.get(f"/devices/{device.id}/fields/lifespan_months/edit", headers=htmx())
    assert opened.status_code == 200
    assert "<html" not in text(opened)
    assert 'name="lifespan_months" value="48"' in text(opened)

    saved = it.post(
        f"/devices/{device.id}/fields/lifespan_months",
        data={"lifespan_months": "36", "version": str(device.version)},
        headers=htmx(),
    )
    body = text(saved)

    assert saved.status_code == 200
    assert '<span data-testid="value-lifespan_months">36</span>' in body
    assert 'id="refresh-info" hx-swap-oob="true"' in body
    assert "Jul 15, 2026" in body  # 2023-07-15 + 36 months
    assert fresh(db).get(Device, device.id).refresh_due == date(2026, 7, 15)


def test_click_to_edit_cancel_shows_the_value_again(it, db, device):
    response = it.get(f"/devices/{device.id}/fields/status", headers=htmx())

    assert response.status_code == 200
    assert '<span data-testid="value-status">In service</span>' in text(response)
    assert "<form" not in text(response)


def test_click_to_edit_without_javascript_goes_to_the_edit_page(it, device):
    response = it.get(f"/devices/{device.id}/fields/notes/edit")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/devices/{device.id}/edit")


def test_click_to_edit_answers_422_and_409(it, db, device):
    bad = it.post(
        f"/devices/{device.id}/fields/lifespan_months",
        data={"lifespan_months": "0", "version": str(device.version)},
        headers=htmx(),
    )
    assert bad.status_code == 422
    assert "Lifespan (months) must be at least 1" in text(bad)

    version = device.version
    device.assigned_to = "Ms. Rivera"
    db.commit()
    stale = it.post(
        f"/devices/{device.id}/fields/assigned_to",
        data={"assigned_to": "Mr. Chen", "version": str(version)},
        headers=htmx(),
    )
    body = text(stale)

    assert stale.status_code == 409
    assert 'data-testid="conflict"' in body
    assert "Assigned to is now <strong>Ms. Rivera</strong>" in body
    assert 'value="Mr. Chen"' in body
    current = fresh(db).get(Device, device.id)
    assert f'name="version" value="{current.version}"' in body
    assert current.assigned_to == "Ms. Rivera"


def test_click_to_edit_blames_the_field_that_broke_a_cross_field_rule(it, db, device):
    response = it.post(
        f"/devices/{device.id}/fields/warranty_end",
        data={"warranty_end": "2020-01-01", "version": str(device.version)},
        headers=htmx(),
    )

    assert response.status_code == 422
    assert "Warranty ends must be on or after the purchase date" in text(response)


def test_only_the_listed_fields_are_editable_in_place(it, device):
    for url in (
        f"/devices/{device.id}/fields/district_id",
        f"/devices/{device.id}/fields/refresh_due/edit",
    ):
        assert it.get(url, headers=htmx()).status_code == 404


# --- the detail page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({}, "Purchased Jul 15, 2023 + <strong>48 months</strong> of lifespan (this"),
        ({"aue_date": date(2026, 6, 30)}, "auto-update expiration (AUE)</strong>"),
        ({"eol_date": date(2025, 1, 1)}, "explicit end-of-life date"),
    ],
)
def test_the_detail_says_why_the_refresh_falls_when_it_does(
    it, db, device, extra, says
):
    for key, value in extra.items():
        setattr(device, key, value)
    db.commit()
    recompute_device_refresh(db, device_ids=[device.id])
    db.commit()

    page = text(it.get(f"/devices/{device.id}"))

    assert says in page
    assert 'data-testid="refresh-pending"' not in page


def test_the_detail_flags_a_stored_date_the_rule_has_moved_on_from(
    it, db, world, device
):
    db.add(
        CategoryPolicy(
            district_id=world.a.district.id,
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=36,
        )
    )
    device.lifespan_months = None
    db.commit()  # written behind the app's back: the stored date is stale

    page = text(it.get(f"/devices/{device.id}"))

    assert "Jul 15, 2026" in page and "(district policy)" in page
    assert 'data-testid="refresh-pending"' in page and "Jul 15, 2027" in page


def test_the_detail_lists_covering_contracts_and_history(it, db, world, device):
    listed = make_contract(db, world.a.district, name="Chromebook repair")
    listed.coverage = CoverageType.DEVICES
    db.add(
        ContractCoveredDevice(
            contract_id=listed.id, device_id=device.id, district_id=world.a.district.id
        )
    )
    make_contract(
        db,
        world.a.district,
        name="All Chromebooks",
        coverage=CoverageType.CATEGORY,
        coverage_category=DeviceCategory.CHROMEBOOK,
    )
    make_contract(db, world.b.district, name="Bravo contract")
    db.commit()
    it.post(f"/devices/{device.id}", data=edit_form(device, notes="Cracked screen"))

    page = text(it.get(f"/devices/{device.id}"))

    assert "Chromebook repair" in page and "All Chromebooks" in page
    assert "Bravo contract" not in page
    assert "Cracked screen" in page and "History" in page


# --- retiring and deleting ------------------------------------------------------------


def test_retiring_keeps_the_device_and_closes_its_refresh(app, it, db, world, device):
    with app.app_context():
        run_scan(db, world.a.district.id, today=date(2026, 1, 1))
        db.commit()
    assert fresh(db).exec(select(Obligation)).one().state == ObligationState.UPCOMING

    response = it.post(
        f"/devices/{device.id}/retire",
        data={"version": str(fresh(db).get(Device, device.id).version)},
        headers=htmx(),
    )

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(f"/devices/{device.id}")
    assert fresh(db).get(Device, device.id).status == DeviceStatus.RETIRED
    assert len(rescans(app)) == 1
    with app.app_context():
        run_scan(db, world.a.district.id, today=date(2026, 1, 1))
        db.commit()
    obligation = fresh(db).exec(select(Obligation)).one()
    assert obligation.kind == ObligationKind.REFRESH
    assert obligation.state == ObligationState.RETIRED


@pytest.mark.parametrize("as_fragment", [False, True])
def test_a_stale_retire_is_a_409_that_shows_the_current_device(
    it, db, device, as_fragment
):
    version = device.version
    device.notes = "Changed meanwhile"
    db.commit()

    response = it.post(
        f"/devices/{device.id}/retire",
        data={"version": str(version)},
        headers=htmx() if as_fragment else {},
    )
    body = text(response)

    assert response.status_code == 409
    assert 'data-testid="device-problem"' in body and "was not retired" in body
    assert "Changed meanwhile" in body
    current = fresh(db).get(Device, device.id)
    assert current.status == DeviceStatus.IN_SERVICE
    assert f'name="version" value="{current.version}"' in body
    if as_fragment:
        assert "<html" not in body
        assert response.headers["HX-Retarget"] == "#main"


def test_deleting_a_mistake_removes_it_and_its_upcoming_obligations(
    app, it, db, world, device
):
    with app.app_context():
        run_scan(db, world.a.district.id, today=date(2026, 1, 1))
        db.commit()
    assert len(fresh(db).exec(select(Obligation)).all()) == 1
    device_id = device.id

    response = it.post(f"/devices/{device_id}/delete", headers=htmx())

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith("/devices")
    assert fresh(db).get(Device, device_id) is None
    assert db.exec(select(Obligation)).all() == []
    assert db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_id == device_id, AuditEvent.action == "delete"
        )
    ).one()
    assert len(rescans(app)) == 1


@pytest.mark.parametrize("history", ["acknowledged", "covered"])
def test_a_device_with_history_cannot_be_deleted_only_retired(
    app, it, db, world, device, history
):
    if history == "acknowledged":
        with app.app_context():
            run_scan(db, world.a.district.id, today=date(2026, 1, 1))
            db.commit()
        obligation = db.exec(select(Obligation)).one()
        obligation.state = ObligationState.ACKNOWLEDGED
    else:
        contract = make_contract(
            db, world.a.district, name="Repairs", coverage=CoverageType.DEVICES
        )
        db.add(
            ContractCoveredDevice(
                contract_id=contract.id,
                device_id=device.id,
                district_id=world.a.district.id,
            )
        )
    db.commit()

    page = it.post(f"/devices/{device.id}/delete")
    fragment = it.post(f"/devices/{device.id}/delete", headers=htmx())

    assert page.status_code == fragment.status_code == 409
    for body in (text(page), text(fragment)):
        assert "cannot be deleted" in body and "Retire it instead" in body
    assert "<html" in text(page) and "<html" not in text(fragment)
    assert fresh(db).get(Device, device.id) is not None


# --- who may write ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "finance", "coop_staff", "admin"])
def test_only_district_it_may_change_devices(client, db, world, device, role):
    user = getattr(world.a, role, None) or getattr(world, role)
    sign_in(client, user)
    v = str(device.version)
    writes = [
        ("/devices", form()),
        (f"/devices/{device.id}", edit_form(device, model="x")),
        (f"/devices/{device.id}/fields/notes", {"notes": "x", "version": v}),
        (f"/devices/{device.id}/retire", {"version": v}),
        (f"/devices/{device.id}/delete", {}),
        ("/devices/bulk", {"ids": str(device.id), "action": "retire"}),
    ]

    for url, data in writes:
        assert client.post(url, data=data).status_code == 403, url
    assert client.get("/devices/new").status_code == 403
    assert client.get(f"/devices/{device.id}/edit").status_code == 403
    page = client.get(f"/devices/{device.id}")
    assert page.status_code == 200
    assert "edit-link" not in text(page) and "Delete…" not in text(page)
    current = fresh(db).get(Device, device.id)
    assert (current.version, current.status) == (device.version, device.status)


def test_another_districts_device_is_a_404_everywhere(it, db, world):
    theirs = make_device(db, world.b.district, asset_tag="BRAVO-SECRET")
    db.commit()
    v = str(theirs.version)

    for url in (
        f"/devices/{theirs.id}",
        f"/devices/{theirs.id}/edit",
        f"/devices/{theirs.id}/fields/notes",
        f"/devices/{theirs.id}/fields/notes/edit",
    ):
        for headers in ({}, htmx()):
            response = it.get(url, headers=headers)
            assert response.status_code == 404, url
            assert "BRAVO-SECRET" not in text(response)
    for url, data in (
        (f"/devices/{theirs.id}", edit_form(theirs, model="x")),
        (f"/devices/{theirs.id}/fields/notes", {"notes": "x", "version": v}),
        (f"/devices/{theirs.id}/retire", {"version": v}),
        (f"/devices/{theirs.id}/delete", {}),
    ):
        assert it.post(url, data=data).status_code == 404, url
    after = fresh(db).get(Device, theirs.id)
    assert (after.version, after.status) == (theirs.version, DeviceStatus.IN_SERVICE)


def test_two_saves_of_the_same_version_cannot_both_win(app, db, world, device):
    """The version claim is a conditional UPDATE: the later save matches no row."""
    from lifecycle.inventory.devices import update_device
    from lifecycle.models import DeviceUpdate
    from lifecycle.web.errors import Conflict

    with app.test_request_context():
        first = get_db(app).session()
        second = get_db(app).session()
        mine = first.get(Device, device.id)
        theirs = second.get(Device, device.id)  # both read the same version
        user = first.get(User, world.a.it.id)
        update_device(
            first,
            user=user,
            device=mine,
            data=DeviceUpdate(notes="first", version=device.version),
        )
        first.commit()
        with pytest.raises(Conflict) as refused:
            update_device(
                second,
                user=second.get(User, world.a.it.id),
                device=theirs,
                data=DeviceUpdate(notes="second", version=device.version),
            )
        second.rollback()
        assert refused.value.extra["current"]["notes"] == "first"
        first.close()
        second.close()
    assert fresh(db).get(Device, device.id).notes == "first"
    assert re.fullmatch(r"\d+", str(fresh(db).get(Device, device.id).version))
