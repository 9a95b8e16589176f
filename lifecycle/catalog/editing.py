"""Cooperative staff change the catalog: vehicles, their items and price tables.

Every write checks the version the editor read (claim_version) and is audited: field
changes by the flush hook, a price table's before and after as one event, since its
rows are replaced with set-based statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lifecycle.audit import record
from lifecycle.catalog.rules import Tier, check_tiers
from lifecycle.models import (
    CatalogItem,
    CatalogItemCreate,
    CatalogItemUpdate,
    ContractVehicle,
    ContractVehicleCreate,
    ContractVehicleUpdate,
    Device,
    License,
    PriceTier,
    ServiceContract,
    Vendor,
)
from lifecycle.org.services import cooperative
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.records import claim_version

CONTRACT_TAKEN = {"contract_number": "is already the number of another vehicle"}
SKU_TAKEN = {"sku": "is already an item of this vehicle"}
VEHICLE_FIELDS = (
    "vendor_id",
    "contract_number",
    "title",
    "lead_agency",
    "term_start",
    "term_end",
    "renewal_options",
)
ITEM_FIELDS = (
    "sku",
    "name",
    "kind",
    "category",
    "list_price",
    "unit",
    "min_order_qty",
    "lifespan_months",
    "term_months",
    "erate_c2_eligible",
    "active",
)
TierRows = Sequence[Mapping[str, Any]]


def _flush_unique(session: Session, problem: dict[str, str]) -> None:
    """A unique index refusing a race the check before it lost is the same 422."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ValidationFailed(problem) from exc


def _check_vendor(session: Session, vendor_id: int) -> None:
    if session.get(Vendor, vendor_id) is None:
        raise ValidationFailed({"vendor_id": "is not a vendor"})


def _number_taken(session: Session, number: str, own_id: int | None) -> bool:
    clash = session.exec(
        select(ContractVehicle.id).where(
            func.lower(ContractVehicle.contract_number) == number.lower()
        )
    ).first()
    return clash is not None and clash != own_id


# --- vehicles ----------------------------------------------------------------


def create_vehicle(session: Session, *, data: ContractVehicleCreate) -> ContractVehicle:
    _check_vendor(session, data.vendor_id)
    number = data.contract_number.strip()
    if _number_taken(session, number, None):
        raise ValidationFailed(CONTRACT_TAKEN)
    coop_id = cooperative(session).id
    assert coop_id is not None
    vehicle = ContractVehicle(
        **data.model_dump(exclude={"contract_number"}),
        contract_number=number,
        cooperative_id=coop_id,
    )
    session.add(vehicle)
    _flush_unique(session, CONTRACT_TAKEN)
    return vehicle


def update_vehicle(
    session: Session, *, vehicle: ContractVehicle, data: ContractVehicleUpdate
) -> ContractVehicle:
    claim_version(session, vehicle, data.version, fields=VEHICLE_FIELDS)
    changes = {
        k: v
        for k, v in data.model_dump(exclude_unset=True, exclude={"version"}).items()
        if v is not None or k in ("lead_agency", "renewal_options")
    }
    merged = {name: getattr(vehicle, name) for name in VEHICLE_FIELDS} | changes
    for text in ("lead_agency", "renewal_options"):
        merged[text] = merged[text] or ""
    checked = validate(ContractVehicleCreate, merged)  # the term order, as a whole
    if checked.vendor_id != vehicle.vendor_id:
        _check_vendor(session, checked.vendor_id)
    number = checked.contract_number.strip()
    if _number_taken(session, number, vehicle.id):
        raise ValidationFailed(CONTRACT_TAKEN)
    for name, value in checked.model_dump().items():
        setattr(vehicle, name, number if name == "contract_number" else value)
    _flush_unique(session, CONTRACT_TAKEN)
    return vehicle


@dataclass(frozen=True)
class VehicleUsage:
    """What refers to a vehicle: while anything does, it cannot be deleted."""

    items: int
    devices: int
    licenses: int
    contracts: int

    @property
    def in_use(self) -> bool:
        return bool(self.items or self.devices or self.licenses or self.contracts)

    def describe(self) -> str:
        parts = [
            (self.items, "catalog item"),
            (self.devices, "device"),
            (self.licenses, "license"),
            (self.contracts, "service contract"),
        ]
        named = [f"{n:,} {what}{'' if n == 1 else 's'}" for n, what in parts if n]
        return ", ".join(named)


def vehicle_usage(session: Session, vehicle_id: int) -> VehicleUsage:
    """The records of every district citing the vehicle, counted in one query."""

    def count(model: Any) -> sa.ScalarSelect[int]:
        return (
            sa.select(func.count())
            .select_from(model)
            .where(model.vehicle_id == vehicle_id)
            .scalar_subquery()
        )

    row = session.execute(
        sa.select(
            count(CatalogItem), count(Device), count(License), count(ServiceContract)
        )
    ).one()
    return VehicleUsage(*(int(n) for n in row))


def delete_vehicle(
    session: Session, *, vehicle: ContractVehicle, version: int | None
) -> None:
    """Delete a vehicle created by mistake; refused (409) while anything cites it."""
    claim_version(session, vehicle, version, fields=VEHICLE_FIELDS)
    assert vehicle.id is not None
    usage = vehicle_usage(session, vehicle.id)
    if usage.in_use:
        raise Conflict(
            f"{vehicle.contract_number} cannot be deleted: {usage.describe()} "
            "still refer to it."
        )
    session.delete(vehicle)
    session.flush()


# --- items and their price tables --------------------------------------------


def _tier_list(tiers: Sequence[Any]) -> list[tuple[int, str]]:
    return [(t.min_qty, f"{t.unit_price:.2f}") for t in tiers]


def _tier_text(tiers: Sequence[Any]) -> str:
    """A price table as the audit trail shows it: "1+ 520.00; 250+ 495.00"."""
    return "; ".join(f"{q:,}+ {p}" for q, p in _tier_list(tiers)) or "none"


def _stored_tiers(session: Session, item_id: int) -> list[PriceTier]:
    return list(
        session.exec(
            select(PriceTier)
            .where(col(PriceTier.catalog_item_id) == item_id)
            .order_by(col(PriceTier.min_qty))
        ).all()
    )


def _sku_taken(session: Session, vehicle_id: int, sku: str, own_id: int | None) -> bool:
    clash = session.exec(
        select(CatalogItem.id).where(
            col(CatalogItem.vehicle_id) == vehicle_id,
            func.lower(CatalogItem.sku) == sku.lower(),
        )
    ).first()
    return clash is not None and clash != own_id


def _check_item(data: CatalogItemCreate) -> None:
    if data.list_price < 0:
        raise ValidationFailed({"list_price": "cannot be negative"})


def _replace_tiers(session: Session, item_id: int, tiers: Sequence[Tier]) -> None:
    session.execute(
        sa.delete(PriceTier).where(col(PriceTier.catalog_item_id) == item_id)
    )
    session.execute(
        sa.insert(PriceTier),
        [
            {
                "catalog_item_id": item_id,
                "min_qty": t.min_qty,
                "unit_price": t.unit_price,
            }
            for t in tiers
        ],
    )


def _tier_event(
    session: Session, item: CatalogItem, before: list[Any], after: Sequence[Tier]
) -> None:
    assert item.id is not None
    record(
        session,
        action="update",
        entity_type="catalog_item",
        entity_id=item.id,
        district_id=None,
        changes={"tiers": [_tier_text(before), _tier_text(after)]},
        summary=f"{item.sku}: price tiers",
    )


def create_item(
    session: Session,
    *,
    vehicle: ContractVehicle,
    data: CatalogItemCreate,
    tiers: TierRows | None = None,
) -> CatalogItem:
    """A new item under `vehicle`; without tiers, its table is the list price from 1."""
    _check_item(data)
    sku = data.sku.strip()
    assert vehicle.id is not None
    if _sku_taken(session, vehicle.id, sku, None):
        raise ValidationFailed(SKU_TAKEN)
    rows = tiers or [{"min_qty": 1, "unit_price": f"{data.list_price:.2f}"}]
    checked, problems = check_tiers(rows, list_price=data.list_price)
    if problems:
        raise ValidationFailed(problems)
    item = CatalogItem(
        **data.model_dump(exclude={"sku", "tiers", "vehicle_id"}),
        sku=sku,
        vehicle_id=vehicle.id,
    )
    session.add(item)
    _flush_unique(session, SKU_TAKEN)
    assert item.id is not None
    _replace_tiers(session, item.id, checked)
    _tier_event(session, item, [], checked)
    return item


def update_item(
    session: Session,
    *,
    item: CatalogItem,
    data: CatalogItemUpdate,
    tiers: TierRows | None = None,
) -> CatalogItem:
    """Change an item's fields and, when `tiers` is given, replace its whole table;
    a new list price below a stored tier's price is refused like a tier above it."""
    claim_version(session, item, data.version, fields=ITEM_FIELDS)
    assert item.id is not None
    changes = data.model_dump(exclude_unset=True, exclude={"version", "tiers"})
    nullable = ("category", "lifespan_months", "term_months")
    changes = {k: v for k, v in changes.items() if v is not None or k in nullable}
    merged = {name: getattr(item, name) for name in ITEM_FIELDS} | changes
    merged["vehicle_id"] = item.vehicle_id
    checked = validate(CatalogItemCreate, merged)
    _check_item(checked)
    sku = checked.sku.strip()
    if _sku_taken(session, item.vehicle_id, sku, item.id):
        raise ValidationFailed(SKU_TAKEN)
    before = _stored_tiers(session, item.id)
    new_tiers: list[Tier] | None = None
    if tiers is not None:
        new_tiers, problems = check_tiers(tiers, list_price=checked.list_price)
        if problems:
            raise ValidationFailed(problems)
    elif any(t.unit_price > checked.list_price for t in before):
        top = max(t.unit_price for t in before)
        raise ValidationFailed(
            {"list_price": f"cannot be below a price tier ({top:.2f}): edit the tiers"}
        )
    for name, value in checked.model_dump(exclude={"tiers", "vehicle_id"}).items():
        setattr(item, name, sku if name == "sku" else value)
    if new_tiers is not None and _tier_list(new_tiers) != _tier_list(before):
        # a table is part of the item: its change moves the version, once, whatever
        # else changed (moved before any flush, which then leaves it alone)
        item.version += 1
        _replace_tiers(session, item.id, new_tiers)
        _tier_event(session, item, before, new_tiers)
    _flush_unique(session, SKU_TAKEN)
    return item


def save_tiers(
    session: Session, *, item: CatalogItem, version: int, rows: TierRows
) -> CatalogItem:
    """Replace an item's whole price table (the page's in-place editor)."""
    return update_item(
        session, item=item, data=CatalogItemUpdate(version=version), tiers=rows
    )


def set_active(
    session: Session, *, item: CatalogItem, version: int, active: bool
) -> CatalogItem:
    """Discontinue an item (no new rounds or purchases pick it) or offer it again."""
    return update_item(
        session, item=item, data=CatalogItemUpdate(version=version, active=active)
    )


def item_tiers(session: Session, item_id: int) -> list[Tier]:
    return [
        Tier(t.min_qty, Decimal(t.unit_price)) for t in _stored_tiers(session, item_id)
    ]
