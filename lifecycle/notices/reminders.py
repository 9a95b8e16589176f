"""Reminders after each scan (docs/rules.md#reminders): once per obligation, term and threshold.

Set-based: one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING per distinct list of
thresholds picks, for every open obligation, only the most urgent threshold now due (a
late scan sends one reminder, never a burst of stale ones). The unique key of
`reminders` is the guarantee under retries, duplicate ticks and concurrent workers; only
the rows this run actually inserted are summarised, in SQL, into one notification (and
at most one e-mail) per person, so a repeated or concurrent run notifies nobody twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import RENEWAL_KINDS, ObligationKind, ObligationState, Role
from lifecycle.models import (
    Device,
    District,
    License,
    Obligation,
    Reminder,
    ServiceContract,
    User,
    utcnow,
)
from lifecycle.models.org import DEFAULT_THRESHOLDS
from lifecycle.notices.mailing import write_reminder_emails
from lifecycle.notices.notify import write_reminder_notifications
from lifecycle.scan.binds import DISTRICT, NOW, TODAY, scan_params
from lifecycle.sqlfuncs import (
    add_days,
    among,
    built_once,
    ids_in,
    ids_param,
    ids_value,
    in_ids,
    insert_ignore,
    rowcount,
)

REMINDABLE = (ObligationState.UPCOMING, ObligationState.NOTIFIED)
# Which district roles decide which kinds of obligation (docs/rules.md#reminders).
ROLE_KINDS: dict[Role, frozenset[ObligationKind]] = {
    Role.DISTRICT_IT: frozenset(ObligationKind),
    Role.DISTRICT_FINANCE: RENEWAL_KINDS,
}


@dataclass(frozen=True)
class ReminderLine:
    """A group of this run's reminders: one agreement, or devices due alike."""

    kind: ObligationKind
    subject_type: str
    subject_id: int | None  # licenses and contracts; None for a group of devices
    name: str  # the product or contract name; "" for devices
    category: str
    reason: str  # a device refresh's reason: "aue", "eol" or "lifespan"
    decide_by: date
    threshold_days: int
    count: int
    estimated_cost: Decimal
    owner_id: int | None


@dataclass
class Recipient:
    user_id: int
    name: str
    email: str
    role: Role
    notify_email: bool
    lines: list[ReminderLine] = field(default_factory=list)

    @property
    def reminder_count(self) -> int:
        return sum(line.count for line in self.lines)


@dataclass
class ReminderRun:
    district_id: int
    today: date
    reminder_ids: list[int] = field(default_factory=list)
    obligation_ids: list[int] = field(default_factory=list)
    obligations_notified: int = 0
    notifications: int = 0
    outbox_ids: list[int] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.reminder_ids)

    def summary(self) -> dict[str, int]:
        return {
            "reminders_sent": self.sent,
            "reminder_notifications": self.notifications,
            "reminder_emails": len(self.outbox_ids),
        }


def thresholds_of(values: Sequence[int] | None) -> tuple[int, ...]:
    """Distinct non-negative thresholds, most urgent (smallest) first."""
    return tuple(sorted({int(v) for v in values or () if int(v) >= 0}))


def _override_groups(
    session: Session, district_id: int, default: tuple[int, ...]
) -> dict[tuple[int, ...], dict[str, list[int]]]:
    """Licenses and contracts whose own thresholds differ from the district's: their
    ids by subject, for each list of thresholds."""

    def own(subject: str, model: Any) -> sa.Select[Any]:
        thresholds = col(model.reminder_thresholds)
        return sa.select(sa.literal(subject), col(model.id), thresholds).where(
            col(model.district_id) == district_id,
            # most have none (SQL NULL, or JSON null as the ORM stores None)
            thresholds.is_not(None),
            sa.cast(thresholds, sa.Text) != "null",
        )

    rows = session.execute(
        sa.union_all(own("license", License), own("contract", ServiceContract))
    )
    groups: dict[tuple[int, ...], dict[str, list[int]]] = {}
    for subject, subject_id, thresholds in rows:
        limits = thresholds_of(thresholds)
        if limits and limits != default:
            listed = groups.setdefault(limits, {"license": [], "contract": []})
            listed[subject].append(subject_id)
    return groups


def _due_stmt(session: Session, count: int, listed: bool) -> Any:
    """INSERT each open obligation's most urgent due threshold; RETURNING the (reminder,
    obligation) ids of the rows really inserted. Built once per number of thresholds:
    they are bound as limit_0 … (most urgent first), with the district, today, now and
    the licenses and contracts that have their own thresholds (`listed`: only those;
    else all but those).

    A threshold t is due once decide_by ≤ today + t; the CASE takes the smallest such t.
    If that one was already sent, ON CONFLICT skips it: no falling back to a staler one.
    """
    limits = [sa.bindparam(f"limit_{i}", type_=sa.Integer()) for i in range(count)]
    decide_by = col(Obligation.decide_by)
    most_urgent = sa.case(*[(decide_by <= add_days(TODAY, t), t) for t in limits])
    own_thresholds = sa.or_(
        *[
            sa.and_(
                col(Obligation.subject_type) == subject,
                in_ids(
                    session,
                    col(Obligation.subject_id),
                    ids_param(session, f"{subject}_ids"),
                ),
            )
            for subject in ("license", "contract")
        ]
    )
    candidates = sa.select(
        col(Obligation.id),
        col(Obligation.district_id),
        col(Obligation.term_number),
        most_urgent,
        NOW,
    ).where(
        col(Obligation.district_id) == DISTRICT,
        among(col(Obligation.state), REMINDABLE),
        decide_by >= TODAY,
        decide_by <= add_days(TODAY, limits[-1]),
        own_thresholds if listed else sa.not_(own_thresholds),
    )
    columns = [
        "obligation_id", "district_id", "term_number", "threshold_days", "created_at",
    ]  # fmt: skip
    return (
        insert_ignore(session, Reminder)
        .from_select(columns, candidates)
        .returning(col(Reminder.id), col(Reminder.obligation_id))
    )


def _insert_due(
    session: Session,
    *,
    district_id: int,
    today: date,
    limits: tuple[int, ...],
    listed: dict[str, list[int]],
    only_listed: bool,
) -> list[tuple[int, int]]:
    """Run `_due_stmt` for one list of thresholds; (reminder, obligation) ids."""
    if not limits:
        return []
    stmt = built_once(
        session,
        f"reminders due ({len(limits)} thresholds, {only_listed=})",
        partial(_due_stmt, count=len(limits), listed=only_listed),
    )
    params = {
        **scan_params(district_id, today),
        **{f"limit_{i}": t for i, t in enumerate(limits)},
        **{
            f"{subject}_ids": ids_value(session, ids) for subject, ids in listed.items()
        },
    }
    rows = session.connection().execute(stmt, params).all()
    return [(int(r), int(o)) for r, o in rows]


def _lines(session: Session, ids: list[int]) -> list[ReminderLine]:
    """The new reminders grouped in SQL: one line per agreement or per device cohort."""
    o = Obligation
    is_device = col(o.subject_type) == "device"
    flat = (
        sa.select(
            col(o.kind).label("kind"),
            col(o.subject_type).label("subject_type"),
            sa.case((is_device, sa.null()), else_=col(o.subject_id)).label("sid"),
            sa.func.coalesce(col(License.product), col(ServiceContract.name), "").label(
                "name"
            ),
            col(o.category).label("category"),
            sa.case(
                (
                    col(o.kind) == ObligationKind.REFRESH,
                    sa.func.coalesce(col(Device.refresh_reason), ""),
                ),
                else_="",
            ).label("reason"),
            col(o.decide_by).label("decide_by"),
            col(Reminder.threshold_days).label("threshold"),
            col(o.owner_id).label("owner_id"),
            col(o.estimated_cost).label("cost"),
        )
        .select_from(Reminder)
        .join(o, col(o.id) == col(Reminder.obligation_id))
        .outerjoin(Device, sa.and_(is_device, col(Device.id) == col(o.subject_id)))
        .outerjoin(
            License,
            sa.and_(
                col(o.subject_type) == "license", col(License.id) == col(o.subject_id)
            ),
        )
        .outerjoin(
            ServiceContract,
            sa.and_(
                col(o.subject_type) == "contract",
                col(ServiceContract.id) == col(o.subject_id),
            ),
        )
        .where(ids_in(session, col(Reminder.id), ids))
        .subquery()
    )
    keys = [
        flat.c.kind,
        flat.c.subject_type,
        flat.c.sid,
        flat.c.name,
        flat.c.category,
        flat.c.reason,
        flat.c.decide_by,
        flat.c.threshold,
        flat.c.owner_id,
    ]
    stmt = (
        sa.select(*keys, sa.func.count(), sa.func.sum(flat.c.cost))
        .group_by(*keys)
        .order_by(flat.c.decide_by, flat.c.kind, flat.c.name, flat.c.category)
    )
    return [
        ReminderLine(
            kind=ObligationKind(row[0]),
            subject_type=row[1],
            subject_id=row[2],
            name=row[3] or "",
            category=row[4] or "",
            reason=row[5] or "",
            decide_by=row[6],
            threshold_days=int(row[7]),
            owner_id=row[8],
            count=int(row[9]),
            estimated_cost=Decimal(row[10] or 0),
        )
        for row in session.execute(stmt).all()
    ]


def recipients(
    session: Session, *, district_id: int, lines: list[ReminderLine]
) -> list[Recipient]:
    """The owner of each item plus the district's active users in the deciding role."""
    owners = {line.owner_id for line in lines if line.owner_id is not None}
    people = session.exec(
        select(User)
        .where(
            col(User.district_id) == district_id,
            col(User.is_active).is_(True),
            sa.or_(col(User.role).in_(list(ROLE_KINDS)), col(User.id).in_(owners)),
        )
        .order_by(col(User.id))
    ).all()
    found = []
    for user in people:
        assert user.id is not None
        kinds = ROLE_KINDS.get(Role(user.role), frozenset())
        mine = [
            line for line in lines if line.kind in kinds or line.owner_id == user.id
        ]
        if mine:
            found.append(
                Recipient(
                    user.id,
                    user.name,
                    user.email,
                    Role(user.role),
                    user.notify_email,
                    mine,
                )
            )
    return found


def _mark_notified(session: Session, obligation_ids: list[int]) -> int:
    """Upcoming → notified for the obligations this run reminded (by id: no scan of the
    district's other obligations)."""
    return rowcount(
        session.execute(
            sa.update(Obligation)
            .where(
                ids_in(session, col(Obligation.id), obligation_ids),
                col(Obligation.state) == ObligationState.UPCOMING,
            )
            .values(state=ObligationState.NOTIFIED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )


def send_due_reminders(
    session: Session, *, district_id: int, today: date
) -> ReminderRun:
    """Record and announce the reminders due today: after the scan, same transaction.

    The caller commits once; e-mail jobs are enqueued only after that commit.
    """
    thresholds = session.execute(
        sa.select(col(District.reminder_thresholds)).where(
            col(District.id) == district_id
        )
    ).one_or_none()
    if thresholds is None:
        raise LookupError(f"no district {district_id}")
    run = ReminderRun(district_id, today)
    default = thresholds_of(thresholds[0]) or tuple(sorted(DEFAULT_THRESHOLDS))
    overrides = _override_groups(session, district_id, default)
    others = {
        subject: [i for listed in overrides.values() for i in listed[subject]]
        for subject in ("license", "contract")
    }
    groups = [(default, others, False)]
    groups += [(limits, listed, True) for limits, listed in overrides.items()]
    for limits, listed, only_listed in groups:
        inserted = _insert_due(
            session,
            district_id=district_id,
            today=today,
            limits=limits,
            listed=listed,
            only_listed=only_listed,
        )
        run.reminder_ids += [reminder_id for reminder_id, _ in inserted]
        run.obligation_ids += [obligation_id for _, obligation_id in inserted]
    if not run.reminder_ids:
        return run
    district = session.get_one(District, district_id)
    run.obligations_notified = _mark_notified(session, run.obligation_ids)
    lines = _lines(session, run.reminder_ids)
    people = recipients(session, district_id=district_id, lines=lines)
    # What makes this run's message unique: its reminders, named by the first one's id.
    run_key = min(run.reminder_ids)
    run.notifications = write_reminder_notifications(
        session, district=district, today=today, people=people
    )
    run.outbox_ids = write_reminder_emails(
        session, district=district, today=today, people=people, run_key=run_key
    )
    return run
