"""Bulk actions on the device list: status, school, retire, cover; only the district's
own devices change, each change is audited, and obligations follow."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from lifecycle.enums import CoverageType, DeviceCategory, DeviceStatus
from lifecycle.models import AuditEvent, ContractCoveredDevice, Device
from lifecycle.work.queue import get_queue, get_redis
from tests.conftest import fresh, htmx, text
from tests.factories import World, make_contract, make_device, make_school


def rescans(app: Flask) -> list[str]:
    registry = get_queue("default", get_redis(app)).scheduled_job_registry
    return [j for j in registry.get_job_ids() if j.startswith("rescan-")]


@pytest.fixture
def fleet(db: Session, world: World) -> dict[str, list[Device]]:
    mine = [make_device(db, world.a.district, asset_tag=f"A-{n}") for n in range(3)]
    theirs = [make_device(db, world.b.district, asset_tag=f"B-{n}") for n in range(2)]
    db.commit()
    return {"mine": mine, "theirs": theirs}


def post_bulk(client: FlaskClient, ids: list[int], **data: Any) -> Any:
    return client.post(
        "/devices/bulk",
        data={"ids": [str(i) for i in ids], **{k: str(v) for k, v in data.items()}},
        headers={"Referer": "http://localhost/devices?status=in_service&q=A-"},
    )


def flashed(client: FlaskClient, response: Any) -> str:
    """The page the bulk action redirected to, with its flash message."""
    assert response.status_code == 303, text(response)[:300]
    return text(client.get(response.headers["Location"]))


def states(db: Session, devices: list[Device]) -> list[tuple[DeviceStatus, int]]:
    fresh(db)
    return [(d.status, d.version) for d in devices]


def test_bulk_retire_changes_only_the_districts_own_devices(app, it, db, world, fleet):
    mine, theirs = fleet["mine"], fleet["theirs"]
    before_theirs = states(db, theirs)
    ids = [mine[0].id, mine[1].id, theirs[0].id]

    response = post_bulk(it, ids, action="retire")

    assert response.status_code == 303
    assert response.headers["Location"] == "/devices?status=in_service&q=A-"
    assert states(db, mine) == [
        (DeviceStatus.RETIRED, 2),
        (DeviceStatus.RETIRED, 2),
        (DeviceStatus.IN_SERVICE, 1),
    ]
    assert states(db, theirs) == before_theirs
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "bulk_retire")
        .order_by(col(AuditEvent.entity_id))
    ).all()
    assert [(e.entity_id, e.district_id) for e in events] == [
        (mine[0].id, world.a.district.id),
        (mine[1].id, world.a.district.id),
    ]
    assert events[0].changes == {"status": ["in_service", "retired"]}
    assert rescans(app) and all(
        j.startswith(f"rescan-{world.a.district.id}-") for j in rescans(app)
    )
    page = text(it.get(response.headers["Location"]))
    assert "2 devices retired." in page


def test_bulk_status_and_a_repeat_that_changes_nothing(it, db, fleet):
    ids = [d.id for d in fleet["mine"]]

    first = post_bulk(it, ids[:2], action="status", value_status="in_repair")
    assert "2 devices updated." in text(it.get(first.headers["Location"]))
    again = post_bulk(it, ids, action="status", value_status="in_repair")

    assert "1 device updated." in text(it.get(again.headers["Location"]))
    assert [s for s, _ in states(db, fleet["mine"])] == [DeviceStatus.IN_REPAIR] * 3
    # the two already in repair were not touched again
    assert [v for _, v in states(db, fleet["mine"])] == [2, 2, 2]
    none = post_bulk(it, ids, action="retire")
    none = post_bulk(it, ids, action="retire")
    assert "Nothing to change" in text(it.get(none.headers["Location"]))


def test_bulk_move_to_a_school_of_the_district(it, db, world, fleet):
    annex = make_school(db, world.a.district, name="Alpha Annex")
    db.commit()
    ids = [d.id for d in fleet["mine"]] + [fleet["theirs"][0].id]

    moved = flashed(it, post_bulk(it, ids, action="school", value_school=str(annex.id)))
    refused = flashed(
        it, post_bulk(it, ids, action="school", value_school=str(world.b.school.id))
    )

    assert "3 devices moved." in moved
    assert "is not a school of your district" in refused
    fresh(db)
    assert {d.school_id for d in fleet["mine"]} == {annex.id}
    assert {d.school_id for d in fleet["theirs"]} == {None}


def test_bulk_cover_adds_devices_to_a_contract_once(it, db, world, fleet):
    contract = make_contract(
        db, world.a.district, name="Chromebook repair", coverage=CoverageType.DEVICES
    )
    by_category = make_contract(
        db,
        world.a.district,
        name="All laptops",
        coverage=CoverageType.CATEGORY,
        coverage_category=DeviceCategory.LAPTOP,
    )
    theirs = make_contract(
        db, world.b.district, name="Bravo repair", coverage=CoverageType.DEVICES
    )
    db.commit()
    ids = [fleet["mine"][0].id, fleet["mine"][1].id, fleet["theirs"][0].id]

    def cover(contract_id: int | None) -> str:
        return flashed(it, post_bulk(it, ids, action="cover", value_cover=contract_id))

    assert "2 devices added to the contract." in cover(contract.id)
    assert "Nothing to change" in cover(contract.id)
    assert "covers a category, not a list of devices" in cover(by_category.id)
    assert "is not a service contract of your district" in cover(theirs.id)
    covered = fresh(db).exec(select(ContractCoveredDevice)).all()
    assert sorted((c.contract_id, c.device_id) for c in covered) == [
        (contract.id, fleet["mine"][0].id),
        (contract.id, fleet["mine"][1].id),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "retire"}, "select at least one device"),
        ({"ids": "OTHER", "action": "retire"}, "none of the selected devices"),
        ({"ids": "MINE", "action": "explode"}, "is not a bulk action"),
        (
            {"ids": "MINE", "action": "status", "value_status": "gone"},
            "choose a status",
        ),
        ({"ids": "MINE", "action": "school", "value_school": ""}, "choose a school"),
        ({"ids": "MINE", "action": "cover"}, "choose a service contract"),
    ],
)
def test_a_bulk_request_that_cannot_apply_changes_nothing(it, db, fleet, data, message):
    ids = {"MINE": str(fleet["mine"][0].id), "OTHER": str(fleet["theirs"][0].id)}
    data = {k: ids.get(v, v) for k, v in data.items()}
    before = states(db, fleet["mine"] + fleet["theirs"])

    response = it.post("/devices/bulk", data=data)

    assert response.status_code == 303
    page = text(it.get(response.headers["Location"]))
    assert message in page and "flash-error" in page
    assert states(db, fleet["mine"] + fleet["theirs"]) == before


def test_htmx_bulk_redirects_back_to_the_list_and_never_off_site(it, fleet):
    ids = [str(fleet["mine"][0].id)]
    here = it.post(
        "/devices/bulk",
        data={"ids": ids, "action": "retire"},
        headers=htmx(Referer="http://localhost/devices?sort=-refresh_due"),
    )
    away = it.post(
        "/devices/bulk",
        data={"ids": ids, "action": "retire"},
        headers={"Referer": "https://evil.example/devices"},
    )

    assert here.status_code == 204
    assert here.headers["HX-Redirect"] == "/devices?sort=-refresh_due"
    assert away.headers["Location"] == "/devices"
