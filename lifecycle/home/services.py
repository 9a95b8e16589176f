"""Numbers for the home pages and access to job records."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lifecycle.enums import DeviceStatus, Role
from lifecycle.models import Device as DeviceModel
from lifecycle.models import District, JobRecord, License, School, ServiceContract, User
from lifecycle.tenancy import district_filter, scoped
from lifecycle.web.errors import NotFound


@dataclass
class DistrictCounts:
    devices: int
    devices_in_service: int
    licenses: int
    contracts: int
    schools: int


def district_counts(session: Session, *, user: User) -> DistrictCounts:
    """Counts of the signed-in district user's own records, in one round trip."""

    def count(model: type, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        stmt = select(func.count()).select_from(model).where(*where)
        return scoped(stmt, model, user).scalar_subquery()

    row = session.execute(
        sa.select(
            count(DeviceModel),
            count(DeviceModel, col(DeviceModel.status) == DeviceStatus.IN_SERVICE),
            count(License),
            count(ServiceContract),
            count(School),
        )
    ).one()
    return DistrictCounts(*row)


@dataclass
class MemberRow:
    district: District
    devices: int
    licenses: int
    contracts: int


def member_districts(session: Session, *, user: User) -> list[MemberRow]:
    """Member districts with their record counts (cooperative staff and admins)."""

    def per_district(model: type) -> sa.Subquery:
        return (
            select(model.district_id.label("district_id"), func.count().label("n"))  # type: ignore[attr-defined]
            .group_by(model.district_id)  # type: ignore[attr-defined]
            .subquery()
        )

    devices, licenses, contracts = (
        per_district(DeviceModel),
        per_district(License),
        per_district(ServiceContract),
    )
    stmt = (
        select(
            District,
            func.coalesce(devices.c.n, 0),
            func.coalesce(licenses.c.n, 0),
            func.coalesce(contracts.c.n, 0),
        )
        .outerjoin(devices, devices.c.district_id == District.id)
        .outerjoin(licenses, licenses.c.district_id == District.id)
        .outerjoin(contracts, contracts.c.district_id == District.id)
        .order_by(col(District.state), col(District.name))
    )
    stmt = scoped(stmt, District, user)
    return [
        MemberRow(d, n_dev, n_lic, n_con)
        for d, n_dev, n_lic, n_con in session.exec(stmt).all()
    ]


def get_job(session: Session, *, job_id: int, user: User) -> JobRecord:
    """A job record the user may see: their own, their district's, or any for admins."""
    record = session.get(JobRecord, job_id)
    if record is None:
        raise NotFound("No such job.")
    if Role(user.role) is Role.ADMIN or record.user_id == user.id:
        return record
    district_id = district_filter(user)
    if record.district_id is not None and (
        district_id is None or district_id == record.district_id
    ):
        return record
    raise NotFound("No such job.")
