"""The service-contracts API (docs/architecture.md#the-json-api): fields, filters, writes, conflicts, access."""

from __future__ import annotations

from lifecycle.agreements import rules as terms
from lifecycle.enums import ContractKind, CoverageType, RenewalType
from lifecycle.models import ServiceContract
from tests.agreements.test_licenses import today_in
from tests.conftest import fresh
from tests.factories import make_contract

# The API's field list (docs/architecture.md#the-json-api), word for word ...
DOCUMENTED_FIELDS = {
    "id",
    "district_id",
    "vendor_id",
    "name",
    "coverage",
    "term_start",
    "initial_term_months",
    "renewal_term_months",
    "renewal_type",
    "notice_days",
    "cost_per_period",
    "escalator_pct",
    "current_term_start",
    "current_term_end",
    "decide_by",
    "version",
}
# ... and every other field a client can write, then the derived ones.
FIELDS = DOCUMENTED_FIELDS | {
    "kind", "coverage_category", "coverage_school_id", "vehicle_id", "funding_source",
    "erate_c2_eligible", "reminder_thresholds", "notes",
    "status", "current_term_number",
}  # fmt: skip


def body(**overrides):
    data = {
        "name": "Meraki licensing and support",
        "kind": "support",
        "coverage": "category",
        "coverage_category": "wireless_ap",
        "term_start": "2026-01-01",
        "initial_term_months": 36,
        "renewal_term_months": 12,
        "renewal_type": "tacit",
        "notice_days": 90,
        "cost_per_period": "18500",
        "escalator_pct": "3",
    }
    data.update(overrides)
    return data


def test_create_get_patch_delete(client, db, world, token_for):
    headers = token_for(world.a.it)
    t = today_in(db, world.a.district.id)

    created = client.post(
        "/api/v1/contracts", json=body(term_start=t.isoformat()), headers=headers
    )
    item = created.json
    url = f"/api/v1/contracts/{item['id']}"
    patched = client.patch(
        url, json={"renewal_type": "express", "version": 1}, headers=headers
    )
    stale = client.patch(url, json={"notice_days": 30, "version": 1}, headers=headers)
    deleted = client.delete(url, headers=headers)

    assert created.status_code == 201, item
    assert set(item) == FIELDS
    assert (item["cost_per_period"], item["escalator_pct"]) == ("18500.00", "3.00")
    assert item["coverage"] == "category"
    assert item["current_term_start"] == t.isoformat()
    state = terms.derive(
        term_start=t,
        initial_months=36,
        renewal_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=90,
        today=t,
    )
    assert item["decide_by"] == state.decide_by.isoformat()
    assert item["current_term_end"] == state.end.isoformat()
    assert patched.status_code == 200
    assert patched.json["decide_by"] == patched.json["current_term_end"]
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert deleted.status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_validation_is_shared_with_the_forms(client, world, token_for):
    headers = token_for(world.a.it)

    site = client.post("/api/v1/contracts", json=body(coverage="site"), headers=headers)
    escalator = client.post(
        "/api/v1/contracts", json=body(escalator_pct="250"), headers=headers
    )
    foreign_site = client.post(
        "/api/v1/contracts",
        headers=headers,
        json=body(coverage="site", coverage_school_id=world.b.school.id),
    )

    assert site.status_code == 422
    assert site.json["error"]["fields"] == {
        "coverage_school_id": "is required when the contract covers a site"
    }
    assert escalator.json["error"]["fields"]["escalator_pct"] == "must be at most 100"
    assert foreign_site.status_code == 422
    assert foreign_site.json["error"]["fields"] == {
        "coverage_school_id": "is not a school of your district"
    }


def test_filters_scope_and_roles(client, db, world, token_for):
    make_contract(db, world.a.district, name="Ours support", kind=ContractKind.SUPPORT)
    make_contract(
        db, world.a.district, name="Ours devices", coverage=CoverageType.DEVICES
    )
    theirs = make_contract(db, world.b.district, name="Theirs")
    db.commit()
    viewer = token_for(world.a.viewer)
    coop = token_for(world.coop_staff)

    def names(query: str, headers) -> list[str]:
        response = client.get(f"/api/v1/contracts?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [i["name"] for i in response.json["items"]]

    assert names("", viewer) == ["Ours support", "Ours devices"]
    assert names("kind=support", viewer) == ["Ours support"]
    assert names("coverage=devices", viewer) == ["Ours devices"]
    assert names("", coop) == ["Ours support", "Ours devices", "Theirs"]
    assert names(f"district_id={world.b.district.id}", coop) == ["Theirs"]
    assert client.get("/api/v1/contracts?kind=lunch", headers=viewer).status_code == 422
    assert (
        client.get(f"/api/v1/contracts/{theirs.id}", headers=viewer).status_code == 404
    )
    assert (
        client.post("/api/v1/contracts", json=body(), headers=viewer).status_code == 403
    )
    assert (
        client.post("/api/v1/contracts", json=body(), headers=coop).status_code == 403
    )
    assert (
        client.delete(f"/api/v1/contracts/{theirs.id}", headers=coop).status_code == 403
    )
    assert (
        client.delete(
            f"/api/v1/contracts/{theirs.id}", headers=token_for(world.a.it)
        ).status_code
        == 404
    )
    assert fresh(db).get(ServiceContract, theirs.id) is not None
