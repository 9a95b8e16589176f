"""Shared arrangements of the renewals action, page, calendar and API tests (no tests here).

Obligations come from the real scan over factory data whose dates are relative to the
district's today, so the pages (which use the real date) and the scan agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from lifecycle.enums import ObligationKind, ObligationState, RenewalType
from lifecycle.models import (
    Device,
    District,
    License,
    Obligation,
    ServiceContract,
)
from lifecycle.scan.engine import scan_district
from lifecycle.scan.jobs import district_today
from tests import factories
from tests.conftest import fresh, sign_in  # noqa: F401  (used by the renewals tests)
from tests.querycount import count_queries  # noqa: F401


@dataclass
class Arranged:
    today: date
    device: Device
    license: License
    contract: ServiceContract

    def refresh(self, db: Session) -> Obligation:
        return find(db, "device", self.device.id, ObligationKind.REFRESH)

    def warranty(self, db: Session) -> Obligation:
        return find(db, "device", self.device.id, ObligationKind.WARRANTY)

    def license_renewal(self, db: Session, term: int = 1) -> Obligation:
        return find(db, "license", self.license.id, term=term)

    def contract_renewal(self, db: Session, term: int = 1) -> Obligation:
        return find(db, "contract", self.contract.id, term=term)


def today_of(db: Session, district: District) -> date:
    found = db.get(District, district.id)
    assert found is not None
    return district_today(found)


def scan(db: Session, district: District, today: date) -> None:
    scan_district(db, district_id=district.id, today=today)  # type: ignore[arg-type]
    db.commit()


def arrange(
    db: Session, district: District, *, school_id: int | None = None
) -> Arranged:
    """A device due for refresh in ~8 months (warranty in 100 days), an express license
    and a tacit contract in the middle of their first year, scanned today."""
    today = today_of(db, district)
    device = factories.make_device(
        db,
        district,
        purchase_date=today - relativedelta(months=40),
        lifespan_months=48,
        warranty_end=today + timedelta(days=100),
        school_id=school_id,
    )
    lic = factories.make_license(
        db,
        district,
        product="Reading Suite",
        term_start=today - relativedelta(months=6),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=RenewalType.EXPRESS,
        seats=100,
        price_per_seat=Decimal("5.00"),
    )
    contract = factories.make_contract(
        db,
        district,
        name="Core switch maintenance",
        term_start=today - relativedelta(months=6),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        cost_per_period=Decimal("12000.00"),
        escalator_pct=Decimal("3.00"),
    )
    db.commit()
    scan(db, district, today)
    return Arranged(today, device, lic, contract)


def find(
    db: Session,
    subject_type: str,
    subject_id: Any,
    kind: ObligationKind | None = None,
    *,
    term: int | None = None,
) -> Obligation:
    db.expire_all()
    stmt = select(Obligation).where(
        col(Obligation.subject_type) == subject_type,
        col(Obligation.subject_id) == subject_id,
    )
    if kind is not None:
        stmt = stmt.where(col(Obligation.kind) == kind)
    if term is not None:
        stmt = stmt.where(col(Obligation.term_number) == term)
    found = db.exec(stmt).first()
    assert found is not None, (subject_type, subject_id, kind, term)
    return found


def make_obligation(db: Session, district: District, **kw: Any) -> Obligation:
    """An obligation row inserted directly (for tests about lists, not the scan)."""
    today = today_of(db, district)
    values: dict[str, Any] = {
        "district_id": district.id,
        "kind": ObligationKind.REFRESH,
        "subject_type": "device",
        "subject_id": 0,
        "term_number": 0,
        "due_date": today + timedelta(days=90),
        "decide_by": today + timedelta(days=90),
        "estimated_cost": Decimal("300.00"),
        "fiscal_year": today.year + 1,
        "state": ObligationState.UPCOMING,
    }
    values.update(kw)
    if not values["subject_id"]:
        device = factories.make_device(db, district)
        values["subject_id"] = device.id
    obligation = Obligation(**values)
    db.add(obligation)
    db.flush()
    return obligation
