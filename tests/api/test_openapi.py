"""The OpenAPI 3.1 document is public and kept true (docs/architecture.md#the-json-api)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.factories import make_catalog_item, make_vehicle, make_vendor

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_the_document_is_public_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert body["openapi"] == "3.1.0"
    assert body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_api_route_is_documented(app, document):
    routes = {
        (method.lower(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - IGNORED_METHODS
    }
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
    }

    assert len(routes) > 15
    assert routes - documented == set()
    assert documented - routes == set()


def test_every_ref_in_the_document_resolves(document):
    refs = _refs(document)

    assert len(refs) > 20
    for ref in refs:
        _resolve(document, ref)


def test_every_operation_has_an_id_a_success_response_and_its_path_params(
    document,
):
    ids = []
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in operations.items():
            ids.append(op["operationId"])
            assert any(code.startswith("2") for code in op["responses"]), (method, path)
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == names, (method, path)
            if op.get("security") != []:
                assert "401" in op["responses"], (method, path)
    assert len(ids) == len(set(ids))


def _list_item_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    schema = document["paths"][path]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert set(schema["required"]) == {"items", "next_cursor"}
    item = schema["properties"]["items"]["items"]
    return _resolve(document, item["$ref"]) if "$ref" in item else item


@pytest.mark.parametrize(
    "path", ["/api/v1/schools", "/api/v1/districts", "/api/v1/catalog-items"]
)
def test_a_list_item_has_the_documented_properties(
    client, world, db, token_for, document, path
):
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    make_catalog_item(db, vehicle, list_price=Decimal("99"), tiers=[(1, "99")])
    db.commit()

    items = client.get(path, headers=token_for(world.admin)).json["items"]
    schema = _list_item_schema(document, path)

    assert items
    for item in items:
        assert set(item) == set(schema["properties"])
        assert set(schema.get("required", [])) <= set(item)


def test_money_is_documented_as_a_string(document):
    item = _list_item_schema(document, "/api/v1/catalog-items")
    tier = _resolve(document, item["properties"]["tiers"]["items"]["$ref"])

    assert item["properties"]["list_price"]["type"] == "string"
    assert tier["properties"]["unit_price"]["type"] == "string"


def test_users_me_answers_what_the_document_says(client, world, token_for, document):
    schema = document["paths"]["/api/v1/users/me"]["get"]["responses"]["200"][
        "content"
    ]["application/json"]["schema"]

    body = client.get("/api/v1/users/me", headers=token_for(world.a.it)).json

    assert set(body) == set(_resolve(document, schema["$ref"])["properties"])


def test_a_write_documents_its_request_body_and_conflict(document):
    patch = document["paths"]["/api/v1/schools/{school_id}"]["patch"]
    body = _resolve(
        document,
        patch["requestBody"]["content"]["application/json"]["schema"]["$ref"],
    )

    assert "version" in body["required"]
    assert {"200", "403", "404", "409", "422"} <= set(patch["responses"])
    assert "201" in document["paths"]["/api/v1/schools"]["post"]["responses"]
    assert (
        "204" in document["paths"]["/api/v1/schools/{school_id}"]["delete"]["responses"]
    )
