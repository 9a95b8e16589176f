"""In-app notifications: the bell's unread count, the list, and marking them read."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import Notification, User


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


def now_utc() -> datetime:
    return datetime.now(UTC)
