"""Writes of the catalog (cooperative staff and admins): vehicles and items with their
price tiers, checked as the pages check them (lifecycle/catalog/editing.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from lifecycle.api.frame import body_as, json_body, one, operation, read_only_fields
from lifecycle.auth import require_roles
from lifecycle.catalog import editing, services
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.models import (
    CatalogItem,
    CatalogItemCreate,
    CatalogItemRead,
    CatalogItemUpdate,
    ContractVehicle,
    ContractVehicleCreate,
    ContractVehicleRead,
    ContractVehicleUpdate,
)
from lifecycle.web.errors import NotFound, ValidationFailed
from lifecycle.web.forms import validate

COOP_WRITERS = require_roles(Role.COOP_STAFF, Role.ADMIN)


def _vehicle(vehicle_id: int) -> ContractVehicle:
    vehicle = get_session().get(ContractVehicle, vehicle_id)
    if vehicle is None:
        raise NotFound("No such contract vehicle.")
    return vehicle


@operation(
    "/vehicles",
    "POST",
    summary="Add a contract vehicle (cooperative staff)",
    tag="catalog",
    request=ContractVehicleCreate,
    response=ContractVehicleRead,
    status=201,
)
@COOP_WRITERS
def create_vehicle() -> Response:
    session = get_session()
    data = body_as(ContractVehicleCreate, ContractVehicleRead)
    vehicle = editing.create_vehicle(session, data=data)
    session.commit()
    return one(ContractVehicleRead, vehicle, status=201)


@operation(
    "/vehicles/<int:vehicle_id>",
    "PATCH",
    summary="Change a contract vehicle (cooperative staff)",
    tag="catalog",
    request=ContractVehicleUpdate,
    response=ContractVehicleRead,
)
@COOP_WRITERS
def patch_vehicle(vehicle_id: int) -> Response:
    session = get_session()
    vehicle = _vehicle(vehicle_id)
    data = body_as(ContractVehicleUpdate, ContractVehicleRead, vehicle)
    editing.update_vehicle(session, vehicle=vehicle, data=data)
    session.commit()
    return one(ContractVehicleRead, vehicle)


@operation(
    "/vehicles/<int:vehicle_id>",
    "DELETE",
    summary="Delete a vehicle added by mistake (409 while anything refers to it)",
    tag="catalog",
    status=204,
)
@COOP_WRITERS
def delete_vehicle(vehicle_id: int) -> Response:
    session = get_session()
    editing.delete_vehicle(session, vehicle=_vehicle(vehicle_id), version=None)
    session.commit()
    return Response(status=204)


def _tier_rows(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The body's `tiers`, taken out to be checked row by row (check_tiers)."""
    if "tiers" not in data:
        return None
    rows = data.pop("tiers")
    if not isinstance(rows, list):
        raise ValidationFailed(
            {"tiers": "must be a list of {min_qty, unit_price} objects"}
        )
    problems: dict[str, str] = {}
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            problems[f"tiers.{n}"] = "must be an object with min_qty and unit_price"
        else:
            for name in row:
                if name not in ("min_qty", "unit_price"):
                    problems[f"tiers.{n}.{name}"] = "is not a field of a price tier"
    if problems:
        raise ValidationFailed(problems)
    return rows


def _item_answer(item: CatalogItem, status: int = 200) -> Response:
    assert item.id is not None
    tiers = services.tiers_by_item(get_session(), [item.id]).get(item.id, [])
    response = jsonify(services.item_read(item, tiers).model_dump(mode="json"))
    response.status_code = status
    return response


@operation(
    "/catalog-items",
    "POST",
    summary="Add a catalog item with its price tiers (cooperative staff)",
    tag="catalog",
    request=CatalogItemCreate,
    response=CatalogItemRead,
    status=201,
)
@COOP_WRITERS
def create_catalog_item() -> Response:
    session = get_session()
    body = json_body(
        CatalogItemCreate,
        read_only=read_only_fields(CatalogItemRead, CatalogItemCreate),
    )
    tiers = _tier_rows(body)
    data = validate(CatalogItemCreate, body)
    vehicle = session.get(ContractVehicle, data.vehicle_id)
    if vehicle is None:
        raise ValidationFailed({"vehicle_id": "is not a contract vehicle"})
    item = editing.create_item(session, vehicle=vehicle, data=data, tiers=tiers)
    session.commit()
    return _item_answer(item, status=201)


@operation(
    "/catalog-items/<int:item_id>",
    "PATCH",
    summary="Change a catalog item; `tiers` replaces its whole price table",
    tag="catalog",
    request=CatalogItemUpdate,
    response=CatalogItemRead,
)
@COOP_WRITERS
def patch_catalog_item(item_id: int) -> Response:
    session = get_session()
    item = session.get(CatalogItem, item_id)
    if item is None:
        raise NotFound("No such catalog item.")
    shown = services.item_read(
        item, services.tiers_by_item(session, [item_id]).get(item_id, [])
    )
    body = json_body(
        CatalogItemUpdate,
        read_only=read_only_fields(CatalogItemRead, CatalogItemUpdate, shown),
    )
    tiers = _tier_rows(body)
    data = validate(CatalogItemUpdate, body)
    editing.update_item(session, item=item, data=data, tiers=tiers)
    session.commit()
    return _item_answer(item)
