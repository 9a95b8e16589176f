"""Districts, schools and vendors."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
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
from ..records import check_version
from ..tenancy import scoped, writable_district


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
    check_version(district, data.version, fields=tuple(DistrictUpdate.model_fields))
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
        raise ValidationFailed(
            {"name": "is already the name of another school in your district"}
        )


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
    session.flush()
    return school


def update_school(
    session: Session, *, user: User, school: School, data: SchoolUpdate
) -> School:
    writable_district(user, school.district_id)
    check_version(school, data.version, fields=("name", "code", "level", "enrollment"))
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("name"):
        changes["name"] = changes["name"].strip()
        _unique_school_name(session, school.district_id, changes["name"], school.id)
    for key, value in changes.items():
        if value is not None or key == "enrollment":
            setattr(school, key, value)
    session.flush()
    return school


def delete_school(session: Session, *, user: User, school: School) -> None:
    """Delete a school created by mistake; one that still has records is refused (409)."""
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
        raise ValidationFailed({"name": "is already a vendor"})
    vendor = Vendor(**data.model_dump(exclude={"name"}), name=name)
    session.add(vendor)
    session.flush()
    return vendor


def update_vendor(session: Session, *, vendor: Vendor, data: VendorUpdate) -> Vendor:
    check_version(
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
            raise ValidationFailed({"name": "is already a vendor"})
        changes["name"] = name
    for key, value in changes.items():
        if value is not None:
            setattr(vendor, key, value)
    session.flush()
    return vendor
