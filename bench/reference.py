"""Reference data of the benchmark cooperative: catalog, districts, schools, people.

Small tables, written row by row (or as one executemany): vendors, contract vehicles
and catalog items with price tiers from the demo's data, real district names and NCES
ids from the census table (Garland ISD first: the big district), schools, one IT and
one finance user per district, and each district's refresh policies.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from lifecycle.auth import hash_password
from lifecycle.demo import data
from lifecycle.enums import DeviceCategory, Role
from lifecycle.models import (
    CatalogItem,
    CategoryPolicy,
    ContractVehicle,
    District,
    PriceTier,
    School,
    User,
    Vendor,
    utcnow,
)
from lifecycle.refdata import census_districts, synthetic_enrollment

PASSWORD = "bench-password-1234"
EMAIL_DOMAIN = "bench.lifecycle.test"
BIG_NCES_ID = "4820340"  # Garland ISD, TX: the big district of the benchmark
# A district's preferred Chromebook maker follows its position (district i: i % 4).
MAKERS = ["Lenovo", "Dell", "HP", "Acer"]
CENTS = Decimal("0.01")


def tier_price(list_price: Decimal, scheme: str, qty: int) -> Decimal:
    """The unit price at the highest tier of the demo's `scheme` that `qty` reaches."""
    pct = max(p for min_qty, p in data.TIER_SCHEMES[scheme] if qty >= min_qty)
    return (list_price * (100 - pct) / 100).quantize(CENTS, ROUND_HALF_UP)


@dataclass
class Catalog:
    vendors: dict[str, int]
    vehicles: dict[str, tuple[int, date, date]]
    items: dict[str, int]

    def vehicle_id(self, key: str | None, when: date) -> int | None:
        found = self.vehicles.get(key or "")
        if found is None or not found[1] <= when <= found[2]:
            return None
        return found[0]


def create_catalog(session: Session, coop_id: int) -> Catalog:
    vendors = {name: Vendor(name=name, website=url) for name, url in data.VENDORS}
    session.add_all(vendors.values())
    session.flush()
    vehicles: dict[str, ContractVehicle] = {}
    for v in data.VEHICLES:
        vehicles[v.key] = ContractVehicle(
            cooperative_id=coop_id,
            vendor_id=row_id(vendors[v.vendor]),
            contract_number=v.contract_number,
            title=v.title,
            lead_agency=v.lead_agency,
            term_start=v.term_start,
            term_end=v.term_end,
            renewal_options=v.renewal_options,
        )
    session.add_all(vehicles.values())
    session.flush()
    items: dict[str, CatalogItem] = {}
    for spec in data.CATALOG:
        items[spec.sku] = CatalogItem(
            vehicle_id=row_id(vehicles[spec.vehicle]),
            sku=spec.sku,
            name=spec.name,
            kind=spec.kind,
            category=spec.category,
            list_price=spec.list_price,
            unit=spec.unit,
            min_order_qty=spec.min_order_qty,
            lifespan_months=spec.lifespan_months,
            term_months=spec.term_months,
            erate_c2_eligible=spec.erate_c2_eligible,
        )
    session.add_all(items.values())
    session.flush()
    for spec in data.CATALOG:
        for min_qty, _pct in data.TIER_SCHEMES[spec.scheme]:
            session.add(
                PriceTier(
                    catalog_item_id=row_id(items[spec.sku]),
                    min_qty=min_qty,
                    unit_price=tier_price(spec.list_price, spec.scheme, min_qty),
                )
            )
    session.flush()
    return Catalog(
        vendors={name: row_id(v) for name, v in vendors.items()},
        vehicles={
            key: (row_id(v), v.term_start, v.term_end) for key, v in vehicles.items()
        },
        items={sku: row_id(i) for sku, i in items.items()},
    )


def row_id(row: Any) -> int:
    assert row.id is not None
    return int(row.id)


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder first)."""
    whole = sum(weights) or 1.0
    raw = [total * w / whole for w in weights]
    shares = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _tag_prefix(name: str, taken: set[str]) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha()]
    stem = "".join(w[0] for w in words).upper()[:6] or "D"
    prefix, n = stem, 1
    while prefix in taken:
        n += 1
        prefix = f"{stem}{n}"
    taken.add(prefix)
    return prefix


def create_districts(
    session: Session, coop_id: int, count: int, rng: random.Random
) -> list[tuple[District, str]]:
    """Garland ISD (the big one) first, then real TX, MI and MN districts, then made-up."""
    census = census_districts()
    by_id = {c.nces_id: c for c in census}
    ordered = [
        by_id[BIG_NCES_ID],
        *sorted(
            (c for c in census if c.nces_id != BIG_NCES_ID),
            key=lambda c: (c.state != "TX", c.nces_id),
        ),
    ]
    taken: set[str] = set()
    out: list[tuple[District, str]] = []
    for i in range(count):
        if i < len(ordered):
            c = ordered[i]
            nces, name, state = c.nces_id, c.name, c.state
            enrollment = synthetic_enrollment(c.population)
        else:
            nces, name, state = f"{9900000 + i:07d}", f"Bench ISD {i}", "TX"
            enrollment = rng.randint(800, 20_000)
        district = District(
            cooperative_id=coop_id,
            nces_id=nces,
            name=name,
            state=state,
            enrollment=enrollment,
            enrollment_synthetic=True,
            fy_start_month=rng.choice([7, 7, 7, 7, 9, 1]),
            timezone="America/Detroit" if state == "MI" else "America/Chicago",
        )
        out.append((district, _tag_prefix(name, taken)))
    session.add_all([d for d, _ in out])
    session.flush()
    return out


def create_schools(
    conn: Connection,
    districts: list[tuple[District, str]],
    *,
    schools: int,
    big_schools: int,
) -> dict[int, tuple[int, int]]:
    """Schools per district (ids contiguous per district); the first is the office."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for i, (district, _prefix) in enumerate(districts):
        count = big_schools if i == 0 else schools
        rows.append(_school_row(district, "District Administration Center", "900", now))
        stems = data.SCHOOL_STEMS
        for n in range(max(count - 1, 0)):
            level = ("Elementary School", "Middle School", "High School")[n % 3]
            stem = stems[n % len(stems)]
            suffix = f" {n // len(stems) + 1}" if n >= len(stems) else ""
            rows.append(
                _school_row(district, f"{stem}{suffix} {level}", f"{n + 1:03d}", now)
            )
    conn.execute(sa.insert(School), rows)
    ranges: dict[int, tuple[int, int]] = {}
    stmt = sa.select(
        col(School.district_id), sa.func.min(col(School.id)), sa.func.count()
    ).group_by(col(School.district_id))
    for district_id, first, count in conn.execute(stmt):
        ranges[int(district_id)] = (int(first or 0), int(count))
    return ranges


def _school_row(district: District, name: str, code: str, now: Any) -> dict[str, Any]:
    return {
        "district_id": district.id,
        "name": name,
        "code": code,
        "level": "district" if code == "900" else name.rsplit(" ", 2)[-2].lower(),
        "enrollment": None if code == "900" else 600,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def create_users(
    conn: Connection, districts: list[tuple[District, str]]
) -> dict[int, tuple[str, str]]:
    """An IT and a finance user per district; one coop buyer and one administrator."""
    hashed = hash_password(PASSWORD)  # once: argon2 is slow on purpose
    rows: list[dict[str, Any]] = []
    emails: dict[int, tuple[str, str]] = {}
    for district, _prefix in districts:
        it = f"it.{district.nces_id}@{EMAIL_DOMAIN}"
        finance = f"finance.{district.nces_id}@{EMAIL_DOMAIN}"
        emails[row_id(district)] = (it, finance)
        rows.append(_user(it, "IT director", Role.DISTRICT_IT, district.id, hashed))
        rows.append(_user(finance, "CFO", Role.DISTRICT_FINANCE, district.id, hashed))
    rows.append(_user(f"coop@{EMAIL_DOMAIN}", "Buyer", Role.COOP_STAFF, None, hashed))
    rows.append(_user(f"admin@{EMAIL_DOMAIN}", "Admin", Role.ADMIN, None, hashed))
    conn.execute(sa.insert(User), rows)
    return emails


def _user(
    email: str, name: str, role: Role, district_id: int | None, hashed: str
) -> dict[str, Any]:
    return {
        "email": email,
        "name": name,
        "role": role,
        "district_id": district_id,
        "password_hash": hashed,
        "is_active": True,
        "notify_email": True,
        "weekly_digest": True,
        "version": 1,
        "created_at": utcnow(),
    }


def create_policies(
    conn: Connection, districts: list[tuple[District, str]], catalog: Catalog
) -> None:
    rows = []
    for i, (district, _prefix) in enumerate(districts):
        policies = dict(data.POLICY_ITEMS)
        maker = MAKERS[i % len(MAKERS)]
        policies[DeviceCategory.CHROMEBOOK] = (
            48 if i % 3 else 60,
            data.CHROMEBOOK_REPLACEMENT[maker],
        )
        for category, (months, sku) in policies.items():
            rows.append(
                {
                    "district_id": district.id,
                    "category": category,
                    "lifespan_months": months,
                    "replacement_item_id": catalog.items[sku],
                }
            )
    conn.execute(sa.insert(CategoryPolicy), rows)
