"""Licenses and contracts: what a client can write, it can read back (and send back)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from lifecycle.models import (
    LicenseCreate,
    LicenseUpdate,
    ServiceContractCreate,
    ServiceContractUpdate,
)
from tests.factories import make_catalog_item, make_school, make_vehicle, make_vendor

KINDS = {
    "licenses": (LicenseCreate, LicenseUpdate, "LicenseResource"),
    "contracts": (ServiceContractCreate, ServiceContractUpdate, "ContractResource"),
}
READ_ONLY = {
    "id", "district_id", "status", "current_term_number", "current_term_start",
    "current_term_end", "decide_by",
}  # fmt: skip


def _refs(db, world) -> dict[str, Any]:
    vendor = make_vendor(db)
    vehicle = make_vehicle(db, world.coop, vendor)
    item = make_catalog_item(db, vehicle)
    school = make_school(db, world.a.district)
    db.commit()
    return {"vendor": vendor, "vehicle": vehicle, "item": item, "school": school}


def _full_body(kind: str, refs: dict[str, Any]) -> dict[str, Any]:
    """Every field the create model takes, set (the contract covers one site)."""
    common = {
        "vendor_id": refs["vendor"].id,
        "vehicle_id": refs["vehicle"].id,
        "term_start": "2026-07-01",
        "initial_term_months": 24,
        "renewal_term_months": 6,
        "renewal_type": "tacit",
        "notice_days": 45,
        "funding_source": "E-Rate C2",
        "reminder_thresholds": [60, 14],
        "notes": "Signed by the board on 2026-06-12.",
    }
    if kind == "licenses":
        return {
            **common,
            "product": "Reading Suite",
            "catalog_item_id": refs["item"].id,
            "school_id": refs["school"].id,
            "seats": 300,
            "seats_used": 120,
            "price_per_seat": "4.75",
        }
    return {
        **common,
        "name": "Core switch maintenance",
        "kind": "support",
        "coverage": "site",
        "coverage_category": None,  # a site contract covers no category
        "coverage_school_id": refs["school"].id,
        "cost_per_period": "1234.50",
        "escalator_pct": "2.50",
        "erate_c2_eligible": True,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_writable_field_is_shown_and_documented(client, kind):
    create, update, resource = KINDS[kind]
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    shown = set(schema[resource]["properties"])

    writable = set(create.model_fields) | set(update.model_fields)

    assert writable <= shown | {"version"}
    assert set(update.model_fields) - {"version"} == set(create.model_fields)
    assert shown == writable | READ_ONLY | {"version"}


@pytest.mark.parametrize("kind", KINDS)
def test_what_a_create_sends_the_response_shows(client, db, world, token_for, kind):
    headers = token_for(world.a.it)
    body = _full_body(kind, _refs(db, world))
    assert set(body) == set(KINDS[kind][0].model_fields)

    created = client.post(f"/api/v1/{kind}", json=body, headers=headers)
    got = client.get(f"/api/v1/{kind}/{created.json['id']}", headers=headers)

    assert created.status_code == 201, created.json
    assert {name: created.json.get(name) for name in body} == body, created.json
    assert got.json == created.json
    assert created.json["status"] == "active"
    assert created.json["current_term_number"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_patch_of_each_new_field_is_shown(client, db, world, token_for, kind):
    headers = token_for(world.a.it)
    refs = _refs(db, world)
    created = client.post(
        f"/api/v1/{kind}", json=_full_body(kind, refs), headers=headers
    ).json
    other_school = make_school(db, world.a.district)
    db.commit()
    changes: dict[str, Any] = {
        "funding_source": "General fund",
        "reminder_thresholds": None,
        "notes": "",
        "vehicle_id": None,
        ("school_id" if kind == "licenses" else "coverage_school_id"): other_school.id,
    }
    if kind == "contracts":
        changes |= {"erate_c2_eligible": False, "kind": "maintenance"}

    patched = client.patch(
        f"/api/v1/{kind}/{created['id']}",
        json={**changes, "version": created["version"]},
        headers=headers,
    )

    assert patched.status_code == 200, patched.json
    assert {name: patched.json[name] for name in changes} == changes
    assert patched.json["version"] == created["version"] + 1


@pytest.mark.parametrize("kind", KINDS)
def test_what_a_client_read_it_can_send_back(client, db, world, token_for, kind):
    headers = token_for(world.a.it)
    created = client.post(
        f"/api/v1/{kind}", json=_full_body(kind, _refs(db, world)), headers=headers
    ).json

    same = client.patch(
        f"/api/v1/{kind}/{created['id']}", json=created, headers=headers
    )
    changed_status = client.patch(
        f"/api/v1/{kind}/{created['id']}",
        json={"status": "cancelled", "version": created["version"]},
        headers=headers,
    )

    assert same.status_code == 200, same.json
    assert {k: v for k, v in same.json.items() if k != "version"} == {
        k: v for k, v in created.items() if k != "version"
    }
    assert changed_status.status_code == 422
    assert changed_status.json["error"]["fields"] == {"status": "is read-only"}


def test_decide_by_says_what_it_means(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]

    for name in ("LicenseResource", "ContractResource"):
        text = schemas[name]["properties"]["decide_by"]["description"]
        assert "open renewal decision" in text
        assert "notice date has passed" in text and "next term" in text


def test_an_agreement_list_filters_on_the_fields_it_now_shows(
    client, db, world, token_for
):
    headers = token_for(world.a.it)
    refs = _refs(db, world)
    body = _full_body("licenses", refs)
    mine = client.post("/api/v1/licenses", json=body, headers=headers).json
    client.post(
        "/api/v1/licenses",
        json={**body, "school_id": None, "funding_source": "General fund"},
        headers=headers,
    )

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/licenses?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(f"school_id={refs['school'].id}") == [mine["id"]]
    assert ids("funding_source=E-Rate%20C2") == [mine["id"]]
    assert mine["term_start"] == date(2026, 7, 1).isoformat()
