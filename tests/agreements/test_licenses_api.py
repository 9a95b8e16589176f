"""The licenses API (docs/architecture.md#the-json-api): fields, filters, pages, writes, conflicts, access."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from lifecycle.agreements import rules as terms
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import License
from tests.agreements.test_licenses import today_in
from tests.conftest import fresh
from tests.factories import make_license, make_school

# The API's field list (docs/architecture.md#the-json-api), word for word ...
DOCUMENTED_FIELDS = {
    "id",
    "district_id",
    "product",
    "vendor_id",
    "catalog_item_id",
    "seats",
    "seats_used",
    "term_start",
    "initial_term_months",
    "renewal_term_months",
    "renewal_type",
    "notice_days",
    "price_per_seat",
    "current_term_start",
    "current_term_end",
    "decide_by",
    "version",
}
# ... and every other field a client can write, then the derived ones.
FIELDS = DOCUMENTED_FIELDS | {
    "school_id", "vehicle_id", "funding_source", "reminder_thresholds", "notes",
    "status", "current_term_number",
}  # fmt: skip


def body(**overrides):
    data = {
        "product": "Securly Filter",
        "seats": 1200,
        "seats_used": 1000,
        "term_start": "2026-07-01",
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "renewal_type": "tacit",
        "notice_days": 60,
        "price_per_seat": "3.25",
    }
    data.update(overrides)
    return data


def test_create_get_patch_and_delete(client, db, world, token_for):
    headers = token_for(world.a.it)
    t = today_in(db, world.a.district.id)
    start = (t - timedelta(days=30)).isoformat()

    elsewhere = client.post(
        "/api/v1/licenses",
        json=body(term_start=start, district_id=999),
        headers=headers,
    )
    created = client.post(
        "/api/v1/licenses",
        json=body(term_start=start, district_id=world.a.district.id),
        headers=headers,
    )
    item = created.json
    got = client.get(f"/api/v1/licenses/{item['id']}", headers=headers)
    patched = client.patch(
        f"/api/v1/licenses/{item['id']}",
        json={"notice_days": 90, "seats_used": 1300, "version": 1},
        headers=headers,
    )
    deleted = client.delete(f"/api/v1/licenses/{item['id']}", headers=headers)
    gone = client.get(f"/api/v1/licenses/{item['id']}", headers=headers)

    assert created.status_code == 201
    assert set(item) == FIELDS
    assert elsewhere.status_code == 422
    assert elsewhere.json["error"]["fields"] == {"district_id": "is read-only"}
    assert item["district_id"] == world.a.district.id
    state = terms.derive(
        term_start=t - timedelta(days=30),
        initial_months=12,
        renewal_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        today=t,
    )
    assert (
        item["current_term_start"],
        item["current_term_end"],
        item["decide_by"],
    ) == (
        state.start.isoformat(),
        state.end.isoformat(),
        state.decide_by.isoformat(),
    )
    assert item["price_per_seat"] == "3.25" and item["version"] == 1
    assert got.status_code == 200 and got.json == item
    assert patched.status_code == 200
    assert (patched.json["seats_used"], patched.json["version"]) == (1300, 2)
    assert patched.json["decide_by"] == (state.end - timedelta(days=90)).isoformat()
    assert deleted.status_code == 204 and gone.status_code == 404


def test_a_stale_version_is_a_409_and_bad_input_a_422(client, db, world, token_for):
    lic = make_license(db, world.a.district)
    db.commit()
    headers = token_for(world.a.it)
    url = f"/api/v1/licenses/{lic.id}"

    first = client.patch(url, json={"seats": 600, "version": 1}, headers=headers)
    stale = client.patch(url, json={"seats": 700, "version": 1}, headers=headers)
    no_version = client.patch(url, json={"seats": 700}, headers=headers)
    invalid = client.post(
        "/api/v1/licenses",
        json=body(
            product="",
            seats=-1,
            renewal_type="sometimes",
            reminder_thresholds=[30, "x"],
        ),
        headers=headers,
    )
    null_seats = client.patch(url, json={"seats": None, "version": 2}, headers=headers)
    not_json = client.post("/api/v1/licenses", data="seats=1", headers=headers)

    assert first.status_code == 200
    assert stale.status_code == 409
    error = stale.json["error"]
    assert error["code"] == "conflict" and error["current_version"] == 2
    assert error["current"]["seats"] == 600
    assert (
        no_version.status_code == 422 and no_version.json["error"]["fields"]["version"]
    )
    assert invalid.status_code == 422
    fields = invalid.json["error"]["fields"]
    assert {"product", "seats", "renewal_type", "reminder_thresholds"} <= set(fields)
    assert null_seats.status_code == 422
    assert null_seats.json["error"]["fields"] == {"seats": "is required"}
    assert not_json.status_code == 422
    assert fresh(db).get(License, lic.id).seats == 600


def test_list_filters_and_cursor_pages(client, db, world, token_for):
    t = today_in(db, world.a.district.id)
    school = make_school(db, world.a.district)
    for i in range(5):
        make_license(
            db,
            world.a.district,
            product=f"L{i}",
            decide_by=t + timedelta(days=10 * i),
            renewal_type=RenewalType.TACIT if i % 2 else RenewalType.EXPRESS,
            school_id=school.id if i == 4 else None,
        )
    make_license(db, world.a.district, product="Lapsed", status=AgreementStatus.LAPSED)
    make_license(db, world.b.district, product="Theirs")
    db.commit()
    headers = token_for(world.a.viewer)

    def products(query: str) -> list[str]:
        response = client.get(f"/api/v1/licenses?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [i["product"] for i in response.json["items"]]

    page1 = client.get("/api/v1/licenses?limit=4", headers=headers).json
    page2 = client.get(
        f"/api/v1/licenses?limit=4&cursor={page1['next_cursor']}", headers=headers
    ).json

    assert [i["product"] for i in page1["items"] + page2["items"]] == [
        "L0",
        "L1",
        "L2",
        "L3",
        "L4",
        "Lapsed",
    ]
    assert page2["next_cursor"] is None
    assert set(page1["items"][0]) == FIELDS
    assert products("renewal_type=tacit") == ["L1", "L3"]
    assert products("status=lapsed") == ["Lapsed"]
    assert products(f"school_id={school.id}") == ["L4"]
    before = (t + timedelta(days=20)).isoformat()
    assert products(f"decide_by_before={before}") == ["L0", "L1"]
    assert products(f"decide_by_after={before}") == ["L2", "L3", "L4"]
    assert products(f"district_id={world.b.district.id}") == []
    bad = client.get("/api/v1/licenses?status=gone&color=red", headers=headers)
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"color"}
    bad_enum = client.get("/api/v1/licenses?status=gone", headers=headers)
    assert bad_enum.json["error"]["fields"]["status"].startswith("must be one of")


def test_only_district_it_writes_and_other_districts_are_404(
    client, db, world, token_for
):
    ours = make_license(db, world.a.district)
    theirs = make_license(db, world.b.district, product="Theirs")
    db.commit()
    it = token_for(world.a.it)

    answers = {
        "their get": client.get(
            f"/api/v1/licenses/{theirs.id}", headers=it
        ).status_code,
        "their patch": client.patch(
            f"/api/v1/licenses/{theirs.id}", json={"seats": 1, "version": 1}, headers=it
        ).status_code,
        "their delete": client.delete(
            f"/api/v1/licenses/{theirs.id}", headers=it
        ).status_code,
    }
    for who in ("finance", "viewer"):
        headers = token_for(getattr(world.a, who))
        answers[f"{who} post"] = client.post(
            "/api/v1/licenses", json=body(), headers=headers
        ).status_code
        answers[f"{who} patch"] = client.patch(
            f"/api/v1/licenses/{ours.id}",
            json={"seats": 1, "version": 1},
            headers=headers,
        ).status_code
        answers[f"{who} delete"] = client.delete(
            f"/api/v1/licenses/{ours.id}", headers=headers
        ).status_code
    coop = token_for(world.coop_staff)
    everyone = client.get("/api/v1/licenses", headers=coop).json["items"]
    answers["coop get"] = client.get(
        f"/api/v1/licenses/{theirs.id}", headers=coop
    ).status_code
    answers["coop patch"] = client.patch(
        f"/api/v1/licenses/{theirs.id}", json={"seats": 1, "version": 1}, headers=coop
    ).status_code

    assert answers == {
        "their get": 404,
        "their patch": 404,
        "their delete": 404,
        "finance post": 403,
        "finance patch": 403,
        "finance delete": 403,
        "viewer post": 403,
        "viewer patch": 403,
        "viewer delete": 403,
        "coop get": 200,
        "coop patch": 403,
    }
    assert {i["district_id"] for i in everyone} == {
        world.a.district.id,
        world.b.district.id,
    }
    db = fresh(db)
    assert (
        db.get(License, theirs.id).seats == 500
        and db.get(License, ours.id).seats == 500
    )
    assert len(db.exec(select(License)).all()) == 2


def test_the_openapi_document_describes_exactly_the_fields(
    client, world, token_for, db
):
    make_license(db, world.a.district)
    db.commit()
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["LicenseResource"]

    item = client.get("/api/v1/licenses", headers=token_for(world.a.it)).json["items"][
        0
    ]

    assert set(schema["properties"]) == FIELDS == set(item)
    assert (
        "409"
        in document["paths"]["/api/v1/licenses/{license_id}"]["patch"]["responses"]
    )
    assert "201" in document["paths"]["/api/v1/licenses"]["post"]["responses"]
