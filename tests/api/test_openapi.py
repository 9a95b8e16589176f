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


# --- the answers match the document ------------------------------------------------

JSON_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _conforms(document: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    """Whether `value` has the shape `schema` says (types, properties, items, refs)."""
    if "$ref" in schema:
        return _conforms(document, _resolve(document, schema["$ref"]), value)
    if "anyOf" in schema:
        return any(_conforms(document, option, value) for option in schema["anyOf"])
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if isinstance(value, bool) and "boolean" not in kinds:
            return False
        if not isinstance(value, tuple(JSON_TYPES[k] for k in kinds)):
            return False
    if isinstance(value, str) and not re.search(schema.get("pattern", ""), value):
        return False
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        if set(value) != set(props) or not set(schema.get("required", [])) <= set(
            value
        ):
            return False
        return all(_conforms(document, props[k], v) for k, v in value.items())
    if isinstance(value, list) and "items" in schema:
        return all(_conforms(document, schema["items"], v) for v in value)
    return True


def _answer_schema(document, path, method="get", status="200"):
    return document["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]


@pytest.fixture
def everything(db, world):
    """One of each record the API lists, reminded once, in district A."""
    from datetime import timedelta

    from dateutil.relativedelta import relativedelta

    from tests.factories import make_contract, make_device, make_license
    from tests.notices.conftest import scan_and_remind
    from tests.renewals.test_actions_data import today_of

    today = today_of(db, world.a.district)
    make_device(
        db,
        world.a.district,
        purchase_date=today - relativedelta(months=40),
        lifespan_months=48,
        purchase_cost=Decimal("650.00"),
        warranty_end=today + timedelta(days=10),
    )
    make_license(db, world.a.district, term_start=today - relativedelta(months=11))
    make_contract(
        db,
        world.a.district,
        term_start=today - relativedelta(months=11),
        reminder_thresholds=[60, 30],
    )
    db.commit()
    scan_and_remind(db, world.a.district.id, today)


LISTS = [
    "/api/v1/devices",
    "/api/v1/licenses",
    "/api/v1/contracts",
    "/api/v1/obligations",
    "/api/v1/notifications",
]


@pytest.mark.parametrize("path", LISTS)
def test_a_list_answers_what_the_document_says(
    client, world, token_for, document, everything, path
):
    body = client.get(path, headers=token_for(world.a.it)).json

    assert body["items"], path
    assert _conforms(document, _answer_schema(document, path), body), body


def test_reminders_and_renew_answer_what_the_document_says(
    client, db, world, token_for, document, everything
):
    from sqlmodel import select

    from lifecycle.models import Reminder

    headers = token_for(world.a.it)
    reminder = db.exec(select(Reminder)).first()
    reminders = client.get(
        f"/api/v1/obligations/{reminder.obligation_id}/reminders", headers=headers
    ).json
    (lic,) = client.get(
        "/api/v1/obligations?kind=license_renewal", headers=headers
    ).json["items"]
    renewed = client.post(
        f"/api/v1/obligations/{lic['id']}/renew",
        json={"version": lic["subject_version"]},
        headers=headers,
    )

    assert reminders["items"]
    reminders_schema = _answer_schema(
        document, "/api/v1/obligations/{obligation_id}/reminders"
    )
    assert _conforms(document, reminders_schema, reminders), reminders
    assert renewed.status_code == 200, renewed.json
    renew = _answer_schema(
        document, "/api/v1/obligations/{obligation_id}/renew", "post"
    )
    assert _conforms(document, renew, renewed.json), renewed.json


def test_every_query_parameter_says_what_it_does(document):
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            for param in op["parameters"]:
                if param["in"] == "query":
                    assert param.get("description"), (method, path, param["name"])


def test_every_list_documents_the_422_of_a_bad_limit_or_cursor(client, document):
    for path, operations in document["paths"].items():
        op = operations.get("get", {})
        names = {p["name"] for p in op.get("parameters", [])}
        if "cursor" in names:
            assert "422" in op["responses"], path
