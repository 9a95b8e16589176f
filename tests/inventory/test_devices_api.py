"""The `devices` API resource (docs/architecture.md#the-json-api): fields, filters, cursor pages, writes with
`version`, errors, and who may do what."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from lifecycle.auth import create_token
from lifecycle.db import get_db
from lifecycle.enums import DeviceCategory, DeviceStatus, ObligationState
from lifecycle.models import Device, Obligation, User
from lifecycle.scan.jobs import run_scan
from lifecycle.scan.refresh import recompute_device_refresh
from tests.conftest import bearer, build_app
from tests.factories import World, make_device, make_school

# The API's field list (docs/architecture.md#the-json-api), in order; refresh_due is read-only.
SECTION_6 = [
    "id", "district_id", "school_id", "asset_tag", "serial", "model", "catalog_item_id",
    "category", "status", "purchase_date", "purchase_cost", "funding_source",
    "vehicle_id", "warranty_end", "aue_date", "eol_date", "lifespan_months",
    "refresh_due", "version",
]  # fmt: skip
# Extras: the read-only refresh reason, and two writable text fields the forms share.
EXTRAS = ["refresh_reason", "assigned_to", "notes"]


@pytest.fixture
def app(database_url: str, redis_url: str | None, tmp_path: Path) -> Iterator[Flask]:
    """Each request gets its own app context and session, as in production."""
    app = build_app(database_url, redis_url, tmp_path)
    yield app
    get_db(app).dispose()


TokenFor = Callable[[User], dict[str, str]]


@pytest.fixture
def token_for(db: Session) -> TokenFor:
    def make(user: User) -> dict[str, str]:
        _token, secret = create_token(db, user=user, name="test script")
        db.commit()
        return bearer(secret)

    return make


@pytest.fixture
def it(world: World, token_for: TokenFor) -> dict[str, str]:
    return token_for(world.a.it)


def fresh(db: Session) -> Session:
    db.rollback()
    db.expire_all()
    return db


def error_of(response: Any) -> dict[str, Any]:
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["message"]
    return error


@pytest.fixture
def devices(db: Session, world: World) -> dict[str, Device]:
    a, b = world.a.district, world.b.district
    made = {
        "old": make_device(
            db,
            a,
            asset_tag="A-OLD",
            purchase_date=date(2021, 8, 1),
            lifespan_months=48,
            school_id=world.a.school.id,
            purchase_cost=Decimal("1234.5"),
            funding_source="General Fund",
        ),
        "new": make_device(
            db,
            a,
            asset_tag="A-NEW",
            purchase_date=date(2025, 8, 1),
            lifespan_months=48,
            category=DeviceCategory.LAPTOP,
        ),
        "spare": make_device(
            db,
            a,
            asset_tag="A-SPARE",
            status=DeviceStatus.SPARE,
            aue_date=date(2026, 6, 30),
            school_id=world.a.school.id,
        ),
        "undated": make_device(db, a, asset_tag="A-NODATE", purchase_date=None),
        "theirs": make_device(db, b, asset_tag="B-1", lifespan_months=48),
    }
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    for d in made.values():
        db.refresh(d)
    return made


def tags(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["asset_tag"] for item in response.get_json()["items"]]


# --- reading ---------------------------------------------------------------------


def test_a_device_has_the_section_6_fields_money_as_text_and_dates_iso(
    client, it, devices
):
    response = client.get(f"/api/v1/devices/{devices['old'].id}", headers=it)
    body = response.get_json()

    assert response.status_code == 200
    assert set(body) == set(SECTION_6 + EXTRAS)
    assert body["purchase_cost"] == "1234.50"
    assert body["purchase_date"] == "2021-08-01"
    assert body["refresh_due"] == "2025-08-01"
    assert body["refresh_reason"] == "lifespan"
    assert body["category"] == "chromebook" and body["status"] == "in_service"
    assert isinstance(body["id"], int) and body["version"] == 1


def test_the_openapi_document_describes_the_device_resource(client, it, devices):
    document = client.get("/api/v1/openapi.json").get_json()
    listing = document["paths"]["/api/v1/devices"]["get"]
    item = listing["responses"]["200"]["content"]["application/json"]["schema"]
    ref = item["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][ref]
    body = client.get(f"/api/v1/devices/{devices['old'].id}", headers=it).get_json()

    assert set(schema["properties"]) == set(body)
    params = {p["name"] for p in listing["parameters"]}
    assert {
        "status",
        "school_id",
        "due_before",
        "due_after",
        "cursor",
        "limit",
    } <= params
    for method in ("post", "patch", "delete"):
        ops = document["paths"].get("/api/v1/devices", {}) | document["paths"].get(
            "/api/v1/devices/{device_id}", {}
        )
        assert method in ops


def test_the_list_filters_by_field(client, it, world, devices):
    def get(**args: Any) -> list[str]:
        return sorted(
            tags(client.get("/api/v1/devices", query_string=args, headers=it))
        )

    assert get() == ["A-NEW", "A-NODATE", "A-OLD", "A-SPARE"]
    assert get(status="spare") == ["A-SPARE"]
    assert get(category="laptop") == ["A-NEW"]
    assert get(school_id=world.a.school.id) == ["A-OLD", "A-SPARE"]
    assert get(funding_source="General Fund") == ["A-OLD"]
    assert get(due_before="2027-07-01") == ["A-OLD", "A-SPARE"]
    assert get(due_after="2027-07-01") == ["A-NEW"]
    assert get(refresh_due_before="2026-01-01") == ["A-OLD"]
    assert get(aue_date_after="2026-01-01") == ["A-SPARE"]
    assert get(
        status="in_service", school_id=world.a.school.id, due_before="2027-07-01"
    ) == ["A-OLD"]
    assert get(asset_tag="B-1") == []  # another district's tag is not there


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"status": "broken"}, "status", "must be one of: in_service"),
        ({"category": "toaster"}, "category", "must be one of: chromebook"),
        ({"due_before": "soon"}, "due_before", "must be a date (YYYY-MM-DD)"),
        ({"school_id": "x"}, "school_id", "must be a whole number"),
        ({"colour": "red"}, "colour", "is not a filter of this list"),
        ({"limit": "501"}, "limit", "must be between 1 and 500"),
        ({"cursor": "%%%"}, "cursor", "is not a cursor"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(client, it, devices, args, field, message):
    response = client.get("/api/v1/devices", query_string=args, headers=it)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation"
    assert message in error["fields"][field]


def test_cursor_pages_cover_every_device_once(client, it, db, world, devices):
    for n in range(7):
        make_device(db, world.a.district, asset_tag=f"A-MORE-{n}")
    db.commit()
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        args = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/devices", query_string=args, headers=it).get_json()
        seen += [item["asset_tag"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 4  # 11 devices, 3 a page
    assert len(seen) == len(set(seen)) == 11
    assert "B-1" not in seen


def test_cooperative_staff_read_every_district(client, world, token_for, devices):
    staff = token_for(world.coop_staff)

    everything = tags(client.get("/api/v1/devices", headers=staff))
    bravo = tags(
        client.get(
            "/api/v1/devices",
            query_string={"district_id": world.b.district.id},
            headers=staff,
        )
    )

    assert "B-1" in everything and "A-OLD" in everything
    assert bravo == ["B-1"]


def test_another_districts_device_is_a_404(client, it, devices):
    theirs = devices["theirs"].id
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/devices/{theirs}", json={"version": 1}, headers=it
        )
        assert response.status_code == 404, method
        assert error_of(response)["code"] == "not_found"


# --- writing ---------------------------------------------------------------------


def test_create_validates_like_the_form_and_derives_the_refresh(
    client, it, db, world, devices
):
    created = client.post(
        "/api/v1/devices",
        json={
            "asset_tag": " CB-9 ",
            "category": "chromebook",
            "purchase_date": "2024-08-20",
            "purchase_cost": "279.99",
            "aue_date": "2028-06-01",
            "school_id": world.a.school.id,
            "district_id": world.a.district.id,  # its own district: accepted
        },
        headers=it,
    )

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["asset_tag"] == "CB-9"
    assert body["district_id"] == world.a.district.id
    assert body["aue_date"] == "2028-06-30"
    assert body["refresh_due"] == "2028-06-30" and body["refresh_reason"] == "aue"
    assert body["purchase_cost"] == "279.99" and body["version"] == 1
    assert body["status"] == "in_service"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"category": "chromebook"}, {"asset_tag": "is required"}),
        ({"asset_tag": "X", "category": "toaster"}, {"category": "must be one of"}),
        (
            {"asset_tag": "X", "category": "laptop", "purchase_cost": "12.345"},
            {"purchase_cost": "can have at most 2 decimals"},
        ),
        (
            {
                "asset_tag": "X",
                "category": "laptop",
                "purchase_date": "2024-01-01",
                "eol_date": "2023-01-01",
            },
            {"eol_date": "must be on or after the purchase date"},
        ),
        ({"asset_tag": "A-OLD", "category": "laptop"}, {"asset_tag": "is already used"}),
        ({"asset_tag": "X", "category": "laptop", "school_id": -1}, {"school_id": "is not"}),
        ({"asset_tag": "X", "category": "laptop", "refresh_due": "2030-01-01"}, {"refresh_due": "is read-only"}),
        ({"asset_tag": "X", "category": "laptop", "district_id": 999}, {"district_id": "is read-only"}),
        ({"asset_tag": "X", "category": "laptop", "colour": "red"}, {"colour": "is not a field"}),
    ],
)  # fmt: skip
def test_a_bad_create_is_a_422_per_field(client, it, db, devices, payload, fields):
    before = len(fresh(db).exec(select(Device)).all())

    response = client.post("/api/v1/devices", json=payload, headers=it)

    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert error["code"] == "validation"
    for name, message in fields.items():
        assert message in error["fields"][name], error
    assert len(fresh(db).exec(select(Device)).all()) == before


def test_a_body_that_is_not_a_json_object_is_a_422(client, it):
    for kwargs in ({"data": "asset_tag=x"}, {"json": ["x"]}):
        response = client.post("/api/v1/devices", headers=it, **kwargs)
        assert response.status_code == 422
        assert "body" in error_of(response)["fields"]


def test_patch_changes_what_is_sent_and_moves_the_version(client, it, db, devices):
    old = devices["old"]
    read = client.get(f"/api/v1/devices/{old.id}", headers=it).get_json()

    response = client.patch(
        f"/api/v1/devices/{old.id}",
        json={"lifespan_months": 60, "version": read["version"]},
        headers=it,
    )
    body = response.get_json()

    assert response.status_code == 200, body
    assert body["lifespan_months"] == 60 and body["version"] == read["version"] + 1
    assert body["refresh_due"] == "2026-08-01"
    assert body["funding_source"] == "General Fund"  # what was not sent is kept
    roundtrip = {**body, "notes": "checked"}  # read-only fields sent back unchanged
    again = client.patch(f"/api/v1/devices/{old.id}", json=roundtrip, headers=it)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["notes"] == "checked"


def test_a_stale_patch_is_a_409_with_the_current_values(client, it, db, devices):
    old = devices["old"]
    stale = old.version
    old.notes = "changed by someone"
    db.commit()

    response = client.patch(
        f"/api/v1/devices/{old.id}",
        json={"notes": "mine", "version": stale},
        headers=it,
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["current_version"] == stale + 1
    assert error["current"]["notes"] == "changed by someone"
    assert error["current"]["purchase_cost"] == "1234.50"
    assert set(error["current"]) == set(SECTION_6 + EXTRAS)
    assert fresh(db).get(Device, old.id).notes == "changed by someone"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"notes": "x"}, "version", "is required"),
        ({"asset_tag": None, "version": 1}, "asset_tag", "is required"),
        ({"status": None, "version": 1}, "status", "is required"),
        ({"status": "melted", "version": 1}, "status", "must be one of"),
        ({"refresh_due": "2030-01-01", "version": 1}, "refresh_due", "is read-only"),
        ({"id": 12345, "version": 1}, "id", "is read-only"),
        ({"warranty_end": "2000-01-01", "version": 1}, "warranty_end", "on or after"),
    ],
)
def test_a_bad_patch_is_a_422(client, it, db, devices, payload, field, message):
    response = client.patch(
        f"/api/v1/devices/{devices['old'].id}", json=payload, headers=it
    )

    assert response.status_code == 422, response.get_json()
    assert message in error_of(response)["fields"][field]
    assert fresh(db).get(Device, devices["old"].id).version == 1


def test_a_null_text_field_clears_it(client, it, db, devices):
    response = client.patch(
        f"/api/v1/devices/{devices['old'].id}",
        json={"funding_source": None, "serial": "", "version": 1},
        headers=it,
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["funding_source"] == ""
    assert response.get_json()["serial"] is None


def test_delete_answers_204_and_409_once_the_device_has_history(
    app, client, it, db, world, devices
):
    new_id = devices["new"].id
    gone = client.delete(f"/api/v1/devices/{new_id}", headers=it)
    assert gone.status_code == 204
    assert fresh(db).get(Device, new_id) is None

    with app.app_context():
        run_scan(db, world.a.district.id, today=date(2025, 1, 1))
        db.commit()
    obligation = db.exec(
        select(Obligation).where(Obligation.subject_id == devices["old"].id)
    ).one()
    obligation.state = ObligationState.SNOOZED
    db.commit()

    kept = client.delete(f"/api/v1/devices/{devices['old'].id}", headers=it)

    assert kept.status_code == 409
    assert "Retire it instead" in error_of(kept)["message"]
    assert fresh(db).get(Device, devices["old"].id) is not None


@pytest.mark.parametrize("role", ["viewer", "finance", "coop_staff", "admin"])
def test_only_district_it_writes(client, db, world, token_for, devices, role):
    user = getattr(world.a, role, None) or getattr(world, role)
    headers = token_for(user)
    old = devices["old"]

    created = client.post(
        "/api/v1/devices",
        json={"asset_tag": "Z", "category": "laptop"},
        headers=headers,
    )
    patched = client.patch(
        f"/api/v1/devices/{old.id}", json={"notes": "x", "version": 1}, headers=headers
    )
    deleted = client.delete(f"/api/v1/devices/{old.id}", headers=headers)

    assert [created.status_code, patched.status_code, deleted.status_code] == [403] * 3
    assert error_of(created)["code"] == "forbidden"
    assert client.get(f"/api/v1/devices/{old.id}", headers=headers).status_code == 200
    assert fresh(db).get(Device, old.id).version == 1


def test_a_school_of_the_district_can_be_set_and_cleared(
    client, it, db, world, devices
):
    annex = make_school(db, world.a.district)
    db.commit()
    url = f"/api/v1/devices/{devices['undated'].id}"

    moved = client.patch(url, json={"school_id": annex.id, "version": 1}, headers=it)
    cleared = client.patch(url, json={"school_id": None, "version": 2}, headers=it)
    theirs = client.patch(
        url, json={"school_id": world.b.school.id, "version": 3}, headers=it
    )

    assert moved.get_json()["school_id"] == annex.id
    assert cleared.get_json()["school_id"] is None
    assert theirs.status_code == 422
    assert "is not a school of your district" in error_of(theirs)["fields"]["school_id"]


def test_without_a_token_the_api_answers_401(client, devices):
    response = client.get("/api/v1/devices")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
