"""The OpenAPI 3.1 document, built from the registered operations and their models."""

from __future__ import annotations

from enum import Enum
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from lifecycle.api.frame import (
    OPERATIONS,
    PAGING_PARAMS,
    Operation,
    QueryParam,
    operation,
)
from lifecycle.bounds import INT_MAX

REF = "#/components/schemas/{model}"
# what the routes' id converter matches (lifecycle/bounds.py); anything else is a 404
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": INT_MAX}
KIND_SCHEMA = {
    int: {"type": "integer"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "bad_request",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "method_not_allowed",
                        "conflict",
                        "validation",
                        "rate_limited",
                        "server_error",
                        "too_large",
                        "unavailable",
                    ],
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    },
}


def _schema_ref(
    model: type[BaseModel], schemas: dict[str, Any], mode: str
) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _param(p: QueryParam) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(p.kind, type) and issubclass(p.kind, Enum):
        schema = {"type": "string", "enum": [str(m.value) for m in p.kind]}
    elif p.kind.__name__ == "date":
        schema = {"type": "string", "format": "date"}
    else:
        schema = KIND_SCHEMA[p.kind]
    out: dict[str, Any] = {
        "name": p.name,
        "in": "query",
        "required": p.required,
        "schema": schema,
    }
    # A filter without words of its own is an equality on the field it is named after.
    out["description"] = p.description or f"only those whose {p.name} is this value"
    if p.deprecated:
        out["deprecated"] = True
    return out


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    path_params = [
        {"name": name, "in": "path", "required": True, "schema": ID_SCHEMA}
        for name in _path_names(op.path)
    ]
    query = [*op.query, *PAGING_PARAMS] if op.many else op.query
    out: dict[str, Any] = {
        "operationId": op.endpoint.replace("api.", ""),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": path_params + [_param(p) for p in query],
        "responses": {},
    }
    if op.public:
        out["security"] = []
    if op.request is not None:
        out["requestBody"] = {
            "required": True,
            "content": {
                op.content: {"schema": _schema_ref(op.request, schemas, "validation")}
            },
        }
    if op.status == 204:
        out["responses"]["204"] = {"description": "Done; no content."}
    elif op.response is not None:
        item = _schema_ref(op.response, schemas, "serialization")
        schema = (
            {
                "type": "object",
                "required": ["items", "next_cursor"],
                "properties": {
                    "items": {"type": "array", "items": item},
                    "next_cursor": {"type": ["string", "null"]},
                },
            }
            if op.many
            else item
        )
        out["responses"][str(op.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
    else:
        out["responses"][str(op.status)] = {"description": "OK"}
    error = {
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    }
    errors = {"401": "Missing or bad token", "429": "Too many requests"}
    # a district named in the body that is not the caller's is a 404, as in a path
    names_district = op.request is not None and "district_id" in op.request.model_fields
    names_record = any(p.names_record for p in op.query)
    if path_params or names_district or names_record:
        errors["404"] = "No such record (or not yours)"
    if op.method in ("post", "patch", "put") or op.query or op.many:
        errors["422"] = "Invalid input; fields says which"
    if op.method != "get":
        errors["409"] = (
            "Stale version (someone else changed the record), or the record is not "
            "in a state that allows this"
        )
        errors["403"] = "Your role may not do this"
    if op.role_gated:
        errors["403"] = "Your role may not do this"
    if op.public:
        errors = {}
    for code, description in errors.items():
        out["responses"][code] = {"description": description, **error}
    return out


def _path_names(path: str) -> list[str]:
    import re

    return re.findall(r"{(\w+)}", path)


def build_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lifecycle API",
            "version": "1",
            "description": (
                "IT asset and service-contract lifecycle data for cooperative member districts. "
                "Dates are ISO 8601, timestamps UTC. Money is a string with two decimals "
                '("1234.50") in responses and in requests: a JSON number for money is a 422. '
                "Lists page with limit and cursor and filter on fields by name; a date "
                "range is `<field>_from` (on or after, inclusive) and `<field>_before` "
                "(strictly before, exclusive), as on the HTML lists, so a fiscal year is "
                "`due_date_from=2026-07-01&due_date_before=2027-07-01`; older names are "
                "marked deprecated. Writes send the version they read (409 if stale). "
                "A field a request does not accept is a 422, never silently dropped; the "
                "read-only fields of a record (id, district_id, derived dates) may be sent "
                "back unchanged."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@operation(
    "/openapi.json", "GET", summary="This OpenAPI document", tag="meta", public=True
)
def openapi_document() -> Response:
    return jsonify(build_document())
