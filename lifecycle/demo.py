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
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import Flask
from sqlmodel import Session, col, select

from . import audit
from . import demo_data as data
from .auth import hash_password
from .db import get_db
from .enums import CoverageType, DeviceCategory, DeviceStatus, RenewalType
from .models import (
    CatalogItem,
    CategoryPolicy,
    ContractCoveredDevice,
    ContractVehicle,
    Cooperative,
    Device,
    District,
    License,
    PriceTier,
    School,
    ServiceContract,
    TermRecord,
    User,
    Vendor,
    utcnow,
)
from .refdata import aue_date, census_district, erate_c2_discount, synthetic_enrollment

DEMO_PASSWORD = "lifecycle-demo"  # noqa: S105 - shown to every demo visitor on purpose
DEMO_LOGINS: list[tuple[str, str]] = [
    (f"{local}@{data.DEMO_DOMAIN}", role.label) for role, local, _ in data.DEMO_USERS
]
SEED = 2026
CHUNK = 2000
CENTS = Decimal("0.01")
C = DeviceCategory
NETWORK = frozenset({C.NETWORK_SWITCH, C.WIRELESS_AP, C.FIREWALL, C.UPS})
PERSONAL = frozenset({C.CHROMEBOOK, C.LAPTOP, C.DESKTOP, C.TABLET})
_STATUSES = [s for s in DeviceStatus if s != DeviceStatus.ON_ORDER]
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
# Device columns the demo leaves at their empty value (derived ones included).
_EMPTY: dict[str, Any] = {"eol_date": None, "lifespan_months": None, "notes": ""}
_EMPTY |= {"assigned_to": "", "version": 1, "refresh_due": None, "refresh_reason": ""}


class _Row(Protocol):
    id: int | None


def _id(row: _Row) -> int:
    assert row.id is not None, "flush before reading the id"
    return row.id


def tier_price(list_price: Decimal, scheme: str, qty: int) -> Decimal:
    """The unit price at the highest tier of `scheme` that `qty` units reach."""
    pct = max(p for min_qty, p in data.TIER_SCHEMES[scheme] if qty >= min_qty)
    return (list_price * (100 - pct) / 100).quantize(CENTS, ROUND_HALF_UP)


def _group(category: DeviceCategory) -> str:
    if category == C.CHROMEBOOK:
        return "chromebook"
    return "network" if category in NETWORK else "other"


def _scheme(category: DeviceCategory) -> str:
    if category in PERSONAL:
        return "device"
    return "network" if category in NETWORK else "display"


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
        shares = _allocate(devices, [d.enrollment for d, _ in districts])
        for (district, spec), count in zip(districts, shares, strict=True):
            _fill_district(ctx, district, spec, count)
        t = ctx.totals
        return (
            f"Seeded the demo cooperative {coop.name}: {len(districts)} districts, "
            f"{t['schools']} schools, {t['devices']:,} devices, {t['licenses']} "
            f"licenses, {t['contracts']} service contracts, {t['users']} demo logins."
        )


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder first)."""
    whole = sum(weights) or 1
    raw = [total * w / whole for w in weights]
    shares = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


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


def _fill_district(
    ctx: _Ctx, district: District, spec: data.DemoDistrict, count: int
) -> None:
    s, district_id = ctx.session, _id(district)
    schools = list(s.exec(select(School).where(School.district_id == district_id)))
    rows = _device_rows(ctx, district_id, spec, schools, count)
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


def _device_rows(
    ctx: _Ctx,
    district_id: int,
    spec: data.DemoDistrict,
    schools: list[School],
    count: int,
) -> list[dict[str, Any]]:
    rng, today = ctx.rng, ctx.today
    teaching = [sc for sc in schools if sc.enrollment]
    office = next(sc for sc in schools if sc.level == "district")
    sizes = [sc.enrollment or 0 for sc in teaching]
    mix = data.CATEGORY_MIX
    # Each (model, year) is a cohort: one summer order, warranty and funding source.
    cohorts: dict[tuple[str, int], tuple[date, int, str]] = {}
    picks: list[tuple[data.ModelSpec, int, date, School]] = []
    for category in rng.choices(list(mix), list(mix.values()), k=count):
        years, weights = _years_offered(category)
        year = rng.choices(years, weights)[0]
        models, preference = _models_offered(category, year, spec.chromebook_maker)
        model = rng.choices(models, preference)[0]
        if (model.name, year) not in cohorts:
            cohorts[(model.name, year)] = _cohort(rng, category, year)
        bought = cohorts[(model.name, year)][0]
        if rng.random() < 0.2:  # top-ups and replacements outside the summer order
            bought = min(date(year, 1, 2) + timedelta(days=rng.randint(0, 360)), today)
        if category == C.FIREWALL:
            school = office
        elif category in NETWORK:
            school = rng.choice(schools)
        else:
            school = rng.choices(teaching, sizes)[0]
        picks.append((model, year, bought, school))
    picks.sort(key=lambda p: (p[2], p[0].category, p[0].name))
    cohort_size = Counter((m.name, y) for m, y, _, _ in picks)
    aue = {m.name: aue_date(m.name) for m, *_ in picks if m.category == C.CHROMEBOOK}
    serials: set[str] = set()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for n, (model, year, bought, school) in enumerate(picks, start=1):
        _ordered, warranty_months, funding = cohorts[(model.name, year)]
        serial = _serial(rng, model.serial)
        while serial in serials:
            serial = _serial(rng, model.serial)
        serials.add(serial)
        size = cohort_size[(model.name, year)]
        vehicle = "net" if model.category in NETWORK else "euc"
        rows.append(
            {
                "district_id": district_id,
                "school_id": school.id,
                "asset_tag": f"{spec.tag_prefix}-{n:06d}",
                "serial": serial,
                "model": model.name,
                "catalog_item_id": ctx.items[model.sku] if model.sku else None,
                "category": model.category.value,
                "status": _status(rng, today, bought, aue.get(model.name)).value,
                "purchase_date": bought,
                "purchase_cost": tier_price(
                    model.list_price, _scheme(model.category), size
                ),
                "funding_source": funding,
                "vehicle_id": ctx.vehicle_id(vehicle, bought) if model.sku else None,
                "warranty_end": bought + relativedelta(months=warranty_months),
                "aue_date": aue.get(model.name),
                "created_at": now,
                "updated_at": now,
                **_EMPTY,
            }
        )
    return rows


def _cohort(
    rng: random.Random, category: DeviceCategory, year: int
) -> tuple[date, int, str]:
    """A cohort's summer order date, warranty months and funding source."""
    group = _group(category)
    if group == "network" and rng.random() < 0.8:
        funding = "E-Rate"
    else:
        sources = data.FUNDING_BY_YEAR[year]
        funding = rng.choices([f for f, _ in sources], [w for _, w in sources])[0]
    ordered = date(year, 6, 1) + timedelta(days=rng.randint(0, 91))
    return ordered, rng.choice(data.WARRANTY_MONTHS[group]), funding


@cache
def _models_offered(
    category: DeviceCategory, year: int, maker: str
) -> tuple[list[data.ModelSpec], list[int]]:
    """The models on sale that year, and weights that favour the district's maker."""
    models = [
        m
        for m in data.MODELS
        if m.category == category and m.first_year <= year <= m.last_year
    ]
    return models, [6 if m.maker == maker else 1 for m in models]


@cache
def _years_offered(category: DeviceCategory) -> tuple[list[int], list[int]]:
    weights = data.YEAR_WEIGHTS[_group(category)]
    offered = [
        (year, weight)
        for year, weight in zip(data.YEARS, weights, strict=True)
        if _models_offered(category, year, "")[0]
    ]
    return [y for y, _ in offered], [w for _, w in offered]


def _status(
    rng: random.Random, today: date, bought: date, aue: date | None
) -> DeviceStatus:
    """Older devices are likelier retired or lost; most past their AUE are pulled."""
    age = (today - bought).days / 365.25
    if aue is not None and aue < today:
        weights = [25, 5, 2, 8, 60]
    elif age > 7:
        weights = [45, 6, 2, 7, 40]
    elif age > 5:
        weights = [72, 6, 3, 4, 15]
    else:
        weights = [88, 5, 3, 2, 2]
    return rng.choices(_STATUSES, weights)[0]


def _serial(rng: random.Random, pattern: str) -> str:
    """Fill a serial pattern: '#' a digit, '?' a letter or digit."""
    return "".join(
        rng.choice("0123456789")
        if ch == "#"
        else rng.choice(_ALNUM)
        if ch == "?"
        else ch
        for ch in pattern
    )


@dataclass
class _Terms:
    """An agreement's original start and the term it is in now (renewed into)."""

    start: date
    initial: int
    renewal: int
    current: int

    @classmethod
    def draw(
        cls, rng: random.Random, today: date, initial: int, renewal: int, most: int
    ) -> _Terms:
        """Terms whose current one ends 1–14 months ahead, after 0–`most` renewals."""
        renewals = rng.randint(0, most if initial <= 12 else min(most, 1))
        running = renewal if renewals else initial  # the current term must hold today
        ahead = rng.randint(1, min(14, running))
        next_start = today.replace(day=1) + relativedelta(months=ahead)
        start = next_start - relativedelta(months=initial + renewals * renewal)
        return cls(start, initial, renewal, renewals + 1)

    def history(
        self,
        subject: tuple[str, int, int],
        price: Decimal,
        escalator: Decimal = Decimal(0),
        seats: int | None = None,
    ) -> list[dict[str, Any]]:
        """TermRecord rows for terms 1..current, each priced back from today's price.

        Recording the current term says it was renewed into: without it, the first scan
        would lapse every express agreement past its first term.
        """
        subject_type, subject_id, district_id = subject
        rows: list[dict[str, Any]] = []
        began = self.start
        for n in range(1, self.current + 1):
            months = self.initial + (n - 1) * self.renewal  # from the ORIGINAL start
            end = self.start + relativedelta(months=months) - timedelta(days=1)
            factor = (1 + escalator / 100) ** (self.current - n)
            rows.append(
                {
                    "district_id": district_id,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "term_number": n,
                    "start": began,
                    "end": end,
                    "price": (price / factor).quantize(CENTS, ROUND_HALF_UP),
                    "seats": seats,
                }
            )
            began = end + timedelta(days=1)
        return rows


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
    added: list[tuple[License, _Terms]] = []
    for spec in data.LICENSES[: data.CORE_LICENSES] + picked:
        wanted = basis[spec.basis] * spec.coverage
        if spec.basis == "aps":  # one license per access point, all in use
            seats = used = int(wanted)
        else:
            seats = max(25, math.ceil(wanted / 25) * 25)
            used = int(seats * rng.uniform(0.55, 0.98))
        terms = _Terms.draw(rng, ctx.today, spec.initial_months, spec.renewal_months, 3)
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
        terms = _Terms.draw(rng, ctx.today, spec.months, spec.months, 3)
        if lists_devices:  # bought for devices whose factory warranty just ran out
            terms = _Terms.draw(rng, ctx.today, spec.months, spec.months, 0)
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
