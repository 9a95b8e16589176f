"""Plain `make_x(session, **overrides)` helpers for arranging test data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from lifecycle.auth import hash_password
from lifecycle.enums import DeviceCategory, ItemKind, RenewalType, Role
from lifecycle.models import (
    CatalogItem,
    CategoryPolicy,
    ContractVehicle,
    Cooperative,
    Device,
    District,
    License,
    PriceTier,
    School,
    ServiceContract,
    User,
    Vendor,
)

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH: str | None = None
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def _save(session: Session, obj: Any) -> Any:
    session.add(obj)
    session.flush()
    return obj


def make_cooperative(session: Session, **kw: Any) -> Cooperative:
    return _save(
        session, Cooperative(**{"name": "Region 99 Purchasing Cooperative", **kw})
    )


def make_district(session: Session, cooperative: Cooperative, **kw: Any) -> District:
    n = _n()
    values = {
        "cooperative_id": cooperative.id,
        "nces_id": f"{4800000 + n:07d}",
        "name": f"Test ISD {n}",
        "state": "TX",
        "enrollment": 5000,
    }
    values.update(kw)
    return _save(session, District(**values))


def make_school(session: Session, district: District, **kw: Any) -> School:
    return _save(
        session, School(**{"district_id": district.id, "name": f"School {_n()}", **kw})
    )


def make_user(
    session: Session, role: Role, district: District | None = None, **kw: Any
) -> User:
    n = _n()
    values = {
        "email": f"{role.value}{n}@example.org",
        "name": f"{role.label} {n}",
        "role": role,
        "district_id": district.id if district else None,
        "password_hash": password_hash(),
    }
    values.update(kw)
    return _save(session, User(**values))


def make_vendor(session: Session, **kw: Any) -> Vendor:
    return _save(session, Vendor(**{"name": f"Vendor {_n()}", **kw}))


def make_vehicle(
    session: Session, cooperative: Cooperative, vendor: Vendor, **kw: Any
) -> ContractVehicle:
    values = {
        "cooperative_id": cooperative.id,
        "vendor_id": vendor.id,
        "contract_number": f"R99-{_n():04d}",
        "title": "Technology products",
        "term_start": date(2025, 9, 1),
        "term_end": date(2028, 8, 31),
    }
    values.update(kw)
    return _save(session, ContractVehicle(**values))


def make_catalog_item(
    session: Session,
    vehicle: ContractVehicle,
    *,
    tiers: list[tuple[int, str]] | None = None,
    **kw: Any,
) -> CatalogItem:
    values = {
        "vehicle_id": vehicle.id,
        "sku": f"SKU-{_n()}",
        "name": "Chromebook 11",
        "kind": ItemKind.DEVICE,
        "category": DeviceCategory.CHROMEBOOK,
        "list_price": Decimal("329.00"),
        "lifespan_months": 48,
    }
    values.update(kw)
    item = _save(session, CatalogItem(**values))
    for min_qty, price in tiers or []:
        _save(
            session,
            PriceTier(
                catalog_item_id=item.id, min_qty=min_qty, unit_price=Decimal(price)
            ),
        )
    return item


def make_device(session: Session, district: District, **kw: Any) -> Device:
    n = _n()
    values = {
        "district_id": district.id,
        "asset_tag": f"A{n:06d}",
        "serial": f"SN{n:08d}",
        "model": "Lenovo 100e Chromebook Gen 3",
        "category": DeviceCategory.CHROMEBOOK,
        "purchase_date": date(2023, 7, 15),
        "purchase_cost": Decimal("289.00"),
    }
    values.update(kw)
    return _save(session, Device(**values))


def make_license(session: Session, district: District, **kw: Any) -> License:
    values = {
        "district_id": district.id,
        "product": f"Learning suite {_n()}",
        "seats": 500,
        "seats_used": 420,
        "term_start": date(2025, 7, 1),
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "renewal_type": RenewalType.EXPRESS,
        "price_per_seat": Decimal("4.50"),
    }
    values.update(kw)
    return _save(session, License(**values))


def make_contract(session: Session, district: District, **kw: Any) -> ServiceContract:
    values = {
        "district_id": district.id,
        "name": f"Network maintenance {_n()}",
        "term_start": date(2025, 1, 1),
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "renewal_type": RenewalType.TACIT,
        "notice_days": 60,
        "cost_per_period": Decimal("12000.00"),
    }
    values.update(kw)
    return _save(session, ServiceContract(**values))


def make_chromebook_cohort(
    session: Session,
    district: District,
    cooperative: Cooperative,
    bought: list[date],
    **device_kw: Any,
) -> CatalogItem:
    """Chromebooks of `district` bought on the given dates, under a 48-month refresh
    policy whose replacement item lists at 300.00 with a 100-unit tier at 280.00;
    returns that item. Not committed."""
    vehicle = make_vehicle(session, cooperative, make_vendor(session))
    item = make_catalog_item(
        session,
        vehicle,
        list_price=Decimal("300.00"),
        tiers=[(1, "300.00"), (100, "280.00")],
    )
    session.add(
        CategoryPolicy(
            district_id=district.id,
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=48,
            replacement_item_id=item.id,
        )
    )
    for day in bought:
        make_device(session, district, purchase_date=day, **device_kw)
    return item


@dataclass
class DistrictWorld:
    district: District
    school: School
    it: User
    finance: User
    viewer: User


@dataclass
class World:
    coop: Cooperative
    a: DistrictWorld
    b: DistrictWorld
    coop_staff: User
    admin: User


def _district_world(session: Session, coop: Cooperative, name: str) -> DistrictWorld:
    district = make_district(session, coop, name=name)
    return DistrictWorld(
        district=district,
        school=make_school(session, district, name=f"{name} High School"),
        it=make_user(session, Role.DISTRICT_IT, district),
        finance=make_user(session, Role.DISTRICT_FINANCE, district),
        viewer=make_user(session, Role.DISTRICT_VIEWER, district),
    )


def make_world(session: Session) -> World:
    coop = make_cooperative(session)
    world = World(
        coop=coop,
        a=_district_world(session, coop, "Alpha ISD"),
        b=_district_world(session, coop, "Bravo ISD"),
        coop_staff=make_user(session, Role.COOP_STAFF),
        admin=make_user(session, Role.ADMIN),
    )
    session.commit()
    return world
