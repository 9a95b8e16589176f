"""The big tables: one INSERT … SELECT per district and table, portable SQL.

Rows n = 1..count come from generate_series (PostgreSQL) or a recursive CTE (SQLite);
`mix` hashes a row's id into a profile number, a school, a serial, a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import col

from lifecycle.agreements.sql import term_end_expr
from lifecycle.enums import CoverageType, DeviceStatus
from lifecycle.models import (
    Agreement,
    CatalogItem,
    CategoryPolicy,
    Device,
    License,
    ServiceContract,
    TermRecord,
)
from lifecycle.sqlfuncs import add_days, add_months, earliest

from .common import is_postgres
from .profiles import (
    CONTRACT_PROFILES,
    DEVICE_PROFILES,
    LICENSE_PROFILES,
    PEOPLE,
    contract_profiles,
    device_profiles,
    license_profiles,
    people,
)

# A multiplicative hash modulo the Mersenne prime 2^31 − 1 (Park–Miller multipliers):
# bijective on 1..P−1, so hashing a row number never repeats within a district.
P = 2_147_483_647
MULTIPLIERS = [48271, 69621, 16807, 39373, 742938285, 950706376, 1343714438, 397204094]


@dataclass
class DistrictInfo:
    """A seeded district: who signs in for it and how many rows of each kind it has."""

    id: int
    nces_id: str
    name: str
    tag_prefix: str
    devices: int
    licenses: int
    contracts: int
    schools: tuple[int, int]  # first school id, how many
    it_email: str
    finance_email: str


def mix(n: Any, salt: int) -> sa.ColumnElement[int]:
    """A deterministic pseudo-random integer in [0, P) from an integer expression."""
    a = MULTIPLIERS[salt % len(MULTIPLIERS)]
    x = sa.cast(n, sa.BigInteger) + sa.literal_column(str(salt * 7919 + 1))
    return (x * sa.literal_column(str(a))) % sa.literal_column(str(P))


def series(conn: Connection, count: int, name: str = "s") -> sa.FromClause:
    """Rows n = 1..count: generate_series on PostgreSQL, a recursive CTE elsewhere."""
    if is_postgres(conn.engine):
        return (
            sa.func.generate_series(1, count)
            .table_valued("n")
            .render_derived(name=name)
        )
    start = sa.select(sa.literal(1).label("n")).cte(name, recursive=True)
    return start.union_all(sa.select(start.c.n + 1).where(start.c.n < count))


def _num(value: Any) -> sa.ColumnElement[Any]:
    return sa.literal_column(str(int(value)))


def insert_devices(
    conn: Connection, info: DistrictInfo, first_id: int, flavor: int, *, derive: bool
) -> None:
    s = series(conn, info.devices)
    ident = _num(first_id - 1) + s.c.n
    p = device_profiles
    first_school, schools = info.schools
    jitter = mix(ident, 5) % 21
    bought = add_days(p.c.purchase_date, jitter)
    in_service = p.c.status == DeviceStatus.IN_SERVICE.value
    values: dict[str, Any] = {
        "id": ident,
        "district_id": sa.literal(info.id),
        "school_id": sa.case(
            (p.c.office, _num(first_school)),
            else_=_num(first_school) + mix(ident, 2) % _num(schools),
        ),
        "asset_tag": sa.literal(info.tag_prefix + "-")
        + sa.cast(s.c.n + 100000, sa.String),
        "serial": sa.case(
            (mix(ident, 3) % 100 < 3, sa.null()),
            else_=p.c.serial_prefix + sa.cast(mix(s.c.n, 4), sa.String),
        ),
        "model": p.c.model,
        "catalog_item_id": p.c.catalog_item_id,
        "category": p.c.category,
        "status": p.c.status,
        "purchase_date": bought,
        "purchase_cost": p.c.purchase_cost,
        "funding_source": p.c.funding_source,
        "vehicle_id": p.c.vehicle_id,
        "warranty_end": add_days(p.c.warranty_end, jitter),
        "aue_date": p.c.aue_date,
        "eol_date": p.c.eol_date,
        "lifespan_months": p.c.lifespan_months,
        "assigned_to": sa.case(
            (sa.and_(p.c.personal, in_service), people.c.name), else_=""
        ),
    }
    source = (
        sa.select()
        .select_from(s)
        .join(
            p,
            sa.and_(
                p.c.flavor == flavor, p.c.k == mix(ident, 1) % _num(DEVICE_PROFILES)
            ),
        )
        .join(people, people.c.i == mix(ident, 6) % _num(PEOPLE))
    )
    if derive:
        # What a write through the app stores (renewals/refresh.py's rule): the
        # earliest of purchase + lifespan (device, else district policy, else catalog
        # default), the AUE date and the explicit end of life.
        lifespan = sa.func.coalesce(
            p.c.lifespan_months,
            col(CategoryPolicy.lifespan_months),
            col(CatalogItem.lifespan_months),
        )
        due = earliest(add_months(bought, lifespan), p.c.aue_date, p.c.eol_date)
        values["refresh_due"] = due
        values["refresh_reason"] = sa.case(
            (due.is_(None), ""),
            (due == p.c.aue_date, "aue"),
            (due == p.c.eol_date, "eol"),
            else_="lifespan",
        )
        source = source.outerjoin(
            CategoryPolicy,
            sa.and_(
                col(CategoryPolicy.district_id) == info.id,
                col(CategoryPolicy.category) == p.c.category,
            ),
        ).outerjoin(CatalogItem, col(CatalogItem.id) == p.c.catalog_item_id)
    rows = source.add_columns(*values.values())
    conn.execute(sa.insert(Device).from_select(list(values), rows))


def _teaching(info: DistrictInfo) -> int:
    """The district's first school after the central office (or the office itself)."""
    first, count = info.schools
    return first + 1 if count > 1 else first


_AGREEMENT_FIELDS = ["term_start", "initial_term_months", "renewal_term_months",
                     "renewal_type", "notice_days", "vendor_id", "vehicle_id",
                     "funding_source", "reminder_thresholds"]  # fmt: skip


def insert_licenses(conn: Connection, info: DistrictInfo, first_id: int) -> None:
    s = series(conn, info.licenses)
    ident = _num(first_id - 1) + s.c.n
    p = license_profiles
    rows = (
        sa.select(
            ident,
            sa.literal(info.id),
            p.c.product,
            p.c.catalog_item_id,
            sa.case((p.c.at_school, _num(_teaching(info))), else_=sa.null()),
            p.c.seats,
            p.c.seats_used,
            p.c.price_per_seat,
            *[p.c[name] for name in _AGREEMENT_FIELDS],
        )
        .select_from(s)
        .join(p, p.c.k == mix(ident, 7) % _num(LICENSE_PROFILES))
    )
    columns = ["id", "district_id", "product", "catalog_item_id", "school_id",
               "seats", "seats_used", "price_per_seat", *_AGREEMENT_FIELDS]  # fmt: skip
    conn.execute(sa.insert(License).from_select(columns, rows))


def insert_contracts(conn: Connection, info: DistrictInfo, first_id: int) -> None:
    s = series(conn, info.contracts)
    ident = _num(first_id - 1) + s.c.n
    p = contract_profiles
    site = p.c.coverage == CoverageType.SITE.value
    rows = (
        sa.select(
            ident,
            sa.literal(info.id),
            p.c.name,
            p.c.kind,
            p.c.coverage,
            p.c.coverage_category,
            sa.case((site, _num(_teaching(info))), else_=sa.null()),
            p.c.cost_per_period,
            p.c.escalator_pct,
            p.c.erate_c2_eligible,
            *[p.c[name] for name in _AGREEMENT_FIELDS],
        )
        .select_from(s)
        .join(p, p.c.k == mix(ident, 0) % _num(CONTRACT_PROFILES))
    )
    columns = ["id", "district_id", "name", "kind", "coverage", "coverage_category",
               "coverage_school_id", "cost_per_period", "escalator_pct",
               "erate_c2_eligible", *_AGREEMENT_FIELDS]  # fmt: skip
    conn.execute(sa.insert(ServiceContract).from_select(columns, rows))


def insert_term_history(
    conn: Connection, model: type[Agreement], profiles: sa.Table, salt: int, count: int
) -> None:
    """Terms 1..records of every agreement, dated from the ORIGINAL start (§3.1)."""
    most = int(conn.execute(sa.select(sa.func.max(profiles.c.records))).scalar() or 0)
    if most == 0:
        return
    s = series(conn, most, "t")
    n = s.c.n
    starts = sa.case(
        (n == 1, col(model.term_start)),
        else_=add_days(term_end_expr(model, n - 1), 1),
    )
    if model is License:
        price: Any = col(License.seats) * col(License.price_per_seat)
        seats: Any = col(License.seats)
        subject = "license"
    else:
        price, seats, subject = (
            col(ServiceContract.cost_per_period),
            sa.null(),
            "contract",
        )
    rows = (
        sa.select(
            col(model.district_id),
            sa.literal(subject),
            col(model.id),
            n,
            starts,
            term_end_expr(model, n),
            price,
            seats,
        )
        .select_from(model)
        .join(profiles, profiles.c.k == mix(col(model.id), salt) % _num(count))
        .join(s, n <= profiles.c.records)
    )
    columns = ["district_id", "subject_type", "subject_id", "term_number", "start",
               "end", "price", "seats"]  # fmt: skip
    conn.execute(sa.insert(TermRecord).from_select(columns, rows))
