"""Catalog pages run a fixed number of SQL statements, however many items and tiers."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import sign_in
from tests.conftest import htmx
from tests.org.test_queries import statement_count


def _items(db, world, vehicle, n: int) -> None:
    for _ in range(n):
        factories.make_catalog_item(
            db, vehicle, tiers=[(1, "300.00"), (100, "290.00"), (500, "280.00")]
        )
    db.commit()


@pytest.mark.parametrize("headers", [{}, htmx()], ids=["page", "fragment"])
def test_the_item_list_loads_tiers_in_one_query(app, client, world, db, headers):
    vehicle = factories.make_vehicle(db, world.coop, factories.make_vendor(db))
    sign_in(client, world.a.viewer)
    _items(db, world, vehicle, 3)
    few = statement_count(app, client, "/catalog", headers=headers)
    _items(db, world, vehicle, 27)
    many = statement_count(app, client, "/catalog", headers=headers)
    assert few == many, (few, many)


@pytest.mark.parametrize("headers", [{}, htmx()], ids=["page", "fragment"])
def test_the_vehicle_list_does_not_query_per_row(app, client, world, db, headers):
    sign_in(client, world.coop_staff)

    def add(n: int) -> None:
        for _ in range(n):
            vehicle = factories.make_vehicle(db, world.coop, factories.make_vendor(db))
            _items(db, world, vehicle, 2)

    add(3)
    few = statement_count(app, client, "/catalog/vehicles", headers=headers)
    add(27)
    many = statement_count(app, client, "/catalog/vehicles", headers=headers)
    assert few == many, (few, many)


def test_the_vehicle_page_does_not_query_per_item(app, client, world, db):
    vehicle = factories.make_vehicle(db, world.coop, factories.make_vendor(db))
    sign_in(client, world.a.it)
    _items(db, world, vehicle, 3)
    few = statement_count(app, client, f"/catalog/vehicles/{vehicle.id}")
    _items(db, world, vehicle, 27)
    assert statement_count(app, client, f"/catalog/vehicles/{vehicle.id}") == few
