"""What the forecast reads of one district, as the pure module's inputs.

Set-based: devices come grouped into cohorts by SQL (one row per set of devices the
forecast cannot tell apart), agreements' terms come priced by SQL
(agreements/sql.term_lines), and the obligations' states say what is still a need:
refreshes that are ordered are committed spend; done, lapsed or retired ones are gone
(docs/rules.md#the-multi-year-forecast).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from lifecycle.agreements.sql import term_lines
from lifecycle.budget import forecast as fc
from lifecycle.budget.fiscal import fiscal_year_bounds
from lifecycle.enums import (
    DeviceCategory,
    ObligationKind,
    ObligationState,
    category_label,
)
from lifecycle.models import (
    CatalogItem,
    CategoryPolicy,
    Device,
    District,
    License,
    Obligation,
    PriceTier,
    School,
    ServiceContract,
)
from lifecycle.refdata import aue_date, erate_c2_cycles
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.sqlfuncs import ids_in, month_start

# Still a need: the scan's open states, and in a round (not yet ordered).
NEEDS = (*OPEN_STATES, ObligationState.IN_ROUND)
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Inputs:
    plan: fc.Plan
    cohorts: list[fc.Cohort]
    terms: list[fc.Term]
    committed: list[fc.Committed]
    schools: dict[int, str]


def cohort_ref(
    category: str, school_id: int | None, funding_source: str, due: date
) -> str:
    return f"devices:{category}:{school_id or ''}:{funding_source}:{due.isoformat()}"


def _cohorts(
    session: Session, district_ids: list[int], schools: Mapping[int, str]
) -> tuple[dict[int, list[fc.Cohort]], set[int]]:
    """The districts' devices with an open refresh, grouped by every field the forecast
    reads (docs/rules.md#the-multi-year-forecast), per district."""
    model = aliased(CatalogItem, name="model_item")
    item = sa.func.coalesce(
        col(CategoryPolicy.replacement_item_id), col(Device.catalog_item_id)
    ).label("item_id")
    # Fiscal years start on the 1st of a month, so every rule the forecast applies to
    # these dates (the fiscal year, the AUE and deferral limits, lifespans in months)
    # gives the same answer for any day of the month: devices are grouped by month,
    # and by purchase cost only where no catalog item prices them.
    keys: list[sa.Label[Any]] = [
        col(Device.district_id).label("district_id"),
        col(Device.category).label("category"),
        col(Device.school_id).label("school_id"),
        col(Device.funding_source).label("funding_source"),
        item,
        sa.case(
            (item.element.is_(None), sa.func.coalesce(col(Device.purchase_cost), ZERO)),
            else_=ZERO,
        ).label("unit_cost"),
        month_start(col(Device.purchase_date)).label("purchase_date"),
        month_start(col(Device.refresh_due)).label("due"),
        col(Device.refresh_reason).label("reason"),
        month_start(col(Device.aue_date)).label("aue"),
        month_start(col(Device.eol_date)).label("eol"),
        col(Device.lifespan_months).label("own_lifespan"),
        col(model.lifespan_months).label("model_lifespan"),
    ]
    stmt = (
        sa.select(*keys, sa.func.count().label("quantity"))
        .select_from(Device)
        .join(
            Obligation,
            sa.and_(
                col(Obligation.district_id) == col(Device.district_id),
                col(Obligation.subject_type) == "device",
                col(Obligation.subject_id) == col(Device.id),
                col(Obligation.kind) == ObligationKind.REFRESH,
                col(Obligation.term_number) == 0,
                col(Obligation.state).in_(NEEDS),
            ),
        )
        .outerjoin(
            CategoryPolicy,
            sa.and_(
                col(CategoryPolicy.district_id) == col(Device.district_id),
                col(CategoryPolicy.category) == col(Device.category),
            ),
        )
        .outerjoin(model, col(model.id) == col(Device.catalog_item_id))
        .where(
            _of(session, col(Device.district_id), district_ids),
            col(Device.refresh_due).is_not(None),
        )
        .group_by(*[k.element for k in keys])
        .order_by(*[k.element for k in keys])  # a stable order: the deferral ties on it
    )
    cohorts: dict[int, list[fc.Cohort]] = {d: [] for d in district_ids}
    items = set()
    labels: dict[tuple[str, int | None], str] = {}
    for row in session.execute(stmt).mappings():
        category = str(getattr(row["category"], "value", row["category"]))
        school_id = row["school_id"]
        bought = row["purchase_date"]
        where = (category, school_id)
        if where not in labels:
            school = schools.get(school_id) if school_id else None
            labels[where] = category_label(category) + (
                f" at {school}" if school else ""
            )
        label = labels[where]
        if bought is not None:
            label += f", bought {bought:%b %Y}"
        if row["item_id"] is not None:
            items.add(int(row["item_id"]))
        funding = row["funding_source"] or ""
        cohorts[row["district_id"]].append(
            fc.Cohort(
                category=category,
                quantity=int(row["quantity"]),
                due=row["due"],
                item_id=row["item_id"],
                unit_cost=Decimal(row["unit_cost"]),
                school_id=school_id,
                funding_source=funding,
                purchase_date=bought,
                aue=row["aue"],
                eol=row["eol"],
                own_lifespan=row["own_lifespan"],
                model_lifespan=row["model_lifespan"],
                reason=row["reason"] or "lifespan",
                label=label,
                ref=cohort_ref(category, school_id, funding, row["due"]),
            )
        )
    return cohorts, items


def refresh_counts(session: Session, district_id: int) -> dict[str, int]:
    """Devices with a refresh still to plan, per category: what the scenario editor
    lists beside each category's lifespan (the devices the cohorts hold)."""
    rows = session.execute(
        sa.select(col(Device.category), sa.func.count())
        .join(
            Obligation,
            sa.and_(
                col(Obligation.district_id) == col(Device.district_id),
                col(Obligation.subject_type) == "device",
                col(Obligation.subject_id) == col(Device.id),
                col(Obligation.kind) == ObligationKind.REFRESH,
                col(Obligation.term_number) == 0,
                col(Obligation.state).in_(NEEDS),
            ),
        )
        .where(
            col(Device.district_id) == district_id, col(Device.refresh_due).is_not(None)
        )
        .group_by(col(Device.category))
    ).all()
    return {str(getattr(cat, "value", cat)): int(n) for cat, n in rows}


def policy_lifespans(session: Session, district_id: int) -> dict[str, int]:
    """The district policy's lifespan per category, where it sets one."""
    return {
        str(getattr(cat, "value", cat)): months
        for cat, months in session.execute(
            sa.select(
                col(CategoryPolicy.category), col(CategoryPolicy.lifespan_months)
            ).where(
                col(CategoryPolicy.district_id) == district_id,
                col(CategoryPolicy.lifespan_months).is_not(None),
            )
        )
    }


def _of(session: Session, column: Any, district_ids: list[int]) -> Any:
    """`column` is one of the districts' (a plain = for one)."""
    if len(district_ids) == 1:
        return column == district_ids[0]
    return ids_in(session, column, district_ids)


def _committed(
    session: Session, district_ids: list[int]
) -> tuple[dict[int, list[fc.Committed]], set[int]]:
    """Ordered refreshes: spent, shown once as committed."""
    group = [
        col(Obligation.district_id),
        col(Obligation.category),
        col(Obligation.school_id),
        col(Obligation.funding_source),
        col(Obligation.catalog_item_id),
        col(Obligation.due_date),
    ]
    stmt = (
        sa.select(
            *group,
            sa.func.sum(col(Obligation.estimated_cost)),
            sa.func.sum(col(Obligation.quantity)),
        )
        .where(
            _of(session, col(Obligation.district_id), district_ids),
            col(Obligation.kind) == ObligationKind.REFRESH,
            col(Obligation.state) == ObligationState.ORDERED,
        )
        .group_by(*group)
    )
    rows = session.execute(stmt).all()
    items = {int(r[4]) for r in rows if r[4] is not None}
    found: dict[int, list[fc.Committed]] = {d: [] for d in district_ids}
    for district_id, category, school_id, funding, _item, due, amount, qty in rows:
        found[district_id].append(
            fc.Committed(
                kind="refresh",
                due=due,
                amount=Decimal(amount),
                quantity=int(qty),
                category=category,
                school_id=school_id,
                funding_source=funding or "",
                label=f"{category_label(category)} on order",
                ref=cohort_ref(category, school_id, funding or "", due),
            )
        )
    return found, items


def _ordered_renewals(
    session: Session, district_ids: list[int]
) -> set[tuple[str, int, int]]:
    """(subject type, id, term) of renewals ordered through a round: committed terms."""
    rows = session.execute(
        sa.select(
            col(Obligation.subject_type),
            col(Obligation.subject_id),
            col(Obligation.term_number),
        ).where(
            _of(session, col(Obligation.district_id), district_ids),
            col(Obligation.kind).in_(
                [ObligationKind.LICENSE_RENEWAL, ObligationKind.CONTRACT_RENEWAL]
            ),
            col(Obligation.state) == ObligationState.ORDERED,
        )
    ).all()
    # a renewal obligation is about the term that ends; the order pays the next one
    return {(kind, int(subject), int(number) + 1) for kind, subject, number in rows}


def _agreements(
    session: Session, district_ids: list[int]
) -> tuple[dict[tuple[str, int], dict[str, Any]], set[int]]:
    """What each term of a license or contract shares with the agreement's others:
    the Term fields that are not the term's own, by (kind, id)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    items = set()
    for row in session.execute(
        sa.select(
            col(License.id),
            col(License.product),
            col(License.seats_used),
            col(License.price_per_seat),
            col(License.school_id),
            col(License.funding_source),
            col(License.catalog_item_id),
            sa.func.coalesce(col(CatalogItem.erate_c2_eligible), False).label("c2"),
        )
        .outerjoin(CatalogItem, col(CatalogItem.id) == col(License.catalog_item_id))
        .where(_of(session, col(License.district_id), district_ids))
    ):
        if row.catalog_item_id:
            items.add(int(row.catalog_item_id))
        found[("license", row.id)] = {
            "seats_used": row.seats_used,
            "price_per_seat": Decimal(row.price_per_seat),
            "category": "license",
            "school_id": row.school_id,
            "funding_source": row.funding_source or "",
            "c2": bool(row.c2),
            "label": row.product,
        }
    for row in session.execute(
        sa.select(
            col(ServiceContract.id),
            col(ServiceContract.name),
            col(ServiceContract.coverage_category),
            col(ServiceContract.coverage_school_id),
            col(ServiceContract.funding_source),
            col(ServiceContract.erate_c2_eligible),
        ).where(_of(session, col(ServiceContract.district_id), district_ids))
    ):
        category = row.coverage_category
        found[("contract", row.id)] = {
            "category": str(getattr(category, "value", category) or "service"),
            "school_id": row.coverage_school_id,
            "funding_source": row.funding_source or "",
            "c2": bool(row.erate_c2_eligible),
            "label": row.name,
        }
    return found, items


def _terms(
    session: Session, district_ids: list[int], until: date
) -> tuple[dict[int, list[fc.Term]], set[int]]:
    agreements, items = _agreements(session, district_ids)
    ordered = _ordered_renewals(session, district_ids)
    terms: dict[int, list[fc.Term]] = {d: [] for d in district_ids}
    lines = (
        term_lines(session, district_id=district_ids[0], until=until)
        if len(district_ids) == 1
        else term_lines(session, district_ids=district_ids, until=until)
    )
    for line in lines:
        key = (line.subject_type, line.subject_id)
        committed = line.committed or (*key, line.number) in ordered
        terms[line.district_id].append(
            fc.Term(
                kind=line.subject_type,
                subject_id=line.subject_id,
                number=line.number,
                start=line.start,
                price=line.price,
                committed=committed,
                recorded=line.recorded,
                seats=line.seats if line.subject_type == "license" else None,
                **agreements[key],
            )
        )
    return terms, items


def _items(session: Session, ids: set[int]) -> dict[int, fc.Item]:
    if not ids:
        return {}
    tiers: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for item_id, min_qty, price in session.execute(
        sa.select(
            col(PriceTier.catalog_item_id),
            col(PriceTier.min_qty),
            col(PriceTier.unit_price),
        ).where(col(PriceTier.catalog_item_id).in_(sorted(ids)))
    ):
        tiers[item_id].append((int(min_qty), Decimal(price)))
    items = {}
    for item in session.execute(
        sa.select(CatalogItem).where(col(CatalogItem.id).in_(sorted(ids)))
    ).scalars():
        assert item.id is not None
        aue = (
            aue_date(item.name) if item.category == DeviceCategory.CHROMEBOOK else None
        )
        items[item.id] = fc.Item(
            id=item.id,
            name=item.name,
            list_price=Decimal(item.list_price),
            tiers=tuple(sorted(tiers[item.id])),
            lifespan_months=item.lifespan_months,
            aue=aue,
            c2=item.erate_c2_eligible,
        )
    return items


def erate_cycles() -> tuple[fc.C2Cycle, ...]:
    """The published Category Two cycles (lifecycle/refdata, with their source)."""
    return tuple(
        fc.C2Cycle(
            name=f"funding years {c.first_funding_year}–{c.last_funding_year}",
            first_funding_year=c.first_funding_year,
            last_funding_year=c.last_funding_year,
            multiplier=c.multiplier,
            floor=c.floor,
            source=c.source,
        )
        for c in erate_c2_cycles()
    )


def _by_district(
    session: Session, model: Any, columns: list[Any], district_ids: list[int]
) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {d: [] for d in district_ids}
    for district_id, *values in session.execute(
        sa.select(col(model.district_id), *columns).where(
            _of(session, col(model.district_id), district_ids)
        )
    ):
        found[district_id].append(values)
    return found


def load(session: Session, district: District, *, today: date, years: int) -> Inputs:
    """Everything one district's forecast reads, in a handful of set-based queries."""
    return next(load_many(session, [district], today=lambda _d: today, years=years))


def load_many(
    session: Session,
    districts: Sequence[District],
    *,
    today: Callable[[District], date],
    years: int,
) -> Iterator[Inputs]:
    """Each district's inputs, in the order given, read together: the same handful of
    set-based queries for all of them (a cooperative's districts in chunks)."""
    if not districts:
        return
    ids = [d.id for d in districts if d.id is not None]
    assert len(ids) == len(districts)
    session.flush()
    school_rows = _by_district(session, School, [col(School.id), col(School.name)], ids)
    policy_rows = _by_district(
        session,
        CategoryPolicy,
        [col(CategoryPolicy.category), col(CategoryPolicy.lifespan_months)],
        ids,
    )
    probes = {
        d.id: fc.Plan(today=today(d), start_month=d.fy_start_month, years=years)
        for d in districts
    }
    until = max(
        fiscal_year_bounds(probe.last_fy, district.fy_start_month)[1]
        for district, probe in zip(districts, probes.values(), strict=True)
    )
    schools_by_id = {sid: name for rows in school_rows.values() for sid, name in rows}
    cohorts, cohort_items = _cohorts(session, ids, schools_by_id)
    committed, committed_items = _committed(session, ids)
    terms, license_items = _terms(session, ids, until)
    items = _items(session, cohort_items | committed_items | license_items)
    cycles = erate_cycles()
    for district in districts:
        assert district.id is not None
        probe = probes[district.id]
        plan = fc.Plan(
            today=probe.today,
            start_month=district.fy_start_month,
            years=years,
            inflation_pct=Decimal(district.inflation_pct),
            max_deferral_months=district.max_deferral_months,
            policy_lifespans={
                str(getattr(cat, "value", cat)): months
                for cat, months in policy_rows[district.id]
                if months is not None
            },
            items=items,
            erate=fc.Erate(
                enrollment=district.enrollment,
                discount_pct=Decimal(district.erate_c2_discount_pct),
                cycles=cycles,
            ),
        )
        yield Inputs(
            plan,
            cohorts[district.id],
            terms[district.id],
            committed[district.id],
            dict(school_rows[district.id]),
        )
