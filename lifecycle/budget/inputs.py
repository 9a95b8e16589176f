"""What the forecast reads of one district, as the pure module's inputs.

Set-based: devices come grouped into cohorts by SQL (one row per set of devices the
forecast cannot tell apart), agreements' terms come priced by SQL
(agreements/sql.term_lines), and the obligations' states say what is still a need:
refreshes that are ordered are committed spend; done, lapsed or retired ones are gone
(docs/rules.md#the-multi-year-forecast).
"""

from __future__ import annotations

from collections import defaultdict
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
from lifecycle.sqlfuncs import month_start

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
    session: Session, district_id: int, schools: dict[int, str]
) -> tuple[list[fc.Cohort], set[int]]:
    """The district's devices with an open refresh, grouped by every field the forecast
    reads (docs/rules.md#the-multi-year-forecast)."""
    model = aliased(CatalogItem, name="model_item")
    item = sa.func.coalesce(
        col(CategoryPolicy.replacement_item_id), col(Device.catalog_item_id)
    ).label("item_id")
    # Fiscal years start on the 1st of a month, so every rule the forecast applies to
    # these dates (the fiscal year, the AUE and deferral limits, lifespans in months)
    # gives the same answer for any day of the month: devices are grouped by month,
    # and by purchase cost only where no catalog item prices them.
    keys: list[sa.Label[Any]] = [
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
            col(Device.district_id) == district_id, col(Device.refresh_due).is_not(None)
        )
        .group_by(*[k.element for k in keys])
        .order_by(*[k.element for k in keys])  # a stable order: the deferral ties on it
    )
    cohorts, items = [], set()
    for row in session.execute(stmt).mappings():
        category = str(getattr(row["category"], "value", row["category"]))
        school = schools.get(row["school_id"]) if row["school_id"] else None
        bought = row["purchase_date"]
        label = category_label(category) + (f" at {school}" if school else "")
        if bought is not None:
            label += f", bought {bought:%b %Y}"
        if row["item_id"] is not None:
            items.add(int(row["item_id"]))
        cohorts.append(
            fc.Cohort(
                category=category,
                quantity=int(row["quantity"]),
                due=row["due"],
                item_id=row["item_id"],
                unit_cost=Decimal(row["unit_cost"]),
                school_id=row["school_id"],
                funding_source=row["funding_source"] or "",
                purchase_date=bought,
                aue=row["aue"],
                eol=row["eol"],
                own_lifespan=row["own_lifespan"],
                model_lifespan=row["model_lifespan"],
                reason=row["reason"] or "lifespan",
                label=label,
                ref=cohort_ref(
                    category, row["school_id"], row["funding_source"] or "", row["due"]
                ),
            )
        )
    return cohorts, items


def _committed(
    session: Session, district_id: int
) -> tuple[list[fc.Committed], set[int]]:
    """Ordered refreshes: spent, shown once as committed."""
    stmt = (
        sa.select(
            col(Obligation.category),
            col(Obligation.school_id),
            col(Obligation.funding_source),
            col(Obligation.catalog_item_id),
            col(Obligation.due_date),
            sa.func.sum(col(Obligation.estimated_cost)),
            sa.func.sum(col(Obligation.quantity)),
        )
        .where(
            col(Obligation.district_id) == district_id,
            col(Obligation.kind) == ObligationKind.REFRESH,
            col(Obligation.state) == ObligationState.ORDERED,
        )
        .group_by(
            col(Obligation.category),
            col(Obligation.school_id),
            col(Obligation.funding_source),
            col(Obligation.catalog_item_id),
            col(Obligation.due_date),
        )
    )
    rows = session.execute(stmt).all()
    items = {int(r[3]) for r in rows if r[3] is not None}
    found = [
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
        for category, school_id, funding, _item, due, amount, qty in rows
    ]
    return found, items


def _ordered_renewals(session: Session, district_id: int) -> set[tuple[str, int, int]]:
    """(subject type, id, term) of renewals ordered through a round: committed terms."""
    rows = session.execute(
        sa.select(
            col(Obligation.subject_type),
            col(Obligation.subject_id),
            col(Obligation.term_number),
        ).where(
            col(Obligation.district_id) == district_id,
            col(Obligation.kind).in_(
                [ObligationKind.LICENSE_RENEWAL, ObligationKind.CONTRACT_RENEWAL]
            ),
            col(Obligation.state) == ObligationState.ORDERED,
        )
    ).all()
    # a renewal obligation is about the term that ends; the order pays the next one
    return {(kind, int(subject), int(number) + 1) for kind, subject, number in rows}


def _terms(
    session: Session, district_id: int, until: date
) -> tuple[list[fc.Term], set[int]]:
    licenses = {
        row.id: row
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
            .where(col(License.district_id) == district_id)
        )
    }
    contracts = {
        row.id: row
        for row in session.execute(
            sa.select(
                col(ServiceContract.id),
                col(ServiceContract.name),
                col(ServiceContract.coverage_category),
                col(ServiceContract.coverage_school_id),
                col(ServiceContract.funding_source),
                col(ServiceContract.erate_c2_eligible),
            ).where(col(ServiceContract.district_id) == district_id)
        )
    }
    ordered = _ordered_renewals(session, district_id)
    terms = []
    for line in term_lines(session, district_id=district_id, until=until):
        committed = line.committed or (
            (line.subject_type, line.subject_id, line.number) in ordered
        )
        if line.subject_type == "license":
            lic = licenses[line.subject_id]
            terms.append(
                fc.Term(
                    kind="license",
                    subject_id=line.subject_id,
                    number=line.number,
                    start=line.start,
                    price=line.price,
                    committed=committed,
                    recorded=line.recorded,
                    seats=line.seats,
                    seats_used=lic.seats_used,
                    price_per_seat=Decimal(lic.price_per_seat),
                    category="license",
                    school_id=lic.school_id,
                    funding_source=lic.funding_source or "",
                    c2=bool(lic.c2),
                    label=lic.product,
                )
            )
        else:
            con = contracts[line.subject_id]
            category = con.coverage_category
            terms.append(
                fc.Term(
                    kind="contract",
                    subject_id=line.subject_id,
                    number=line.number,
                    start=line.start,
                    price=line.price,
                    committed=committed,
                    recorded=line.recorded,
                    category=str(getattr(category, "value", category) or "service"),
                    school_id=con.coverage_school_id,
                    funding_source=con.funding_source or "",
                    c2=bool(con.erate_c2_eligible),
                    label=con.name,
                )
            )
    items = {int(r.catalog_item_id) for r in licenses.values() if r.catalog_item_id}
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


def load(session: Session, district: District, *, today: date, years: int) -> Inputs:
    """Everything one district's forecast reads, in a handful of set-based queries."""
    assert district.id is not None
    session.flush()
    schools = dict(
        session.execute(
            sa.select(col(School.id), col(School.name)).where(
                col(School.district_id) == district.id
            )
        ).all()
    )
    policies = {
        str(getattr(cat, "value", cat)): months
        for cat, months in session.execute(
            sa.select(
                col(CategoryPolicy.category), col(CategoryPolicy.lifespan_months)
            ).where(
                col(CategoryPolicy.district_id) == district.id,
                col(CategoryPolicy.lifespan_months).is_not(None),
            )
        )
    }
    probe = fc.Plan(today=today, start_month=district.fy_start_month, years=years)
    until = fiscal_year_bounds(probe.last_fy, district.fy_start_month)[1]
    cohorts, cohort_items = _cohorts(session, district.id, schools)
    committed, committed_items = _committed(session, district.id)
    terms, license_items = _terms(session, district.id, until)
    items = _items(session, cohort_items | committed_items | license_items)
    plan = fc.Plan(
        today=today,
        start_month=district.fy_start_month,
        years=years,
        inflation_pct=Decimal(district.inflation_pct),
        max_deferral_months=district.max_deferral_months,
        policy_lifespans=policies,
        items=items,
        erate=fc.Erate(
            enrollment=district.enrollment,
            discount_pct=Decimal(district.erate_c2_discount_pct),
            cycles=erate_cycles(),
        ),
    )
    return Inputs(plan, cohorts, terms, committed, schools)
