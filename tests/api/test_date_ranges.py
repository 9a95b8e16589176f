"""One meaning per date filter, pages and API alike: `<field>_from` is on or after its
date (inclusive), `<field>_before` strictly before it (exclusive)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from lifecycle.scan.refresh import recompute_device_refresh
from tests.conftest import sign_in, text
from tests.factories import make_device, make_license
from tests.renewals.test_actions_data import make_obligation

DAY = date(2030, 3, 15)
# One row the day before DAY, one on it, one the day after.
EDGES = {"before": DAY - timedelta(days=1), "on": DAY, "after": DAY + timedelta(days=1)}
RANGES = [
    ("{f}_before={day}", {"before"}),
    ("{f}_from={day}", {"on", "after"}),
    ("{f}_from={day}&{f}_before={next}", {"on"}),
]


def _queries(field: str) -> list[tuple[str, set[str]]]:
    return [
        (query.format(f=field, day=DAY, next=DAY + timedelta(days=1)), expected)
        for query, expected in RANGES
    ]


def _api(client, headers, path: str, query: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/{path}?{query}&limit=500", headers=headers)
    assert response.status_code == 200, response.json
    items: list[dict[str, Any]] = response.json["items"]
    return items


def test_devices_refresh_due_on_the_page_and_in_the_api(client, db, world, token_for):
    devices = {
        name: make_device(db, world.a.district, asset_tag=f"RANGE-{name}", eol_date=day)
        for name, day in EDGES.items()
    }
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    headers = token_for(world.a.it)
    sign_in(client, world.a.it)
    by_id = {d.id: name for name, d in devices.items()}

    for query, expected in _queries("refresh_due"):
        page = text(client.get(f"/devices?{query}"))
        on_page = {name for name in EDGES if f"RANGE-{name}<" in page}
        in_api = {by_id[i["id"]] for i in _api(client, headers, "devices", query)}
        assert on_page == in_api == expected, query
    # the names the API had before keep their meaning
    old = {"due_before": {"before"}, "due_after": {"on", "after"}}
    old |= {"refresh_due_after": {"on", "after"}}
    for name, expected in old.items():
        items = _api(client, headers, "devices", f"{name}={DAY}")
        assert {by_id[i["id"]] for i in items} == expected, name


@pytest.mark.parametrize("field", ["due_date", "decide_by"])
def test_obligations_on_the_renewals_page_and_in_the_api(
    client, db, world, token_for, field
):
    made = {
        make_obligation(db, world.a.district, **{field: day}).id: name
        for name, day in EDGES.items()
    }
    db.commit()
    headers = token_for(world.a.it)
    sign_in(client, world.a.it)

    for query, expected in _queries(field):
        page = text(client.get(f"/renewals?{query}"))
        on_page = {made[int(i)] for i in re.findall(r'<tr id="ob-(\d+)"', page)}
        in_api = {made[i["id"]] for i in _api(client, headers, "obligations", query)}
        assert on_page == in_api == expected, query


def test_obligations_keep_their_first_due_names(client, db, world, token_for):
    made = {
        make_obligation(db, world.a.district, due_date=day).id: name
        for name, day in EDGES.items()
    }
    db.commit()
    headers = token_for(world.a.it)

    before = _api(client, headers, "obligations", f"due_before={DAY}")
    after = _api(client, headers, "obligations", f"due_after={DAY}")

    assert {made[i["id"]] for i in before} == {"before"}
    assert {made[i["id"]] for i in after} == {"on", "after"}


@pytest.mark.parametrize("path", ["licenses", "contracts"])
def test_agreements_decide_by_on_the_page_and_in_the_api(
    client, db, world, token_for, path
):
    from tests.factories import make_contract

    make = make_license if path == "licenses" else make_contract
    label = "product" if path == "licenses" else "name"
    made = {
        make(db, world.a.district, decide_by=day, **{label: f"RANGE-{name}"}).id: name
        for name, day in EDGES.items()
    }
    db.commit()
    headers = token_for(world.a.it)
    sign_in(client, world.a.it)

    for query, expected in _queries("decide_by"):
        page = text(client.get(f"/{path}?{query}"))
        on_page = {name for name in EDGES if f"RANGE-{name}<" in page}
        in_api = {made[i["id"]] for i in _api(client, headers, path, query)}
        assert on_page == in_api == expected, query


def test_the_document_states_the_convention_for_every_date_filter(client):
    document = client.get("/api/v1/openapi.json").json
    ranges = 0
    for path, operations in document["paths"].items():
        params = {
            p["name"]: p
            for p in operations.get("get", {}).get("parameters", [])
            if p["schema"].get("format") == "date"
        }
        for name, param in params.items():
            if param.get("deprecated"):
                assert param["description"].startswith("deprecated: the same as ")
                assert param["description"].split()[-1] in params, (path, name)
                continue
            field, _, edge = name.rpartition("_")
            assert edge in ("from", "before"), (path, name)
            assert f"{field}_from" in params and f"{field}_before" in params
            meaning = "(inclusive)" if edge == "from" else "(exclusive)"
            assert param["description"].endswith(meaning), (path, name)
            ranges += 1
    assert ranges >= 14
    assert "_before" in document["info"]["description"]
