"""Vendors, contract vehicles and the catalog through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from lifecycle.models import Vendor
from tests.api.conftest import error_of, fresh
from tests.factories import make_catalog_item, make_vehicle, make_vendor

# --- vendors -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_cooperative_staff_and_admins_add_a_vendor(client, world, db, token_for, who):
    response = client.post(
        "/api/v1/vendors",
        json={"name": "  CDW-G ", "website": "https://www.cdwg.com"},
        headers=token_for(getattr(world, who)),
    )

    assert response.status_code == 201
    body = response.json
    assert body["name"] == "CDW-G"
    assert body["version"] == 1
    assert fresh(db).get(Vendor, body["id"]).website == "https://www.cdwg.com"


@pytest.mark.parametrize("who", ["it", "finance", "viewer"])
def test_district_users_read_vendors_but_cannot_add_or_change_them(
    client, world, db, token_for, who
):
    vendor = make_vendor(db, name="Google")
    db.commit()
    headers = token_for(getattr(world.a, who))

    read = client.get(f"/api/v1/vendors/{vendor.id}", headers=headers)
    created = client.post("/api/v1/vendors", json={"name": "Acme"}, headers=headers)
    patched = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"name": "Alphabet", "version": vendor.version},
        headers=headers,
    )

    assert read.status_code == 200
    assert read.json["name"] == "Google"
    assert (created.status_code, patched.status_code) == (403, 403)
    assert error_of(created)["code"] == "forbidden"
    fresh(db)
    assert db.get(Vendor, vendor.id).name == "Google"
    assert db.exec(select(Vendor).where(Vendor.name == "Acme")).all() == []


@pytest.mark.parametrize("name", ["Dell", "dell", " DELL "])
def test_a_vendor_name_already_used_is_a_422(client, world, db, token_for, name):
    make_vendor(db, name="Dell")
    db.commit()

    response = client.post(
        "/api/v1/vendors", json={"name": name}, headers=token_for(world.coop_staff)
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"name": "is already a vendor"}


def test_cooperative_staff_change_a_vendor(client, world, db, token_for):
    vendor = make_vendor(db, name="Lenovo", support_phone="")
    db.commit()

    response = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"support_phone": "+1 855 253 6686", "version": vendor.version},
        headers=token_for(world.coop_staff),
    )

    assert response.status_code == 200
    assert response.json["support_phone"] == "+1 855 253 6686"
    assert response.json["name"] == "Lenovo"
    assert response.json["version"] == vendor.version + 1


def test_renaming_a_vendor_to_another_vendors_name_is_a_422(
    client, world, db, token_for
):
    make_vendor(db, name="HP Inc.")
    vendor = make_vendor(db, name="Hewlett Packard")
    db.commit()

    response = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"name": "hp inc.", "version": vendor.version},
        headers=token_for(world.coop_staff),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"name": "is already a vendor"}
    assert fresh(db).get(Vendor, vendor.id).name == "Hewlett Packard"


def test_a_stale_vendor_version_is_a_409(client, world, db, token_for):
    vendor = make_vendor(db, name="Apple")
    db.commit()
    headers = token_for(world.coop_staff)
    ok = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"website": "https://apple.com/education", "version": 1},
        headers=headers,
    )

    stale = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"website": "https://example.com", "version": 1},
        headers=headers,
    )

    assert ok.status_code == 200
    assert stale.status_code == 409
    assert error_of(stale)["current"]["website"] == "https://apple.com/education"


# --- vehicles and catalog ----------------------------------------------------


def test_catalog_items_list_their_tiers_in_order_with_money_strings(
    client, world, db, token_for
):
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    item = make_catalog_item(
        db,
        vehicle,
        list_price=Decimal("329"),
        tiers=[(500, "299.5"), (1, "329.00"), (100, "309")],
    )
    db.commit()

    body = client.get("/api/v1/catalog-items", headers=token_for(world.a.it)).json

    assert body["next_cursor"] is None
    [listed] = body["items"]
    assert listed["id"] == item.id
    assert listed["list_price"] == "329.00"
    assert listed["tiers"] == [
        {"min_qty": 1, "unit_price": "329.00"},
        {"min_qty": 100, "unit_price": "309.00"},
        {"min_qty": 500, "unit_price": "299.50"},
    ]


def test_one_catalog_item_carries_its_tiers_too(client, world, db, token_for):
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    plain = make_catalog_item(db, vehicle, list_price=Decimal("1234.5"))
    tiered = make_catalog_item(db, vehicle, tiers=[(10, "300")])
    db.commit()
    headers = token_for(world.coop_staff)

    one = client.get(f"/api/v1/catalog-items/{plain.id}", headers=headers).json
    other = client.get(f"/api/v1/catalog-items/{tiered.id}", headers=headers).json

    assert one["list_price"] == "1234.50"
    assert one["tiers"] == []
    assert other["tiers"] == [{"min_qty": 10, "unit_price": "300.00"}]


def test_catalog_items_filter_by_vehicle_and_active(client, world, db, token_for):
    vendor = make_vendor(db)
    first = make_vehicle(db, world.coop, vendor)
    second = make_vehicle(db, world.coop, vendor)
    live = make_catalog_item(db, first)
    retired = make_catalog_item(db, first, active=False)
    make_catalog_item(db, second)
    db.commit()
    headers = token_for(world.a.viewer)

    on_first = client.get(
        f"/api/v1/catalog-items?vehicle_id={first.id}", headers=headers
    ).json["items"]
    inactive = client.get(
        f"/api/v1/catalog-items?vehicle_id={first.id}&active=false", headers=headers
    ).json["items"]

    assert [i["id"] for i in on_first] == [live.id, retired.id]
    assert [i["id"] for i in inactive] == [retired.id]


def test_catalog_items_page_with_a_cursor(client, world, db, token_for):
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    ids = [make_catalog_item(db, vehicle, tiers=[(1, "10")]).id for _ in range(5)]
    db.commit()
    headers = token_for(world.a.it)

    first = client.get("/api/v1/catalog-items?limit=3", headers=headers).json
    second = client.get(
        "/api/v1/catalog-items",
        query_string={"limit": 3, "cursor": first["next_cursor"]},
        headers=headers,
    ).json

    assert [i["id"] for i in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    assert all(i["tiers"] for i in second["items"])


def test_vehicles_are_listed_and_filtered_by_vendor(client, world, db, token_for):
    dell, hp = make_vendor(db, name="Dell"), make_vendor(db, name="HP")
    on_dell = make_vehicle(db, world.coop, dell, contract_number="R99-DELL")
    make_vehicle(db, world.coop, hp)
    db.commit()
    headers = token_for(world.b.it)

    items = client.get(f"/api/v1/vehicles?vendor_id={dell.id}", headers=headers).json
    one = client.get(f"/api/v1/vehicles/{on_dell.id}", headers=headers).json

    assert [v["id"] for v in items["items"]] == [on_dell.id]
    assert one["contract_number"] == "R99-DELL"
    assert one["term_start"] == "2025-09-01"
