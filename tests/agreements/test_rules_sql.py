"""Parity: the set-based term SQL agrees with the pure rules on the same worked cases.

Each case is driven through agreements/rules.py and through the scan's statements
(agreements/advance.py stores the term fields, agreements/sql.py prices the terms), on
SQLite and on PostgreSQL, as tests/scan/test_refresh_sql.py does for device refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from lifecycle.agreements import rules
from lifecycle.agreements.advance import advance_agreements
from lifecycle.agreements.sql import term_lines
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import Agreement, License, ServiceContract, TermRecord
from tests import factories

d = date.fromisoformat
TACIT, EXPRESS, NONE = RenewalType.TACIT, RenewalType.EXPRESS, RenewalType.NONE
MONTHLY_31 = ("2027-01-31", 1, 1)  # terms start 31 Jan, 28 Feb, 31 Mar, 30 Apr…
LEAP = ("2028-02-29", 12, 12)
YEARLY = ("2025-01-01", 12, 12)
LONG_FIRST = ("2025-08-15", 36, 12)


@dataclass(frozen=True)
class Case:
    """An agreement's rules, the terms on record, and the day it is looked at."""

    rules: tuple[str, int, int]
    kind: RenewalType
    notice: int
    today: str
    renewed_through: int = 1  # express terms on record beyond term 1
    cancelled: bool = False
    prices: dict[int, str] = field(default_factory=dict)  # recorded prices


CASES = [
    pytest.param(Case(MONTHLY_31, TACIT, 0, "2027-03-15"), id="31 Jan monthly, term 2"),
    pytest.param(Case(MONTHLY_31, TACIT, 0, "2027-05-31"), id="31 Jan monthly, term 5"),
    pytest.param(Case(MONTHLY_31, TACIT, 10, "2027-03-25"), id="notice passed: next"),
    pytest.param(
        Case(MONTHLY_31, TACIT, 45, "2027-03-15"), id="notice longer than a term"
    ),
    pytest.param(
        Case(MONTHLY_31, TACIT, 500, "2027-02-01"), id="notice 500 days, monthly"
    ),
    pytest.param(Case(LEAP, TACIT, 30, "2029-02-01"), id="29 Feb start, notice passed"),
    pytest.param(Case(LEAP, TACIT, 30, "2031-03-01"), id="29 Feb start, term 4"),
    pytest.param(Case(YEARLY, TACIT, 60, "2027-11-02"), id="yearly, committed ahead"),
    pytest.param(Case(LONG_FIRST, TACIT, 90, "2028-09-01"), id="36-month first term"),
    pytest.param(
        Case(MONTHLY_31, EXPRESS, 0, "2027-04-10", renewed_through=3),
        id="express renewed through 3",
    ),
    pytest.param(
        Case(MONTHLY_31, EXPRESS, 0, "2027-04-30", renewed_through=3),
        id="express lapsed after 3",
    ),
    pytest.param(
        Case(YEARLY, EXPRESS, 0, "2025-06-01", renewed_through=3, prices={3: "950"}),
        id="express renewed ahead at a new price",
    ),
    pytest.param(Case(LEAP, EXPRESS, 0, "2029-02-28"), id="express lapsed"),
    pytest.param(Case(LEAP, NONE, 30, "2028-06-01"), id="none, term 1"),
    pytest.param(Case(LEAP, NONE, 30, "2029-03-01"), id="none, ended"),
    pytest.param(
        Case(YEARLY, TACIT, 60, "2025-06-01", cancelled=True), id="tacit, cancelled"
    ),
]
BASE, ESCALATOR = Decimal("1000.00"), Decimal("1.00")


def _arrange(db: Session, world: factories.World, case: Case) -> ServiceContract:
    """The case as a contract loaded bare (no derived fields: the scan derives them)."""
    start, initial, renewal = case.rules
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=d(start),
        initial_term_months=initial,
        renewal_term_months=renewal,
        renewal_type=case.kind,
        notice_days=case.notice,
        cost_per_period=BASE,
        escalator_pct=ESCALATOR,
        status=AgreementStatus.CANCELLED if case.cancelled else AgreementStatus.ACTIVE,
    )
    for k in range(2, case.renewed_through + 1):
        t = rules.term(d(start), initial, renewal, k)
        db.add(_record(world, contract, t, Decimal(case.prices.get(k, "1000.00"))))
    db.commit()
    return contract


def _record(world, contract, t: rules.Term, price: Decimal) -> TermRecord:
    return TermRecord(
        district_id=world.a.district.id,
        subject_type="contract",
        subject_id=contract.id,
        term_number=t.number,
        start=t.start,
        end=t.end,
        price=price,
    )


def _pure(case: Case) -> rules.TermState:
    start, initial, renewal = case.rules
    return rules.derive(
        term_start=d(start),
        initial_months=initial,
        renewal_months=renewal,
        renewal_type=case.kind,
        notice_days=case.notice,
        today=d(case.today),
        renewed_through=case.renewed_through,
        cancelled=case.cancelled,
    )


@pytest.mark.parametrize("case", CASES)
def test_the_scan_stores_the_term_fields_the_rules_derive(db, world, case):
    contract = _arrange(db, world, case)
    advance_agreements(db, district_id=world.a.district.id, today=d(case.today))
    db.commit()
    db.refresh(contract)
    state = _pure(case)

    stored = (
        contract.current_term_number,
        contract.current_term_start,
        contract.current_term_end,
        contract.decide_by,
        contract.status,
    )
    assert stored == (
        state.number,
        state.start,
        state.end,
        state.decide_by,
        state.status,
    )
    if state.status is AgreementStatus.ACTIVE:
        assert contract.decision_term_number == state.decision_term


@pytest.mark.parametrize("case", CASES)
def test_term_lines_price_and_mark_the_terms_as_the_rules_do(db, world, case):
    """Every term from today's to a horizon two years of terms ahead (and so escalated
    many terms ahead): its dates, its price and whether the district is committed."""
    contract = _arrange(db, world, case)
    today = d(case.today)
    advance_agreements(db, district_id=world.a.district.id, today=today)
    db.commit()
    state = _pure(case)
    start, initial, renewal = case.rules
    horizon = rules.term(d(start), initial, renewal, state.number + 24).start
    records = {
        k: rules.Priced(Decimal(case.prices.get(k, "1000.00")))
        for k in range(2, case.renewed_through + 1)
    }
    renews = state.status is AgreementStatus.ACTIVE and case.kind is not NONE
    last = state.number + 24 if renews else state.number
    prices = rules.term_prices(
        current=state.number,
        now=rules.Priced(_current_price(db, contract)),
        escalator_pct=ESCALATOR,
        records=records,
        through=last,
    )

    lines = term_lines(
        db,
        district_id=world.a.district.id,
        until=horizon,
        subject_type="contract",
        ids=[contract.id],
    )

    expected = [
        (
            k,
            rules.term(d(start), initial, renewal, k).start,
            rules.term(d(start), initial, renewal, k).end,
            prices[k].price,
            k == state.number or k <= (state.decision_term or state.number),
        )
        for k in range(state.number, last + 1)
    ]
    assert [(x.number, x.start, x.end, x.price, x.committed) for x in lines] == expected


def _current_price(db: Session, contract: ServiceContract) -> Decimal:
    db.refresh(contract)
    return contract.cost_per_period


@pytest.mark.parametrize("months", [1, 12], ids=["monthly", "yearly"])
@pytest.mark.parametrize("ahead", [1, 6, 12, 40])
def test_a_price_many_terms_ahead_compounds_term_by_term(db, world, months, ahead):
    """However far ahead: today's price × 1.01 for every term since, rounded once."""
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=d("2026-01-01"),
        initial_term_months=months,
        renewal_term_months=months,
        renewal_type=TACIT,
        notice_days=0,
        cost_per_period=BASE,
        escalator_pct=ESCALATOR,
    )
    db.commit()
    advance_agreements(db, district_id=world.a.district.id, today=d("2026-01-15"))
    db.commit()
    until = rules.term(d("2026-01-01"), months, months, 1 + ahead).start

    lines = term_lines(db, district_id=world.a.district.id, until=until)

    mine = [x for x in lines if x.subject_id == contract.id]
    assert [x.number for x in mine] == list(range(1, ahead + 2))
    assert mine[-1].price == rules.escalated_cost(BASE, ESCALATOR, ahead)
    assert [x.committed for x in mine[:2]] == [True, False]


def test_a_license_term_keeps_its_seats_and_price_unless_renewed_otherwise(db, world):
    lic = factories.make_license(
        db,
        world.a.district,
        term_start=d("2025-07-01"),
        seats=100,
        price_per_seat=Decimal("5.00"),
        renewal_type=EXPRESS,
    )
    t = rules.term(d("2025-07-01"), 12, 12, 2)
    db.add(
        TermRecord(
            district_id=world.a.district.id,
            subject_type="license",
            subject_id=lic.id,
            term_number=2,
            start=t.start,
            end=t.end,
            price=Decimal("630.00"),
            seats=120,
        )
    )
    db.commit()
    advance_agreements(db, district_id=world.a.district.id, today=d("2026-01-15"))
    db.commit()

    lines = term_lines(
        db,
        district_id=world.a.district.id,
        until=d("2028-07-01"),
        subject_type="license",
        ids=[lic.id],
    )

    assert [(x.number, x.price, x.seats, x.committed) for x in lines] == [
        (1, Decimal("500.00"), 100, True),
        (2, Decimal("630.00"), 120, True),
        (3, Decimal("630.00"), 120, False),
        (4, Decimal("630.00"), 120, False),
    ]
    pure = rules.term_prices(
        current=1,
        now=rules.Priced(Decimal("500.00"), 100),
        escalator_pct=0,
        records={2: rules.Priced(Decimal("630.00"), 120)},
        through=4,
    )
    assert [(x.price, x.seats) for x in lines] == [
        (p.price, p.seats) for p in pure.values()
    ]


def test_every_kind_of_agreement_has_lines(db, world):
    """One statement covers licenses and contracts: a forecast calls it once."""
    factories.make_license(db, world.a.district)
    factories.make_contract(db, world.a.district)
    factories.make_contract(db, world.b.district)
    db.commit()
    for district in (world.a.district, world.b.district):
        advance_agreements(db, district_id=district.id, today=d("2026-01-15"))
    db.commit()

    lines = term_lines(db, district_id=world.a.district.id, until=d("2027-12-31"))

    kinds: dict[str, type[Agreement]] = {
        "license": License,
        "contract": ServiceContract,
    }
    assert {x.subject_type for x in lines} == set(kinds)
    for x in lines:
        assert db.get(kinds[x.subject_type], x.subject_id).district_id == (
            world.a.district.id
        )
