"""Catalog browse: contract vehicles and their items with price tiers (read-only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from sqlmodel import Session, col, select

from lifecycle.auth import get_user
from lifecycle.catalog import services
from lifecycle.catalog.pages import UNITS, can_manage, item_page
from lifecycle.catalog.rules import EXPIRING_WITHIN_DAYS, VehicleState
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, ItemKind
from lifecycle.models import ContractVehicle, Vendor
from lifecycle.web import listing
from lifecycle.web.htmx import render
from lifecycle.web.lists import key_by_sort, load_list, render_list
from lifecycle.web.records import history

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

ITEM_LABELS = {f.name: f.label for f in services.ITEM_SPEC.filters}
VEHICLE_LABELS = {"vendor_id": "Vendor", "state": "State"}
STATES = [
    (VehicleState.CURRENT.value, "Current"),
    (VehicleState.EXPIRING.value, f"Expiring within {EXPIRING_WITHIN_DAYS} days"),
    (VehicleState.EXPIRED.value, "Expired"),
    (VehicleState.UPCOMING.value, "Not started"),
]


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
    """Contract vehicles with their state today (filterable), search, sort, pages."""
    user = get_user()
    session = get_session()
    today = services.catalog_today(session, user)
    spec = services.vehicle_spec(today)
    query, page, errors = load_list(
        spec,
        services.vehicle_list_stmt(),
        row_key=key_by_sort(spec, services.vehicle_row_key),
    )

    def vendors() -> dict[str, Any]:
        rows = session.exec(select(Vendor.id, Vendor.name).order_by(col(Vendor.name)))
        return {"vendors": list(rows.all()), "states": STATES}

    return render_list(
        "catalog/vehicles.html",
        errors=errors,
        full=vendors,
        page=page,
        query=query,
        labels=VEHICLE_LABELS,
        today=today,
        state=services.vehicle_state,
        can_edit=can_manage(user),
        within_days=EXPIRING_WITHIN_DAYS,
    )


@bp.get("/vehicles/<int:vehicle_id>")
def vehicle(vehicle_id: int) -> Response:
    """A vehicle's terms and the first page of its items, with their tiers."""
    user = get_user()
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
    today = services.catalog_today(session, user)
    manage = can_manage(user)
    return render(
        "catalog/vehicle.html",
        vehicle=found,
        vendor=vendor,
        page=page,
        query=query,
        bands=_tier_table(session, page.rows),
        units=UNITS,
        state=services.vehicle_state(found, today),
        today=today,
        within_days=EXPIRING_WITHIN_DAYS,
        can_edit=manage,
        events=(
            history(session, entity_type="vehicle", entity_id=vehicle_id)
            if manage
            else []
        ),
    )


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Response:
    """One item: its terms and the whole price table with savings against list."""
    return item_page(item_id)
