"""List pages run a fixed number of SQL statements, however many rows they show."""

from __future__ import annotations

import pytest

from lifecycle.enums import DeviceCategory
from lifecycle.models import CategoryPolicy
from tests import factories
from tests.api.conftest import count_queries, sign_in
from tests.conftest import htmx


def statement_count(app, client, url: str, **kwargs) -> int:
    with count_queries(app) as seen:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return len(seen)


def _schools(db, world, n: int) -> None:
    for _ in range(n):
        school = factories.make_school(db, world.a.district)
        factories.make_device(db, world.a.district, school_id=school.id)
        factories.make_license(db, world.a.district, school_id=school.id)
    db.commit()


@pytest.mark.parametrize("who", ["it", "coop_staff"])
@pytest.mark.parametrize("headers", [{}, htmx()], ids=["page", "fragment"])
def test_the_school_list_does_not_query_per_row(app, client, world, db, who, headers):
    sign_in(client, world.a.it if who == "it" else world.coop_staff)
    _schools(db, world, 3)
    few = statement_count(app, client, "/schools", headers=headers)
    _schools(db, world, 27)
    many = statement_count(app, client, "/schools", headers=headers)
    assert few == many, (few, many)
    assert many <= 8


def test_the_school_export_does_not_query_per_row(app, client, world, db):
    sign_in(client, world.a.it)
    _schools(db, world, 3)
    few = statement_count(app, client, "/schools/export.csv", buffered=True)
    _schools(db, world, 27)
    assert statement_count(app, client, "/schools/export.csv", buffered=True) == few


def _vendors(db, world, n: int) -> None:
    for _ in range(n):
        vendor = factories.make_vendor(db)
        factories.make_vehicle(db, world.coop, vendor)
    db.commit()


@pytest.mark.parametrize("headers", [{}, htmx()], ids=["page", "fragment"])
def test_the_vendor_list_does_not_query_per_row(app, client, world, db, headers):
    sign_in(client, world.coop_staff)
    _vendors(db, world, 3)
    few = statement_count(app, client, "/vendors", headers=headers)
    _vendors(db, world, 27)
    many = statement_count(app, client, "/vendors", headers=headers)
    assert few == many, (few, many)


def _device_items(db, world, n: int) -> None:
    vehicle = factories.make_vehicle(db, world.coop, factories.make_vendor(db))
    categories = list(DeviceCategory)
    for i in range(n):
        item = factories.make_catalog_item(
            db, vehicle, category=categories[i % len(categories)]
        )
        factories.make_device(
            db, world.a.district, category=item.category, catalog_item_id=item.id
        )
    db.commit()


def test_the_policy_page_does_not_query_per_category_or_item(app, client, world, db):
    sign_in(client, world.a.it)
    _device_items(db, world, 3)
    few = statement_count(app, client, "/policy")
    _device_items(db, world, 27)
    for category in DeviceCategory:
        db.add(
            CategoryPolicy(
                district_id=world.a.district.id, category=category, lifespan_months=60
            )
        )
    db.commit()
    many = statement_count(app, client, "/policy")
    assert few == many, (few, many)
