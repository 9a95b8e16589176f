"""The rounds API: what each token may do and see, and every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from lifecycle.models import Commitment, OrderLine, PurchaseRound
from tests.conftest import fresh
from tests.rounds.conftest import NEED_END, NEED_START, in_days, new_round, open_now
from tests.rounds.test_services import _issue_example

API = "/api/v1"


def _body(rw, **kw):
    return {
        "name": "Fall Chromebooks",
        "need_start": NEED_START.isoformat(),
        "need_end": NEED_END.isoformat(),
        "closes_at": in_days(5).isoformat(),
        "catalog_item_ids": [rw.laptop.id],
    } | kw


def test_staff_create_and_open_a_round_districts_may_not(client, db, rw, token_for):
    staff, it = token_for(rw.staff), token_for(rw.world.a.it)
    assert client.post(f"{API}/rounds", json=_body(rw), headers=it).status_code == 403
    made = client.post(f"{API}/rounds", json=_body(rw), headers=staff)
    assert made.status_code == 201, made.json
    round_id = made.json["id"]
    assert made.json["status"] == "draft"
    assert made.json["catalog_item_ids"] == [rw.laptop.id]
    # a draft is not there for a district
    assert client.get(f"{API}/rounds/{round_id}", headers=it).status_code == 404
    assert client.get(f"{API}/rounds", headers=it).json["items"] == []
    version = made.json["version"]
    opened = client.post(
        f"{API}/rounds/{round_id}/open", json={"version": version}, headers=staff
    )
    assert opened.status_code == 200, opened.json
    assert opened.json["state"] == "open"
    listed = client.get(f"{API}/rounds", headers=it).json["items"]
    assert [r["id"] for r in listed] == [round_id]
    # opening again: 409 (stale version, or not a draft any more)
    again = client.post(
        f"{API}/rounds/{round_id}/open",
        json={"version": opened.json["version"]},
        headers=staff,
    )
    assert again.status_code == 409


def test_a_backwards_window_is_a_422_with_the_field(client, rw, token_for):
    body = _body(rw, need_start=NEED_END.isoformat(), need_end=NEED_START.isoformat())
    answer = client.post(f"{API}/rounds", json=body, headers=token_for(rw.staff))
    assert answer.status_code == 422
    assert "need_end" in answer.json["error"]["fields"]


def _own(client, headers, round_id):
    return client.get(f"{API}/rounds/{round_id}/commitments", headers=headers).json[
        "items"
    ]


def test_a_district_sees_and_commits_only_its_own_lines(app, client, db, rw, token_for):
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    a, b = token_for(rw.world.a.it), token_for(rw.world.b.it)
    (mine,) = _own(client, a, round_id)
    (theirs,) = _own(client, b, round_id)
    assert mine["district_id"] == rw.world.a.district.id
    assert len(_own(client, token_for(rw.staff), round_id)) == 3
    url = f"{API}/rounds/{round_id}/commitments"
    put = client.put(
        f"{url}/{mine['id']}",
        json={"committed_qty": 300, "version": mine["version"]},
        headers=a,
    )
    assert put.status_code == 200, put.json
    assert put.json["committed_qty"] == 300
    # another district's line: 404, and nothing written
    other = client.put(
        f"{url}/{theirs['id']}",
        json={"committed_qty": 5, "version": theirs["version"]},
        headers=a,
    )
    assert other.status_code == 404
    assert fresh(db).get(Commitment, theirs["id"]).committed_qty is None
    # the items show the pool, never who is in it
    (item,) = client.get(f"{API}/rounds/{round_id}/items", headers=b).json["items"]
    assert item["pooled_qty"] == 300
    assert item["unit_price"] == "495.00"
    assert (item["units_to_next_tier"], item["next_tier_unit_price"]) == (
        700,
        "470.00",
    )
    assert "district" not in str(item)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"committed_qty": -1}, 422),
        ({"committed_qty": 2.5}, 422),
        ({"committed_qty": "12"}, 422),
        ({"committed_qty": None}, 422),
        ({"seats": 3}, 422),
        ({"version": 99}, 409),
    ],
)
def test_bad_commits_are_refused_and_write_nothing(
    app, client, db, rw, token_for, change, status
):
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    a = token_for(rw.world.a.it)
    (mine,) = _own(client, a, round_id)
    body = {"committed_qty": 10, "version": mine["version"]} | change
    answer = client.put(
        f"{API}/rounds/{round_id}/commitments/{mine['id']}", json=body, headers=a
    )
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["code"] in ("validation", "conflict")
    found = fresh(db).get(Commitment, mine["id"])
    assert (found.committed_qty, found.version) == (None, mine["version"])


def test_a_commit_after_close_is_a_409_that_says_so(app, client, db, rw, token_for):
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    staff, a = token_for(rw.staff), token_for(rw.world.a.it)
    version = fresh(db).get(PurchaseRound, round_id).version
    closed = client.post(
        f"{API}/rounds/{round_id}/close", json={"version": version}, headers=staff
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["state"] == "closed"
    (mine,) = _own(client, a, round_id)
    answer = client.put(
        f"{API}/rounds/{round_id}/commitments/{mine['id']}",
        json={"committed_qty": 10, "version": mine["version"]},
        headers=a,
    )
    assert answer.status_code == 409
    assert "can no longer change" in answer.json["error"]["message"]
    assert fresh(db).get(Commitment, mine["id"]).committed_qty is None


def test_results_and_orders_are_the_districts_own(app, client, db, rw, token_for):
    round_id = _issue_example(app, db, rw)
    staff, b = token_for(rw.staff), token_for(rw.world.b.it)
    early = client.get(f"{API}/rounds/{round_id}/results", headers=b).json
    assert (early["final"], early["lines"]) == (False, [])
    found = fresh(db).get(PurchaseRound, round_id)
    found.closes_at = found.closes_at - timedelta(days=30)  # the close time has come
    db.commit()
    version = found.version
    client.post(
        f"{API}/rounds/{round_id}/close", json={"version": version}, headers=staff
    )
    everyone = client.get(f"{API}/rounds/{round_id}/results", headers=staff).json
    assert everyone["total"]["saved_vs_alone"] == "30000.00"
    assert len(everyone["districts"]) == 3
    own = client.get(f"{API}/rounds/{round_id}/results", headers=b).json
    assert {line["district_id"] for line in own["lines"]} == {rw.world.b.district.id}
    assert own["total"]["saved_vs_alone"] == "7500.00"
    version = fresh(db).get(PurchaseRound, round_id).version
    awarded = client.post(
        f"{API}/rounds/{round_id}/award", json={"version": version}, headers=staff
    )
    assert awarded.json["state"] == "awarded"
    (order,) = client.get(f"{API}/orders", headers=b).json["items"]
    assert (order["quantity"], order["unit_price"], order["state"]) == (
        300,
        "470.00",
        "ordered",
    )
    a_line = (
        fresh(db)
        .exec(select(OrderLine).where(OrderLine.district_id == rw.world.a.district.id))
        .one()
    )
    refused = client.post(
        f"{API}/orders/{a_line.id}/receive", json={"version": 1}, headers=b
    )
    assert refused.status_code == 404
    got = client.post(
        f"{API}/orders/{order['id']}/receive",
        json={"version": order["version"]},
        headers=b,
    )
    assert got.status_code == 200, got.json
    assert got.json["state"] == "received"
