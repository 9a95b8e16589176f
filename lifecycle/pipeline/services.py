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


# Each kind of need and the record its vendor and vehicle come from when it has no
# catalog item: refreshes none (a device without a catalog item has no vendor to bid).
BRANCHES: tuple[tuple[ObligationKind, Any], ...] = (
    (ObligationKind.REFRESH, None),
    (ObligationKind.LICENSE_RENEWAL, License),
    (ObligationKind.CONTRACT_RENEWAL, ServiceContract),
)


def _branch(
    query: Query,
    quarters: Sequence[pivot.Quarter],
    today: date,
    kind: ObligationKind,
    subject: Any,
) -> Any:
    """One kind's needs in the quarters shown (overdue ones in the first), already
    added up per district, item, category, quarter and own vendor and vehicle: the
    hundreds of thousands of refreshes shrink before anything is joined to them."""
    o = Obligation
    due = col(o.due_date)
    quarter = sa.case(
        *[(due < q.end, sa.literal(i)) for i, q in enumerate(quarters)], else_=None
    )
    own_vendor: Any = sa.cast(sa.null(), sa.Integer)
    own_vehicle: Any = sa.cast(sa.null(), sa.Integer)
    if subject is not None:
        own_vendor, own_vehicle = col(subject.vendor_id), col(subject.vehicle_id)
    keys: tuple[Any, ...] = (
        col(o.district_id).label("district_id"),
        col(o.kind).label("kind"),
        col(o.category).label("category"),
        col(o.catalog_item_id).label("item_id"),
        own_vendor.label("own_vendor"),
        own_vehicle.label("own_vehicle"),
        quarter.label("quarter"),
        sa.case((due < today, 1), else_=0).label("overdue"),
    )
    stmt = sa.select(
        *keys,
        sa.func.sum(col(o.quantity)).label("quantity"),
        sa.func.sum(col(o.estimated_cost)).label("spend"),
    ).select_from(o)
    if subject is not None:
        stmt = stmt.join(subject, col(subject.id) == col(o.subject_id))
    stmt = stmt.where(
        col(o.kind) == kind,
        among(col(o.state), NEEDS),
        due < quarters[-1].end,
    )
    if query.district_id is not None:
        stmt = stmt.where(col(o.district_id) == query.district_id)
    if query.category is not None:
        stmt = stmt.where(col(o.category) == query.category)
    return stmt.group_by(*[k.element for k in keys])


def _base(query: Query, quarters: Sequence[pivot.Quarter], today: date) -> Any:
    """The needs in the quarters shown, per district and group, with the columns the
    aggregates read and every filter applied: a CTE, so a statement that reads it
    several times scans the obligations once."""
    branches = [
        _branch(query, quarters, today, kind, subject)
        for kind, subject in BRANCHES
        if query.kind is None or query.kind == kind.value
    ]
    pre = sa.union_all(*branches).subquery("pre")
    item = sa.orm.aliased(CatalogItem)
    veh = sa.orm.aliased(ContractVehicle)
    vendor = sa.func.coalesce(col(veh.vendor_id), pre.c.own_vendor)
    vehicle = sa.func.coalesce(col(item.vehicle_id), pre.c.own_vehicle)
    group = {
        "vendor": vendor,
        "vehicle": vehicle,
        "item": pre.c.item_id,
        "category": pre.c.category,
    }[query.group]
    stmt = (
        sa.select(
            sa.func.coalesce(sa.cast(group, sa.String), "").label("key"),
            pre.c.quarter,
            pre.c.kind,
            pre.c.overdue,
            pre.c.quantity,
            pre.c.spend,
            pre.c.district_id,
            pre.c.item_id,
            vehicle.label("vehicle_id"),
            vendor.label("vendor_id"),
            pre.c.category,
        )
        .select_from(pre)
        .outerjoin(item, col(item.id) == pre.c.item_id)
        .outerjoin(veh, col(veh.id) == col(item.vehicle_id))
    )
    if query.vendor_id is not None:
        stmt = stmt.where(vendor == query.vendor_id)
    if query.vehicle_id is not None:
        stmt = stmt.where(vehicle == query.vehicle_id)
    return stmt.cte("needs")


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
    """The table of groups × quarters: one statement (the sums and the district
    counts) and one for the groups' names."""
    require_reader(user)
    district = _district(session, user, query.district_id)
    today = today or today_utc()
    quarters = pivot.quarters_from(today, query.quarters)
    needs = _base(query, quarters, today)
    facts: list[pivot.Fact] = []
    districts: dict[tuple[str | None, int | None], int] = {}
    for part, key, q, kind, overdue, qty, spend, n in session.execute(
        _sums_and_counts(needs)
    ):
        if part == "sum":
            facts.append(
                pivot.Fact(
                    key,
                    int(q),
                    _kind(kind),
                    bool(overdue),
                    int(qty or 0),
                    _money(spend),
                )
            )
        else:
            districts[(key, None if q is None else int(q))] = int(n)
    table = pivot.build(
        quarters,
        facts,
        group_labels(session, query.group, {f.key for f in facts}),
        districts=districts,
        sort=query.sort,
    )
    return Pipeline(query, today, table, district)


@dataclass(frozen=True, slots=True)
class Shown:
    """What a pipeline request covers, without adding anything up: its day, its
    quarters and the district it is filtered to (404 when there is no such one)."""

    today: date
    quarters: list[pivot.Quarter]
    district: District | None


def shown(
    session: Session, user: User, query: Query, *, today: date | None = None
) -> Shown:
    require_reader(user)
    district = _district(session, user, query.district_id)
    today = today or today_utc()
    return Shown(today, pivot.quarters_from(today, query.quarters), district)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _sums_and_counts(needs: Any) -> Any:
    """One statement: the sums per group, quarter, kind and overdue ("sum" rows), and
    how many districts are behind each cell, row, column and the whole table ("n"
    rows: counts of distinct districts cannot be added up from the cells)."""
    n = sa.func.count(sa.distinct(needs.c.district_id))
    none_text = sa.cast(sa.null(), sa.String)
    none_int = sa.cast(sa.null(), sa.Integer)
    none_money = sa.cast(sa.null(), sa.Numeric(14, 2))
    sums = sa.select(
        sa.literal("sum").label("part"),
        needs.c.key,
        needs.c.quarter,
        sa.cast(needs.c.kind, sa.String).label("kind"),
        needs.c.overdue,
        sa.func.sum(needs.c.quantity).label("quantity"),
        sa.func.sum(needs.c.spend).label("spend"),
        none_int.label("n"),
    ).group_by(needs.c.key, needs.c.quarter, needs.c.kind, needs.c.overdue)

    def counts(key: Any, quarter: Any, *group: Any) -> Any:
        stmt = sa.select(
            sa.literal("n"), key, quarter, none_text, none_int, none_int, none_money, n
        )
        return stmt.group_by(*group) if group else stmt

    return sa.union_all(
        sums,
        counts(needs.c.key, needs.c.quarter, needs.c.key, needs.c.quarter),
        counts(needs.c.key, none_int, needs.c.key),
        counts(none_text, needs.c.quarter, needs.c.quarter),
        counts(none_text, none_int),
    )


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
