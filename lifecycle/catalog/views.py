"""Catalog browse: contract vehicles and their items with price tiers (read-only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response
from sqlmodel import Session, col, select

from lifecycle.auth import get_user
from lifecycle.catalog import services
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, ItemKind, PriceUnit
from lifecycle.models import ContractVehicle, Vendor
from lifecycle.web import listing
from lifecycle.web.htmx import render
from lifecycle.web.lists import key_by_sort, load_list, render_list

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

ITEM_LABELS = {f.name: f.label for f in services.ITEM_SPEC.filters}
VEHICLE_LABELS = {f.name: f.label for f in services.VEHICLE_SPEC.filters}
UNITS = {
    PriceUnit.EACH: "each",
    PriceUnit.SEAT: "per seat",
    PriceUnit.PER_STUDENT: "per student",
    PriceUnit.PER_YEAR: "per year",
}


def _choices(session: Session) -> dict[str, Any]:
    vehicles = session.exec(
        select(
            ContractVehicle.id, ContractVehicle.contract_number, ContractVehicle.title
        ).order_by(col(ContractVehicle.contract_number))
    ).all()
    vendors = session.exec(
        select(Vendor.id, Vendor.name).order_by(col(Vendor.name))
    ).all()
    return {
        "vehicles": [(i, f"{n} — {t}") for i, n, t in vehicles],
        "vendors": list(vendors),
        "kinds": [(k.value, k.value.capitalize()) for k in ItemKind],
        "categories": [(c.value, c.label) for c in DeviceCategory],
    }


def _tier_table(session: Session, rows: list[Any]) -> dict[int, list[Any]]:
    """The price bands of every item on a page, from one query."""
    items = [r[0] for r in rows]
    tiers = services.tiers_by_item(session, [i.id for i in items if i.id is not None])
    return {
        i.id: services.tier_rows(i, tiers.get(i.id, []))
        for i in items
        if i.id is not None
    }


@bp.get("")
def index() -> Response:
    """Catalog items: search, filters, sort, keyset pages, each with its best tier."""
    get_user()
    session = get_session()
    query, page, errors = load_list(
        services.ITEM_SPEC,
        services.item_list_stmt(),
        row_key=key_by_sort(services.ITEM_SPEC, services.item_row_key),
    )
    return render_list(
        "catalog/items.html",
        errors=errors,
        full=lambda: _choices(session),
        page=page,
        query=query,
        labels=ITEM_LABELS,
        bands=_tier_table(session, page.rows),
        units=UNITS,
    )


@bp.get("/vehicles")
def vehicles() -> Response:
    get_user()
    session = get_session()
    query, page, errors = load_list(
        services.VEHICLE_SPEC,
        services.vehicle_list_stmt(),
        row_key=key_by_sort(services.VEHICLE_SPEC, services.vehicle_row_key),
    )

    def vendors() -> dict[str, Any]:
        rows = session.exec(select(Vendor.id, Vendor.name).order_by(col(Vendor.name)))
        return {"vendors": list(rows.all())}

    return render_list(
        "catalog/vehicles.html",
        errors=errors,
        full=vendors,
        page=page,
        query=query,
        labels=VEHICLE_LABELS,
        today=datetime.now(UTC).date(),
        state=services.vehicle_state,
    )


@bp.get("/vehicles/<int:vehicle_id>")
def vehicle(vehicle_id: int) -> Response:
    """A vehicle's terms and the first page of its items, with their tiers."""
    get_user()
    session = get_session()
    found, vendor = services.get_vehicle(session, vehicle_id)
    query = listing.ListQuery(
        values={"vehicle_id": vehicle_id}, raw={"vehicle_id": str(vehicle_id)}
    )
    page = listing.page(
        session,
        services.ITEM_SPEC,
        services.item_list_stmt(),
        query,
        row_key=services.item_row_key("name"),
    )
    today = datetime.now(UTC).date()
    return render(
        "catalog/vehicle.html",
        vehicle=found,
        vendor=vendor,
        page=page,
        query=query,
        bands=_tier_table(session, page.rows),
        units=UNITS,
        state=services.vehicle_state(found, today),
    )


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Response:
    """One item: its terms and the whole price table with savings against list."""
    user = get_user()
    session = get_session()
    found, found_vehicle, vendor = services.get_item(session, item_id)
    tiers = services.tiers_by_item(session, [item_id]).get(item_id, [])
    return render(
        "catalog/item.html",
        item=found,
        vehicle=found_vehicle,
        vendor=vendor,
        bands=services.tier_rows(found, tiers),
        units=UNITS,
        devices=services.devices_using(session, user=user, item_id=item_id),
    )
