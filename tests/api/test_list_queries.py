"""API lists run a fixed number of queries, however many rows a page holds."""

from __future__ import annotations

import pytest

from tests.api.conftest import count_queries
from tests.factories import (
    make_catalog_item,
    make_district,
    make_school,
    make_vehicle,
    make_vendor,
)


def _grow(db, world, n):
    for _ in range(n):
        vehicle = make_vehicle(db, world.coop, make_vendor(db))
        make_school(db, make_district(db, world.coop))
        make_catalog_item(db, vehicle, tiers=[(1, "10"), (50, "9")])
    db.commit()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/schools",
        "/api/v1/districts",
        "/api/v1/vendors",
        "/api/v1/vehicles",
        "/api/v1/catalog-items",
    ],
)
def test_an_api_list_costs_the_same_queries_for_few_or_many_rows(
    app, client, world, db, token_for, url
):
    headers = token_for(world.coop_staff)
    _grow(db, world, 2)
    client.get(url, headers=headers)  # the first call also records last_used_at

    with count_queries(app) as few:
        client.get(url, headers=headers)
    _grow(db, world, 15)
    with count_queries(app) as many:
        body = client.get(url, headers=headers).json

    assert len(body["items"]) >= 15
    assert len(many) == len(few), many
    assert len(few) <= 5
