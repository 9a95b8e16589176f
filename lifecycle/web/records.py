"""Helpers every feature's services share: optimistic locking and a record's history."""

from __future__ import annotations

from typing import Any, NoReturn

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.audit import jsonable
from lifecycle.models import AuditEvent
from lifecycle.sqlfuncs import rowcount
from lifecycle.web.errors import Conflict


def claim_version(
    session: Session, obj: Any, version: int | None, *, fields: tuple[str, ...] = ()
) -> None:
    """Refuse a write based on a stale read (409, showing what the record holds now),
    race-safe on every database: what every writer of a versioned record calls before
    changing it.

    The claim is an UPDATE that changes nothing, on condition that the row still has
    the version the client read (or this transaction loaded, when none is sent). It
    takes the row's write lock on PostgreSQL and the database's on SQLite, held to the
    commit: of two concurrent saves of one version the second waits for the first's
    commit, then finds the version moved on and gets the 409. (Comparing what each
    loaded earlier would let both win; SQLite would not honour `SELECT … FOR UPDATE`.)
    The version the flush then moves on (db._bump_versions) cannot be raced; a save
    that changes nothing moves nothing. Call it before setting any field: the record is
    reloaded.
    """
    expected = obj.version if version is None else version
    table = type(obj).__table__
    claimed = session.execute(
        sa.update(table)
        .where(table.c.id == obj.id, table.c.version == expected)
        # every column with an onupdate default set to itself: nothing changes
        .values(
            {c.name: c for c in table.c if c.onupdate is not None}
            | {"version": table.c.version}
        )
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    session.refresh(obj)
    if rowcount(claimed, session) == 0:
        _stale(obj, fields)


def _stale(obj: Any, fields: tuple[str, ...]) -> NoReturn:
    current = {name: jsonable(getattr(obj, name)) for name in fields}
    raise Conflict(
        "Someone else changed this record after you opened it. "
        "Review the current values and make your change again.",
        extra={"current_version": obj.version, "current": current},
    )


def record_key(obj: Any) -> str:
    """A record's name on its page ("licenses-12"): the forms that act on the whole
    record mark their version input with it, so a save elsewhere on the page can move
    them on (app.js, on the `lifecycle:version` event save_field sends)."""
    return f"{type(obj).__tablename__}-{obj.id}"


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
