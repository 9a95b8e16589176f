"""Numbers for the home pages and access to job records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, func, select

from lifecycle.budget.inputs import NEEDS
from lifecycle.catalog.rules import expiring_until
from lifecycle.enums import DeviceStatus, ObligationKind, Role, RoundState
from lifecycle.models import (
    ContractVehicle,
    District,
    JobRecord,
    License,
    Obligation,
    PurchaseRound,
    School,
    ServiceContract,
    User,
)
from lifecycle.models import Device as DeviceModel
from lifecycle.sqlfuncs import in_cents
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


@dataclass(frozen=True, slots=True)
class CoopFigures:
    """What cooperative staff's home page leads with."""

    open_rounds: list[PurchaseRound]  # soonest close first
    needs_until: date  # the end of next quarter
    needs: int  # open needs due before it, overdue included
    needs_cost: Decimal
    needs_districts: int
    expiring: list[ContractVehicle]  # ending within the expiring window, soonest first


def coop_figures(session: Session, today: date) -> CoopFigures:
    """Open rounds, the members' needs due by the end of next quarter, and the vehicles
    whose term is ending: three small queries, none of them over a district's rows
    one by one."""
    rounds = list(
        session.exec(
            select(PurchaseRound)
            .where(col(PurchaseRound.state) == RoundState.OPEN)
            .order_by(col(PurchaseRound.closes_at))
        ).all()
    )
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    until = this_quarter + relativedelta(months=6)
    needs, cents, districts = session.execute(
        sa.select(
            func.count(),
            func.coalesce(func.sum(in_cents(col(Obligation.estimated_cost))), 0),
            func.count(sa.distinct(col(Obligation.district_id))),
        ).where(
            col(Obligation.state).in_(NEEDS),
            col(Obligation.kind) != ObligationKind.WARRANTY,
            col(Obligation.due_date) < until,
        )
    ).one()
    expiring = list(
        session.exec(
            select(ContractVehicle)
            .where(
                col(ContractVehicle.term_end) >= today,
                col(ContractVehicle.term_end) <= expiring_until(today),
            )
            .order_by(col(ContractVehicle.term_end))
        ).all()
    )
    return CoopFigures(
        open_rounds=rounds,
        needs_until=until - timedelta(days=1),
        needs=int(needs),
        needs_cost=Decimal(int(cents)) / 100,
        needs_districts=int(districts),
        expiring=expiring,
    )
