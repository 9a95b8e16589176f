"""The obligations API: exact fields, filters, cursor pages, actions, errors, OpenAPI."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lifecycle.enums import ObligationKind, ObligationState
from lifecycle.models import License
from tests.api.conftest import error_of, fresh
from tests.renewals.test_actions_data import arrange, find, make_obligation

FIELDS = {
    "id", "district_id", "kind", "subject_type", "subject_id", "due_date", "decide_by",
    "estimated_cost", "fiscal_year", "state",
    # what a client needs to act on one: the term, and the version to send
    "term_number", "subject_version",
}  # fmt: skip


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district, school_id=world.a.school.id)


def test_list_has_exactly_the_designed_fields(client, world, arranged, token_for, db):
    response = client.get("/api/v1/obligations", headers=token_for(world.a.viewer))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    assert len(body["items"]) == 4
    assert all(set(item) == FIELDS for item in body["items"])
    lic = arranged.license_renewal(db)
    (item,) = [i for i in body["items"] if i["id"] == lic.id]
    assert item == {
        "id": lic.id,
        "district_id": world.a.district.id,
        "kind": "license_renewal",
        "subject_type": "license",
        "subject_id": arranged.license.id,
        "due_date": lic.due_date.isoformat(),
        "decide_by": lic.decide_by.isoformat(),
        "estimated_cost": "500.00",
        "fiscal_year": lic.fiscal_year,
        "state": "upcoming",
        "term_number": 1,
        "subject_version": arranged.license.version,
    }


def test_filters(client, world, arranged, token_for, db):
    headers = token_for(world.a.it)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/obligations?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {i["id"] for i in response.get_json()["items"]}

    refresh, warranty = arranged.refresh(db), arranged.warranty(db)
    lic, con = arranged.license_renewal(db), arranged.contract_renewal(db)
    assert ids("kind=refresh") == {refresh.id}
    assert ids(f"school_id={world.a.school.id}") == {refresh.id, warranty.id}
    assert ids("state=upcoming") == {refresh.id, warranty.id, lic.id, con.id}
    assert ids("state=done") == set()
    assert ids(f"due_before={warranty.due_date + timedelta(days=1)}") == {warranty.id}
    assert ids(f"due_after={refresh.due_date}") >= {refresh.id}
    assert warranty.id not in ids(f"due_after={refresh.due_date}")
    assert ids(f"decide_by_before={con.decide_by + timedelta(days=1)}") == {
        warranty.id, con.id,
    }  # fmt: skip
    assert con.id not in ids(f"decide_by_after={con.decide_by + timedelta(days=1)}")
    assert ids(f"fiscal_year={lic.fiscal_year}") >= {lic.id}
    assert ids(f"district_id={world.a.district.id}") == {
        refresh.id, warranty.id, lic.id, con.id,
    }  # fmt: skip
    assert ids(f"district_id={world.b.district.id}") == set()


@pytest.mark.parametrize(
    "query",
    [
        "kind=upgrade",
        "state=sleeping",
        "due_before=soon",
        "fiscal_year=next",
        "colour=red",
    ],
)
def test_bad_filters_are_422(client, world, token_for, query):
    response = client.get(f"/api/v1/obligations?{query}", headers=token_for(world.a.it))
    assert response.status_code == 422
    assert error_of(response)["code"] == "validation"


def test_cursor_pages(client, world, token_for, db):
    made = [make_obligation(db, world.a.district).id for _ in range(5)]
    db.commit()
    headers = token_for(world.a.it)
    seen: list[int] = []
    url = "/api/v1/obligations?limit=2"
    while url:
        body = client.get(url, headers=headers).get_json()
        assert len(body["items"]) <= 2
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        url = f"/api/v1/obligations?limit=2&cursor={cursor}" if cursor else ""
    assert seen == made


def test_get_one_and_another_districts_is_404(client, world, arranged, token_for, db):
    lic = arranged.license_renewal(db)
    ok = client.get(f"/api/v1/obligations/{lic.id}", headers=token_for(world.a.it))
    assert ok.status_code == 200 and ok.get_json()["id"] == lic.id
    other = client.get(f"/api/v1/obligations/{lic.id}", headers=token_for(world.b.it))
    assert other.status_code == 404
    assert error_of(other)["code"] == "not_found"
    coop = client.get(
        f"/api/v1/obligations/{lic.id}", headers=token_for(world.coop_staff)
    )
    assert coop.status_code == 200


def test_acknowledge(client, world, arranged, token_for, db):
    lic = arranged.license_renewal(db)
    url = f"/api/v1/obligations/{lic.id}/acknowledge"
    response = client.post(url, headers=token_for(world.a.finance))
    assert response.status_code == 200
    assert response.get_json()["state"] == "acknowledged"
    assert find(fresh(db), "license", arranged.license.id).acknowledged_by_id == (
        world.a.finance.id
    )
    assert client.post(url, headers=token_for(world.a.finance)).status_code == 200
    viewer = client.post(url, headers=token_for(world.a.viewer))
    assert viewer.status_code == 403 and error_of(viewer)["code"] == "forbidden"
    other = client.post(url, headers=token_for(world.b.it))
    assert other.status_code == 404


def test_snooze_and_its_validation(client, world, arranged, token_for, db):
    ob = arranged.warranty(db)
    url = f"/api/v1/obligations/{ob.id}/snooze"
    headers = token_for(world.a.it)
    past = client.post(
        url,
        json={"until": (arranged.today - timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert past.status_code == 422
    assert error_of(past)["fields"] == {"until": "must be a date after today"}
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and "until" in error_of(missing)["fields"]
    not_json = client.post(url, data="until=2027-01-01", headers=headers)
    assert not_json.status_code == 422
    until = arranged.today + timedelta(days=30)
    ok = client.post(url, json={"until": until.isoformat()}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["state"] == "snoozed"
    assert arranged.warranty(fresh(db)).snoozed_until == until
    finance = client.post(
        url, json={"until": until.isoformat()}, headers=token_for(world.a.finance)
    )
    assert finance.status_code == 403  # device obligations are district IT's


def test_renew_and_cancel_take_the_subject_version(
    client, world, arranged, token_for, db
):
    headers = token_for(world.a.it)
    lic = arranged.license_renewal(db)
    version = db.get(License, arranged.license.id).version
    stale = client.post(
        f"/api/v1/obligations/{lic.id}/renew",
        json={"version": version - 1},
        headers=headers,
    )
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    bad = client.post(
        f"/api/v1/obligations/{lic.id}/renew",
        json={"version": version, "cost_per_period": "10.00"},
        headers=headers,
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/api/v1/obligations/{lic.id}/renew",
        json={"version": version, "price_per_seat": "6.00"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.get_json()["obligation"]["state"] == "done"
    lic_row = fresh(db).get(License, arranged.license.id)
    # term 2 is renewed at 6.00 a seat; today's term 1 keeps its 5.00
    assert (lic_row.current_term_number, lic_row.price_per_seat) == (1, Decimal("5.00"))
    assert lic_row.decision_term_number == 2
    con = arranged.contract_renewal(db)
    cancelled = client.post(
        f"/api/v1/obligations/{con.id}/cancel",
        json={"version": arranged.contract.version},
        headers=headers,
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "lapsed"
    again = client.post(
        f"/api/v1/obligations/{con.id}/cancel", json={"version": 99}, headers=headers
    )
    assert again.status_code == 409


def test_replace_a_device(client, world, arranged, token_for, db):
    from lifecycle.models import Device

    ob = arranged.refresh(db)
    version = db.get(Device, arranged.device.id).version
    response = client.post(
        f"/api/v1/obligations/{ob.id}/replace",
        json={"version": version},
        headers=token_for(world.a.it),
    )
    assert response.status_code == 200
    assert response.get_json()["state"] == ObligationState.DONE.value
    assert arranged.warranty(fresh(db)).state == ObligationState.RETIRED
    assert arranged.refresh(db).kind == ObligationKind.REFRESH


def test_openapi_documents_the_obligations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert "get" in paths["/api/v1/obligations"]
    params = {p["name"] for p in paths["/api/v1/obligations"]["get"]["parameters"]}
    assert {"kind", "state", "district_id", "school_id", "due_before", "due_after",
            "decide_by_before", "decide_by_after", "fiscal_year", "cursor", "limit"} <= params  # fmt: skip
    for action in ("acknowledge", "snooze", "renew", "cancel", "replace"):
        assert "post" in paths[f"/api/v1/obligations/{{obligation_id}}/{action}"]
    schema = document["components"]["schemas"]["ObligationRead"]
    assert set(schema["properties"]) == FIELDS
