"""Inputs that once crashed the API: numbers beyond the id range, non-ASCII digits,
far-off dates, strange cursors and deeply nested bodies. Each answers a JSON 404 or
422 that says what is wrong, and writes nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, func, select

from lifecycle.models import Device, License, ServiceContract, TermRecord
from lifecycle.web.paging import encode_cursor
from tests.api.conftest import error_of, fresh
from tests.factories import make_contract, make_device, make_license
from tests.renewals.test_actions_data import arrange

BIG = 99999999999999999999
RANGE = "must be between 1980-01-01 and 2200-12-31"


def counts(db: Session) -> tuple[int, ...]:
    fresh(db)
    return tuple(
        db.exec(select(func.count()).select_from(model)).one()
        for model in (Device, License, ServiceContract, TermRecord)
    )


def device_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "asset_tag": "CB-9",
        "category": "chromebook",
        "purchase_date": "2024-07-01",
    }
    body.update(overrides)
    return body


def license_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product": "Reading suite",
        "seats": 10,
        "term_start": "2025-07-01",
        "initial_term_months": 12,
    }
    body.update(overrides)
    return body


def contract_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Switch support",
        "term_start": "2025-07-01",
        "initial_term_months": 12,
    }
    body.update(overrides)
    return body


# --- numbers beyond the id range in JSON bodies --------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/devices", device_body(school_id=BIG), "school_id"),
        ("/api/v1/devices", device_body(catalog_item_id=BIG), "catalog_item_id"),
        ("/api/v1/devices", device_body(vehicle_id=2**31), "vehicle_id"),
        ("/api/v1/devices", device_body(catalog_item_id=1e308), "catalog_item_id"),
        ("/api/v1/licenses", license_body(vendor_id=BIG), "vendor_id"),
        ("/api/v1/licenses", license_body(school_id=-BIG), "school_id"),
        (
            "/api/v1/contracts",
            contract_body(coverage_school_id=BIG),
            "coverage_school_id",
        ),
        ("/api/v1/schools", {"name": "X", "district_id": BIG}, "district_id"),
    ],
)
def test_an_id_beyond_the_range_in_a_body_is_a_422(
    client, world, db, token_for, url, body, field
):
    headers = token_for(world.coop_staff if "schools" in url else world.a.it)
    before = counts(db)

    response = client.post(url, json=body, headers=headers)

    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]
    assert counts(db) == before


@pytest.mark.parametrize("version", [BIG, 2**31, -(2**63) - 1, "²"])
def test_a_version_beyond_the_range_is_a_422_and_changes_nothing(
    client, world, db, token_for, version
):
    device = make_device(db, world.a.district, asset_tag="V-1")
    db.commit()

    response = client.patch(
        f"/api/v1/devices/{device.id}",
        json={"notes": "changed", "version": version},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422, response.get_json()
    assert "version" in error_of(response)["fields"]
    assert fresh(db).get(Device, device.id).notes == ""


def test_an_obligation_action_with_a_version_beyond_the_range_is_a_422(
    client, world, db, token_for
):
    arranged = arrange(db, world.a.district, school_id=world.a.school.id)
    refresh = arranged.refresh(db)

    response = client.post(
        f"/api/v1/obligations/{refresh.id}/replace",
        json={"version": BIG},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422, response.get_json()
    assert "version" in error_of(response)["fields"]


def test_a_scan_of_a_district_beyond_the_range_is_a_422(client, world, token_for):
    response = client.post(
        "/api/v1/scans", json={"district_id": BIG}, headers=token_for(world.admin)
    )

    assert response.status_code == 422, response.get_json()
    assert "district_id" in error_of(response)["fields"]


# --- query filters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "value", "message"),
    [
        ("/api/v1/devices?school_id={}", BIG, "must be at most 2147483647"),
        ("/api/v1/devices?school_id={}", "²", "must be a whole number"),
        ("/api/v1/devices?school_id={}", "٣", "must be a whole number"),
        ("/api/v1/licenses?vendor_id={}", BIG, "must be at most 2147483647"),
        ("/api/v1/obligations?fiscal_year={}", BIG, "must be at most 2147483647"),
        ("/api/v1/obligations?subject_id={}", "1_0", "must be a whole number"),
        ("/api/v1/schools?district_id={}", -BIG, "must be at least -2147483648"),
        ("/api/v1/devices?limit={}", "٥٠", "must be a whole number"),
        ("/api/v1/obligations?due_before={}", "9999-12-31", RANGE),
    ],
)
def test_a_filter_out_of_range_is_a_422_naming_it(
    client, world, token_for, url, value, message
):
    response = client.get(url.format(value), headers=token_for(world.a.it))

    assert response.status_code == 422, response.get_json()
    (name,) = error_of(response)["fields"]
    assert url.split("?")[1].startswith(name)
    assert error_of(response)["fields"][name] == message


# --- cursors --------------------------------------------------------------------------


def _deep_cursor() -> str:
    import base64

    raw = ("[" * 5000 + "]" * 5000).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor([1e308]),
        encode_cursor([BIG]),
        encode_cursor([2**31]),
        encode_cursor([-BIG]),
        encode_cursor([True]),
        encode_cursor([None]),
        encode_cursor([[1]]),
        encode_cursor([{"id": 1}]),
        encode_cursor(["7"]),
        encode_cursor([7.5]),
        "WzFlOTk5XQ",  # [1e999]: infinity once decoded
        "WyJcdWQ4MDAiXQ",  # ["\ud800"]: a lone surrogate
        _deep_cursor(),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/devices", "/api/v1/obligations"])
def test_a_cursor_the_api_did_not_give_out_is_a_422_whatever_it_holds(
    client, world, token_for, url, cursor
):
    response = client.get(
        url, query_string={"cursor": cursor}, headers=token_for(world.a.it)
    )

    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert error_of(response)["fields"] == {
        "cursor": "is not a cursor this API gave out"
    }


# --- far-off dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/devices", device_body(aue_date="9999-12-31"), "aue_date"),
        ("/api/v1/devices", device_body(purchase_date="9999-06-01", lifespan_months=240), "purchase_date"),
        ("/api/v1/devices", device_body(warranty_end="0001-01-01"), "warranty_end"),
        ("/api/v1/licenses", license_body(term_start="9990-01-01"), "term_start"),
        ("/api/v1/contracts", contract_body(term_start="9990-01-01"), "term_start"),
        ("/api/v1/contracts", contract_body(term_start="1900-01-01"), "term_start"),
    ],
)  # fmt: skip
def test_a_date_outside_1980_to_2200_is_a_422_saying_so(
    client, world, db, token_for, url, body, field
):
    before = counts(db)

    response = client.post(url, json=body, headers=token_for(world.a.it))

    assert response.status_code == 422, response.get_json()
    assert error_of(response)["fields"][field] == RANGE
    assert counts(db) == before


@pytest.mark.parametrize("kind", ["devices", "licenses", "contracts"])
def test_a_patch_to_a_far_date_is_a_422_and_changes_nothing(
    client, world, db, token_for, kind
):
    made = {
        "devices": lambda: make_device(db, world.a.district),
        "licenses": lambda: make_license(db, world.a.district),
        "contracts": lambda: make_contract(db, world.a.district),
    }[kind]()
    db.commit()
    field = "aue_date" if kind == "devices" else "term_start"
    before = getattr(made, field)

    response = client.patch(
        f"/api/v1/{kind}/{made.id}",
        json={field: "9999-12-31", "version": made.version},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422, response.get_json()
    assert error_of(response)["fields"][field] == RANGE
    fresh(db)
    assert getattr(db.get(type(made), made.id), field) == before


def test_the_window_ends_are_accepted(client, world, db, token_for):
    response = client.post(
        "/api/v1/devices",
        json=device_body(purchase_date="1980-01-01", aue_date="2200-12-31"),
        headers=token_for(world.a.it),
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["aue_date"] == "2200-12-31"
    assert fresh(db).exec(select(Device)).one().purchase_date == date(1980, 1, 1)


# --- deeply nested bodies -------------------------------------------------------------


@pytest.mark.parametrize("opening", ["[", '{"a":'])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/api/v1/devices"),
        ("POST", "/api/v1/licenses"),
        ("PATCH", "/api/v1/devices/1"),
    ],
)
def test_a_5000_deep_json_body_is_a_4xx_json_error(
    client, world, db, token_for, opening, method, url
):
    make_device(db, world.a.district)
    db.commit()
    closing = "]" if opening == "[" else "}"
    body = opening * 5000 + "1" + closing * 5000
    before = counts(db)

    response = client.open(
        url,
        method=method,
        data=body,
        content_type="application/json",
        headers=token_for(world.a.it),
    )

    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert error_of(response)["fields"] == {"body": "is nested too deeply"}
    assert counts(db) == before


def test_a_shallow_nested_value_is_still_a_field_message(client, world, token_for):
    body = json.dumps(device_body(notes=[[["deep"]]]))

    response = client.post(
        "/api/v1/devices",
        data=body,
        content_type="application/json",
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"notes": "must be text"}


# --- text no database can store ----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"contract_number": "A\x00B"},
        {"serial": "\x00"},
        {"cursor": "\x00"},
    ],
)
def test_a_nul_character_in_a_filter_is_a_422(client, world, token_for, query):
    url = "/api/v1/vehicles" if "contract_number" in query else "/api/v1/devices"

    response = client.get(url, query_string=query, headers=token_for(world.a.it))

    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert error_of(response)["fields"] == {
        next(iter(query)): "must not contain a NUL character"
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CB\x001", "must not contain a NUL character"),
        ("CB\ud8001", "is not valid text"),
    ],
)
def test_text_no_database_can_store_is_a_422_in_a_body(
    client, world, db, token_for, text, message
):
    before = counts(db)
    body = json.dumps(device_body(asset_tag=text))  # "\ud800" stays an escape

    response = client.post(
        "/api/v1/devices",
        data=body,
        content_type="application/json",
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert error_of(response)["fields"] == {"asset_tag": message}
    assert counts(db) == before


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/devices", device_body(school_id=True), "school_id"),
        ("/api/v1/licenses", license_body(seats=True), "seats"),
        ("/api/v1/scans", {"district_id": False}, "district_id"),
    ],
)
def test_true_or_false_is_no_number(client, world, db, token_for, url, body, field):
    before = counts(db)

    response = client.post(url, json=body, headers=token_for(world.a.it))

    assert response.status_code == 422, response.get_json()
    assert error_of(response)["fields"] == {field: "must be a whole number"}
    assert counts(db) == before
