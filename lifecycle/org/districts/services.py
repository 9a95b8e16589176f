"""Member districts as cooperative staff see them: the list and one district's overview.

Cooperative staff read every member district (docs/rules.md#tenancy-and-access); these
queries are set-based, one round trip per page, whatever the number of districts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lifecycle.enums import DeviceStatus, ObligationKind
from lifecycle.models import (
    Device,
    District,
    License,
    Obligation,
    School,
    ServiceContract,
    User,
)
from lifecycle.scan.jobs import district_today
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.sqlfuncs import in_cents
from lifecycle.tenancy import get_scoped
from lifecycle.web.listing import AnySelect, Filter, ListSpec, SortKey, contains

# What "soon" means on the member pages: the open decisions and refreshes due within
# this many days (docs/rules.md#member-districts).
SOON_DAYS = 90


def _count(model: type, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(model)
        .where(model.district_id == District.id, *where)  # type: ignore[attr-defined]
        .correlate(District)
        .scalar_subquery()
    )


def _search(text: str) -> sa.ColumnElement[bool]:
    pattern = contains(text)
    return sa.or_(
        col(District.name).ilike(pattern, escape="\\"),
        col(District.nces_id).ilike(pattern, escape="\\"),
    )


MEMBER_SPEC = ListSpec(
    filters=[Filter("state", "State", str, column=col(District.state))],
    sorts=[
        SortKey("name", "District", col(District.name)),
        SortKey("state", "State", col(District.state)),
        SortKey("enrollment", "Enrollment", col(District.enrollment)),
    ],
    default_sort="name",
    id_column=col(District.id),
    search=_search,
)


def member_list_stmt(today: date) -> AnySelect:
    """Districts with their record counts and what is due soon, one row each."""
    soon = today + timedelta(days=SOON_DAYS)
    return sa.select(
        District,
        _count(Device).label("devices"),
        _count(License).label("licenses"),
        _count(ServiceContract).label("contracts"),
        _count(
            Obligation,
            col(Obligation.state).in_(OPEN_STATES),
            col(Obligation.due_date) < soon,
        ).label("due_soon"),
    ).select_from(District)


def member_states(session: Session) -> list[str]:
    """The states member districts are in, for the list's filter."""
    stmt = select(District.state).distinct().order_by(col(District.state))
    return [s for s in session.exec(stmt).all() if s]


@dataclass(frozen=True, slots=True)
class Due:
    """Open obligations of one kind: overdue, due in the next SOON_DAYS days, due in
    the next year (each excluding the overdue), and the estimated cost of the overdue
    and the soon together."""

    kind: ObligationKind
    overdue: int
    soon: int
    year: int
    soon_cost: Decimal


@dataclass(frozen=True, slots=True)
class Overview:
    district: District
    devices: int
    devices_in_service: int
    licenses: int
    contracts: int
    schools: int
    due: list[Due]
    today: date


def overview(session: Session, user: User, district_id: int) -> Overview:
    """One member district at a glance, on its own today: its counts and its open
    obligations by kind (404 outside the user's scope)."""
    district = get_scoped(session, District, district_id, user)
    today = district_today(district)

    def count(model: type, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        return (
            select(func.count())
            .select_from(model)
            .where(model.district_id == district_id, *where)  # type: ignore[attr-defined]
            .scalar_subquery()
        )

    counts = session.execute(
        sa.select(
            count(Device),
            count(Device, col(Device.status) == DeviceStatus.IN_SERVICE),
            count(License),
            count(ServiceContract),
            count(School),
        )
    ).one()
    due_date = col(Obligation.due_date)

    def due_before(
        day: date, value: sa.ColumnElement[int] | int = 1
    ) -> sa.ColumnElement[int]:
        return func.coalesce(func.sum(sa.case((due_date < day, value), else_=0)), 0)

    soon = today + timedelta(days=SOON_DAYS)
    rows = session.execute(
        sa.select(
            col(Obligation.kind),
            due_before(today),
            due_before(soon),
            due_before(today + timedelta(days=365)),
            due_before(soon, in_cents(col(Obligation.estimated_cost))),
        )
        .where(
            col(Obligation.district_id) == district_id,
            col(Obligation.state).in_(OPEN_STATES),
        )
        .group_by(col(Obligation.kind))
    ).all()
    found = {ObligationKind(kind): rest for kind, *rest in rows}
    due = []
    for kind in ObligationKind:
        overdue, within, year, cents = found.get(kind, (0, 0, 0, 0))
        due.append(
            Due(
                kind,
                overdue=int(overdue),
                soon=int(within) - int(overdue),
                year=int(year) - int(overdue),
                soon_cost=Decimal(int(cents)) / 100,
            )
        )
    devices, in_service, licenses, contracts, schools = counts
    return Overview(
        district, devices, in_service, licenses, contracts, schools, due, today
    )
