"""The `devices` API resource (docs/architecture.md#the-json-api): list with filters and cursor, get, create,
patch with `version`, delete.

Requests are validated by DeviceCreate/DeviceUpdate, the models the HTML forms use, and
written by the same services (inventory.devices), so both paths keep the same rules.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import Response
from pydantic import BaseModel
from sqlmodel import col, select

from lifecycle.api.frame import (
    QueryParam,
    date_range,
    dump,
    enum_value,
    filters,
    items_page,
    json_body,
    one,
    operation,
    read_only_fields,
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
    QueryParam("status", str, ", ".join(s.value for s in DeviceStatus)),
    QueryParam("category", str, ", ".join(c.value for c in DeviceCategory)),
    QueryParam("vehicle_id", int),
    QueryParam("catalog_item_id", int),
    QueryParam("funding_source", str),
    QueryParam("asset_tag", str),
    QueryParam("serial", str),
    *date_range("due", "refresh due"),
    *date_range("refresh_due", "refresh due"),
    *date_range("warranty_end", "warranty end"),
    *date_range("aue_date", "AUE date"),
    *date_range("purchase_date", "purchase date"),
]
ENUMS: dict[str, type[StrEnum]] = {"status": DeviceStatus, "category": DeviceCategory}
# `due` is the §6 short name of refresh_due.
DATE_COLUMNS = {
    "due": "refresh_due",
    "refresh_due": "refresh_due",
    "warranty_end": "warranty_end",
    "aue_date": "aue_date",
    "purchase_date": "purchase_date",
}


def _where(values: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    for name, value in values.items():
        if name.endswith(("_before", "_after")):
            base, _, edge = name.rpartition("_")
            column = col(getattr(Device, DATE_COLUMNS[base]))
            clauses.append(column < value if edge == "before" else column >= value)
            continue
        if name in ENUMS:
            value = enum_value(name, ENUMS[name], value)
        clauses.append(col(getattr(Device, name)) == value)
    return clauses


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
    stmt = scoped(select(Device), Device, get_user()).where(*_where(filters(FILTERS)))
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
        session.rollback()
        session.refresh(device)
        raise Conflict(
            exc.message,
            extra={
                "current_version": device.version,
                "current": dump(DeviceResource, device),
            },
        ) from exc
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
