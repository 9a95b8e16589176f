"""The profiles rows are drawn from: small tables of realistic value combinations.

Each profile is one draw from the demo's distributions (docs/rules.md#device-refresh inputs,
§3.1 terms): a device's category, model, purchase date, cost, funding, warranty, AUE
date and status; a license's or contract's product, price and term history. The big
INSERT … SELECTs (rows.py) pick a profile per row by hashing the row's id.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from lifecycle.demo import data
from lifecycle.enums import (
    ERATE_C2_CATEGORIES,
    ContractKind,
    CoverageType,
    DeviceCategory,
    DeviceStatus,
    RenewalType,
)
from lifecycle.refdata import aue_date

from .reference import MAKERS, Catalog, tier_price

C = DeviceCategory
PERSONAL = frozenset({C.CHROMEBOOK, C.LAPTOP, C.DESKTOP, C.TABLET})
# Profiles per table: enough variety that a district's rows do not repeat visibly.
DEVICE_PROFILES = 1024  # per Chromebook maker
LICENSE_PROFILES = 2048
CONTRACT_PROFILES = 1024
PEOPLE = 2000
SURNAMES = [
    "Garcia", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Rodriguez", "Perez",
    "Sanchez", "Ramirez", "Flores", "Nguyen", "Smith", "Johnson", "Williams",
    "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell",
    "Roberts", "Turner", "Phillips", "Campbell",
]  # fmt: skip
GIVEN = [
    "Sofia", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Ava", "Elijah", "Isabella",
    "Santiago", "Mia", "Lucas", "Amelia", "Ethan", "Camila", "Aiden", "Valentina",
    "Leo", "Harper", "Diego", "Evelyn", "Caleb", "Luna", "Daniel", "Aria", "Jacob",
    "Chloe", "Gabriel", "Layla", "Julian", "Zoe", "Isaac", "Nora", "Adrian", "Lily",
    "Carlos", "Grace", "Omar", "Priya", "Tran",
]  # fmt: skip
EXTRA_PRODUCTS = [
    "Nearpod", "Kahoot! EDU", "BrainPOP", "Pear Deck", "Edpuzzle", "Quizizz",
    "Lexia Core5", "DreamBox Math", "i-Ready", "Istation", "Imagine Learning",
    "Achieve3000", "ExploreLearning Gizmos", "Discovery Education", "Flocabulary",
    "Turnitin", "NoRedInk", "Book Creator", "WeVideo", "Screencastify", "Mote",
    "Hapara", "Lightspeed Classroom", "Incident IQ", "ClassLink",
    "Destiny Library Manager", "Raptor Visitor Management",
    "Frontline Absence Management", "Skyward Finance", "SchoolMessenger",
]  # fmt: skip


# --- the tables (created for the load, dropped after) ---------------------------

BENCH = sa.MetaData()
device_profiles = sa.Table(
    "bench_device_profiles",
    BENCH,
    sa.Column("flavor", sa.Integer, primary_key=True),
    sa.Column("k", sa.Integer, primary_key=True),
    sa.Column("category", sa.String(32)),
    sa.Column("model", sa.String(200)),
    sa.Column("catalog_item_id", sa.Integer),
    sa.Column("status", sa.String(16)),
    sa.Column("purchase_date", sa.Date),
    sa.Column("purchase_cost", sa.Numeric(14, 2)),
    sa.Column("funding_source", sa.String(80)),
    sa.Column("vehicle_id", sa.Integer),
    sa.Column("warranty_end", sa.Date),
    sa.Column("aue_date", sa.Date),
    sa.Column("eol_date", sa.Date),
    sa.Column("lifespan_months", sa.Integer),
    sa.Column("personal", sa.Boolean),
    sa.Column("office", sa.Boolean),
    sa.Column("serial_prefix", sa.String(16)),
)
people = sa.Table(
    "bench_people",
    BENCH,
    sa.Column("i", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200)),
)


def _agreement_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("term_start", sa.Date),
        sa.Column("initial_term_months", sa.Integer),
        sa.Column("renewal_term_months", sa.Integer),
        sa.Column("renewal_type", sa.String(16)),
        sa.Column("notice_days", sa.Integer),
        sa.Column("vendor_id", sa.Integer),
        sa.Column("vehicle_id", sa.Integer),
        sa.Column("funding_source", sa.String(80)),
        sa.Column("reminder_thresholds", sa.JSON(none_as_null=True)),
        sa.Column("at_school", sa.Boolean),
        # Terms already in the term history: 0 = imported with the original start only.
        sa.Column("records", sa.Integer),
    ]


license_profiles = sa.Table(
    "bench_license_profiles",
    BENCH,
    sa.Column("k", sa.Integer, primary_key=True),
    sa.Column("product", sa.String(200)),
    sa.Column("catalog_item_id", sa.Integer),
    sa.Column("seats", sa.Integer),
    sa.Column("seats_used", sa.Integer),
    sa.Column("price_per_seat", sa.Numeric(14, 2)),
    *_agreement_columns(),
)
contract_profiles = sa.Table(
    "bench_contract_profiles",
    BENCH,
    sa.Column("k", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200)),
    sa.Column("kind", sa.String(24)),
    sa.Column("coverage", sa.String(16)),
    sa.Column("coverage_category", sa.String(32)),
    sa.Column("cost_per_period", sa.Numeric(14, 2)),
    sa.Column("escalator_pct", sa.Numeric(5, 2)),
    sa.Column("erate_c2_eligible", sa.Boolean),
    *_agreement_columns(),
)


def _group(category: DeviceCategory) -> str:
    if category == C.CHROMEBOOK:
        return "chromebook"
    return "network" if category in ERATE_C2_CATEGORIES else "other"


def _scheme(category: DeviceCategory) -> str:
    if category in PERSONAL:
        return "device"
    return "network" if category in ERATE_C2_CATEGORIES else "display"


_STATUSES = [s for s in DeviceStatus if s != DeviceStatus.ON_ORDER]


def _status(rng: random.Random, today: date, bought: date, aue: date | None) -> str:
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
    return rng.choices(_STATUSES, weights)[0].value


def _serial_prefix(pattern: str, maker: str) -> str:
    head = ""
    for ch in pattern:
        if ch in "#?":
            break
        head += ch
    return (head or maker[:2].upper())[:8]


def device_profile_rows(
    rng: random.Random, catalog: Catalog, today: date
) -> list[dict[str, Any]]:
    mix_ = data.CATEGORY_MIX
    aue_by_model = {
        m.name: aue_date(m.name) for m in data.MODELS if m.category == C.CHROMEBOOK
    }
    latest = today - timedelta(days=30)
    rows: list[dict[str, Any]] = []
    for flavor, maker in enumerate(MAKERS):
        for k in range(DEVICE_PROFILES):
            category = rng.choices(list(mix_), list(mix_.values()))[0]
            weights = data.YEAR_WEIGHTS[_group(category)]
            offered = [
                (year, w)
                for year, w in zip(data.YEARS, weights, strict=True)
                if any(
                    m.category == category and m.first_year <= year <= m.last_year
                    for m in data.MODELS
                )
            ]
            year = rng.choices([y for y, _ in offered], [w for _, w in offered])[0]
            models = [
                m
                for m in data.MODELS
                if m.category == category and m.first_year <= year <= m.last_year
            ]
            model = rng.choices(models, [6 if m.maker == maker else 1 for m in models])[
                0
            ]
            bought = date(year, 6, 1) + timedelta(days=rng.randint(0, 91))
            if rng.random() < 0.2:  # top-ups outside the summer order
                bought = date(year, 1, 2) + timedelta(days=rng.randint(0, 360))
            bought = min(bought, latest)
            group = _group(category)
            if group == "network" and rng.random() < 0.8:
                funding = "E-Rate"
            else:
                sources = data.FUNDING_BY_YEAR[year]
                funding = rng.choices([f for f, _ in sources], [w for _, w in sources])[
                    0
                ]
            aue = aue_by_model.get(model.name)
            vehicle = "net" if category in ERATE_C2_CATEGORIES else "euc"
            rows.append(
                {
                    "flavor": flavor,
                    "k": k,
                    "category": category.value,
                    "model": model.name,
                    "catalog_item_id": catalog.items[model.sku] if model.sku else None,
                    "status": _status(rng, today, bought, aue),
                    "purchase_date": bought,
                    "purchase_cost": tier_price(
                        model.list_price,
                        _scheme(category),
                        rng.choice([1, 50, 150, 600, 2500]),
                    ),
                    "funding_source": funding,
                    "vehicle_id": catalog.vehicle_id(vehicle, bought)
                    if model.sku
                    else None,
                    "warranty_end": bought
                    + relativedelta(months=rng.choice(data.WARRANTY_MONTHS[group])),
                    "aue_date": aue,
                    "eol_date": bought + relativedelta(years=6)
                    if rng.random() < 0.01
                    else None,
                    "lifespan_months": rng.choice([36, 48, 60, 72])
                    if rng.random() < 0.02
                    else None,
                    "personal": category in PERSONAL,
                    "office": category == C.FIREWALL,
                    "serial_prefix": _serial_prefix(model.serial, model.maker),
                }
            )
    return rows


def current_term(start: date, initial: int, renewal: int, today: date) -> int:
    """The number of the term containing `today`, counted from the original start."""
    n = 1
    while start + relativedelta(months=initial + (n - 1) * renewal) <= today:
        n += 1
    return n


def _terms(
    rng: random.Random, today: date, initial: int, renewal: int, kind: RenewalType
) -> dict[str, Any]:
    """A term start 0–6 years back (monthly terms: under a year) and the recorded terms."""
    back_months = rng.randint(0, 11) if renewal == 1 else rng.randint(0, 72)
    start = today.replace(day=1) - relativedelta(months=back_months)
    start += timedelta(days=rng.randint(0, 27))
    start = min(start, today)
    current = current_term(start, initial, renewal, today)
    if kind is RenewalType.EXPRESS:
        # renewed into the current term, except a few nobody renewed (they lapse)
        records = current if rng.random() < 0.9 or current == 1 else current - 1
    elif kind is RenewalType.TACIT:
        # half came with their history, half were imported with the original start
        # only: the first scan catches those up term by term
        records = current if rng.random() < 0.5 else 0
    else:
        records = 0
    thresholds = [60, 14] if rng.random() < 0.03 else None
    return {
        "term_start": start,
        "initial_term_months": initial,
        "renewal_term_months": renewal,
        "renewal_type": kind.value,
        "notice_days": rng.choice(data.NOTICE_DAYS) if kind is RenewalType.TACIT else 0,
        "reminder_thresholds": thresholds,
        "at_school": rng.random() < 0.1,
        "records": records,
    }


def _renewal_type(rng: random.Random, tacit: bool) -> RenewalType:
    if rng.random() < 0.05:
        return RenewalType.NONE
    if rng.random() < 0.15:  # the other way round from the product's habit
        return RenewalType.EXPRESS if tacit else RenewalType.TACIT
    return RenewalType.TACIT if tacit else RenewalType.EXPRESS


def license_profile_rows(
    rng: random.Random, catalog: Catalog, today: date
) -> list[dict[str, Any]]:
    items = {spec.sku: spec for spec in data.CATALOG}
    vendors = list(catalog.vendors.values())
    rows = []
    for k in range(LICENSE_PROFILES):
        if rng.random() < 0.6:
            spec = rng.choice(data.LICENSES)
            product, vendor_id = spec.product, catalog.vendors[spec.vendor]
            initial, renewal, tacit = (
                spec.initial_months,
                spec.renewal_months,
                spec.tacit,
            )
            item = items.get(spec.sku or "")
            price = (
                tier_price(item.list_price, item.scheme, 500) if item else spec.price
            )
        else:
            product, vendor_id = rng.choice(EXTRA_PRODUCTS), rng.choice(vendors)
            initial = renewal = rng.choice([12, 12, 12, 24, 36])
            tacit, item = rng.random() < 0.4, None
            price = Decimal(rng.randint(100, 4000)) / 100
        if rng.random() < 0.03:  # month-to-month subscriptions
            initial = renewal = 1
        kind = _renewal_type(rng, tacit)
        seats = 25 * rng.randint(1, 800)
        start = _terms(rng, today, initial, renewal, kind)
        rows.append(
            {
                "k": k,
                "product": product,
                "catalog_item_id": catalog.items[item.sku] if item else None,
                "seats": seats,
                "seats_used": int(seats * rng.uniform(0.55, 0.98)),
                "price_per_seat": price,
                "vendor_id": vendor_id,
                "vehicle_id": catalog.vehicle_id(item.vehicle, start["term_start"])
                if item
                else None,
                "funding_source": rng.choice(
                    ["General Fund", "General Fund", "Title IV-A", "Title I"]
                ),
                **start,
            }
        )
    return rows


def contract_profile_rows(
    rng: random.Random, catalog: Catalog, today: date
) -> list[dict[str, Any]]:
    rows = []
    for k in range(CONTRACT_PROFILES):
        spec = rng.choice(data.CONTRACTS)
        coverage = CoverageType.CATEGORY
        category: str | None = spec.coverage
        if spec.coverage in ("site", "none"):
            coverage, category = CoverageType(spec.coverage), None
        elif spec.coverage == "devices":  # device lists are not seeded
            category = C.CHROMEBOOK.value
        months = spec.months if rng.random() < 0.8 else rng.choice([12, 24, 36])
        kind = _renewal_type(rng, spec.tacit)
        start = _terms(rng, today, months, months, kind)
        units = rng.randint(5, 400) if coverage == CoverageType.CATEGORY else 1
        rows.append(
            {
                "k": k,
                "name": spec.name,
                "kind": ContractKind(spec.kind).value,
                "coverage": coverage.value,
                "coverage_category": category,
                "cost_per_period": spec.rate * units,
                "escalator_pct": spec.escalator,
                "erate_c2_eligible": spec.erate,
                "vendor_id": catalog.vendors[spec.vendor],
                "vehicle_id": catalog.vehicle_id(spec.vehicle, start["term_start"]),
                "funding_source": "E-Rate" if spec.erate else "General Fund",
                **start,
            }
        )
    return rows


def people_rows(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"i": i, "name": f"{rng.choice(SURNAMES)}, {rng.choice(GIVEN)}"}
        for i in range(PEOPLE)
    ]
