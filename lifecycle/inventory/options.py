"""Choices for filters and forms: schools, vehicles, catalog items, funding sources."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.models import (
    CatalogItem,
    ContractVehicle,
    Device,
    District,
    School,
    ServiceContract,
    User,
    Vendor,
)
from lifecycle.tenancy import scoped


@dataclass
class Options:
    schools: list[tuple[int, str]]
    vehicles: list[tuple[int, str]]
    catalog_items: list[tuple[int, str]]
    vendors: list[tuple[int, str]]
    funding_sources: list[str]
    device_contracts: list[tuple[int, str]]


def options(session: Session, user: User, *, district_id: int | None = None) -> Options:
    """Everything the device/license/contract forms and filters offer, in a few queries."""
    schools_stmt = scoped(select(School.id, School.name), School, user).order_by(
        col(School.name)
    )
    if district_id is not None:
        schools_stmt = schools_stmt.where(col(School.district_id) == district_id)
    contracts_stmt = scoped(
        select(ServiceContract.id, ServiceContract.name), ServiceContract, user
    ).where(col(ServiceContract.coverage) == "devices")
    return Options(
        schools=[
            (int(i), n) for i, n in session.exec(schools_stmt).all() if i is not None
        ],
        vehicles=[
            (int(i), f"{num} — {title}")
            for i, num, title in session.exec(
                select(
                    ContractVehicle.id,
                    ContractVehicle.contract_number,
                    ContractVehicle.title,
                ).order_by(col(ContractVehicle.contract_number))
            ).all()
            if i is not None
        ],
        catalog_items=[
            (int(i), f"{name} ({sku})")
            for i, name, sku in session.exec(
                select(CatalogItem.id, CatalogItem.name, CatalogItem.sku)
                .where(col(CatalogItem.active))
                .order_by(col(CatalogItem.name))
            ).all()
            if i is not None
        ],
        vendors=[
            (int(i), n)
            for i, n in session.exec(
                select(Vendor.id, Vendor.name).order_by(col(Vendor.name))
            ).all()
            if i is not None
        ],
        funding_sources=funding_sources(session, user, district_id),
        device_contracts=[
            (int(i), n)
            for i, n in session.exec(
                contracts_stmt.order_by(col(ServiceContract.name))
            ).all()
            if i is not None
        ],
    )


def funding_sources(session: Session, user: User, district_id: int | None) -> list[str]:
    """The funding sources a district's devices name, sorted.

    For one district, a loose index scan on (district_id, funding_source): one probe
    per distinct value instead of reading every device (140,000 in a big district).
    Cooperative staff and administrators see every district's, with a plain DISTINCT.
    """
    district = district_id if district_id is not None else user.district_id
    if user.district_id is not None and district != user.district_id:
        return []  # a district's staff see their own district's only
    if district is None:
        stmt = scoped(
            sa.select(col(Device.funding_source)).distinct(), Device, user
        ).where(col(Device.funding_source) != "")
        return sorted(s for (s,) in session.execute(stmt).all() if s)
    source = col(Device.funding_source)
    mine = col(Device.district_id) == district
    found = (
        sa.select(sa.func.min(source).label("value"))
        .where(mine, source > "")
        .cte("found", recursive=True)
    )
    following = sa.select(sa.func.min(source)).where(mine, source > found.c.value)
    found = found.union_all(
        sa.select(following.scalar_subquery()).where(found.c.value.is_not(None))
    )
    stmt = sa.select(found.c.value).where(found.c.value.is_not(None))
    return sorted(str(s) for (s,) in session.execute(stmt).all())


def district_choices(session: Session, user: User) -> list[tuple[int, str]]:
    """The districts a cross-district reader may filter a list by (one query)."""
    stmt = scoped(select(District.id, District.name), District, user).order_by(
        col(District.name)
    )
    return [(int(i), n) for i, n in session.exec(stmt).all() if i is not None]
