"""JSON errors of the API: validation, not found, conflicts, bad paging (docs/architecture.md#the-json-api)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from lifecycle.models import School, Vendor
from lifecycle.web.paging import encode_cursor
from tests.api.conftest import error_of, fresh
from tests.factories import make_vendor


def test_a_malformed_json_body_is_a_422_naming_the_body(client, world, token_for):
    response = client.post(
        "/api/v1/vendors",
        data='{"name": "Dell",',
        content_type="application/json",
        headers=token_for(world.coop_staff),
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation"
    assert error["fields"] == {"body": "is not valid JSON"}


@pytest.mark.parametrize("body", ['["Dell"]', '"Dell"', "42", "null"])
def test_a_json_body_that_is_not_an_object_is_a_422(client, world, token_for, body):
    response = client.post(
        "/api/v1/vendors",
        data=body,
        content_type="application/json",
        headers=token_for(world.coop_staff),
    )

    assert response.status_code == 422
    assert "body" in error_of(response)["fields"]


def test_a_body_sent_as_a_form_is_a_422_asking_for_json(client, world, token_for):
    response = client.post(
        "/api/v1/vendors", data={"name": "Dell"}, headers=token_for(world.coop_staff)
    )

    assert response.status_code == 422
    assert "application/json" in error_of(response)["fields"]["body"]


def test_field_validation_answers_one_message_per_field(client, world, db, token_for):
    response = client.post(
        "/api/v1/schools",
        json={"name": "", "enrollment": -3, "code": "x" * 40},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation"
    assert error["fields"] == {
        "name": "is required",
        "enrollment": "must be at least 0",
        "code": "must be at most 32 characters",
    }
    fresh(db)
    assert len(db.exec(select(School)).all()) == 2  # the world's two, no more


def test_a_wrongly_typed_field_gets_a_plain_message(client, world, token_for):
    response = client.post(
        "/api/v1/schools",
        json={"name": "North Elementary", "enrollment": "many"},
        headers=token_for(world.a.it),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"enrollment": "must be a whole number"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/schools/999999",
        "/api/v1/districts/999999",
        "/api/v1/vendors/999999",
        "/api/v1/vehicles/999999",
        "/api/v1/catalog-items/999999",
        "/api/v1/jobs/999999",
        "/api/v1/no-such-resource",
    ],
)
def test_an_unknown_id_or_path_is_a_json_404(client, world, token_for, url):
    response = client.get(url, headers=token_for(world.admin))

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_method_the_resource_lacks_is_a_json_405(client, world, token_for):
    response = client.put("/api/v1/schools", json={}, headers=token_for(world.a.it))

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_an_unknown_query_filter_is_a_422_not_silently_ignored(
    client, world, token_for
):
    response = client.get(
        "/api/v1/schools?colour=blue&level=high", headers=token_for(world.admin)
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"colour": "is not a filter of this list"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("district_id=first", "district_id"),
        ("active=maybe", "active"),
    ],
)
def test_a_filter_value_of_the_wrong_type_is_a_422(
    client, world, token_for, query, field
):
    url = "/api/v1/schools" if field == "district_id" else "/api/v1/catalog-items"
    response = client.get(f"{url}?{query}", headers=token_for(world.admin))

    assert response.status_code == 422
    assert field in error_of(response)["fields"]


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor!", "%%%", encode_cursor(["abc"]), encode_cursor([]), "e30"],
)
def test_a_cursor_the_api_did_not_give_out_is_a_422(client, world, token_for, cursor):
    response = client.get(
        "/api/v1/schools",
        query_string={"cursor": cursor},
        headers=token_for(world.admin),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "cursor": "is not a cursor this API gave out"
    }


@pytest.mark.parametrize("limit", ["501", "0", "-1", "ten"])
def test_a_limit_outside_1_to_500_is_a_422(client, world, token_for, limit):
    response = client.get(
        f"/api/v1/schools?limit={limit}", headers=token_for(world.admin)
    )

    assert response.status_code == 422
    assert "limit" in error_of(response)["fields"]


def test_the_largest_page_of_500_is_allowed(client, world, token_for):
    response = client.get("/api/v1/schools?limit=500", headers=token_for(world.admin))

    assert response.status_code == 200
    assert len(response.json["items"]) == 2


# --- optimistic locking ------------------------------------------------------


def test_patch_with_the_version_read_saves_and_moves_the_version_on(
    client, world, db, token_for
):
    school = world.a.school
    headers = token_for(world.a.it)
    read = client.get(f"/api/v1/schools/{school.id}", headers=headers).json

    response = client.patch(
        f"/api/v1/schools/{school.id}",
        json={"name": "Alpha Early College HS", "version": read["version"]},
        headers=headers,
    )

    assert response.status_code == 200
    assert response.json["name"] == "Alpha Early College HS"
    assert response.json["version"] == read["version"] + 1
    again = client.get(f"/api/v1/schools/{school.id}", headers=headers).json
    assert again["name"] == "Alpha Early College HS"
    assert again["version"] == read["version"] + 1


def test_patch_with_a_stale_version_is_a_409_and_changes_nothing(
    client, world, db, token_for
):
    school = world.a.school
    headers = token_for(world.a.it)
    read = client.get(f"/api/v1/schools/{school.id}", headers=headers).json
    first = client.patch(
        f"/api/v1/schools/{school.id}",
        json={"level": "high", "version": read["version"]},
        headers=headers,
    )
    assert first.status_code == 200

    # A second client still holds the version it read before the first write.
    response = client.patch(
        f"/api/v1/schools/{school.id}",
        json={"name": "Overwritten", "version": read["version"]},
        headers=headers,
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["current_version"] == read["version"] + 1
    assert error["current"]["level"] == "high"
    fresh(db)
    stored = db.get(School, school.id)
    assert stored.name == school.name
    assert stored.version == read["version"] + 1


def test_patch_without_a_version_is_a_422(client, world, db, token_for):
    vendor = make_vendor(db, name="Dell")
    db.commit()

    response = client.patch(
        f"/api/v1/vendors/{vendor.id}",
        json={"name": "Dell Technologies"},
        headers=token_for(world.coop_staff),
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"version": "is required"}
    fresh(db)
    assert db.get(Vendor, vendor.id).name == "Dell"


def test_patch_of_a_district_with_a_stale_version_is_a_409(
    client, world, db, token_for
):
    district = world.b.district
    response = client.patch(
        f"/api/v1/districts/{district.id}",
        json={"fy_start_month": 9, "version": district.version + 5},
        headers=token_for(world.admin),
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    fresh(db)
    assert db.get(type(district), district.id).fy_start_month == 7


def test_a_misspelt_field_is_a_422_not_a_silent_success(client, world, db, token_for):
    headers = token_for(world.a.it)
    school = client.get(f"/api/v1/schools/{world.a.school.id}", headers=headers).json

    response = client.patch(
        f"/api/v1/schools/{school['id']}",
        json={"enrolment": 900, "version": school["version"]},
        headers=headers,
    )

    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "enrolment": "is not a field this request accepts"
    }
    again = client.get(f"/api/v1/schools/{school['id']}", headers=headers).json
    assert again == school


def test_what_was_read_can_be_sent_back_but_read_only_fields_cannot_change(
    client, world, token_for
):
    headers = token_for(world.a.it)
    url = f"/api/v1/schools/{world.a.school.id}"
    read = client.get(url, headers=headers).json

    moved = client.patch(url, json={**read, "district_id": 999}, headers=headers)
    saved = client.patch(url, json={**read, "enrollment": 777}, headers=headers)

    assert moved.status_code == 422
    assert error_of(moved)["fields"] == {"district_id": "is read-only"}
    assert saved.status_code == 200, saved.json
    assert saved.json["enrollment"] == 777
    assert saved.json["version"] == read["version"] + 1


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/vendors", {"name": "Dell", "webiste": "https://dell.example"}),
        ("/api/v1/scans", {"district": 1}),
    ],
)
def test_unknown_fields_are_refused_on_create(client, world, token_for, url, body):
    response = client.post(url, json=body, headers=token_for(world.admin))

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == set(body) - {"name"}
