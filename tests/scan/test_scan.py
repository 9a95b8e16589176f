"""The set-based scan: worked examples on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import pytest
from sqlmodel import col, select

from lifecycle.agreements.advance import TACIT_STEP, _tacit_renewal
from lifecycle.enums import (
    AgreementStatus,
    DeviceStatus,
    ObligationKind,
    ObligationState,
    RenewalType,
)
from lifecycle.models import (
    CategoryPolicy,
    Device,
    License,
    Obligation,
    ServiceContract,
    TermRecord,
)
from lifecycle.scan import obligations as ob
from lifecycle.scan.engine import scan_district
from tests import factories

TODAY = date(2026, 11, 26)


def obligations(db, **where):
    db.expire_all()
    stmt = select(Obligation)
    for key, value in where.items():
        stmt = stmt.where(col(getattr(Obligation, key)) == value)
    return db.exec(stmt.order_by(col(Obligation.id))).all()


def term_history(db, contract):
    """The contract's term records, in term order."""
    return db.exec(
        select(TermRecord)
        .where(
            col(TermRecord.subject_type) == "contract",
            col(TermRecord.subject_id) == contract.id,
        )
        .order_by(col(TermRecord.term_number))
    ).all()


def scan(db, world, today=TODAY):
    result = scan_district(db, district_id=world.a.district.id, today=today)
    db.commit()
    return result


def test_tacit_contract_renews_from_its_original_start_and_moves_its_decide_by(
    db, world
):
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=date(2025, 1, 1),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        cost_per_period=Decimal("12000.00"),
        escalator_pct=Decimal("3.00"),
    )
    db.commit()
    scan(db, world, today=date(2027, 3, 1))  # after two renewals
    db.refresh(contract)
    assert contract.current_term_number == 3
    assert (contract.current_term_start, contract.current_term_end) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
    )
    assert contract.decide_by == date(2027, 11, 1)  # moved with the new term end
    assert contract.cost_per_period == Decimal(
        "12730.80"
    )  # 12000 × 1.03², recorded per term
    history = term_history(db, contract)
    assert [(h.term_number, h.start, h.price) for h in history] == [
        (2, date(2026, 1, 1), Decimal("12360.00")),
        (3, date(2027, 1, 1), Decimal("12730.80")),
    ]
    (renewal,) = obligations(
        db, subject_type="contract", state=ObligationState.UPCOMING
    )
    assert renewal.term_number == 3
    assert renewal.decide_by == date(2027, 11, 1)
    assert renewal.due_date == date(
        2028, 1, 1
    )  # the new term starts: FY2028 (July start)
    assert renewal.fiscal_year == 2028
    assert renewal.estimated_cost == Decimal("13112.72")  # next term: × 1.03


def test_a_contract_many_terms_behind_catches_up_term_by_term(db, world):
    """33 monthly terms missed (more than one round enters): each recorded with its
    own end from the original start and its price escalated and rounded per term."""
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=date(2024, 1, 31),
        initial_term_months=1,
        renewal_term_months=1,
        renewal_type=RenewalType.TACIT,
        notice_days=0,
        cost_per_period=Decimal("1000.00"),
        escalator_pct=Decimal("1.00"),
    )
    db.commit()
    version = contract.version
    result = scan(db, world)
    db.refresh(contract)
    assert contract.current_term_number == 34
    assert (contract.current_term_start, contract.current_term_end) == (
        date(2026, 10, 31),
        date(2026, 11, 29),
    )
    prices = [Decimal("1000.00")]
    for _ in range(33):
        prices.append(
            (prices[-1] * Decimal("1.01")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        )
    history = term_history(db, contract)
    assert [h.term_number for h in history] == list(range(2, 35))
    assert [h.price for h in history] == prices[1:]
    assert [(h.start, h.end) for h in history[:3]] == [
        (date(2024, 2, 29), date(2024, 3, 30)),  # each end from 31 January, not chained
        (date(2024, 3, 31), date(2024, 4, 29)),
        (date(2024, 4, 30), date(2024, 5, 30)),
    ]
    assert all(a.end + timedelta(days=1) == b.start for a, b in pairwise(history))
    assert contract.cost_per_period == prices[-1]
    assert contract.version == version + 33  # as one write per term
    assert result.agreements.initialised == 1
    assert result.agreements.renewed == math.ceil(33 / TACIT_STEP)
    assert contract.decide_by == date(2026, 11, 29)


def test_monthly_terms_from_31_january_never_drift(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2027, 1, 31),
        initial_term_months=1,
        renewal_term_months=1,
        renewal_type=RenewalType.TACIT,
        notice_days=0,
    )
    db.commit()
    scan(db, world, today=date(2027, 4, 1))
    db.refresh(lic)
    assert lic.current_term_number == 3
    assert (lic.current_term_start, lic.current_term_end) == (
        date(2027, 3, 31),
        date(2027, 4, 29),
    )
    scan(db, world, today=date(2027, 6, 15))
    db.refresh(lic)
    assert lic.current_term_start == date(2027, 5, 31)


def test_express_license_lapses_and_then_has_no_obligation(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2025, 7, 1),
        initial_term_months=12,
        renewal_type=RenewalType.EXPRESS,
    )
    db.commit()
    scan(db, world, today=date(2026, 5, 1))
    (open_,) = obligations(db, subject_type="license")
    assert (
        open_.decide_by == date(2026, 6, 30) and open_.state == ObligationState.UPCOMING
    )
    scan(db, world, today=date(2026, 7, 2))
    db.refresh(lic)
    assert lic.status == AgreementStatus.LAPSED
    (closed,) = obligations(db, subject_type="license")
    assert closed.state == ObligationState.LAPSED
    scan(db, world, today=date(2027, 7, 2))
    assert (
        len(obligations(db, subject_type="license")) == 1
    )  # nothing new after lapsing


def test_committed_tacit_term_and_the_next_decision_both_show(db, world):
    factories.make_license(
        db,
        world.a.district,
        term_start=date(2026, 1, 1),
        initial_term_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=90,
        seats=100,
        price_per_seat=Decimal("10"),
    )
    db.commit()
    scan(db, world)  # 26 Nov 2026: notice date 2 Oct 2026 has passed
    committed, following = sorted(
        obligations(db, subject_type="license"), key=lambda o: o.term_number
    )
    assert (committed.term_number, committed.decide_by) == (1, date(2026, 10, 2))
    assert (following.term_number, following.decide_by) == (2, date(2027, 10, 2))


def test_device_refresh_uses_aue_and_the_cohort_tier_price(db, world):
    vendor = factories.make_vendor(db)
    vehicle = factories.make_vehicle(db, world.coop, vendor)
    item = factories.make_catalog_item(
        db, vehicle, list_price=Decimal("329.00"), tiers=[(1, "329.00"), (3, "300.00")]
    )
    db.add(
        CategoryPolicy(
            district_id=world.a.district.id,
            category="chromebook",
            lifespan_months=48,
            replacement_item_id=item.id,
        )
    )
    cohort = [
        factories.make_device(
            db,
            world.a.district,
            purchase_date=date(2023, 7, 15),
            aue_date=date(2027, 6, 30),
        )
        for _ in range(3)
    ]
    lonely = factories.make_device(
        db, world.a.district, purchase_date=date(2024, 8, 1), aue_date=date(2031, 6, 30)
    )
    factories.make_device(db, world.a.district, status=DeviceStatus.RETIRED)
    db.commit()
    scan(db, world)
    refresh = {o.subject_id: o for o in obligations(db, kind=ObligationKind.REFRESH)}
    assert set(refresh) == {d.id for d in [*cohort, lonely]}
    first = refresh[cohort[0].id]
    assert first.due_date == date(2027, 6, 30) and first.fiscal_year == 2027
    assert first.estimated_cost == Decimal(
        "300.00"
    )  # 3-unit tier, this FY: no inflation
    assert refresh[lonely.id].due_date == date(2028, 8, 1)  # lifespan before AUE
    assert refresh[lonely.id].estimated_cost == Decimal("349.04")  # 329 × 1.03², FY2029


def test_rescan_changes_nothing_and_retiring_closes(db, world):
    device = factories.make_device(
        db, world.a.district, lifespan_months=48, warranty_end=date(2027, 1, 31)
    )
    factories.make_contract(db, world.a.district)
    db.commit()
    first = scan(db, world)
    assert first.changed > 0
    again = scan(db, world)
    assert again.changed == 0, again.summary()
    device.status = DeviceStatus.RETIRED
    db.commit()
    scan(db, world)
    states = {o.kind: o.state for o in obligations(db, subject_type="device")}
    assert states == {
        ObligationKind.REFRESH: "retired",
        ObligationKind.WARRANTY: "retired",
    }


def _stamps(db):
    db.expire_all()
    tables = (License, ServiceContract, Device, Obligation)
    return {
        (model.__tablename__, row.id): row.updated_at
        for model in tables
        for row in db.exec(select(model)).all()
    }


def test_a_rescan_writes_no_row_even_when_notice_periods_have_passed(db, world):
    """Tacit agreements whose notice date passed keep their decision term on a later
    term: the rescan must leave them as they are, not reset and move them again."""
    for notice_days in (30, 200, 500):  # within, past one term, past two terms
        factories.make_contract(
            db,
            world.a.district,
            term_start=date(2026, 1, 1),
            renewal_type=RenewalType.TACIT,
            notice_days=notice_days,
        )
        factories.make_license(
            db,
            world.a.district,
            term_start=date(2026, 1, 1),
            renewal_type=RenewalType.TACIT,
            notice_days=notice_days,
        )
    factories.make_license(db, world.a.district, renewal_type=RenewalType.EXPRESS)
    factories.make_device(db, world.a.district, lifespan_months=48)
    db.commit()
    scan(db, world)
    before = _stamps(db)

    again = scan(db, world)

    assert again.changed == 0, again.summary()
    assert _stamps(db) == before


def test_another_districts_records_are_untouched(db, world):
    other = factories.make_device(db, world.b.district, lifespan_months=12)
    db.commit()
    scan(db, world)
    db.refresh(other)
    assert other.refresh_due is None
    assert obligations(db, district_id=world.b.district.id) == []


def test_a_renewed_express_license_moves_into_its_recorded_term(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2025, 7, 1),
        initial_term_months=12,
        renewal_type=RenewalType.EXPRESS,
    )
    db.commit()
    scan(db, world, today=date(2026, 5, 1))
    db.add(
        TermRecord(
            district_id=world.a.district.id,
            subject_type="license",
            subject_id=lic.id,
            term_number=2,
            start=date(2026, 7, 1),
            end=date(2027, 6, 30),
            price=Decimal("2250.00"),
            seats=500,
        )
    )
    db.commit()
    scan(db, world, today=date(2026, 7, 2))
    db.refresh(lic)
    assert lic.status == AgreementStatus.ACTIVE
    assert (lic.current_term_number, lic.current_term_end) == (2, date(2027, 6, 30))
    first, second = obligations(db, subject_type="license")
    assert first.state == ObligationState.DONE
    assert (second.term_number, second.decide_by) == (2, date(2027, 6, 30))


def test_a_notice_period_longer_than_a_term_looks_further_ahead(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2026, 11, 1),
        initial_term_months=1,
        renewal_term_months=1,
        renewal_type=RenewalType.TACIT,
        notice_days=45,
    )
    db.commit()
    scan(db, world, today=date(2026, 11, 26))
    db.refresh(lic)
    # term 1 ends 30 Nov (notice 16 Oct, passed), term 2 ends 31 Dec (notice 16 Nov,
    # passed): the open decision is term 3, ending 31 Jan, notice by 17 Dec
    assert lic.decision_term_number == 3
    assert lic.decide_by == date(2026, 12, 17)


@pytest.mark.parametrize("stored", [False, True])
def test_a_notice_longer_than_a_year_of_monthly_terms_is_found_and_kept(
    db, world, stored
):
    """500 days' notice on monthly terms: the open decision is 17 terms ahead; found
    whether the row was loaded bare or saved by the app, and left alone by the next
    scan."""
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2026, 11, 1),
        initial_term_months=1,
        renewal_term_months=1,
        renewal_type=RenewalType.TACIT,
        notice_days=500,
    )
    if stored:  # as the app stores it: current term 1, decision term 1
        lic.current_term_number, lic.decision_term_number = 1, 1
        lic.current_term_start, lic.current_term_end = (
            date(2026, 11, 1),
            date(2026, 11, 30),
        )
    db.commit()
    scan(db, world, today=date(2026, 11, 26))
    db.refresh(lic)
    # term 17 ends 31 Mar 2028: notice by 17 Nov 2026, passed; term 18 ends 30 Apr 2028:
    # notice by 17 Dec 2026
    assert lic.decision_term_number == 18
    assert lic.decide_by == date(2026, 12, 17)
    again = scan(db, world, today=date(2026, 11, 26))
    assert again.changed == 0


def test_an_express_renewal_recorded_ahead_moves_the_decision(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=date(2026, 7, 1),
        initial_term_months=12,
        renewal_type=RenewalType.EXPRESS,
    )
    db.add(
        TermRecord(
            district_id=world.a.district.id,
            subject_type="license",
            subject_id=lic.id,
            term_number=2,
            start=date(2027, 7, 1),
            end=date(2028, 6, 30),
            price=Decimal("2250.00"),
            seats=500,
        )
    )
    db.commit()
    scan(db, world)
    db.refresh(lic)
    assert (lic.current_term_number, lic.decision_term_number) == (1, 2)
    assert lic.decide_by == date(2028, 6, 30)


def test_every_derivation_selects_named_columns(db):
    """The set-based selects name each column they derive, and the INSERT … SELECT
    statements are paired by those names: a reordering cannot swap two dates."""
    derivations = [ob._device_refresh_select(), ob._warranty_select()]
    for model in (License, ServiceContract):
        for committed in (False, True):
            derivations.append(ob._renewal_select(model, committed=committed))
    for derivation in derivations:
        assert sorted(derivation.selected_columns.keys()) == sorted(ob.SELECTED)
    with pytest.raises(ValueError, match="an obligation has"):
        ob._derived(due_date=None)

    for model, subject in ((License, "license"), (ServiceContract, "contract")):
        history, _move = _tacit_renewal(db, model, subject)
        assert list(history.select.selected_columns.keys()) == [
            "district_id", "subject_type", "subject_id", "term_number", "start",
            "end", "price", "seats", "recorded_at",
        ]  # fmt: skip
