"""Admin list pages run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest

from lifecycle.enums import Role
from tests.api.conftest import count_queries, sign_in
from tests.conftest import htmx
from tests.factories import make_district, make_user


def _grow(db, world, n):
    for _ in range(n):
        district = make_district(db, world.coop)
        make_user(db, Role.DISTRICT_IT, district)
        make_user(db, Role.COOP_STAFF)
    db.commit()


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/admin/users", {}),
        ("/admin/users?q=example", htmx()),
        ("/admin/districts", {}),
        ("/admin/activity", {}),
        ("/admin/activity?entity_type=user", htmx()),
    ],
)
def test_an_admin_list_costs_the_same_queries_for_10_or_40_rows(
    app, client, world, db, url, headers
):
    sign_in(client, world.admin)
    client.get(url, headers=headers)  # warm up: first-request work is not the list

    with count_queries(app) as few:
        before = client.get(url, headers=headers).get_data(as_text=True)
    _grow(db, world, 12)
    with count_queries(app) as many:
        after = client.get(url, headers=headers).get_data(as_text=True)

    assert after.count("<tr>") >= before.count("<tr>") + 12
    assert len(many) == len(few), many
    assert len(few) <= 6
