"""Telling districts about a round: a bell notification and an e-mail, each once.

Each message is written in the same transaction as the state change it reports
(opened, closed, awarded), which happens once under the round's lock; the e-mail's
dedupe key (`round:<id>:<event>:<user>`) keeps a rerun from writing it twice anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import has_app_context
from sqlmodel import Session, col, select

from lifecycle.config import Settings
from lifecycle.enums import Role
from lifecycle.models import District, Notification, User, utcnow
from lifecycle.notices.mailing import absolute, write_outbox

# (district) → (title, body), or None to tell that district nothing
Message = Callable[[District], tuple[str, str] | None]


def local_time(at: datetime, timezone: str) -> str:
    """A timestamp as the district reads it: "Mar 1, 2027 5:00 PM CST"."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("America/Chicago")
    return at.astimezone(zone).strftime("%b %-d, %Y %-I:%M %p %Z")


def tell_districts(
    session: Session,
    *,
    round_id: int,
    event: str,
    district_ids: Iterable[int] | None,
    message: Message,
    link: str,
) -> int:
    """Notify the active IT staff of the districts (None: every member district).

    One query finds the people; the notifications go in one statement and the
    e-mails through the outbox. Returns how many people were told."""
    from lifecycle import get_settings

    stmt = (
        select(User, District)
        .join(District, col(District.id) == col(User.district_id))
        .where(
            col(User.role) == Role.DISTRICT_IT,
            col(User.is_active),
        )
        .order_by(col(District.id), col(User.id))
    )
    if district_ids is not None:
        ids = sorted(set(district_ids))
        if not ids:
            return 0
        stmt = stmt.where(col(District.id).in_(ids))
    people = session.exec(stmt).all()
    settings = get_settings() if has_app_context() else Settings()
    now = utcnow()
    bells: list[dict[str, object]] = []
    mails: list[dict[str, object]] = []
    for user, district in people:
        said = message(district)
        if said is None:
            continue
        title, body = said
        bells.append(
            {
                "user_id": user.id,
                "district_id": district.id,
                "kind": "round",
                "title": title[:300],
                "body": body[:4000],
                "link": link,
                "reminder_count": 0,
                "created_at": now,
            }
        )
        if user.notify_email and user.email:
            mails.append(
                {
                    "user_id": user.id,
                    "district_id": district.id,
                    "kind": "round",
                    "dedupe_key": f"round:{round_id}:{event}:{user.id}",
                    "to_address": user.email,
                    "subject": f"Lifecycle: {title}"[:300],
                    "body_text": f"{body}\n\n{absolute(settings, link)}\n",
                }
            )
    if bells:
        session.execute(sa.insert(Notification), bells)
    write_outbox(session, mails)
    return len(bells)
