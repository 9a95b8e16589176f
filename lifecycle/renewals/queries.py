"""What the renewals page reads: the obligations list, its summary numbers, the timeline.

Every statement starts from `scoped(…, Obligation, user)`. The subject's name comes from
outer joins on (subject_type, subject_id), so the list and its search never query per
row; the timeline is ONE aggregate grouped by month and kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import DeviceCategory, ObligationKind, ObligationState
from lifecycle.models import (
    Device,
    District,
    License,
    Obligation,
    School,
    ServiceContract,
    User,
)
from lifecycle.renewals import timeline
from lifecycle.scan.jobs import district_today
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.sqlfuncs import in_cents
from lifecycle.tenancy import district_filter, scoped
from lifecycle.web.listing import (
    AnySelect,
    Filter,
    ListQuery,
    ListSpec,
    SortKey,
    contains,
    date_range,
    filtered,
)

KINDS = tuple(k.value for k in ObligationKind)


class StateChoice(StrEnum):
    """The state filter: the open ones (default), everything, or one state."""

    OPEN = "open"
    ALL = "all"
    UPCOMING = "upcoming"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    IN_ROUND = "in_round"
    ORDERED = "ordered"
    DONE = "done"
    LAPSED = "lapsed"
    RETIRED = "retired"


class Metric(StrEnum):
    COST = "cost"
    COUNT = "count"


def _state_clause(choice: StateChoice) -> sa.ColumnElement[bool]:
    if choice is StateChoice.OPEN:
        return col(Obligation.state).in_(OPEN_STATES)
    if choice is StateChoice.ALL:
        return sa.true()
    return col(Obligation.state) == ObligationState(choice.value)


SUBJECT: Any = sa.func.coalesce(
    col(Device.asset_tag), col(License.product), col(ServiceContract.name)
)


def _search(q: str) -> sa.ColumnElement[bool]:
    like = contains(q)
    return sa.or_(
        col(Device.asset_tag).ilike(like, escape="\\"),
        col(Device.serial).ilike(like, escape="\\"),
        col(Device.model).ilike(like, escape="\\"),
        col(License.product).ilike(like, escape="\\"),
        col(ServiceContract.name).ilike(like, escape="\\"),
    )


SPEC = ListSpec(
    filters=[
        Filter("kind", "Kind", ObligationKind, column=col(Obligation.kind)),
        Filter("state", "State", StateChoice, where=_state_clause),
        Filter("district_id", "District", int, column=col(Obligation.district_id)),
        Filter("school_id", "School", int, column=col(Obligation.school_id)),
        Filter("category", "Category", str, column=col(Obligation.category)),
        Filter("fiscal_year", "Fiscal year", int, column=col(Obligation.fiscal_year)),
        *date_range("due_date", "Due", col(Obligation.due_date)),
        *date_range("decide_by", "Decide by", col(Obligation.decide_by)),
        # Not a filter of rows: which measure the timeline draws (kept in every link).
        Filter("metric", "Chart shows", Metric, where=lambda v: sa.true()),
    ],
    sorts=[
        SortKey("decide_by", "Decide by", col(Obligation.decide_by)),
        SortKey("due_date", "Due", col(Obligation.due_date)),
        SortKey("estimated_cost", "Estimated cost", col(Obligation.estimated_cost)),
        SortKey("kind", "Kind", col(Obligation.kind)),
        SortKey("state", "State", col(Obligation.state)),
        SortKey("fiscal_year", "Fiscal year", col(Obligation.fiscal_year)),
        SortKey("subject", "Subject", SUBJECT, nullable=True),
        SortKey("district", "District", col(District.name)),
    ],
    default_sort="decide_by",
    id_column=col(Obligation.id),
    search=_search,
)

CATEGORY_CHOICES = [
    *((c.value, c.label) for c in DeviceCategory),
    ("license", "Software license"),
    ("service", "Service contract"),
]


def _joined(stmt: AnySelect) -> AnySelect:
    """Outer joins to the subject of each obligation, its school and its district."""
    subject = col(Obligation.subject_id)
    kind = col(Obligation.subject_type)
    return (
        stmt.outerjoin(Device, sa.and_(kind == "device", col(Device.id) == subject))
        .outerjoin(License, sa.and_(kind == "license", col(License.id) == subject))
        .outerjoin(
            ServiceContract,
            sa.and_(kind == "contract", col(ServiceContract.id) == subject),
        )
        .outerjoin(School, col(School.id) == col(Obligation.school_id))
        .join(District, col(District.id) == col(Obligation.district_id))
    )


def list_stmt(user: User) -> AnySelect:
    """Obligations the user may see, with what each row shows and its forms need."""
    stmt = sa.select(
        Obligation,
        SUBJECT.label("subject"),
        col(School.name).label("school"),
        col(District.name).label("district"),
        sa.func.coalesce(
            col(Device.version), col(License.version), col(ServiceContract.version)
        ).label("subject_version"),
        sa.func.coalesce(
            col(License.renewal_type), col(ServiceContract.renewal_type)
        ).label("renewal_type"),
        sa.func.coalesce(
            col(License.current_term_number), col(ServiceContract.current_term_number)
        ).label("current_term"),
        sa.func.coalesce(
            col(License.decision_term_number), col(ServiceContract.decision_term_number)
        ).label("decision_term"),
        col(License.seats).label("seats"),
        col(License.price_per_seat).label("price_per_seat"),
        col(ServiceContract.cost_per_period).label("cost_per_period"),
    ).select_from(Obligation)
    return scoped(_joined(stmt), Obligation, user)


def with_default_state(stmt: AnySelect, query: ListQuery) -> AnySelect:
    """Without a state filter the page shows the open obligations only."""
    if "state" in query.values:
        return stmt
    return stmt.where(col(Obligation.state).in_(OPEN_STATES))


def row_key(query: ListQuery) -> Callable[[Any], tuple[Any, int]] | None:
    """The cursor value of a row when sorted by a joined column."""
    name = SPEC.sort_key(query.sort)[0].name
    if name == "subject":
        return lambda row: (row.subject, row[0].id)
    if name == "district":
        return lambda row: (row.district, row[0].id)
    return None


def one_row(session: Session, user: User, obligation_id: int) -> Any:
    stmt = list_stmt(user).where(col(Obligation.id) == obligation_id)
    return session.execute(stmt).first()


def today_of(session: Session, user: User) -> date:
    """Today where the user's district is; cooperative-wide views use the server date."""
    if user.district_id is not None:
        district = session.get(District, user.district_id)
        if district is not None:
            return district_today(district)
    return date.today()  # noqa: DTZ011 - no district: the server's calendar day


@dataclass(frozen=True)
class Stats:
    open: int
    overdue: int
    soon: int  # decide within 30 days (today included)
    soon_cost: Decimal


def stats(session: Session, user: User, today: date) -> Stats:
    """The numbers at the top of the page, in one query over the open obligations."""
    decide = col(Obligation.decide_by)
    soon = sa.and_(decide >= today, decide <= today + timedelta(days=30))
    cents = in_cents(col(Obligation.estimated_cost))
    stmt = scoped(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((decide < today, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((soon, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((soon, cents), else_=0)), 0),
        ).where(col(Obligation.state).in_(OPEN_STATES)),
        Obligation,
        user,
    )
    total, overdue, within, cost = session.execute(stmt).one()
    return Stats(
        int(total), int(overdue), int(within), Decimal(int(cost)) / Decimal(100)
    )


def chart(
    session: Session,
    user: User,
    query: ListQuery,
    today: date,
    *,
    months: int = 24,
) -> timeline.Chart:
    """The next `months` months of the filtered obligations, by due month and kind.

    One aggregate: anything already overdue is counted in the current month (it still
    has to be bought), amounts summed in whole cents so SQLite adds them exactly.
    """
    first = timeline.month_start(today)
    end = timeline.add_months(first, months)
    due = col(Obligation.due_date)
    month_key = (
        sa.cast(sa.extract("year", due), sa.Integer) * 12
        + sa.cast(sa.extract("month", due), sa.Integer)
        - 1
    )
    bucket = sa.case((due < first, timeline.month_index(first)), else_=month_key)
    cents = in_cents(col(Obligation.estimated_cost))
    stmt = (
        sa.select(
            bucket.label("month"),
            col(Obligation.kind),
            sa.func.count().label("n"),
            sa.func.coalesce(sa.func.sum(cents), 0).label("cents"),
        )
        .select_from(Obligation)
        .where(due < end)
        .group_by(bucket, col(Obligation.kind))
    )
    stmt = with_default_state(filtered(SPEC, _joined(stmt), query), query)
    stmt = scoped(stmt, Obligation, user)
    metric = query.values.get("metric", Metric.COST)
    values: dict[tuple[date, str], Decimal | int] = {}
    for month, kind, n, total_cents in session.execute(stmt).all():
        key = (timeline.from_index(int(month)), getattr(kind, "value", str(kind)))
        values[key] = (
            int(n) if metric is Metric.COUNT else Decimal(int(total_cents)) / 100
        )
    return timeline.build(first, values, KINDS, months=months)


def cross_district(user: User) -> bool:
    """Cooperative staff and administrators see every district (a district column)."""
    return district_filter(user) is None


def obligations_of(
    session: Session, *, subject_type: str, subject_id: int
) -> list[Obligation]:
    """Every obligation of one record (a device, license or contract), soonest first.

    The caller has already loaded the record through the scoping helper.
    """
    stmt = (
        select(Obligation)
        .where(
            col(Obligation.subject_type) == subject_type,
            col(Obligation.subject_id) == subject_id,
        )
        .order_by(
            col(Obligation.due_date), col(Obligation.kind), col(Obligation.term_number)
        )
    )
    return list(session.exec(stmt).all())
