"""The weekly digest (docs/rules.md#reminders): one e-mail per person who wants it, once a week.

District staff get their district's decisions due in the next 30 and 90 days and what
is overdue; cooperative staff get the count of upcoming decisions per member district.
Every figure comes from three grouped queries over all districts, not one per person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.config import Settings
from lifecycle.enums import RENEWAL_KINDS, ObligationKind, Role
from lifecycle.models import District, License, Obligation, ServiceContract, User
from lifecycle.notices.mailing import absolute, write_outbox
from lifecycle.notices.notify import RENEWALS_LINK, fmt_day, fmt_money, noun
from lifecycle.scan.obligations import OPEN_STATES

HORIZON = 90
SOON = 30
TOP_ITEMS = 10
MAX_DISTRICTS = 100
KIND_LABELS = {
    ObligationKind.LICENSE_RENEWAL: "License renewals",
    ObligationKind.CONTRACT_RENEWAL: "Contract renewals",
    ObligationKind.REFRESH: "Device refreshes",
    ObligationKind.WARRANTY: "Warranty ends",
}


def week_key(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Tally:
    count: int = 0
    cost: Decimal = Decimal(0)

    def add(self, count: int, cost: Decimal) -> None:
        self.count += count
        self.cost += cost


@dataclass
class DistrictDigest:
    """What one district has coming up: tallies by bucket and kind, the next items."""

    soon: Tally = field(default_factory=Tally)  # decide-by within 30 days
    later: Tally = field(default_factory=Tally)  # within 90 days
    overdue: Tally = field(default_factory=Tally)
    by_kind: dict[ObligationKind, Tally] = field(
        default_factory=lambda: defaultdict(Tally)
    )
    renewals: list[tuple[str, int, str, date, Decimal]] = field(default_factory=list)
    devices: list[tuple[ObligationKind, str, int, date]] = field(default_factory=list)

    @property
    def upcoming_renewals(self) -> int:
        return sum(self.by_kind[k].count for k in RENEWAL_KINDS if k in self.by_kind)

    @property
    def upcoming(self) -> int:
        return self.soon.count + self.later.count


def _open_within(today: date) -> list[sa.ColumnElement[bool]]:
    return [
        col(Obligation.state).in_(OPEN_STATES),
        col(Obligation.decide_by) <= today + timedelta(days=HORIZON),
    ]


def summarise(session: Session, today: date) -> dict[int, DistrictDigest]:
    """Every district's digest figures in three grouped queries."""
    digests: dict[int, DistrictDigest] = defaultdict(DistrictDigest)
    decide_by = col(Obligation.decide_by)
    flat = (
        sa.select(
            col(Obligation.district_id).label("district_id"),
            col(Obligation.kind).label("kind"),
            sa.case(
                (decide_by < today, "overdue"),
                (decide_by <= today + timedelta(days=SOON), "soon"),
                else_="later",
            ).label("bucket"),
            col(Obligation.estimated_cost).label("cost"),
        )
        .where(*_open_within(today))
        .subquery()
    )
    keys = [flat.c.district_id, flat.c.kind, flat.c.bucket]
    for district_id, kind, bucket, n, cost in session.execute(
        sa.select(*keys, sa.func.count(), sa.func.sum(flat.c.cost)).group_by(*keys)
    ).all():
        digest = digests[district_id]
        amount = Decimal(cost or 0)
        getattr(digest, bucket).add(int(n), amount)
        if bucket != "overdue":
            digest.by_kind[ObligationKind(kind)].add(int(n), amount)
    ranked = (
        sa.select(
            col(Obligation.district_id).label("district_id"),
            col(Obligation.subject_type).label("subject_type"),
            col(Obligation.subject_id).label("subject_id"),
            sa.func.coalesce(col(License.product), col(ServiceContract.name), "").label(
                "name"
            ),
            decide_by.label("decide_by"),
            col(Obligation.estimated_cost).label("cost"),
            sa.func.row_number()
            .over(
                partition_by=col(Obligation.district_id),
                order_by=(decide_by, col(Obligation.id)),
            )
            .label("rank"),
        )
        .outerjoin(
            License,
            sa.and_(
                col(Obligation.subject_type) == "license",
                col(License.id) == col(Obligation.subject_id),
            ),
        )
        .outerjoin(
            ServiceContract,
            sa.and_(
                col(Obligation.subject_type) == "contract",
                col(ServiceContract.id) == col(Obligation.subject_id),
            ),
        )
        .where(
            *_open_within(today),
            decide_by >= today,
            col(Obligation.kind).in_(RENEWAL_KINDS),
        )
        .subquery()
    )
    for row in session.execute(
        sa.select(ranked)
        .where(ranked.c.rank <= TOP_ITEMS)
        .order_by(ranked.c.district_id, ranked.c.rank)
    ).all():
        digests[row.district_id].renewals.append(
            (row.subject_type, row.subject_id, row.name, row.decide_by, row.cost)
        )
    devices = (
        sa.select(
            col(Obligation.district_id),
            col(Obligation.kind),
            col(Obligation.category),
            sa.func.count(),
            sa.func.min(decide_by),
        )
        .where(
            *_open_within(today),
            decide_by >= today,
            col(Obligation.kind).not_in(RENEWAL_KINDS),
        )
        .group_by(
            col(Obligation.district_id), col(Obligation.kind), col(Obligation.category)
        )
        .order_by(col(Obligation.district_id), sa.func.min(decide_by))
    )
    for district_id, kind, category, n, first in session.execute(devices).all():
        digests[district_id].devices.append(
            (ObligationKind(kind), category, int(n), first)
        )
    return digests


def _district_text(
    settings: Settings, user: User, district: District, d: DistrictDigest, today: date
) -> str:
    soon, later, overdue = d.soon, d.later, d.overdue
    lines = [
        f"Hello {user.name},",
        "",
        f"Your weekly Lifecycle digest for {district.name}, {fmt_day(today)}.",
        "",
        f"Decisions due in the next {SOON} days: {soon.count:,}"
        f" (est. {fmt_money(soon.cost)})",
        f"Decisions due in the next {HORIZON} days: {soon.count + later.count:,}"
        f" (est. {fmt_money(soon.cost + later.cost)})",
        f"Overdue: {overdue.count:,}",
    ]
    if d.by_kind:
        lines += ["", f"Next {HORIZON} days by kind:"]
        for kind, label in KIND_LABELS.items():
            if kind in d.by_kind and d.by_kind[kind].count:
                tally = d.by_kind[kind]
                lines.append(
                    f"- {label}: {tally.count:,} (est. {fmt_money(tally.cost)})"
                )
    if d.renewals:
        lines += ["", "Renewals coming up:"]
        for subject_type, subject_id, name, day, cost in d.renewals:
            lines.append(
                f"- {name or subject_type} ({subject_type}): decide by {fmt_day(day)},"
                f" est. {fmt_money(Decimal(cost or 0))}"
            )
            lines.append(f"  {absolute(settings, f'/{subject_type}s/{subject_id}')}")
    if d.devices:
        lines += ["", "Devices coming up:"]
        for kind, category, n, first in d.devices[:TOP_ITEMS]:
            what = "refresh" if kind is ObligationKind.REFRESH else "warranty end"
            lines.append(
                f"- {n:,} {noun(category, n)}: {what}, the first on {fmt_day(first)}"
            )
    if not (d.upcoming or overdue.count):
        lines += ["", f"Nothing needs a decision in the next {HORIZON} days."]
    lines += [
        "",
        f"Review: {absolute(settings, RENEWALS_LINK)}",
        f"Stop this digest: {absolute(settings, '/notifications/preferences')}",
    ]
    return "\n".join(lines) + "\n"


def _coop_text(
    settings: Settings,
    user: User,
    districts: list[District],
    digests: dict[int, DistrictDigest],
    today: date,
) -> tuple[str, int]:
    busy = sorted(
        (d for d in districts if d.id in digests and digests[d.id].upcoming),
        key=lambda d: (-digests[d.id or 0].upcoming, d.name),
    )
    total = sum(digests[d.id or 0].upcoming for d in busy)
    lines = [
        f"Hello {user.name},",
        "",
        f"Upcoming decisions across member districts, next {HORIZON} days,"
        f" {fmt_day(today)}: {total:,} in {len(busy):,} districts.",
        "",
    ]
    for district in busy[:MAX_DISTRICTS]:
        d = digests[district.id or 0]
        lines.append(
            f"- {district.name}: {d.upcoming_renewals:,} renewals,"
            f" {d.upcoming:,} decisions in all"
            f" (est. {fmt_money(d.soon.cost + d.later.cost)}),"
            f" {d.overdue.count:,} overdue"
        )
    if len(busy) > MAX_DISTRICTS:
        lines.append(f"… and {len(busy) - MAX_DISTRICTS:,} more districts")
    if not busy:
        lines.append("No member district has a decision due in that time.")
    lines += [
        "",
        f"Stop this digest: {absolute(settings, '/notifications/preferences')}",
    ]
    return "\n".join(lines) + "\n", len(busy)


def write_weekly_digest(
    session: Session, *, today: date, settings: Settings
) -> list[int]:
    """One outbox row per active person with the digest on; none more that week."""
    people = session.exec(
        select(User)
        .where(
            col(User.is_active).is_(True),
            col(User.weekly_digest).is_(True),
            col(User.role).in_(
                [
                    Role.DISTRICT_IT,
                    Role.DISTRICT_FINANCE,
                    Role.DISTRICT_VIEWER,
                    Role.COOP_STAFF,
                ]
            ),
        )
        .order_by(col(User.id))
    ).all()
    if not people:
        return []
    districts = list(session.exec(select(District).order_by(col(District.name))).all())
    by_id = {d.id: d for d in districts}
    digests = summarise(session, today)
    week = week_key(today)
    rows: list[dict[str, Any]] = []
    for user in people:
        if Role(user.role) is Role.COOP_STAFF:
            body, busy = _coop_text(settings, user, districts, digests, today)
            subject = (
                f"Lifecycle weekly digest: decisions coming up in {busy:,} districts"
            )
        else:
            district = by_id.get(user.district_id)
            if district is None:
                continue
            d = digests.get(user.district_id or 0) or DistrictDigest()
            body = _district_text(settings, user, district, d, today)
            subject = (
                f"Lifecycle weekly digest for {district.name}: {d.soon.count:,} due in"
                f" {SOON} days, {d.overdue.count:,} overdue"
            )
        rows.append(
            {
                "user_id": user.id,
                "district_id": user.district_id,
                "kind": "digest",
                "dedupe_key": f"digest:{user.id}:{week}",
                "to_address": user.email,
                "subject": subject[:300],
                "body_text": body,
            }
        )
    return write_outbox(session, rows)
