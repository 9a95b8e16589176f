"""Catalog browse: vehicles, items and their price tiers, read-only for every role."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lifecycle.catalog.services import savings_pct, tier_rows
from lifecycle.enums import DeviceCategory, ItemKind, PriceUnit
from lifecycle.models import CatalogItem, PriceTier
from tests import factories
from tests.api.conftest import sign_in
from tests.conftest import htmx

ROLES = ["a.it", "a.finance", "a.viewer", "coop_staff", "admin"]


def _page(response) -> str:
    return response.get_data(as_text=True)


def _user(world, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    return user


@pytest.fixture
def catalog(db, world):
    dell = factories.make_vendor(db, name="Dell Technologies")
    cisco = factories.make_vendor(db, name="Cisco")
    devices = factories.make_vehicle(
        db,
        world.coop,
        dell,
        contract_number="R99-TECH-2025",
        title="Student computing devices",
        lead_agency="Region 99 ESC",
        renewal_options="Two one-year renewals",
    )
    network = factories.make_vehicle(
        db, world.coop, cisco, contract_number="R99-NET-2024", title="Network gear"
    )
    chromebook = factories.make_catalog_item(
        db,
        devices,
        sku="DELL-3120",
        name="Dell Chromebook 3120",
        list_price=Decimal("329.00"),
        min_order_qty=50,
        tiers=[(500, "279.00"), (100, "299.00"), (1000, "264.55")],
    )
    switch = factories.make_catalog_item(
        db,
        network,
        sku="C9200-48P",
        name="Catalyst 9200 48-port PoE switch",
        category=DeviceCategory.NETWORK_SWITCH,
        list_price=Decimal("4200.00"),
        lifespan_months=84,
        erate_c2_eligible=True,
        tiers=[(1, "3990.00")],
    )
    license = factories.make_catalog_item(
        db,
        network,
        sku="DNA-ADV-3Y",
        name="DNA Advantage 3-year",
        kind=ItemKind.LICENSE,
        category=None,
        unit=PriceUnit.SEAT,
        list_price=Decimal("0.00"),
        lifespan_months=None,
        term_months=36,
    )
    db.commit()
    return {
        "devices": devices,
        "network": network,
        "chromebook": chromebook,
        "switch": switch,
        "license": license,
        "dell": dell,
    }


@pytest.mark.parametrize("who", ROLES)
def test_every_role_browses_the_catalog(client, world, catalog, who):
    sign_in(client, _user(world, who))

    page = _page(client.get("/catalog"))

    assert "Dell Chromebook 3120" in page and "Catalyst 9200" in page
    assert 'data-testid="item-count">3 items' in page
    assert "Add" not in page.split("<main")[1].split("</h1>")[1].split("</div>")[0]


def test_each_item_shows_its_best_tier_and_saving(client, world, catalog):
    sign_in(client, world.a.it)

    page = _page(client.get("/catalog?sort=name"))

    row = page[page.index("Dell Chromebook 3120") :].split("</tr>")[0]
    assert "$264.55" in row and "at 1,000+" in row and "19.6% off" in row
    switch = page[page.index("Catalyst 9200") :].split("</tr>")[0]
    assert "Eligible" in switch and "5.0% off" in switch
    dna = page[page.index("DNA Advantage") :].split("</tr>")[0]
    assert "list price only" in dna and "per seat" in dna


def test_search_and_filters_answer_a_fragment(client, world, catalog):
    sign_in(client, world.a.it)

    fragment = client.get("/catalog?q=3120", headers=htmx())
    eligible = _page(client.get("/catalog?erate_c2=yes", headers=htmx()))
    licenses = _page(client.get("/catalog?kind=license", headers=htmx()))
    by_vehicle = _page(
        client.get(f"/catalog?vehicle_id={catalog['network'].id}", headers=htmx())
    )
    by_category = _page(client.get("/catalog?category=network_switch", headers=htmx()))

    body = _page(fragment)
    assert "<html" not in body and 'id="results"' in body
    assert "HX-Request" in fragment.headers["Vary"]
    assert "Dell Chromebook 3120" in body and "Catalyst" not in body
    assert 'id="item-count"' in body and "1 item<" in body
    assert "Catalyst" in eligible and "Chromebook" not in eligible
    assert "DNA Advantage" in licenses and "Catalyst" not in licenses
    assert "Catalyst" in by_vehicle and "DNA" in by_vehicle
    assert "Chromebook 3120" not in by_vehicle
    assert "Catalyst" in by_category and "DNA" not in by_category


def test_a_bad_filter_is_a_422_that_names_it(client, world, catalog):
    sign_in(client, world.a.it)

    response = client.get("/catalog?kind=gadget&erate_c2=maybe")

    assert response.status_code == 422
    page = _page(response)
    assert "Kind must be one of: device, license, service" in page
    assert "E-Rate C2 eligible must be one of: yes, no" in page


def test_sorting_by_list_price_descending(client, world, catalog):
    sign_in(client, world.a.it)

    page = _page(client.get("/catalog?sort=-list_price"))

    assert 'aria-sort="descending"' in page
    assert page.index("Catalyst") < page.index("Dell Chromebook") < page.index("DNA")


def test_item_pages_follow_the_keyset(client, world, db, catalog):
    for n in range(55):
        factories.make_catalog_item(
            db, catalog["devices"], sku=f"BULK-{n:03d}", name=f"Bulk item {n:03d}"
        )
    db.commit()
    sign_in(client, world.a.it)

    first = _page(client.get("/catalog?sort=sku"))
    nxt = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = _page(client.get(nxt.replace("&amp;", "&")))

    assert "BULK-049" in first and "BULK-050" not in first
    assert "BULK-050" in second and "DNA-ADV-3Y" in second


def test_the_item_page_shows_the_tiers_in_order_with_savings(client, world, catalog):
    sign_in(client, world.a.it)
    item = catalog["chromebook"]

    page = _page(client.get(f"/catalog/items/{item.id}"))

    table = page.split('data-testid="tiers"')[1].split("</table>")[0]
    rows = [r for r in table.split("<tr")[2:]]
    assert "1 – 99" in rows[0] and "$329.00" in rows[0] and "list price" in rows[0]
    assert "100 – 499" in rows[1] and "$299.00" in rows[1] and "9.1%" in rows[1]
    assert "500 – 999" in rows[2] and "$279.00" in rows[2] and "15.2%" in rows[2]
    assert "1,000 or more" in rows[3] and "$264.55" in rows[3] and "19.6%" in rows[3]
    assert "R99-TECH-2025" in page and "Dell Technologies" in page
    assert "Minimum order" in page and "50" in page
    assert "48 months" in page and "Not eligible" in page


def test_the_item_page_counts_your_districts_devices(client, world, db, catalog):
    item = catalog["chromebook"]
    factories.make_device(db, world.a.district, catalog_item_id=item.id)
    factories.make_device(db, world.b.district, catalog_item_id=item.id)
    factories.make_device(db, world.b.district, catalog_item_id=item.id)
    db.commit()

    sign_in(client, world.a.viewer)
    mine = _page(client.get(f"/catalog/items/{item.id}"))
    sign_in(client, world.coop_staff)
    coop = _page(client.get(f"/catalog/items/{item.id}"))

    assert "1 device is this item" in mine
    assert f"/devices?catalog_item_id={item.id}" in mine
    assert "In your district" not in coop


def test_an_item_without_tiers_says_list_price_applies(client, world, catalog):
    sign_in(client, world.a.it)

    page = _page(client.get(f"/catalog/items/{catalog['license'].id}"))

    assert "No volume tiers" in page and "36 months" in page


def test_the_vehicle_pages_show_terms_and_items(client, world, catalog):
    sign_in(client, world.a.finance)

    listing = _page(client.get("/catalog/vehicles"))
    fragment = client.get("/catalog/vehicles?q=network", headers=htmx())
    detail = _page(client.get(f"/catalog/vehicles/{catalog['devices'].id}"))

    assert "R99-TECH-2025" in listing and "Region 99 ESC" in listing
    assert (
        "Two one-year renewals" in listing and "Sep 1, 2025 – Aug 31, 2028" in listing
    )
    body = _page(fragment)
    assert "<html" not in body and "R99-NET-2024" in body and "R99-TECH" not in body
    assert "1 vehicle<" in body
    assert "Student computing devices" in detail and "Dell Chromebook 3120" in detail
    assert "DNA Advantage" not in detail
    assert f'href="/vendors/{catalog["dell"].id}"' in detail


def test_unknown_catalog_records_are_not_found(client, world):
    sign_in(client, world.a.it)
    assert client.get("/catalog/items/999999").status_code == 404
    assert client.get("/catalog/vehicles/999999").status_code == 404


def test_an_empty_catalog_says_what_happens_next(client, world):
    sign_in(client, world.a.it)
    assert "Items appear here once the cooperative loads" in _page(
        client.get("/catalog")
    )
    assert "No contract vehicles yet." in _page(client.get("/catalog/vehicles"))


@pytest.mark.parametrize(
    ("list_price", "price", "pct"),
    [
        ("329.00", "279.00", "15.2"),
        ("329.00", "264.55", "19.6"),
        ("100.00", "99.95", "0.1"),  # 0.05% rounds half-up
        ("100.00", "100.00", "0.0"),
        ("0.00", "0.00", None),
    ],
)
def test_savings_against_list_price(list_price, price, pct):
    result = savings_pct(Decimal(list_price), Decimal(price))
    assert result == (Decimal(pct) if pct else None)


def test_tier_rows_are_quantity_bands_in_order():
    item = CatalogItem(
        vehicle_id=1, sku="X", name="X", kind=ItemKind.DEVICE, list_price=Decimal(10)
    )
    tiers = [
        PriceTier(catalog_item_id=1, min_qty=10, unit_price=Decimal(8)),
        PriceTier(catalog_item_id=1, min_qty=1, unit_price=Decimal(9)),
    ]

    rows = tier_rows(item, tiers)

    assert [(r.min_qty, r.max_qty, r.unit_price) for r in rows] == [
        (1, 9, Decimal(9)),
        (10, None, Decimal(8)),
    ]
    assert [r.savings_pct for r in rows] == [Decimal("10.0"), Decimal("20.0")]
    assert tier_rows(item, [])[0].is_list


def test_vehicle_state_by_date():
    from lifecycle.catalog.services import vehicle_state
    from lifecycle.models import ContractVehicle

    v = ContractVehicle(
        cooperative_id=1, vendor_id=1, contract_number="C", title="T",
        term_start=date(2025, 1, 1), term_end=date(2025, 12, 31),
    )  # fmt: skip
    assert vehicle_state(v, date(2024, 12, 31)) == "upcoming"
    assert vehicle_state(v, date(2025, 6, 1)) == "current"
    # the last day is still in the term, but within the expiring window: not "current"
    assert vehicle_state(v, date(2025, 12, 31)) == "expiring"
    assert vehicle_state(v, date(2026, 1, 1)) == "expired"
