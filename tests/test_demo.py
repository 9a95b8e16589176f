"""The demo data seeder: the shape a demo visitor relies on, logins, and idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pytest
from flask import Flask
from sqlmodel import Session, SQLModel, col, func, select

from lifecycle.budget import services
from lifecycle.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from lifecycle.enums import RenewalType, Role
from lifecycle.models import (
    AuditEvent,
    CatalogItem,
    CategoryPolicy,
    ContractCoveredDevice,
    Cooperative,
    Device,
    District,
    License,
    PriceTier,
    Scenario,
    ServiceContract,
    TermRecord,
    User,
)
from lifecycle.refdata import aue_date, census_district
from lifecycle.scan.jobs import run_scan
from tests.conftest import login

TODAY = date(2026, 11, 26)
DEVICES = 600


@pytest.fixture
def seeded(app: Flask) -> str:
    return seed_demo(app, devices=DEVICES, today=TODAY)


def test_districts_are_real_census_districts(seeded: str, db: Session) -> None:
    assert "10 districts" in seeded and f"{DEVICES} devices" in seeded
    districts = db.exec(select(District)).all()
    assert 8 <= len(districts) <= 12
    assert len(db.exec(select(Cooperative)).all()) == 1
    for district in districts:
        census = census_district(district.nces_id)
        assert census is not None, district.nces_id
        assert (district.name, district.state) == (census.name, census.state)
        assert district.enrollment_synthetic and district.enrollment > 0
        assert district.erate_c2_discount_pct in {20, 25, 40, 50, 60, 70, 80, 85}
    by_id = {d.nces_id: d for d in districts}
    assert by_id["4808940"].name == "Austin Independent School District"
    assert {d.state for d in districts} == {"TX", "MI", "MN"}
    months = Counter(d.fy_start_month for d in districts)
    assert months[7] >= len(districts) - 3
    assert {1, 9, 10} <= set(months)


def test_devices_spread_over_districts_by_enrollment(seeded: str, db: Session) -> None:
    rows = db.exec(
        select(District.enrollment, func.count(col(Device.id)))
        .join(Device, col(Device.district_id) == col(District.id))
        .group_by(col(District.id), col(District.enrollment))
        .order_by(col(District.enrollment).desc())
    ).all()
    assert sum(n for _, n in rows) == DEVICES
    counts = [n for _, n in rows]
    assert counts[0] == max(counts)  # the largest district has the most devices
    categories = Counter(db.exec(select(Device.category)).all())
    assert categories.most_common(1)[0][0] == "chromebook"
    assert {"laptop", "wireless_ap", "network_switch"} <= set(categories)


def test_asset_tags_and_serials_are_unique_per_district(
    seeded: str, db: Session
) -> None:
    # Bulk inserts bypass the audit hook: one summary event per district instead.
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert {e.district_id for e in events} == set(db.exec(select(District.id)))
    assert sum(int(e.summary.split()[2]) for e in events) == DEVICES
    assert all(e.summary.startswith("demo seed: ") for e in events)
    assert all(e.actor_label == "demo seed" for e in events)
    devices = db.exec(select(Device.district_id, Device.asset_tag, Device.serial)).all()
    assert len({(d, tag) for d, tag, _ in devices}) == len(devices)
    assert len({(d, serial) for d, _, serial in devices}) == len(devices)
    assert all(serial for _, _, serial in devices)
    austin = db.exec(select(District).where(District.nces_id == "4808940")).one()
    tags = db.exec(select(Device.asset_tag).where(Device.district_id == austin.id))
    assert all(tag.startswith("AISD-") for tag in tags)


def test_devices_look_like_a_real_inventory(seeded: str, db: Session) -> None:
    devices = db.exec(select(Device)).all()
    assert all(d.school_id is not None for d in devices)
    assert all(date(2018, 1, 1) <= d.purchase_date <= TODAY for d in devices)
    assert all(d.purchase_cost and d.purchase_cost > 0 for d in devices)
    for d in devices:
        assert d.warranty_end is not None and d.purchase_date is not None
        months = (d.warranty_end - d.purchase_date).days / 30.4
        assert 11 <= months <= 49
    statuses = Counter(d.status for d in devices)
    assert statuses.most_common(1)[0][0] == "in_service"
    assert "on_order" not in statuses and len(statuses) >= 4
    # Derived columns are the lifecycle scan's job.
    assert all(d.refresh_due is None for d in devices)
    assert any(d.vehicle_id for d in devices) and any(
        d.catalog_item_id for d in devices
    )


def test_chromebooks_carry_their_aue_date_at_month_end(
    seeded: str, db: Session
) -> None:
    chromebooks = db.exec(select(Device).where(Device.category == "chromebook")).all()
    assert chromebooks
    for device in chromebooks:
        assert device.aue_date is not None, device.model
        assert device.aue_date == aue_date(device.model)
        assert (device.aue_date + timedelta(days=1)).day == 1
    others = db.exec(select(Device).where(Device.category != "chromebook")).all()
    assert all(d.aue_date is None for d in others)
    # A visible cliff: a good share of the fleet loses updates in June 2027.
    cliff = [d for d in chromebooks if d.aue_date == date(2027, 6, 30)]
    assert len(cliff) >= len(chromebooks) // 20


def test_catalog_has_vehicles_tiers_and_policies(seeded: str, db: Session) -> None:
    items = db.exec(select(CatalogItem)).all()
    assert len({i.vehicle_id for i in items}) == 3
    assert any(i.erate_c2_eligible and i.category == "wireless_ap" for i in items)
    names = {i.name for i in items if i.category == "chromebook" and i.kind == "device"}
    assert names and all(aue_date(name) for name in names)
    tiers = db.exec(select(PriceTier).order_by(PriceTier.min_qty)).all()
    per_item = Counter(t.catalog_item_id for t in tiers)
    assert all(per_item[i.id] >= 2 for i in items)
    chromebook = next(i for i in items if i.name == "Lenovo 100e Chromebook Gen 4")
    prices = [t.unit_price for t in tiers if t.catalog_item_id == chromebook.id]
    assert prices[0] == chromebook.list_price and prices == sorted(prices, reverse=True)
    policies = db.exec(select(CategoryPolicy)).all()
    districts = db.exec(select(District)).all()
    assert len(policies) >= 5 * len(districts)
    assert all(p.replacement_item_id and p.lifespan_months for p in policies)


def test_licenses_and_contracts(seeded: str, db: Session) -> None:
    licenses = db.exec(select(License)).all()
    per_district = Counter(lic.district_id for lic in licenses)
    assert all(10 <= n <= 20 for n in per_district.values())
    kinds = {lic.renewal_type for lic in licenses}
    assert {RenewalType.TACIT, RenewalType.EXPRESS} <= kinds
    assert {lic.notice_days for lic in licenses} >= {0, 30, 60, 90}
    assert all(
        lic.decide_by is None and lic.current_term_end is None for lic in licenses
    )
    assert all(0 <= lic.seats_used <= lic.seats for lic in licenses)
    contracts = db.exec(select(ServiceContract)).all()
    assert {c.renewal_type for c in contracts} >= {"tacit", "express"}
    assert any(c.erate_c2_eligible for c in contracts)
    assert {c.coverage for c in contracts} >= {"devices", "category"}
    links = db.exec(select(ContractCoveredDevice)).all()
    assert links
    device_district = dict(db.exec(select(Device.id, Device.district_id)).all())
    contract_district = {c.id: c.district_id for c in contracts}
    for link in links:
        assert device_district[link.device_id] == link.district_id
        assert contract_district[link.contract_id] == link.district_id


def test_agreements_come_with_their_term_history(seeded: str, db: Session) -> None:
    """Each license and contract has its terms on record up to the one running today,
    so the scan neither lapses a renewed express term nor re-escalates a price."""
    records = db.exec(select(TermRecord)).all()
    history: dict[tuple[str, int], list[TermRecord]] = {}
    for record in sorted(records, key=lambda r: r.term_number):
        history.setdefault((record.subject_type, record.subject_id), []).append(record)
    agreements = [("license", a) for a in db.exec(select(License)).all()]
    agreements += [("contract", c) for c in db.exec(select(ServiceContract)).all()]
    assert len(history) == len(agreements)
    renewed = 0
    for subject_type, agreement in agreements:
        terms = history[(subject_type, agreement.id)]
        assert [t.term_number for t in terms] == list(range(1, len(terms) + 1))
        assert terms[0].start == agreement.term_start
        for before, after in pairwise(terms):
            assert after.start == before.end + timedelta(days=1)
            assert after.price >= before.price
        current = terms[-1]
        # The running term ends in the coming months, so decisions are near.
        assert current.start <= TODAY < current.end <= TODAY + timedelta(days=15 * 31)
        renewed += len(terms) > 1
    assert renewed >= len(agreements) // 4
    contract = next(c for c in db.exec(select(ServiceContract)) if c.escalator_pct)
    assert history[("contract", contract.id)][-1].price == contract.cost_per_period


def test_every_demo_login_signs_in(seeded: str, app: Flask, db: Session) -> None:
    assert len(DEMO_LOGINS) == len(Role)
    users = {u.email: u for u in db.exec(select(User)).all()}
    largest = db.exec(
        select(District).order_by(col(District.enrollment).desc())
    ).first()
    assert largest is not None
    for email, label in DEMO_LOGINS:
        user = users[email]
        assert Role(user.role).label == label
        assert user.district_id == (largest.id if Role(user.role).is_district else None)
        login(app.test_client(), email, DEMO_PASSWORD)
    assert len({u.password_hash for u in users.values()}) == 1  # hashed once


def _row_counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        table.name: db.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def test_a_second_call_changes_nothing(seeded: str, app: Flask, db: Session) -> None:
    before = _row_counts(db)
    assert before["devices"] == DEVICES
    again = seed_demo(app, devices=DEVICES, today=TODAY)
    assert "already present" in again and "nothing changed" in again
    assert "already present" in seed_demo(app, devices=50)  # whatever the size
    assert _row_counts(db) == before


def test_every_demo_district_has_a_full_budget(seeded: str, db: Session) -> None:
    """After the scan `lifecycle demo` runs, each district's budget has money in every
    year of the horizon, and the demo logins' district has scenarios to compare."""
    districts = db.exec(select(District).order_by(col(District.id))).all()
    for district in districts:
        assert district.id is not None
        run_scan(db, district.id, TODAY)
    db.commit()
    for district in districts:
        years = services.run_district(db, district, today=TODAY).forecast.by_year()
        assert len(years) == services.DEFAULT_YEARS
        assert all(amount > 0 for amount in years.values()), (district.name, years)
    names = {s.name for s in db.exec(select(Scenario)).all()}
    assert "5-year Chromebook cycle" in names
    for scenario in db.exec(select(Scenario)).all():
        services.settings_of(scenario)  # the seeded settings validate


def test_an_open_round_just_short_of_a_tier_and_an_awarded_one(
    seeded: str, app: Flask, db: Session
) -> None:
    from lifecycle.demo.rounds import SHORT_OF_TIER
    from lifecycle.enums import RoundState
    from lifecycle.models import Commitment, OrderLine, PurchaseRound
    from lifecycle.rounds import closing

    rounds = {r.state: r for r in db.exec(select(PurchaseRound))}
    assert set(rounds) == {RoundState.OPEN, RoundState.AWARDED}
    open_round, awarded = rounds[RoundState.OPEN], rounds[RoundState.AWARDED]
    districts = db.exec(select(func.count()).select_from(District)).one()
    committing = db.exec(
        select(func.count(func.distinct(Commitment.district_id))).where(
            col(Commitment.committed_qty) > 0
        )
    ).one()
    assert committing >= districts * 3 // 4  # most districts
    staff = db.exec(select(User).where(User.role == Role.COOP_STAFF)).first()
    tiers = closing.item_tiers(db, staff, open_round.id)
    first = min(tiers, key=lambda t: t.round_item.id or 0)
    assert first.units_to_next == SHORT_OF_TIER
    results = closing.results(db, staff, awarded.id)
    assert results.total.saved_vs_list > 0
    assert db.exec(select(func.count()).select_from(OrderLine)).one() == len(
        results.lines
    )
