"""Helpers every feature's services share: optimistic locking and a record's history."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlmodel import Session, col, select

from lifecycle.audit import jsonable
from lifecycle.models import AuditEvent
from lifecycle.web.errors import Conflict


def claim_version(
    session: Session, obj: Any, version: int | None, *, fields: tuple[str, ...] = ()
) -> None:
    """Refuse a write based on a stale read (409, showing what the record holds now),
    race-safe: what every writer of a versioned record calls before changing it.

    The row is read again and locked (`SELECT … FOR UPDATE` on PostgreSQL) and its
    version compared with the one the client read (or this transaction loaded, when
    none is sent). Of two concurrent saves of the same version the second waits for
    the first's lock, then reads the version the first moved on and gets the 409;
    comparing what each loaded earlier would let both win. The lock is held to the
    commit, so the version the flush moves on (db._bump_versions) cannot be raced; a
    save that changes nothing moves nothing. Call it before setting any field: the
    record is reloaded.
    """
    expected = obj.version if version is None else version
    session.refresh(obj, with_for_update=True)
    if obj.version != expected:
        _stale(obj, fields)


def _stale(obj: Any, fields: tuple[str, ...]) -> NoReturn:
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
