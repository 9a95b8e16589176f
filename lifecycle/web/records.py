"""Helpers every feature's services share: optimistic locking and a record's history."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from lifecycle.audit import jsonable
from lifecycle.models import AuditEvent
from lifecycle.web.errors import Conflict


def check_version(
    obj: Any, version: int | None, *, fields: tuple[str, ...] = ()
) -> None:
    """Refuse a write based on a stale read (409) and show what the record holds now."""
    if version is None or obj.version == version:
        return
    current = {name: jsonable(getattr(obj, name)) for name in fields}
    raise Conflict(
        "Someone else changed this record after you opened it. "
        "Review the current values and make your change again.",
        extra={"current_version": obj.version, "current": current},
    )


def history(
    session: Session, *, entity_type: str, entity_id: int, limit: int = 50
) -> list[AuditEvent]:
    """The audit events of one record, newest first (the history panel)."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                col(AuditEvent.entity_type) == entity_type,
                col(AuditEvent.entity_id) == entity_id,
            )
            .order_by(col(AuditEvent.id).desc())
            .limit(limit)
        ).all()
    )
