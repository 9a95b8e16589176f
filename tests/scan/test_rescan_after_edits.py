"""Every edit of a license or a service contract schedules the district's debounced
rescan, as device edits do, so its obligations and reminders are current shortly after
(one scan however many edits come within the window)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlmodel import Session

from lifecycle.agreements import services as agreements
from lifecycle.agreements import terms
from lifecycle.agreements.contracts import services as contracts
from lifecycle.agreements.licenses import services as licenses
from lifecycle.enums import RenewalType
from lifecycle.models import LicenseCreate, LicenseUpdate, ServiceContractUpdate
from lifecycle.work.queue import get_queue, get_redis
from tests import factories
from tests.factories import World


def rescans(app: Flask, district_id: int) -> list[str]:
    registry = get_queue("default", get_redis(app)).scheduled_job_registry
    return [j for j in registry.get_job_ids() if j.startswith(f"rescan-{district_id}-")]


@pytest.fixture
def lic(db: Session, world: World):
    made = factories.make_license(
        db, world.a.district, renewal_type=RenewalType.EXPRESS
    )
    db.commit()
    return made


@pytest.fixture
def contract(db: Session, world: World):
    made = factories.make_contract(db, world.a.district)
    db.commit()
    return made


EDITS = {
    "license created": lambda db, w, lic, c: licenses.create_license(
        db,
        user=w.a.it,
        data=LicenseCreate(
            product="Typing Club",
            seats=100,
            term_start=date(2026, 8, 1),
            initial_term_months=12,
            renewal_term_months=12,
            renewal_type=RenewalType.EXPRESS,
            notice_days=30,
            price_per_seat=Decimal("3.00"),
        ),
    ),
    "license updated": lambda db, w, lic, c: licenses.update_license(
        db, user=w.a.it, lic=lic, data=LicenseUpdate(notes="moved", version=lic.version)
    ),
    "licenses bulk": lambda db, w, lic, c: licenses.bulk_update(
        db, user=w.a.it, ids=[lic.id], action="renewal_type", value="tacit"
    ),
    "license renewed": lambda db, w, lic, c: terms.renew(
        db, user=w.a.it, subject="license", obj=lic, version=lic.version
    ),
    "license cancelled": lambda db, w, lic, c: terms.set_cancelled(
        db, user=w.a.it, subject="license", obj=lic, version=lic.version, cancelled=True
    ),
    "license deleted": lambda db, w, lic, c: agreements.delete_agreement(
        db, user=w.a.it, subject="license", obj=lic
    ),
    "contract updated": lambda db, w, lic, c: contracts.update_contract(
        db,
        user=w.a.it,
        contract=c,
        data=ServiceContractUpdate(notice_days=90, version=c.version),
    ),
    "contracts bulk": lambda db, w, lic, c: contracts.bulk_update(
        db, user=w.a.it, ids=[c.id], action="cancel", value=None
    ),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_an_agreement_edit_schedules_the_district_rescan(
    app, db, world, lic, contract, edit
):
    assert rescans(app, world.a.district.id) == []
    EDITS[edit](db, world, lic, contract)
    db.commit()
    assert len(rescans(app, world.a.district.id)) == 1
    assert rescans(app, world.b.district.id) == []
