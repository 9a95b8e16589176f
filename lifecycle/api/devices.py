"""The `devices` API resource (docs/architecture.md#the-json-api): list with filters and cursor, get, create,
patch with `version`, delete.

Requests are validated by DeviceCreate/DeviceUpdate, the models the HTML forms use, and
written by the same services (inventory.devices), so both paths keep the same rules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from pydantic import BaseModel
from sqlmodel import select

from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    date_range,
    filters,
    items_page,
    json_body,
    one,
    operation,
    read_only_fields,
    stale,
)
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, DeviceStatus
from lifecycle.inventory import devices as services
from lifecycle.models import Device, DeviceCreate, DeviceUpdate
from lifecycle.models.base import Money
from lifecycle.tenancy import get_scoped, scoped, writable_district
from lifecycle.web.errors import Conflict
from lifecycle.web.forms import validate


class DeviceResource(BaseModel):
    """A device as the API shows it: the documented fields, then read-only extras."""

    id: int
    district_id: int
    school_id: int | None
    asset_tag: str
    serial: str | None
    model: str
    catalog_item_id: int | None
    category: DeviceCategory
    status: DeviceStatus
    purchase_date: date | None
    purchase_cost: Money | None
    funding_source: str
    vehicle_id: int | None
    warranty_end: date | None
    aue_date: date | None
    eol_date: date | None
    lifespan_months: int | None
    refresh_due: date | None  # read-only: the earliest of lifespan, AUE and EOL
    version: int
    refresh_reason: str  # read-only: "lifespan" | "aue" | "eol" | ""
    assigned_to: str
    notes: str


FILTERS = [
    QueryParam("district_id", int, "cooperative staff: one member district"),
    QueryParam("school_id", int),
    QueryParam("status", DeviceStatus),
    QueryParam("category", DeviceCategory),
    QueryParam("vehicle_id", int),
    QueryParam("catalog_item_id", int),
    QueryParam("funding_source", str),
    QueryParam("asset_tag", str),
    QueryParam("serial", str),
    # `due_before` / `due_after` were the first names of the refresh_due range.
    *date_range("refresh_due", "refresh due", old=("due",)),
    *date_range("warranty_end", "warranty end"),
    *date_range("aue_date", "AUE date"),
    *date_range("purchase_date", "purchase date"),
]


@operation(
    "/devices",
    "GET",
    summary="List devices, filtered by field, in id order with a cursor",
    tag="devices",
    response=DeviceResource,
    many=True,
    query=FILTERS,
)
def list_devices() -> Response:
    values = filters(FILTERS)
    stmt = apply_filters(
        scoped(select(Device), Device, get_user()), Device, values, FILTERS
    )
    return items_page(get_session(), stmt, Device, DeviceResource)


@operation(
    "/devices/<int:device_id>",
    "GET",
    summary="Get a device",
    tag="devices",
    response=DeviceResource,
)
def get_device(device_id: int) -> Response:
    return one(DeviceResource, get_scoped(get_session(), Device, device_id, get_user()))


def _body(current: Device | None) -> dict[str, Any]:
    """The JSON body; read-only fields sent back unchanged are dropped."""
    read_only = read_only_fields(
        DeviceResource,
        DeviceUpdate,
        current,
        **({} if current else {"district_id": get_user().district_id}),
    )
    return json_body(DeviceUpdate, read_only=read_only)


@operation(
    "/devices",
    "POST",
    summary="Add a device (district IT); refresh_due is derived",
    tag="devices",
    request=DeviceCreate,
    response=DeviceResource,
    status=201,
)
def create_device() -> Response:
    session = get_session()
    user = get_user()
    writable_district(user)
    body = _body(None)
    body.pop("version", None)
    device = services.create_device(
        session, user=user, data=validate(DeviceCreate, body)
    )
    session.commit()
    return one(DeviceResource, device, status=201)


@operation(
    "/devices/<int:device_id>",
    "PATCH",
    summary="Change a device (district IT); send the version you read",
    tag="devices",
    request=DeviceUpdate,
    response=DeviceResource,
)
def patch_device(device_id: int) -> Response:
    session = get_session()
    user = get_user()
    device = get_scoped(session, Device, device_id, user)
    writable_district(user, device.district_id)
    data = validate(DeviceUpdate, _body(device))
    try:
        services.update_device(session, user=user, device=device, data=data)
    except Conflict as exc:
        raise stale(session, device, DeviceResource, exc) from exc
    session.commit()
    return one(DeviceResource, device)


@operation(
    "/devices/<int:device_id>",
    "DELETE",
    summary="Delete a device created by mistake (district IT); 409 once it has history",
    tag="devices",
    status=204,
)
def delete_device(device_id: int) -> Response:
    session = get_session()
    user = get_user()
    device = get_scoped(session, Device, device_id, user)
    services.delete_device(session, user=user, device=device)
    session.commit()
    return Response(status=204)
