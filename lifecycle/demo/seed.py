"""The demo cooperative: real district names, made-up inventory, one login per role.

`seed_demo` is idempotent (it does nothing once a cooperative exists) and reproducible
(a fixed random seed). Devices go in with set-based inserts, which bypass the audit
flush hook, so each district gets one summary audit event instead. Derived columns
(refresh_due, current terms, decide-by) stay empty for the lifecycle scan to fill.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.auth import hash_password
from lifecycle.budget.fiscal import fiscal_year
from lifecycle.db import get_db
from lifecycle.demo import data
from lifecycle.demo.inventory import CENTS, C, Terms, allocate, device_rows, tier_price
from lifecycle.demo.rounds import seed_rounds
from lifecycle.enums import CoverageType, DeviceStatus, RenewalType
from lifecycle.models import (
    CatalogItem,
    CategoryPolicy,
    ContractCoveredDevice,
    ContractVehicle,
    Cooperative,
    Device,
    District,
    License,
    PriceTier,
    Scenario,
    School,
    ServiceContract,
    TermRecord,
    User,
    Vendor,
    utcnow,
)
from lifecycle.refdata import census_district, erate_c2_discount, synthetic_enrollment

DEMO_PASSWORD = "lifecycle-demo"  # noqa: S105 - shown to every demo visitor on purpose
DEMO_LOGINS: list[tuple[str, str]] = [
    (f"{local}@{data.DEMO_DOMAIN}", role.label) for role, local, _ in data.DEMO_USERS
]
SEED = 2026
CHUNK = 2000


class _Row(Protocol):
    id: int | None


def _id(row: _Row) -> int:
    assert row.id is not None, "flush before reading the id"
    return row.id


@dataclass
class _Ctx:
    session: Session
    rng: random.Random
    today: date
    vendors: dict[str, int] = field(default_factory=dict)
    vehicles: dict[str, ContractVehicle] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)

    def vehicle_id(self, key: str | None, when: date) -> int | None:
        """The vehicle a purchase on `when` was made under, if it was in force then."""
        vehicle = self.vehicles.get(key or "")
        if vehicle is None or not vehicle.term_start <= when <= vehicle.term_end:
            return None
        return vehicle.id


def seed_demo(app: Flask, *, devices: int = 20_000, today: date | None = None) -> str:
    """Load the demo cooperative once; return a one-line summary of what happened."""
    today = today or date.today()  # noqa: DTZ011 - demo dates follow the local calendar
    with get_db(app).scope(actor_label="demo seed") as session:
        existing = session.exec(select(Cooperative)).first()
        if existing is not None:
            return f"Demo data already present ({existing.name}); nothing changed."
        rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not secrets
        ctx = _Ctx(session=session, rng=rng, today=today)
        coop = Cooperative(
            name=data.COOPERATIVE_NAME, short_name=data.COOPERATIVE_SHORT
        )
        session.add(coop)
        session.flush()
        _catalog(ctx, _id(coop))
        districts = _districts(ctx, _id(coop))
        _users(ctx, districts[0][0])
        _scenarios(ctx, districts[0][0])
        shares = allocate(devices, [d.enrollment for d, _ in districts])
        for (district, spec), count in zip(districts, shares, strict=True):
            _fill_district(ctx, district, spec, count)
        rounds = seed_rounds(
            session,
            coop_id=_id(coop),
            district_ids=[_id(d) for d, _ in districts],
            rng=rng,
            today=today,
        )
        t = ctx.totals
        return (
            f"Seeded the demo cooperative {coop.name}: {len(districts)} districts, "
            f"{t['schools']} schools, {t['devices']:,} devices, {t['licenses']} "
            f"licenses, {t['contracts']} service contracts, {rounds} purchase rounds, "
            f"{t['users']} demo logins."
        )


def _catalog(ctx: _Ctx, coop_id: int) -> None:
    s = ctx.session
    vendors = {v.name: v for v in s.exec(select(Vendor))}
    for name, website in data.VENDORS:
        vendors.setdefault(name, Vendor(name=name, website=website))
        s.add(vendors[name])
    s.flush()
    ctx.vendors = {name: _id(v) for name, v in vendors.items()}
    for v in data.VEHICLES:
        columns = {k: val for k, val in asdict(v).items() if k not in ("key", "vendor")}
        vendor_id = ctx.vendors[v.vendor]
        vehicle = ContractVehicle(
            cooperative_id=coop_id, vendor_id=vendor_id, **columns
        )
        ctx.vehicles[v.key] = vehicle
        s.add(vehicle)
    s.flush()
    items: dict[str, CatalogItem] = {}
    for spec in data.CATALOG:
        columns = {
            k: v for k, v in asdict(spec).items() if k not in ("vehicle", "scheme")
        }
        vehicle_id = _id(ctx.vehicles[spec.vehicle])
        items[spec.sku] = CatalogItem(vehicle_id=vehicle_id, **columns)
        s.add(items[spec.sku])
    s.flush()
    ctx.items = {sku: _id(item) for sku, item in items.items()}
    for spec in data.CATALOG:
        for min_qty, _pct in data.TIER_SCHEMES[spec.scheme]:
            price = tier_price(spec.list_price, spec.scheme, min_qty)
            item_id = ctx.items[spec.sku]
            s.add(PriceTier(catalog_item_id=item_id, min_qty=min_qty, unit_price=price))


def _districts(ctx: _Ctx, coop_id: int) -> list[tuple[District, data.DemoDistrict]]:
    s = ctx.session
    out: list[tuple[District, data.DemoDistrict]] = []
    for spec in data.DISTRICTS:
        census = census_district(spec.nces_id)
        assert census is not None, f"{spec.nces_id} is not in the census table"
        discount = erate_c2_discount(spec.nslp_pct, spec.rural)
        district = District(
            cooperative_id=coop_id,
            nces_id=census.nces_id,
            name=census.name,
            state=census.state,
            enrollment=synthetic_enrollment(census.population),
            enrollment_synthetic=True,
            fy_start_month=spec.fy_start_month,
            erate_c2_discount_pct=Decimal(discount),
            timezone=spec.timezone,
        )
        s.add(district)
        out.append((district, spec))
    s.flush()
    for district, spec in out:
        _schools(ctx, district)
        policies = dict(data.POLICY_ITEMS)
        chromebook = data.CHROMEBOOK_REPLACEMENT[spec.chromebook_maker]
        policies[C.CHROMEBOOK] = (spec.chromebook_lifespan, chromebook)
        for category, (months, sku) in policies.items():
            s.add(
                CategoryPolicy(
                    district_id=_id(district),
                    category=category,
                    lifespan_months=months,
                    replacement_item_id=ctx.items[sku],
                )
            )
    s.flush()
    return out


def _schools(ctx: _Ctx, district: District) -> None:
    """Elementary, middle and high schools in plausible numbers; a central office."""
    students, district_id = district.enrollment, _id(district)
    layout = [
        ("elementary", "Elementary School", Decimal("0.46"), students / 650, 60),
        ("middle", "Middle School", Decimal("0.23"), students / 1600, 18),
        ("high", "High School", Decimal("0.31"), students / 2800, 12),
    ]
    schools: list[School] = []
    for level, suffix, share, estimate, most in layout:
        count = min(max(round(estimate), 1), most)
        size = int(students * share / count)
        for stem in ctx.rng.sample(data.SCHOOL_STEMS, count):
            code = f"{len(schools) + 1:03d}"
            name = f"{stem} {suffix}"
            schools.append(
                School(
                    district_id=district_id,
                    name=name,
                    code=code,
                    level=level,
                    enrollment=size,
                )
            )
    office = "District Administration Center"
    schools.append(
        School(district_id=district_id, name=office, code="900", level="district")
    )
    ctx.session.add_all(schools)
    ctx.totals["schools"] += len(schools)


def _users(ctx: _Ctx, first: District) -> None:
    password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    taken = set(ctx.session.exec(select(User.email)))
    for role, local, name in data.DEMO_USERS:
        email = f"{local}@{data.DEMO_DOMAIN}"
        if email in taken:
            continue
        district_id = first.id if role.is_district else None
        ctx.session.add(
            User(
                email=email,
                name=name,
                role=role,
                district_id=district_id,
                password_hash=password_hash,
            )
        )
        ctx.totals["users"] += 1


def _scenarios(ctx: _Ctx, district: District) -> None:
    """Two what-ifs for the demo logins' district, so its budget page compares."""
    next_fy = fiscal_year(ctx.today, district.fy_start_month) + 1
    for name, settings in (
        (
            "5-year Chromebook cycle",
            {"lifespans": {"chromebook": 60}, "caps": {str(next_fy): "6500000.00"}},
        ),
        (
            "Lease laptops, licenses right-sized",
            {
                "leases": {"laptop": {"years": 4, "rate_pct": "4.00"}},
                "headroom_pct": "10.00",
            },
        ),
    ):
        ctx.session.add(
            Scenario(district_id=_id(district), name=name, settings=settings)
        )


def _fill_district(
    ctx: _Ctx, district: District, spec: data.DemoDistrict, count: int
) -> None:
    s, district_id = ctx.session, _id(district)
    schools = list(s.exec(select(School).where(School.district_id == district_id)))
    rows = device_rows(
        ctx.rng,
        ctx.today,
        district_id,
        spec,
        schools,
        count,
        items=ctx.items,
        vehicle_id=ctx.vehicle_id,
        now=utcnow(),
    )
    for start in range(0, len(rows), CHUNK):
        s.exec(sa.insert(Device), params=rows[start : start + CHUNK])
    ctx.totals["devices"] += len(rows)
    working = Counter(r["category"] for r in rows if r["status"] == "in_service")
    high = max(
        (sc for sc in schools if sc.level == "high"), key=lambda sc: sc.enrollment or 0
    )
    _licenses(ctx, district, high, working)
    _contracts(ctx, district, high, rows, working)
    audit.record(
        s,
        action="import",
        entity_type="district",
        entity_id=district_id,
        district_id=district_id,
        changes={"devices": len(rows)},
        summary=f"demo seed: {len(rows)} devices imported",
    )


def _licenses(
    ctx: _Ctx, district: District, high: School, working: Counter[str]
) -> None:
    rng, students = ctx.rng, district.enrollment
    basis = {
        "students": students,
        "staff": max(students // 8, 10),
        "aps": working[C.WIRELESS_AP.value],
    }
    optional = [s for s in data.LICENSES[data.CORE_LICENSES :] if basis[s.basis]]
    picked = rng.sample(optional, min(len(optional), 6 + students // 12000))
    items = {spec.sku: spec for spec in data.CATALOG}
    added: list[tuple[License, Terms]] = []
    for spec in data.LICENSES[: data.CORE_LICENSES] + picked:
        wanted = basis[spec.basis] * spec.coverage
        if spec.basis == "aps":  # one license per access point, all in use
            seats = used = int(wanted)
        else:
            seats = max(25, math.ceil(wanted / 25) * 25)
            used = int(seats * rng.uniform(0.55, 0.98))
        terms = Terms.draw(rng, ctx.today, spec.initial_months, spec.renewal_months, 3)
        start = terms.start
        item = items.get(spec.sku or "")
        funding = rng.choice(["General Fund", "General Fund", "Title IV-A", "Title I"])
        license = License(
            district_id=_id(district),
            product=spec.product,
            vendor_id=ctx.vendors[spec.vendor],
            catalog_item_id=ctx.items[item.sku] if item else None,
            school_id=high.id if "shared device" in spec.product else None,
            seats=seats,
            seats_used=used,
            term_start=start,
            initial_term_months=spec.initial_months,
            renewal_term_months=spec.renewal_months,
            renewal_type=RenewalType.TACIT if spec.tacit else RenewalType.EXPRESS,
            notice_days=rng.choice(data.NOTICE_DAYS) if spec.tacit else 0,
            price_per_seat=(
                tier_price(item.list_price, item.scheme, seats) if item else spec.price
            ),
            vehicle_id=ctx.vehicle_id(item.vehicle, start) if item else None,
            funding_source="E-Rate" if spec.basis == "aps" else funding,
        )
        ctx.session.add(license)
        added.append((license, terms))
    ctx.session.flush()
    history = [
        row
        for lic, terms in added
        for row in terms.history(
            ("license", _id(lic), lic.district_id),
            lic.price_per_seat * lic.seats,
            seats=lic.seats,
        )
    ]
    ctx.session.exec(sa.insert(TermRecord), params=history)
    ctx.totals["licenses"] += len(added)


def _contracts(
    ctx: _Ctx,
    district: District,
    high: School,
    rows: list[dict[str, Any]],
    working: Counter[str],
) -> None:
    rng, s, district_id = ctx.rng, ctx.session, _id(district)
    optional = data.CONTRACTS[data.CORE_CONTRACTS :]
    picked = rng.sample(optional, rng.randint(3, len(optional)))
    scale = min(max(Decimal(district.enrollment) / 15000, Decimal("0.2")), Decimal(3))
    # The warranty extension names, device by device, Chromebooks whose factory
    # warranty has run out: the 2022–23 cohorts still in use.
    covered = [
        r["asset_tag"]
        for r in rows
        if r["category"] == C.CHROMEBOOK.value
        and r["purchase_date"].year in (2022, 2023)
        and r["status"] in (DeviceStatus.IN_SERVICE.value, DeviceStatus.SPARE.value)
    ][:1500]
    for spec in data.CONTRACTS[: data.CORE_CONTRACTS] + picked:
        coverage = CoverageType.CATEGORY
        units = Decimal(max(working[spec.coverage], 5))
        if spec.coverage in ("devices", "site", "none"):
            coverage = CoverageType(spec.coverage)
            units = Decimal(len(covered)) if coverage == CoverageType.DEVICES else scale
        if coverage == CoverageType.DEVICES and not covered:
            continue
        lists_devices = coverage == CoverageType.DEVICES
        terms = Terms.draw(rng, ctx.today, spec.months, spec.months, 3)
        if lists_devices:  # bought for devices whose factory warranty just ran out
            terms = Terms.draw(rng, ctx.today, spec.months, spec.months, 0)
        start = terms.start
        is_site = coverage == CoverageType.SITE
        category = C(spec.coverage) if coverage == CoverageType.CATEGORY else None
        contract = ServiceContract(
            district_id=district_id,
            vendor_id=ctx.vendors[spec.vendor],
            name=f"{spec.name} – {high.name}" if is_site else spec.name,
            kind=spec.kind,
            coverage=coverage,
            coverage_category=category,
            coverage_school_id=high.id if is_site else None,
            term_start=start,
            initial_term_months=spec.months,
            renewal_term_months=spec.months,
            renewal_type=RenewalType.TACIT if spec.tacit else RenewalType.EXPRESS,
            notice_days=rng.choice(data.NOTICE_DAYS) if spec.tacit else 0,
            cost_per_period=(spec.rate * units).quantize(CENTS, ROUND_HALF_UP),
            escalator_pct=spec.escalator,
            vehicle_id=ctx.vehicle_id(spec.vehicle, start),
            funding_source="E-Rate" if spec.erate else "General Fund",
            erate_c2_eligible=spec.erate,
        )
        s.add(contract)
        s.flush()
        ctx.totals["contracts"] += 1
        subject = ("contract", _id(contract), district_id)
        price = contract.cost_per_period
        history = terms.history(subject, price, escalator=contract.escalator_pct)
        s.exec(sa.insert(TermRecord), params=history)
        if lists_devices:
            ids = s.exec(
                select(Device.id).where(
                    Device.district_id == district_id,
                    col(Device.asset_tag).in_(covered),
                )
            ).all()
            links = [
                {"contract_id": contract.id, "device_id": i, "district_id": district_id}
                for i in ids
            ]
            s.exec(sa.insert(ContractCoveredDevice), params=links)
