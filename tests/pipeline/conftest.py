"""A hand-worked pipeline: two districts' needs over four quarters from 10 Feb 2027.

Quarters: Q1 2027 (with what is overdue), Q2, Q3, Q4 2027. By vendor:
  Dell   Q1 $610 (Alpha's overdue Chromebook $300 + Bravo's $310: 2 devices, 2 districts)
         Q2 $600 (Alpha, 2 devices)  Q3 $320 (Alpha, in a round)  Q4 $5,000 (Bravo's
         contract, whose own vendor is Dell; no vehicle, no catalog item)
  Google Q3 $1,000 (Bravo's 200 Workspace seats)
  total $7,530; what is ordered, lapsed, a warranty end or after Q4 2027 is not counted
  (Bravo's refresh due 5 Jan 2028 comes in with five quarters: $330 more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from sqlmodel import Session

from lifecycle.enums import ItemKind, ObligationKind, ObligationState
from lifecycle.models import (
    CatalogItem,
    ContractVehicle,
    District,
    Obligation,
    Vendor,
)
from tests import factories

TODAY = date(2027, 2, 10)
_subject = count(1000)


@dataclass
class Pipe:
    world: factories.World
    dell: Vendor
    google: Vendor
    va: ContractVehicle
    vb: ContractVehicle
    cb: CatalogItem
    gw: CatalogItem

    @property
    def alpha(self) -> District:
        return self.world.a.district

    @property
    def bravo(self) -> District:
        return self.world.b.district


def need(
    db: Session,
    district: District,
    *,
    due: date,
    cost: str,
    kind: ObligationKind = ObligationKind.REFRESH,
    item: CatalogItem | None = None,
    category: str = "chromebook",
    quantity: int = 1,
    state: ObligationState = ObligationState.UPCOMING,
    subject_type: str = "device",
    subject_id: int | None = None,
) -> Obligation:
    obligation = Obligation(
        district_id=district.id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id or next(_subject),
        term_number=0 if kind is ObligationKind.REFRESH else 1,
        due_date=due,
        decide_by=due,
        estimated_cost=Decimal(cost),
        fiscal_year=due.year + 1,
        category=category,
        catalog_item_id=item.id if item else None,
        quantity=quantity,
        state=state,
    )
    db.add(obligation)
    db.flush()
    return obligation


def arrange(db: Session, world: factories.World) -> Pipe:
    dell = factories.make_vendor(db, name="Dell Technologies")
    google = factories.make_vendor(db, name="Google")
    va = factories.make_vehicle(db, world.coop, dell, contract_number="R99-DELL")
    vb = factories.make_vehicle(db, world.coop, google, contract_number="R99-GOOG")
    cb = factories.make_catalog_item(
        db, va, sku="DELL-3120", name="Dell Chromebook 3120"
    )
    gw = factories.make_catalog_item(
        db,
        vb,
        sku="GWE-PLUS",
        name="Workspace for Education Plus",
        kind=ItemKind.LICENSE,
        category=None,
        lifespan_months=None,
    )
    a, b = world.a.district, world.b.district
    need(db, a, due=date(2026, 12, 1), cost="300.00", item=cb)  # overdue: Q1
    need(db, a, due=date(2027, 5, 1), cost="300.00", item=cb)
    need(db, a, due=date(2027, 5, 15), cost="300.00", item=cb)
    need(
        db, a, due=date(2027, 8, 1), cost="320.00", item=cb,
        state=ObligationState.IN_ROUND,
    )  # fmt: skip
    need(db, b, due=date(2027, 2, 20), cost="310.00", item=cb)
    lic = factories.make_license(
        db, b, product="Workspace", vendor_id=google.id, vehicle_id=vb.id, seats=200
    )
    need(
        db, b, due=date(2027, 8, 1), cost="1000.00", item=gw, quantity=200,
        kind=ObligationKind.LICENSE_RENEWAL, category="license",
        subject_type="license", subject_id=lic.id,
    )  # fmt: skip
    contract = factories.make_contract(db, b, vendor_id=dell.id)
    need(
        db, b, due=date(2027, 11, 30), cost="5000.00",
        kind=ObligationKind.CONTRACT_RENEWAL, category="service",
        subject_type="contract", subject_id=contract.id,
    )  # fmt: skip
    # not needs: ordered, lapsed, a warranty end; and one after the quarters shown
    need(
        db,
        a,
        due=date(2027, 5, 1),
        cost="999.00",
        item=cb,
        state=ObligationState.ORDERED,
    )
    need(
        db,
        b,
        due=date(2027, 5, 1),
        cost="999.00",
        item=cb,
        state=ObligationState.LAPSED,
    )
    need(
        db, a, due=date(2027, 5, 1), cost="0.00", item=cb, kind=ObligationKind.WARRANTY
    )
    need(db, b, due=date(2028, 1, 5), cost="330.00", item=cb)
    db.commit()
    return Pipe(world, dell, google, va, vb, cb, gw)


@pytest.fixture
def pipe(db: Session, world: factories.World) -> Pipe:
    return arrange(db, world)
