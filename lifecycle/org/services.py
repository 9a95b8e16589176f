"""Districts, schools and vendors: their lists, forms and the checks on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from lifecycle.enums import DeviceCategory
from lifecycle.models import (
    ContractVehicle,
    Cooperative,
    Device,
    District,
    DistrictCreate,
    DistrictUpdate,
    License,
    Obligation,
    School,
    SchoolCreate,
    SchoolUpdate,
    ServiceContract,
    User,
    Vendor,
    VendorCreate,
    VendorUpdate,
)
from lifecycle.tenancy import scoped, writable_district
from lifecycle.web.errors import Conflict, NotFound, ValidationFailed
from lifecycle.web.listing import AnySelect, Filter, ListSpec, SortKey, contains
from lifecycle.web.records import claim_version

SCHOOL_NAME_TAKEN = {"name": "is already the name of another school in your district"}
VENDOR_NAME_TAKEN = {"name": "is already a vendor"}


def _flush_unique(session: Session, problem: dict[str, str]) -> None:
    """Flush; a unique-name race lost to a concurrent request is a 422, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ValidationFailed(dict(problem)) from exc


def cooperative(session: Session) -> Cooperative:
    coop = session.exec(select(Cooperative).order_by(col(Cooperative.id))).first()
    if coop is None:
        raise NotFound(
            "The cooperative is not set up yet; run `lifecycle seed-demo` first."
        )
    return coop


def list_districts(session: Session, *, user: User) -> list[District]:
    stmt = scoped(select(District), District, user).order_by(col(District.name))
    return list(session.exec(stmt).all())


def create_district(session: Session, *, data: DistrictCreate) -> District:
    if session.exec(
        select(District).where(col(District.nces_id) == data.nces_id)
    ).first():
        raise ValidationFailed({"nces_id": "is already a member district"})
    coop = cooperative(session)
    assert coop.id is not None
    district = District(cooperative_id=coop.id, **data.model_dump())
    session.add(district)
    session.flush()
    return district


def update_district(
    session: Session, *, district: District, data: DistrictUpdate
) -> District:
    fields = tuple(DistrictUpdate.model_fields)
    claim_version(session, district, data.version, fields=fields)
    for key, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
        if value is not None:
            setattr(district, key, value)
    session.flush()
    return district


def _unique_school_name(
    session: Session, district_id: int, name: str, school_id: int | None
) -> None:
    stmt = select(School.id).where(
        col(School.district_id) == district_id, func.lower(School.name) == name.lower()
    )
    existing = session.exec(stmt).first()
    if existing is not None and existing != school_id:
        raise ValidationFailed(SCHOOL_NAME_TAKEN)


def create_school(session: Session, *, user: User, data: SchoolCreate) -> School:
    district_id = writable_district(user, data.district_id)
    name = data.name.strip()
    _unique_school_name(session, district_id, name, None)
    school = School(
        district_id=district_id,
        **data.model_dump(exclude={"district_id", "name"}),
        name=name,
    )
    session.add(school)
    _flush_unique(session, SCHOOL_NAME_TAKEN)
    return school


def update_school(
    session: Session, *, user: User, school: School, data: SchoolUpdate
) -> School:
    writable_district(user, school.district_id)
    fields = ("name", "code", "level", "enrollment")
    claim_version(session, school, data.version, fields=fields)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("name"):
        changes["name"] = changes["name"].strip()
        _unique_school_name(session, school.district_id, changes["name"], school.id)
    for key, value in changes.items():
        if value is not None or key == "enrollment":
            setattr(school, key, value)
    _flush_unique(session, SCHOOL_NAME_TAKEN)
    return school


def delete_school(session: Session, *, user: User, school: School) -> None:
    """Delete a school made by mistake; one still holding records is refused (409)."""
    writable_district(user, school.district_id)
    in_use = session.exec(
        select(
            select(func.count())
            .select_from(Device)
            .where(col(Device.school_id) == school.id)
            .scalar_subquery()
            + select(func.count())
            .select_from(License)
            .where(col(License.school_id) == school.id)
            .scalar_subquery()
            + select(func.count())
            .select_from(ServiceContract)
            .where(col(ServiceContract.coverage_school_id) == school.id)
            .scalar_subquery()
        )
    ).one()
    if in_use:
        raise Conflict(
            f"{school.name} still has {in_use} devices, licenses or contracts; "
            "move them to another school first."
        )
    # Obligations copy their subject's school; with no subject left here, any that
    # still point at it are stale (the next scan re-derives them), so detach them.
    session.execute(
        update(Obligation)
        .where(col(Obligation.school_id) == school.id)
        .values(school_id=None)
    )
    session.delete(school)
    session.flush()


def create_vendor(session: Session, *, data: VendorCreate) -> Vendor:
    name = data.name.strip()
    if session.exec(
        select(Vendor).where(func.lower(Vendor.name) == name.lower())
    ).first():
        raise ValidationFailed(VENDOR_NAME_TAKEN)
    vendor = Vendor(**data.model_dump(exclude={"name"}), name=name)
    session.add(vendor)
    _flush_unique(session, VENDOR_NAME_TAKEN)
    return vendor


def update_vendor(session: Session, *, vendor: Vendor, data: VendorUpdate) -> Vendor:
    claim_version(
        session,
        vendor,
        data.version,
        fields=("name", "website", "support_email", "support_phone"),
    )
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("name"):
        name = changes["name"].strip()
        clash = session.exec(
            select(Vendor.id).where(func.lower(Vendor.name) == name.lower())
        ).first()
        if clash is not None and clash != vendor.id:
            raise ValidationFailed(VENDOR_NAME_TAKEN)
        changes["name"] = name
    for key, value in changes.items():
        if value is not None:
            setattr(vendor, key, value)
    _flush_unique(session, VENDOR_NAME_TAKEN)
    return vendor


# --- lists -------------------------------------------------------------------


def _count_of(model: Any, column: Any) -> sa.ScalarSelect[int]:
    """How many rows of `model` point at the outer query's school (correlated)."""
    return (
        sa.select(func.count())
        .select_from(model)
        .where(column == School.id)
        .correlate(School)
        .scalar_subquery()
    )


def _school_search(q: str) -> sa.ColumnElement[bool]:
    like = contains(q)
    return sa.or_(
        col(School.name).ilike(like, escape="\\"),
        col(School.code).ilike(like, escape="\\"),
    )


SCHOOL_SPEC = ListSpec(
    filters=[
        Filter("district_id", "District", int, column=col(School.district_id)),
        Filter("level", "Level", str, column=col(School.level)),
    ],
    sorts=[
        SortKey("name", "Name", col(School.name)),
        SortKey("code", "Code", col(School.code)),
        SortKey("level", "Level", col(School.level)),
        SortKey("enrollment", "Enrollment", col(School.enrollment), nullable=True),
        SortKey("district", "District", col(District.name)),
    ],
    default_sort="name",
    id_column=col(School.id),
    search=_school_search,
)


def school_list_stmt(user: User) -> AnySelect:
    """Schools the user may see, with district and device/license counts (one query)."""
    stmt: AnySelect = sa.select(
        School,
        col(District.name).label("district_name"),
        _count_of(Device, col(Device.school_id)).label("devices"),
        _count_of(License, col(License.school_id)).label("licenses"),
    ).join(District, col(District.id) == School.district_id)
    return scoped(stmt, School, user)


def school_row_key(sort: str) -> Any:
    """The keyset cursor value of a school row for the given sort."""

    def key(row: Any) -> tuple[Any, int]:
        school: School = row[0]
        assert school.id is not None
        if sort == "district":
            return row[1], school.id
        return getattr(school, sort), school.id

    return key


def school_levels(session: Session, *, user: User) -> list[str]:
    stmt = scoped(sa.select(col(School.level)).distinct(), School, user).where(
        col(School.level) != ""
    )
    return sorted(level for (level,) in session.execute(stmt).all() if level)


@dataclass
class SchoolUsage:
    """What refers to a school: the counts its page shows and delete_school checks."""

    devices: int
    devices_in_service: int
    by_category: list[tuple[DeviceCategory, int]]
    licenses: int
    seats: int
    contracts: int

    @property
    def in_use(self) -> int:
        return self.devices + self.licenses + self.contracts


def school_usage(session: Session, school: School) -> SchoolUsage:
    """Device counts by category, license and site-contract counts, in three queries."""
    by_category = session.execute(
        sa.select(
            col(Device.category),
            func.count(),
            func.sum(sa.case((col(Device.status) == "in_service", 1), else_=0)),
        )
        .where(col(Device.school_id) == school.id)
        .group_by(col(Device.category))
        .order_by(func.count().desc(), col(Device.category))
    ).all()
    licenses, seats = session.execute(
        sa.select(func.count(), func.coalesce(func.sum(col(License.seats)), 0)).where(
            col(License.school_id) == school.id
        )
    ).one()
    contracts = session.execute(
        sa.select(func.count())
        .select_from(ServiceContract)
        .where(col(ServiceContract.coverage_school_id) == school.id)
    ).scalar_one()
    return SchoolUsage(
        devices=sum(int(n) for _c, n, _s in by_category),
        devices_in_service=sum(int(s or 0) for _c, _n, s in by_category),
        by_category=[(DeviceCategory(c), int(n)) for c, n, _s in by_category],
        licenses=int(licenses),
        seats=int(seats),
        contracts=int(contracts),
    )


def _vendor_search(q: str) -> sa.ColumnElement[bool]:
    like = contains(q)
    return sa.or_(
        col(Vendor.name).ilike(like, escape="\\"),
        col(Vendor.website).ilike(like, escape="\\"),
        col(Vendor.support_email).ilike(like, escape="\\"),
    )


VENDOR_NAME_KEY = func.lower(col(Vendor.name))
VENDOR_SPEC = ListSpec(
    filters=[],
    sorts=[
        # case-insensitive: "dell" among "Dell" and "Apple", not after "Zoom"
        SortKey("name", "Name", VENDOR_NAME_KEY, value_of=lambda row: row.name_key),
        SortKey("website", "Website", col(Vendor.website)),
    ],
    default_sort="name",
    id_column=col(Vendor.id),
    search=_vendor_search,
)


def vendor_list_stmt() -> AnySelect:
    """Vendors with how many contract vehicles each has (one query; reference data)."""
    vehicles = (
        sa.select(func.count())
        .select_from(ContractVehicle)
        .where(col(ContractVehicle.vendor_id) == Vendor.id)
        .correlate(Vendor)
        .scalar_subquery()
    )
    # select_from keeps the FROM when the list's count drops the columns
    return sa.select(
        Vendor, vehicles.label("vehicles"), VENDOR_NAME_KEY.label("name_key")
    ).select_from(Vendor)


def get_vendor(session: Session, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound("No such vendor.")
    return vendor


def vendor_vehicles(session: Session, vendor: Vendor) -> list[ContractVehicle]:
    return list(
        session.exec(
            select(ContractVehicle)
            .where(col(ContractVehicle.vendor_id) == vendor.id)
            .order_by(col(ContractVehicle.term_end).desc())
        ).all()
    )
