"""Catalog items and their price tables: add, edit, discontinue; the table edited in
place, saved whole or not at all, versioned and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.catalog import editing
from lifecycle.enums import DeviceCategory, ItemKind
from lifecycle.models import AuditEvent, CatalogItem, CatalogItemUpdate, PriceTier
from lifecycle.web.errors import Conflict, ValidationFailed
from tests.conftest import fresh, htmx, sign_in, text


def _item_form(**overrides):
    form = {
        "sku": "HP-G11",
        "name": "HP Fortis G11",
        "kind": "device",
        "category": "chromebook",
        "list_price": "349.00",
        "unit": "each",
        "min_order_qty": "50",
        "lifespan_months": "48",
        "term_months": "",
        "erate_c2_eligible": "1",
    }
    form.update(overrides)
    return form


def _tiers(db, item_id):
    return [
        (t.min_qty, f"{t.unit_price:.2f}")
        for t in db.exec(
            select(PriceTier)
            .where(col(PriceTier.catalog_item_id) == item_id)
            .order_by(col(PriceTier.min_qty))
        ).all()
    ]


def _tier_post(version, *pairs, op="save"):
    return {
        "version": str(version),
        "min_qty": [q for q, _ in pairs],
        "unit_price": [p for _, p in pairs],
        "op": op,
    }


ORIGINAL = [(1, "520.00"), (250, "495.00"), (1000, "470.00")]


def test_add_an_item_under_a_vehicle(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/vehicles/{shelf.vehicle.id}/items"

    form = text(client.get(url + "/new"))
    response = client.post(url, data=_item_form())

    assert "Add an item to R99-TECH-2025" in form
    assert response.status_code == 303
    db = fresh(db)
    item = db.exec(select(CatalogItem).where(col(CatalogItem.sku) == "HP-G11")).one()
    assert item.vehicle_id == shelf.vehicle.id and item.active
    assert item.category is DeviceCategory.CHROMEBOOK and item.erate_c2_eligible
    assert item.min_order_qty == 50 and item.term_months is None
    # every item has its 1-unit row: the list price
    assert _tiers(db, item.id) == [(1, "349.00")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": "dell-3120"}, "sku"),  # taken under this vehicle, in any case
        ({"list_price": "349.001"}, "list_price"),
        ({"list_price": "-1"}, "list_price"),
        ({"kind": "gadget"}, "kind"),
        ({"min_order_qty": "-3"}, "min_order_qty"),
        ({"lifespan_months": "999"}, "lifespan_months"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_item_is_refused_and_nothing_written(
    client, db, world, shelf, overrides, field
):
    sign_in(client, world.coop_staff)
    response = client.post(
        f"/catalog/vehicles/{shelf.vehicle.id}/items", data=_item_form(**overrides)
    )
    assert response.status_code == 422
    assert f'id="e-{field}"' in text(response)
    count = fresh(db).exec(select(CatalogItem.id)).all()
    assert len(count) == 1


def test_edit_an_item_keeps_its_tiers_and_moves_its_version(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/items/{shelf.item.id}"

    form = text(client.get(url + "/edit"))
    response = client.post(
        url,
        data=_item_form(
            sku="DELL-3120",
            name="Dell Chromebook 3120 2-in-1",
            list_price="520.00",
            version="1",
        ),
    )

    assert 'value="Dell Chromebook 3120"' in form
    assert response.status_code == 303
    item = fresh(db).get(CatalogItem, shelf.item.id)
    assert item.name == "Dell Chromebook 3120 2-in-1" and item.version == 2
    assert _tiers(db, item.id) == ORIGINAL


def test_a_list_price_below_a_tier_is_refused(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    response = client.post(
        f"/catalog/items/{shelf.item.id}",
        data=_item_form(sku="DELL-3120", list_price="500.00", version="1"),
    )
    assert response.status_code == 422
    assert "cannot be below a price tier (520.00)" in text(response)
    assert fresh(db).get(CatalogItem, shelf.item.id).list_price == Decimal("520.00")


def test_discontinue_and_offer_again(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/items/{shelf.item.id}"

    page = text(client.get(url))
    off = client.post(url + "/active", data={"version": "1", "active": "0"})
    stale = client.post(url + "/active", data={"version": "1", "active": "1"})
    after = text(client.get(url))

    assert 'hx-confirm="Discontinue Dell Chromebook 3120?' in page
    assert off.status_code == 303 and stale.status_code == 303
    assert 'data-testid="discontinued"' in after and "Someone else changed" in after
    item = fresh(db).get(CatalogItem, shelf.item.id)
    assert item.active is False and item.version == 2


@pytest.mark.parametrize("role", ["it", "finance", "viewer"])
def test_district_roles_cannot_change_items_or_tiers(client, db, world, shelf, role):
    sign_in(client, getattr(world.a, role))
    url = f"/catalog/items/{shelf.item.id}"

    page = text(client.get(url))
    codes = [
        client.get(url + "/edit").status_code,
        client.post(url, data=_item_form(version="1")).status_code,
        client.post(url + "/active", data={"version": "1", "active": "0"}).status_code,
        client.get(url + "/tiers/edit", headers=htmx()).status_code,
        client.post(url + "/tiers", data=_tier_post(1, ("1", "1.00"))).status_code,
        client.get(f"/catalog/vehicles/{shelf.vehicle.id}/items/new").status_code,
    ]

    assert codes == [403] * 6
    assert "Edit tiers" not in page and "Discontinue" not in page
    assert "History" not in page
    assert _tiers(fresh(db), shelf.item.id) == ORIGINAL


# --- the price table in place ----------------------------------------------------


def test_the_editor_opens_in_place(client, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/items/{shelf.item.id}/tiers/edit"

    fragment = client.get(url, headers=htmx())
    page = text(client.get(url))

    body = text(fragment)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert body.startswith(
        '\n<section class="panel" id="tiers-panel"'
    ) or body.lstrip().startswith('<section class="panel" id="tiers-panel"')
    assert "<html" not in body and body.count('data-testid="tier-row"') == 3
    assert 'name="version" value="1"' in body
    assert "<html" in page and 'data-testid="tier-editor"' in page


def test_saving_a_valid_table_replaces_it_and_moves_the_version(
    client, db, world, shelf
):
    sign_in(client, world.coop_staff)

    response = client.post(
        f"/catalog/items/{shelf.item.id}/tiers",
        data=_tier_post(1, ("1", "520"), ("100", "505.5"), ("500", "480.00")),
        headers=htmx(),
    )

    assert response.status_code == 200
    body = text(response)
    assert (
        'data-testid="tiers-saved"' in body and 'data-testid="tier-editor"' not in body
    )
    assert 'id="item-actions" hx-swap-oob="true"' in body
    assert 'name="version" value="2"' in body  # the actions carry the new version
    assert 'id="item-history" hx-swap-oob="true"' in body and "tiers" in body
    db = fresh(db)
    assert _tiers(db, shelf.item.id) == [
        (1, "520.00"),
        (100, "505.50"),
        (500, "480.00"),
    ]
    assert db.get(CatalogItem, shelf.item.id).version == 2
    [event] = db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "catalog_item",
            col(AuditEvent.entity_id) == shelf.item.id,
            col(AuditEvent.action) == "update",
        )
    ).all()
    assert event.actor_label == world.coop_staff.email
    assert event.changes["tiers"] == [
        "1+ 520.00; 250+ 495.00; 1,000+ 470.00",
        "1+ 520.00; 100+ 505.50; 500+ 480.00",
    ]
    # the rows are not audited one by one: the table is one change
    assert not db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "price_tier",
            col(AuditEvent.action) != "create",  # the factory's rows
        )
    ).all()


def test_an_invalid_table_is_a_422_naming_rows_and_nothing_is_written(
    client, db, world, shelf
):
    sign_in(client, world.coop_staff)

    response = client.post(
        f"/catalog/items/{shelf.item.id}/tiers",
        data=_tier_post(1, ("1", "520"), ("100", "530"), ("50", "480")),
        headers=htmx(),
    )

    assert response.status_code == 422
    body = text(response)
    assert 'id="te-1-unit_price"' in body and "cannot be above the list price" in body
    assert 'id="te-2-min_qty"' in body and "must be more than the row above" in body
    assert 'id="t-1-unit_price" name="unit_price" value="530"' in body  # as typed
    assert 'aria-invalid="true" aria-describedby="te-2-min_qty"' in body
    assert "Row 3: from quantity" in body
    db = fresh(db)
    assert _tiers(db, shelf.item.id) == ORIGINAL
    assert db.get(CatalogItem, shelf.item.id).version == 1
    assert not db.exec(
        select(AuditEvent).where(col(AuditEvent.action) == "update")
    ).all()


def test_a_stale_table_is_a_409_with_a_way_to_reload(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/items/{shelf.item.id}/tiers"
    client.post(url, data=_tier_post(1, ("1", "520"), ("10", "500")), headers=htmx())

    response = client.post(
        url, data=_tier_post(1, ("1", "520"), ("20", "490")), headers=htmx()
    )

    assert response.status_code == 409
    body = text(response)
    assert 'data-testid="conflict"' in body
    assert "1+ at $520.00, 10+ at $500.00." in body
    assert "reload the stored tiers" in body and f'hx-get="{url}/edit"' in body
    assert 'value="490"' in body and 'name="version" value="2"' in body
    assert _tiers(fresh(db), shelf.item.id) == [(1, "520.00"), (10, "500.00")]


def test_add_and_remove_rows_change_nothing_stored(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    url = f"/catalog/items/{shelf.item.id}/tiers"
    rows = (("1", "520"), ("250", "495"), ("1000", "470"))

    added = text(client.post(url, data=_tier_post(1, *rows, op="add"), headers=htmx()))
    removed = text(
        client.post(url, data=_tier_post(1, *rows, op="remove-1"), headers=htmx())
    )

    assert added.count('data-testid="tier-row"') == 4
    assert removed.count('data-testid="tier-row"') == 2 and 'value="250"' not in removed
    assert _tiers(fresh(db), shelf.item.id) == ORIGINAL


def test_an_unknown_field_in_the_table_is_refused(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    data = _tier_post(1, ("1", "520")) | {"catalog_item_id": "9"}
    response = client.post(f"/catalog/items/{shelf.item.id}/tiers", data=data)
    assert response.status_code == 422
    assert _tiers(fresh(db), shelf.item.id) == ORIGINAL


def test_without_javascript_a_saved_table_goes_back_to_the_page(
    client, db, world, shelf
):
    sign_in(client, world.coop_staff)
    response = client.post(
        f"/catalog/items/{shelf.item.id}/tiers", data=_tier_post(1, ("1", "500"))
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/catalog/items/{shelf.item.id}")


# --- the services, as the API calls them ----------------------------------------


def test_update_item_with_tiers_checks_the_new_list_price(db, world, shelf):
    with pytest.raises(ValidationFailed) as refused:
        editing.update_item(
            db,
            item=shelf.item,
            data=CatalogItemUpdate(version=1, list_price=Decimal("400.00")),
            tiers=[{"min_qty": 1, "unit_price": "450.00"}],
        )
    assert refused.value.fields == {
        "tiers.0.unit_price": "cannot be above the list price, 400.00"
    }
    db.rollback()
    item = editing.update_item(
        db,
        item=db.get(CatalogItem, shelf.item.id),
        data=CatalogItemUpdate(version=1, list_price=Decimal("400.00")),
        tiers=[
            {"min_qty": 1, "unit_price": "400.00"},
            {"min_qty": 5, "unit_price": "390"},
        ],
    )
    db.commit()
    assert item.version == 2 and item.list_price == Decimal("400.00")
    assert _tiers(fresh(db), shelf.item.id) == [(1, "400.00"), (5, "390.00")]


def test_an_unchanged_table_moves_nothing(db, world, shelf):
    item = editing.save_tiers(
        db,
        item=shelf.item,
        version=1,
        rows=[{"min_qty": q, "unit_price": p} for q, p in ORIGINAL],
    )
    db.commit()
    assert fresh(db).get(CatalogItem, item.id).version == 1


def test_a_stale_version_raises_conflict(db, world, shelf):
    with pytest.raises(Conflict):
        editing.save_tiers(
            db, item=shelf.item, version=5, rows=[{"min_qty": 1, "unit_price": "1"}]
        )


def test_kind_and_category_change_together(db, world, shelf):
    item = editing.update_item(
        db,
        item=shelf.item,
        data=CatalogItemUpdate(version=1, kind=ItemKind.SERVICE, category=None),
    )
    db.commit()
    assert item.kind is ItemKind.SERVICE and item.category is None


def test_saving_the_same_table_says_nothing_changed(client, db, world, shelf):
    sign_in(client, world.coop_staff)
    response = client.post(
        f"/catalog/items/{shelf.item.id}/tiers",
        data=_tier_post(1, ("1", "520.00"), ("250", "495"), ("1000", "470")),
        headers=htmx(),
    )
    body = text(response)
    assert response.status_code == 200 and 'data-testid="tiers-unchanged"' in body
    assert 'name="version" value="1"' in body
    assert fresh(db).get(CatalogItem, shelf.item.id).version == 1
