"""The cooperative's contract vehicles and catalog items with their price tiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lifecycle.catalog import rules
from lifecycle.catalog.rules import VehicleState, expiring_until
from lifecycle.enums import DeviceCategory, ItemKind
from lifecycle.models import (
    CatalogItem,
    CatalogItemRead,
    ContractVehicle,
    Device,
    PriceTier,
    PriceTierRead,
    User,
    Vendor,
)
from lifecycle.renewals.queries import today_of
from lifecycle.tenancy import scoped
from lifecycle.web.errors import NotFound
from lifecycle.web.listing import AnySelect, Filter, ListSpec, SortKey, contains


def tiers_by_item(
    session: Session, item_ids: Sequence[int]
) -> dict[int, list[PriceTier]]:
    """Price tiers of many items in one query, each list ordered by min_qty."""
    out: dict[int, list[PriceTier]] = defaultdict(list)
    if not item_ids:
        return out
    rows = session.exec(
        select(PriceTier)
        .where(col(PriceTier.catalog_item_id).in_(item_ids))
        .order_by(col(PriceTier.catalog_item_id), col(PriceTier.min_qty))
    ).all()
    for tier in rows:
        out[tier.catalog_item_id].append(tier)
    return out


def item_read(item: CatalogItem, tiers: list[PriceTier]) -> CatalogItemRead:
    data = item.model_dump()
    data["tiers"] = [
        PriceTierRead.model_validate(t, from_attributes=True) for t in tiers
    ]
    return CatalogItemRead.model_validate(data)


# --- browsing ----------------------------------------------------------------

PCT = Decimal("0.1")


def savings_pct(list_price: Decimal, unit_price: Decimal) -> Decimal | None:
    """How much cheaper than list a price is, in percent to one decimal (half-up)."""
    if list_price <= 0:
        return None
    return ((list_price - unit_price) * 100 / list_price).quantize(
        PCT, rounding=ROUND_HALF_UP
    )


@dataclass(frozen=True)
class TierRow:
    """One line of a price table: a quantity band, its unit price and the saving."""

    min_qty: int
    max_qty: int | None  # None: and above
    unit_price: Decimal
    savings_pct: Decimal | None
    is_list: bool = False


def tier_rows(item: CatalogItem, tiers: Sequence[PriceTier]) -> list[TierRow]:
    """The item's tiers as quantity bands in order, list price below the first tier."""
    ordered = sorted(tiers, key=lambda t: t.min_qty)
    rows: list[TierRow] = []
    if not ordered or ordered[0].min_qty > 1:
        first = ordered[0].min_qty - 1 if ordered else None
        rows.append(TierRow(1, first, item.list_price, Decimal("0.0"), is_list=True))
    for n, tier in enumerate(ordered):
        upper = ordered[n + 1].min_qty - 1 if n + 1 < len(ordered) else None
        rows.append(
            TierRow(
                tier.min_qty,
                upper,
                tier.unit_price,
                savings_pct(item.list_price, tier.unit_price),
            )
        )
    return rows


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


def _item_search(q: str) -> sa.ColumnElement[bool]:
    like = contains(q)
    return sa.or_(
        col(CatalogItem.name).ilike(like, escape="\\"),
        col(CatalogItem.sku).ilike(like, escape="\\"),
    )


ITEM_SPEC = ListSpec(
    filters=[
        Filter(
            "vehicle_id", "Contract vehicle", int, column=col(CatalogItem.vehicle_id)
        ),
        Filter("vendor_id", "Vendor", int, column=col(ContractVehicle.vendor_id)),
        Filter("kind", "Kind", ItemKind, column=col(CatalogItem.kind)),
        Filter(
            "category", "Category", DeviceCategory, column=col(CatalogItem.category)
        ),
        Filter(
            "erate_c2",
            "E-Rate C2 eligible",
            YesNo,
            where=lambda v: col(CatalogItem.erate_c2_eligible).is_(v is YesNo.YES),
        ),
    ],
    sorts=[
        SortKey("name", "Name", col(CatalogItem.name)),
        SortKey("sku", "SKU", col(CatalogItem.sku)),
        SortKey("kind", "Kind", col(CatalogItem.kind)),
        SortKey("category", "Category", col(CatalogItem.category), nullable=True),
        SortKey("list_price", "List price", col(CatalogItem.list_price)),
        SortKey("vehicle", "Vehicle", col(ContractVehicle.contract_number)),
    ],
    default_sort="name",
    id_column=col(CatalogItem.id),
    search=_item_search,
)


def item_list_stmt() -> AnySelect:
    """Catalog items with vehicle and vendor (one query; reference data, unscoped)."""
    return (
        sa.select(CatalogItem, ContractVehicle, col(Vendor.name).label("vendor_name"))
        .join(ContractVehicle, col(ContractVehicle.id) == CatalogItem.vehicle_id)
        .join(Vendor, col(Vendor.id) == ContractVehicle.vendor_id)
    )


def item_row_key(sort: str) -> Callable[[Any], tuple[Any, int]]:
    def key(row: Any) -> tuple[Any, int]:
        item: CatalogItem = row[0]
        assert item.id is not None
        if sort == "vehicle":
            return row[1].contract_number, item.id
        return getattr(item, sort), item.id

    return key


def _vehicle_search(q: str) -> sa.ColumnElement[bool]:
    like = contains(q)
    return sa.or_(
        col(ContractVehicle.contract_number).ilike(like, escape="\\"),
        col(ContractVehicle.title).ilike(like, escape="\\"),
        col(ContractVehicle.lead_agency).ilike(like, escape="\\"),
        col(Vendor.name).ilike(like, escape="\\"),
    )


def _state_clause(today: date) -> Callable[[VehicleState], sa.ColumnElement[bool]]:
    """The vehicles in a state on `today`, as rules.vehicle_state decides it."""
    start, end = col(ContractVehicle.term_start), col(ContractVehicle.term_end)
    until = expiring_until(today)

    def where(state: VehicleState) -> sa.ColumnElement[bool]:
        running = sa.and_(start <= today, end >= today)
        return {
            VehicleState.EXPIRED: end < today,
            VehicleState.UPCOMING: sa.and_(start > today, end >= today),
            VehicleState.EXPIRING: sa.and_(running, end <= until),
            VehicleState.CURRENT: sa.and_(running, end > until),
        }[state]

    return where


def vehicle_spec(today: date) -> ListSpec:
    """The vehicle list's filters (the state one depends on the day) and sorts."""
    return ListSpec(
        filters=[
            Filter("vendor_id", "Vendor", int, column=col(ContractVehicle.vendor_id)),
            Filter("state", "State", VehicleState, where=_state_clause(today)),
        ],
        sorts=[
            SortKey(
                "contract_number", "Contract", col(ContractVehicle.contract_number)
            ),
            SortKey("title", "Title", col(ContractVehicle.title)),
            SortKey("lead_agency", "Lead agency", col(ContractVehicle.lead_agency)),
            SortKey("term_end", "Term ends", col(ContractVehicle.term_end)),
            SortKey("vendor", "Vendor", col(Vendor.name)),
        ],
        default_sort="contract_number",
        id_column=col(ContractVehicle.id),
        search=_vehicle_search,
    )


def vehicle_list_stmt() -> AnySelect:
    """Vehicles with vendor name and item count (one query)."""
    items = (
        sa.select(func.count())
        .select_from(CatalogItem)
        .where(col(CatalogItem.vehicle_id) == ContractVehicle.id)
        .correlate(ContractVehicle)
        .scalar_subquery()
    )
    return sa.select(
        ContractVehicle, col(Vendor.name).label("vendor_name"), items.label("items")
    ).join(Vendor, col(Vendor.id) == ContractVehicle.vendor_id)


def vehicle_row_key(sort: str) -> Callable[[Any], tuple[Any, int]]:
    def key(row: Any) -> tuple[Any, int]:
        vehicle: ContractVehicle = row[0]
        assert vehicle.id is not None
        if sort == "vendor":
            return row[1], vehicle.id
        return getattr(vehicle, sort), vehicle.id

    return key


def vehicle_state(vehicle: ContractVehicle, today: date) -> VehicleState:
    return rules.vehicle_state(vehicle.term_start, vehicle.term_end, today)


def catalog_today(session: Session, user: User) -> date:
    """The day a vehicle's state is judged on: the district's, for its users; the
    cooperative has no time zone of its own, so its staff see the server's day."""
    return today_of(session, user)


def get_vehicle(session: Session, vehicle_id: int) -> tuple[ContractVehicle, Vendor]:
    row = session.execute(
        sa.select(ContractVehicle, Vendor)
        .join(Vendor, col(Vendor.id) == ContractVehicle.vendor_id)
        .where(col(ContractVehicle.id) == vehicle_id)
    ).first()
    if row is None:
        raise NotFound("No such contract vehicle.")
    return row[0], row[1]


def get_item(
    session: Session, item_id: int
) -> tuple[CatalogItem, ContractVehicle, Vendor]:
    row = session.execute(
        item_list_stmt().where(col(CatalogItem.id) == item_id)
    ).first()
    if row is None:
        raise NotFound("No such catalog item.")
    item, vehicle, _name = row
    vendor = session.get(Vendor, vehicle.vendor_id)
    assert vendor is not None
    return item, vehicle, vendor


def devices_using(session: Session, *, user: User, item_id: int) -> int | None:
    """How many devices of the user's district are this item (None for coop readers)."""
    if user.district_id is None:
        return None
    stmt = scoped(
        sa.select(func.count())
        .select_from(Device)
        .where(col(Device.catalog_item_id) == item_id),
        Device,
        user,
    )
    return int(session.execute(stmt).scalar_one())
