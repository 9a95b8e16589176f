"""The catalog's writes in the API: coop staff add and change vehicles and items with
their tiers (checked as the pages check them); district tokens are refused (403)."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from lifecycle.models import AuditEvent, CatalogItem, ContractVehicle, PriceTier
from tests.api.conftest import error_of
from tests.conftest import fresh


def _vehicle_body(vendor_id, **overrides):
    body = {
        "vendor_id": vendor_id,
        "contract_number": "R99-AV-2026",
        "title": "Classroom audio-visual",
        "lead_agency": "Region 99 ESC",
        "term_start": "2026-01-01",
        "term_end": "2027-12-31",
        "renewal_options": "One two-year renewal",
    }
    return body | overrides


def _item_body(vehicle_id, **overrides):
    body = {
        "vehicle_id": vehicle_id,
        "sku": "EPS-1080",
        "name": "Epson BrightLink 1080",
        "kind": "device",
        "category": "projector",
        "list_price": "2100.00",
        "min_order_qty": 10,
        "lifespan_months": 84,
        "erate_c2_eligible": False,
        "tiers": [
            {"min_qty": 1, "unit_price": "2100.00"},
            {"min_qty": 25, "unit_price": "1990.00"},
        ],
    }
    return body | overrides


def _tiers(db, item_id):
    return [
        (t.min_qty, f"{t.unit_price:.2f}")
        for t in db.exec(
            select(PriceTier)
            .where(col(PriceTier.catalog_item_id) == item_id)
            .order_by(col(PriceTier.min_qty))
        ).all()
    ]


def test_coop_staff_add_and_change_a_vehicle(client, db, world, shelf, token_for):
    headers = token_for(world.coop_staff)

    created = client.post(
        "/api/v1/vehicles", json=_vehicle_body(shelf.vendor.id), headers=headers
    )
    vid = created.json["id"]
    changed = client.patch(
        f"/api/v1/vehicles/{vid}",
        json={"term_end": "2028-06-30", "version": 1},
        headers=headers,
    )
    stale = client.patch(
        f"/api/v1/vehicles/{vid}", json={"title": "Late", "version": 1}, headers=headers
    )
    backwards = client.patch(
        f"/api/v1/vehicles/{vid}",
        json={"term_end": "2025-01-01", "version": 2},
        headers=headers,
    )

    assert (
        created.status_code == 201 and created.json["cooperative_id"] == world.coop.id
    )
    assert changed.status_code == 200 and changed.json["version"] == 2
    assert changed.json["term_end"] == "2028-06-30"
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"
    assert backwards.status_code == 422
    assert error_of(backwards)["fields"] == {
        "term_end": "must be on or after the term start"
    }
    assert fresh(db).get(ContractVehicle, vid).title == "Classroom audio-visual"


def test_a_vehicle_in_use_is_not_deleted_through_the_api(
    client, db, world, shelf, token_for
):
    headers = token_for(world.admin)
    response = client.delete(f"/api/v1/vehicles/{shelf.vehicle.id}", headers=headers)
    assert response.status_code == 409
    assert "1 catalog item" in error_of(response)["message"]
    spare = client.post(
        "/api/v1/vehicles", json=_vehicle_body(shelf.vendor.id), headers=headers
    ).json
    gone = client.delete(f"/api/v1/vehicles/{spare['id']}", headers=headers)
    assert gone.status_code == 204
    assert fresh(db).get(ContractVehicle, spare["id"]) is None


def test_add_an_item_with_tiers_then_replace_them(client, db, world, shelf, token_for):
    headers = token_for(world.coop_staff)

    created = client.post(
        "/api/v1/catalog-items", json=_item_body(shelf.vehicle.id), headers=headers
    )
    iid = created.json["id"]
    changed = client.patch(
        f"/api/v1/catalog-items/{iid}",
        json={
            "version": 1,
            "tiers": [
                {"min_qty": 1, "unit_price": "2100.00"},
                {"min_qty": 50, "unit_price": "1950.00"},
                {"min_qty": 200, "unit_price": "1875.50"},
            ],
        },
        headers=headers,
    )

    assert created.status_code == 201
    assert created.json["tiers"] == [
        {"min_qty": 1, "unit_price": "2100.00"},
        {"min_qty": 25, "unit_price": "1990.00"},
    ]
    assert changed.status_code == 200 and changed.json["version"] == 2
    assert [t["min_qty"] for t in changed.json["tiers"]] == [1, 50, 200]
    db = fresh(db)
    assert _tiers(db, iid) == [(1, "2100.00"), (50, "1950.00"), (200, "1875.50")]
    events = db.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "catalog_item",
            col(AuditEvent.entity_id) == iid,
        )
        .order_by(col(AuditEvent.id))
    ).all()
    assert [e.action for e in events] == ["create", "update", "update"]
    # the table as created, then as replaced: before and after each time
    assert [e.changes["tiers"] for e in events[1:]] == [
        ["none", "1+ 2100.00; 25+ 1990.00"],
        ["1+ 2100.00; 25+ 1990.00", "1+ 2100.00; 50+ 1950.00; 200+ 1875.50"],
    ]


@pytest.mark.parametrize(
    ("tiers", "fields"),
    [
        (
            [{"min_qty": 5, "unit_price": "500.00"}],
            {"tiers.0.min_qty": "must be 1: the first row is from 1 unit"},
        ),
        (
            [
                {"min_qty": 1, "unit_price": "520.00"},
                {"min_qty": 1, "unit_price": "500.00"},
            ],
            {
                "tiers.1.min_qty": "must be more than the row above (1): quantities ascend"
            },
        ),
        (
            [{"min_qty": 1, "unit_price": 520}],
            {"tiers.0.unit_price": 'send money as a string, e.g. "1234.50"'},
        ),
        (
            [{"min_qty": 1, "unit_price": "520.00", "max_qty": 9}],
            {"tiers.0.max_qty": "is not a field of a price tier"},
        ),
        ("cheap", {"tiers": "must be a list of {min_qty, unit_price} objects"}),
        ([], {"tiers": "needs at least the 1-unit row"}),
    ],
)
def test_bad_tiers_are_a_422_naming_the_row_and_nothing_changes(
    client, db, world, shelf, token_for, tiers, fields
):
    response = client.patch(
        f"/api/v1/catalog-items/{shelf.item.id}",
        json={"version": 1, "tiers": tiers},
        headers=token_for(world.coop_staff),
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == fields
    db = fresh(db)
    assert _tiers(db, shelf.item.id) == [
        (1, "520.00"),
        (250, "495.00"),
        (1000, "470.00"),
    ]
    assert db.get(CatalogItem, shelf.item.id).version == 1


def test_an_item_patch_needs_its_version_and_keeps_vehicle_read_only(
    client, world, shelf, token_for
):
    headers = token_for(world.coop_staff)
    url = f"/api/v1/catalog-items/{shelf.item.id}"

    missing = client.patch(url, json={"name": "X"}, headers=headers)
    moved = client.patch(url, json={"version": 1, "vehicle_id": 999}, headers=headers)
    stale = client.patch(url, json={"version": 4, "name": "X"}, headers=headers)

    assert missing.status_code == 422 and "version" in error_of(missing)["fields"]
    assert moved.status_code == 422
    assert error_of(moved)["fields"] == {"vehicle_id": "is read-only"}
    assert stale.status_code == 409


@pytest.mark.parametrize("role", ["it", "finance", "viewer"])
def test_district_tokens_get_403_on_every_catalog_write(
    client, db, world, shelf, token_for, role
):
    headers = token_for(getattr(world.a, role))
    iid, vid = shelf.item.id, shelf.vehicle.id

    codes = [
        client.post(
            "/api/v1/vehicles", json=_vehicle_body(shelf.vendor.id), headers=headers
        ).status_code,
        client.patch(
            f"/api/v1/vehicles/{vid}",
            json={"title": "x", "version": 1},
            headers=headers,
        ).status_code,
        client.delete(f"/api/v1/vehicles/{vid}", headers=headers).status_code,
        client.post(
            "/api/v1/catalog-items", json=_item_body(vid), headers=headers
        ).status_code,
        client.patch(
            f"/api/v1/catalog-items/{iid}",
            json={"version": 1, "tiers": [{"min_qty": 1, "unit_price": "1.00"}]},
            headers=headers,
        ).status_code,
    ]
    reads = client.get(f"/api/v1/catalog-items/{iid}", headers=headers)

    assert codes == [403] * 5
    assert reads.status_code == 200 and len(reads.json["tiers"]) == 3
    assert _tiers(fresh(db), iid) == [(1, "520.00"), (250, "495.00"), (1000, "470.00")]


def test_the_writes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    post = paths["/api/v1/catalog-items"]["post"]
    patch = paths["/api/v1/catalog-items/{item_id}"]["patch"]
    assert {"201", "403", "409", "422"} <= set(post["responses"])
    assert {"200", "403", "404", "409", "422"} <= set(patch["responses"])
    assert {"post"} <= set(paths["/api/v1/vehicles"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/vehicles/{vehicle_id}"])
