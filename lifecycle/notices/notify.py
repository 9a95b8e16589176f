"""In-app notifications: the bell's unread count, the list, marking read, the wording.

A reminder run writes one notification per person per district; its title and body say
what is due in plain words ("3 renewals to decide by Dec 15, 2026; 1,560 Chromebooks
reach AUE on Jun 30, 2027"), and the same wording goes into the e-mails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import RENEWAL_KINDS, DeviceCategory, ObligationKind
from lifecycle.models import District, Notification, User, utcnow
from lifecycle.money import to_cents
from lifecycle.web.errors import NotFound
from lifecycle.web.paging import Page, id_page

if TYPE_CHECKING:
    from lifecycle.notices.reminders import Recipient, ReminderLine

RENEWALS_LINK = "/renewals?state=notified"
REDIS_CHECK_SECONDS = 10.0
MAX_BODY_LINES = 40


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread (the number on the bell)."""
    if user.id is None:
        return 0
    stmt = (
        select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, col(Notification.read_at).is_(None))
    )
    return int(session.exec(stmt).one())


def list_page(
    session: Session,
    user: User,
    *,
    limit: int,
    cursor: str | None,
    unread_only: bool = False,
) -> Page[Notification]:
    """The user's notifications, newest first (keyset pages)."""
    stmt = select(Notification).where(col(Notification.user_id) == user.id)
    if unread_only:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    by_id = cast("sa.ColumnElement[Any]", col(Notification.id))
    page: Page[Notification] = id_page(
        session, stmt, by_id, limit=limit, cursor=cursor, descending=True
    )
    return page


def get_own(session: Session, user: User, notification_id: int) -> Notification:
    """One of the user's own notifications; anyone else's answers 404."""
    found = session.get(Notification, notification_id)
    if found is None or found.user_id != user.id:
        raise NotFound("No such notification.")
    return found


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    found = get_own(session, user, notification_id)
    if found.read_at is None:
        found.read_at = utcnow()
    return found


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(
        sa.update(Notification)
        .where(
            col(Notification.user_id) == user.id, col(Notification.read_at).is_(None)
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the header: bell count and the "background work is delayed" notice --------------


def current_unread() -> int:
    """Template global: the user's unread count, asked when the bell renders."""
    from flask_login import current_user

    from lifecycle.db import get_session

    if not getattr(current_user, "is_authenticated", False):
        return 0
    return unread_count(get_session(), current_user)


def background_delayed() -> bool:
    """Template global: True while Redis is unreachable (checked at most every 10 s)."""
    from flask import current_app

    from lifecycle.work.queue import redis_ok

    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    cached = app.extensions.get("lifecycle.redis_status")
    if cached is not None and cached[0] > now:
        return not bool(cached[1])
    ok = redis_ok()
    app.extensions["lifecycle.redis_status"] = (now + REDIS_CHECK_SECONDS, ok)
    return not ok


# --- wording ------------------------------------------------------------------------


def fmt_day(day: date) -> str:
    return day.strftime("%b %-d, %Y")


def fmt_money(amount: Decimal) -> str:
    return f"${to_cents(amount):,.2f}"


def noun(category: str, n: int) -> str:
    try:
        label = DeviceCategory(category).label
    except ValueError:
        label = category.replace("_", " ").capitalize() or "Device"
    if category == DeviceCategory.OTHER:
        label = "device"
    if n == 1 or label.endswith("s"):
        return label
    return label + "s"


def describe(line: ReminderLine) -> str:
    """One line of a summary, e.g. "1,560 Chromebooks reach AUE on Jun 30, 2027"."""
    day = fmt_day(line.decide_by)
    n = line.count
    one = n == 1
    if line.kind is ObligationKind.REFRESH:
        label = noun(line.category, n)
        if line.reason == "aue":
            return f"{n:,} {label} reach{'es' if one else ''} AUE on {day}"
        if line.reason == "eol":
            return f"{n:,} {label} reach{'es' if one else ''} end of life on {day}"
        return f"{n:,} {label} {'is' if one else 'are'} due for refresh on {day}"
    if line.kind is ObligationKind.WARRANTY:
        label = noun(line.category, 1)
        return f"{n:,} {label} {'warranty ends' if one else 'warranties end'} on {day}"
    what = "License" if line.kind is ObligationKind.LICENSE_RENEWAL else "Contract"
    return f"{what} renewal: decide on {line.name or 'an agreement'} by {day}"


def headline(lines: Iterable[ReminderLine]) -> str:
    """A short title: renewals first, then the biggest device group, then the rest."""
    items = list(lines)
    renewals = [line for line in items if line.kind in RENEWAL_KINDS]
    devices = sorted(
        (line for line in items if line.kind not in RENEWAL_KINDS),
        key=lambda line: (-line.count, line.decide_by),
    )
    parts = []
    if renewals:
        n = sum(line.count for line in renewals)
        days = sorted({line.decide_by for line in renewals})
        noun = "renewal" if n == 1 else "renewals"
        if len(days) == 1:
            parts.append(f"{n:,} {noun} to decide by {fmt_day(days[0])}")
        else:
            parts.append(f"{n:,} {noun} to decide, the first by {fmt_day(days[0])}")
    if devices:
        parts.append(describe(devices[0]))
        rest = sum(line.count for line in devices[1:])
        if rest:
            parts.append(f"{rest:,} more device {'item' if rest == 1 else 'items'}")
    return "; ".join(parts)[:300]


def detail_lines(
    lines: Iterable[ReminderLine],
    link: Callable[[ReminderLine], str] | None = None,
    bullet: str = "",
) -> list[str]:
    """Every line of a summary with its cost estimate, capped with "… and N more"."""
    items = sorted(lines, key=lambda line: (line.decide_by, line.kind, line.name))
    shown = []
    for line in items[:MAX_BODY_LINES]:
        text = bullet + describe(line)
        if line.estimated_cost:
            text += f" (est. {fmt_money(line.estimated_cost)})"
        shown.append(text)
        url = link(line) if link else ""
        if url:
            shown.append(f"  {url}")
    if len(items) > MAX_BODY_LINES:
        shown.append(f"… and {len(items) - MAX_BODY_LINES:,} more")
    return shown


def write_reminder_notifications(
    session: Session, *, district: District, today: date, people: list[Recipient]
) -> int:
    """One notification per person summarising this run's new reminders."""
    rows = [
        Notification(
            user_id=person.user_id,
            district_id=district.id,
            kind="reminder",
            title=headline(person.lines),
            body="\n".join(detail_lines(person.lines))[:4000],
            link=RENEWALS_LINK,
            reminder_count=person.reminder_count,
        )
        for person in people
    ]
    session.add_all(rows)
    return len(rows)
