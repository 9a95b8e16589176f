"""The pipeline's queries: every member district's open needs, aggregated in the database.

A need is an obligation in one of the budget's need states (budget.inputs.NEEDS: the
scan's open states and "in a round"); ordered, done, lapsed and retired ones are not.
Warranty ends are decisions (extend or accept the risk) with no price, never a purchase
of their device's model, so they are left out. Each query is one statement over the
obligations of the whole cooperative, grouped in SQL; no query per district or row.

Where a need's vendor and contract vehicle come from: its catalog item's vehicle (a
refresh's replacement item, a license's product), else the license's or contract's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.budget.inputs import NEEDS
from lifecycle.enums import ObligationKind, Role, category_label
from lifecycle.models import (
    CatalogItem,
    ContractVehicle,
    District,
    License,
    Obligation,
    ServiceContract,
    User,
    Vendor,
)
from lifecycle.pipeline import pivot
from lifecycle.pipeline.export import BidLine
from lifecycle.pipeline.params import GROUPS, Query
from lifecycle.sqlfuncs import among
from lifecycle.tenancy import get_scoped
from lifecycle.web.errors import Forbidden

READERS = (Role.COOP_STAFF, Role.ADMIN)
PRICED_KINDS = tuple(pivot.UNIT_OF_KIND)
NO_VALUE = {
    "vendor": "No vendor on record",
    "vehicle": "No contract vehicle",
    "item": "Not in the catalog",
    "category": "No category",
}


def require_reader(user: User) -> None:
    """Only cooperative staff and administrators read across districts; a district
    user is refused the whole pipeline (never a view of the other districts)."""
    if Role(user.role) not in READERS:
        raise Forbidden("The pipeline is for cooperative staff.")


def today_utc() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class Columns:
    """The expressions every pipeline query groups and filters on."""

    vendor: Any
    vehicle: Any
    item: Any
    category: Any

    def group(self, name: str) -> Any:
        return getattr(self, name)


def _base(query: Query, quarters: Sequence[pivot.Quarter], today: date) -> Any:
    """The needs in the quarters shown (overdue ones in the first), one row each, with
    the columns the aggregates need, filters applied."""
    lic = sa.orm.aliased(License)
    con = sa.orm.aliased(ServiceContract)
    item = sa.orm.aliased(CatalogItem)
    veh = sa.orm.aliased(ContractVehicle)
    o = Obligation
    cols = Columns(
        vendor=sa.func.coalesce(
            col(veh.vendor_id), col(lic.vendor_id), col(con.vendor_id)
        ),
        vehicle=sa.func.coalesce(
            col(item.vehicle_id), col(lic.vehicle_id), col(con.vehicle_id)
        ),
        item=col(o.catalog_item_id),
        category=col(o.category),
    )
    due = col(o.due_date)
    quarter = sa.case(
        *[(due < q.end, sa.literal(i)) for i, q in enumerate(quarters)], else_=None
    )
    stmt = (
        sa.select(
            sa.func.coalesce(sa.cast(cols.group(query.group), sa.String), "").label(
                "key"
            ),
            quarter.label("quarter"),
            col(o.kind).label("kind"),
            sa.case((due < today, 1), else_=0).label("overdue"),
            col(o.quantity).label("quantity"),
            col(o.estimated_cost).label("spend"),
            col(o.district_id).label("district_id"),
            col(o.catalog_item_id).label("item_id"),
            cols.vehicle.label("vehicle_id"),
            cols.vendor.label("vendor_id"),
            col(o.category).label("category"),
        )
        .select_from(o)
        .outerjoin(
            lic,
            sa.and_(col(o.subject_type) == "license", col(lic.id) == col(o.subject_id)),
        )
        .outerjoin(
            con,
            sa.and_(
                col(o.subject_type) == "contract", col(con.id) == col(o.subject_id)
            ),
        )
        .outerjoin(item, col(item.id) == col(o.catalog_item_id))
        .outerjoin(veh, col(veh.id) == col(item.vehicle_id))
        .where(
            among(col(o.state), NEEDS),
            among(col(o.kind), PRICED_KINDS),
            due < quarters[-1].end,
        )
    )
    if query.district_id is not None:
        stmt = stmt.where(col(o.district_id) == query.district_id)
    if query.category is not None:
        stmt = stmt.where(col(o.category) == query.category)
    if query.kind is not None:
        stmt = stmt.where(col(o.kind) == ObligationKind(query.kind))
    if query.vendor_id is not None:
        stmt = stmt.where(cols.vendor == query.vendor_id)
    if query.vehicle_id is not None:
        stmt = stmt.where(cols.vehicle == query.vehicle_id)
    return stmt.subquery("needs")


def _kind(value: Any) -> str:
    return str(getattr(value, "value", value))


@dataclass(frozen=True, slots=True)
class Pipeline:
    query: Query
    today: date
    table: pivot.Table
    district: District | None


def pipeline(
    session: Session, user: User, query: Query, *, today: date | None = None
) -> Pipeline:
    """The table of groups × quarters: two statements (the sums, the district counts)
    and one for the groups' names."""
    require_reader(user)
    district = _district(session, user, query.district_id)
    today = today or today_utc()
    quarters = pivot.quarters_from(today, query.quarters)
    needs = _base(query, quarters, today)
    sums = session.execute(
        sa.select(
            needs.c.key,
            needs.c.quarter,
            needs.c.kind,
            needs.c.overdue,
            sa.func.sum(needs.c.quantity),
            sa.func.sum(needs.c.spend),
        ).group_by(needs.c.key, needs.c.quarter, needs.c.kind, needs.c.overdue)
    ).all()
    facts = [
        pivot.Fact(
            key, int(q), _kind(kind), bool(overdue), int(qty or 0), _money(spend)
        )
        for key, q, kind, overdue, qty, spend in sums
    ]
    table = pivot.build(
        quarters,
        facts,
        group_labels(session, query.group, {f.key for f in facts}),
        districts=_district_counts(session, needs),
        sort=query.sort,
    )
    return Pipeline(query, today, table, district)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _district_counts(
    session: Session, needs: Any
) -> dict[tuple[str | None, int | None], int]:
    """How many districts are behind each cell, row, column and the whole table (one
    statement: counts of distinct districts cannot be added up from the cells)."""
    n = sa.func.count(sa.distinct(needs.c.district_id))
    no_key = sa.cast(sa.null(), sa.String)
    no_quarter = sa.cast(sa.null(), sa.Integer)
    union = sa.union_all(
        sa.select(needs.c.key, needs.c.quarter, n).group_by(
            needs.c.key, needs.c.quarter
        ),
        sa.select(needs.c.key, no_quarter, n).group_by(needs.c.key),
        sa.select(no_key, needs.c.quarter, n).group_by(needs.c.quarter),
        sa.select(no_key, no_quarter, n),
    )
    return {
        (key, None if q is None else int(q)): int(count)
        for key, q, count in session.execute(union)
    }


def _district(session: Session, user: User, district_id: int | None) -> District | None:
    if district_id is None:
        return None
    return get_scoped(session, District, district_id, user)


def group_labels(session: Session, group: str, keys: set[str]) -> dict[str, str]:
    """Each group value's name: the vendor's, the vehicle's number and title, the
    item's SKU and name, the category in words."""
    labels = {"": NO_VALUE[group]}
    ids = sorted(int(k) for k in keys if k.isdigit())
    if group == "category":
        labels.update({k: category_label(k) for k in keys if k})
    elif group == "vendor" and ids:
        for vid, name in session.exec(
            select(Vendor.id, Vendor.name).where(col(Vendor.id).in_(ids))
        ):
            labels[str(vid)] = name
    elif group == "vehicle" and ids:
        for vid, number, title in session.exec(
            select(
                ContractVehicle.id,
                ContractVehicle.contract_number,
                ContractVehicle.title,
            ).where(col(ContractVehicle.id).in_(ids))
        ):
            labels[str(vid)] = f"{number} — {title}"
    elif group == "item" and ids:
        for iid, sku, name in session.exec(
            select(CatalogItem.id, CatalogItem.sku, CatalogItem.name).where(
                col(CatalogItem.id).in_(ids)
            )
        ):
            labels[str(iid)] = f"{name} ({sku})"
    return labels


@dataclass(frozen=True, slots=True)
class DistrictNeed:
    district_id: int
    name: str
    amount: pivot.Amount


def districts_behind(
    session: Session,
    user: User,
    query: Query,
    *,
    key: str | None,
    quarter: int | None,
    today: date | None = None,
) -> list[DistrictNeed]:
    """The districts behind one cell (a group in a quarter), a row (quarter None) or a
    column (key None), with their units and spend, most spend first."""
    require_reader(user)
    today = today or today_utc()
    quarters = pivot.quarters_from(today, query.quarters)
    needs = _base(query, quarters, today)
    stmt = (
        sa.select(
            needs.c.district_id,
            col(District.name),
            needs.c.kind,
            sa.func.sum(needs.c.quantity),
            sa.func.sum(needs.c.spend),
        )
        .join(District, col(District.id) == needs.c.district_id)
        .group_by(needs.c.district_id, col(District.name), needs.c.kind)
    )
    if key is not None:
        stmt = stmt.where(needs.c.key == key)
    if quarter is not None:
        stmt = stmt.where(needs.c.quarter == quarter)
    out: dict[int, DistrictNeed] = {}
    for district_id, name, kind, qty, spend in session.execute(stmt):
        need = out.get(district_id)
        if need is None:
            need = out[district_id] = DistrictNeed(district_id, name, pivot.Amount())
        need.amount.add(pivot.UNIT_OF_KIND[_kind(kind)], int(qty or 0), _money(spend))
    for need in out.values():
        need.amount.districts = 1
    return sorted(out.values(), key=lambda d: (-d.amount.spend, d.name.casefold()))


def filter_options(session: Session, user: User) -> dict[str, list[tuple[int, str]]]:
    """The districts, vendors and vehicles the filters offer (reference lists)."""
    require_reader(user)
    districts = session.exec(
        select(District.id, District.name).order_by(col(District.name))
    ).all()
    vendors = session.exec(
        select(Vendor.id, Vendor.name).order_by(col(Vendor.name))
    ).all()
    vehicles = session.exec(
        select(
            ContractVehicle.id, ContractVehicle.contract_number, ContractVehicle.title
        ).order_by(col(ContractVehicle.contract_number))
    ).all()
    return {
        "districts": [(int(i or 0), n) for i, n in districts],
        "vendors": [(int(i or 0), n) for i, n in vendors],
        "vehicles": [(int(i or 0), f"{num} — {t}") for i, num, t in vehicles],
    }


def bid_lines(
    session: Session, user: User, query: Query, *, today: date | None = None
) -> list[BidLine]:
    """The quantity estimate: per item (or category when not in the catalog), kind,
    vehicle and quarter, in quarter then vendor and item order. One statement, and one
    each for the items', vehicles' and vendors' names."""
    require_reader(user)
    today = today or today_utc()
    quarters = pivot.quarters_from(today, query.quarters)
    needs = _base(query, quarters, today)
    keys = (
        needs.c.quarter,
        needs.c.item_id,
        needs.c.category,
        needs.c.kind,
        needs.c.vehicle_id,
        needs.c.vendor_id,
    )
    rows = session.execute(
        sa.select(
            *keys,
            sa.func.sum(needs.c.quantity),
            sa.func.sum(needs.c.quantity * needs.c.overdue),
            sa.func.sum(needs.c.spend),
            sa.func.count(sa.distinct(needs.c.district_id)),
        ).group_by(*keys)
    ).all()
    items = _by_id(session, CatalogItem, {r[1] for r in rows})
    vehicles = _by_id(session, ContractVehicle, {r[4] for r in rows})
    vendors = _by_id(session, Vendor, {r[5] for r in rows})
    lines = []
    for q, item_id, category, kind, vehicle_id, vendor_id, qty, late, spend, n in rows:
        item = items.get(item_id)
        kind_value = _kind(kind)
        lines.append(
            BidLine(
                quarter=quarters[int(q)],
                sku=item.sku if item else "",
                item=item.name if item else "",
                category=category or "",
                kind=kind_value,
                unit=pivot.UNIT_OF_KIND[kind_value],
                vendor=vendors[vendor_id].name if vendor_id in vendors else "",
                vehicle=(
                    vehicles[vehicle_id].contract_number
                    if vehicle_id in vehicles
                    else ""
                ),
                units=int(qty or 0),
                overdue_units=int(late or 0),
                spend=_money(spend),
                districts=int(n),
            )
        )
    lines.sort(
        key=lambda ln: (
            ln.quarter.key,
            ln.vendor.casefold(),
            ln.vehicle,
            ln.sku,
            ln.category,
            ln.kind,
        )
    )
    return lines


def _by_id(session: Session, model: Any, ids: set[Any]) -> dict[int, Any]:
    wanted = sorted(int(i) for i in ids if i is not None)
    if not wanted:
        return {}
    return {
        int(obj.id): obj
        for obj in session.exec(select(model).where(col(model.id).in_(wanted)))
    }


__all__ = [
    "GROUPS",
    "Pipeline",
    "bid_lines",
    "districts_behind",
    "filter_options",
    "pipeline",
]
