"""Purchase rounds as coop staff run them: draft, edit, open, cancel; who sees which.

A round moves draft → open → closed → awarded, or to cancelled from draft or open
(docs/rules.md#pooled-purchase-rounds). Coop staff change rounds; district users see a
round from the moment it opens, never a draft. Every change of a round goes through
the round row's lock (`lock_round`), so opening, closing, awarding and a district's
commit are never interleaved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import Role, RoundState
from lifecycle.models import (
    CatalogItem,
    JobRecord,
    PurchaseRound,
    RoundCreate,
    RoundItem,
    RoundUpdate,
    User,
    utcnow,
)
from lifecycle.org.services import cooperative
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lifecycle.web.records import claim_version
from lifecycle.work.queue import enqueue_after_commit, start_job

OPEN_JOB = "round_open"
CLOSE_TASK = "jobs.tasks.close_round_job"
FIELDS = ("name", "need_start", "need_end", "closes_at", "notes", "state")


def close_job_id(round_id: int) -> str:
    """One close job per round, however often it is scheduled or swept."""
    return f"round-close-{round_id}"


def is_staff(user: User) -> bool:
    return Role(user.role) is Role.COOP_STAFF


def require_staff(user: User) -> None:
    if not is_staff(user):
        raise Forbidden("Only cooperative staff run purchase rounds.")


def sees_everyone(user: User) -> bool:
    """Coop staff and administrators see every district's quantities and names."""
    return not Role(user.role).is_district


def visible_filter(user: User) -> sa.ColumnElement[bool]:
    """The rounds a user may see: district users never see a draft."""
    if sees_everyone(user):
        return sa.true()
    return col(PurchaseRound.state) != RoundState.DRAFT


def get_round(session: Session, user: User, round_id: int) -> PurchaseRound:
    """A round the user may see, else 404 (a district user asking for a draft too)."""
    found = session.exec(
        select(PurchaseRound).where(
            col(PurchaseRound.id) == round_id, visible_filter(user)
        )
    ).first()
    if found is None:
        raise NotFound("No such purchase round.")
    return found


def lock_round(session: Session, round_id: int, *, share: bool) -> PurchaseRound:
    """The round row, locked to the end of the transaction and read afresh.

    `share` (a district's commit) lets commits run side by side but waits for, and
    blocks, an exclusive holder (opening, closing, awarding). On PostgreSQL these are
    FOR SHARE / FOR UPDATE; SQLite has one writer at a time, so the exclusive lock is
    taken by a write that changes nothing, and a commit holds the database's write
    lock already (its claim on the commitment's version came first).
    """
    if not share and session.get_bind().dialect.name != "postgresql":
        table: Any = PurchaseRound.__table__  # type: ignore[attr-defined]
        session.execute(
            sa.update(table)
            .where(table.c.id == round_id)
            .values(version=table.c.version, updated_at=table.c.updated_at)
            .execution_options(synchronize_session=False)
        )
    found: PurchaseRound | None = (
        session.execute(
            select(PurchaseRound)
            .where(col(PurchaseRound.id) == round_id)
            .with_for_update(read=share)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .first()
    )
    if found is None:
        raise NotFound("No such purchase round.")
    return found


@dataclass(frozen=True)
class Status:
    """A round's state as people read it, with "close pending" when it is past due."""

    code: str
    label: str


def status(found: PurchaseRound, now: datetime | None = None) -> Status:
    """Open past its close time means the close job has not run yet (Redis down, a
    busy worker): commits are refused already, the results are not there yet."""
    now = now or utcnow()
    if found.state is RoundState.OPEN and found.closes_at <= now:
        return Status("close_pending", "Close pending")
    if found.state is RoundState.OPEN and found.suggested_at is None:
        return Status("opening", "Opening")
    return Status(found.state.value, found.state.label)


def accepting_commitments(found: PurchaseRound, now: datetime) -> bool:
    return found.state is RoundState.OPEN and now < found.closes_at


def list_stmt(user: User) -> Any:
    """Rounds the user may see (the list engine pages and sorts it)."""
    return select(PurchaseRound).where(visible_filter(user))


def round_items(session: Session, round_id: int) -> list[tuple[RoundItem, CatalogItem]]:
    """A round's items with their catalog items, by name."""
    rows = session.exec(
        select(RoundItem, CatalogItem)
        .join(CatalogItem, col(CatalogItem.id) == col(RoundItem.catalog_item_id))
        .where(col(RoundItem.round_id) == round_id)
        .order_by(col(CatalogItem.name), col(CatalogItem.sku))
    ).all()
    return [(ri, ci) for ri, ci in rows]


def _checked_items(session: Session, ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(
        session.exec(
            select(CatalogItem.id).where(
                col(CatalogItem.id).in_(wanted), col(CatalogItem.active)
            )
        ).all()
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        listed = ", ".join(str(i) for i in missing)
        raise ValidationFailed(
            {"catalog_item_ids": f"no active catalog item with id {listed}"}
        )
    return wanted


def _set_items(session: Session, found: PurchaseRound, ids: Sequence[int]) -> None:
    assert found.id is not None
    wanted = _checked_items(session, ids)
    have = {ri.catalog_item_id: ri for ri, _ in round_items(session, found.id)}
    for item_id, ri in have.items():
        if item_id not in wanted:
            session.delete(ri)
    for item_id in wanted:
        if item_id not in have:
            session.add(RoundItem(round_id=found.id, catalog_item_id=item_id))


def create_round(session: Session, *, user: User, data: RoundCreate) -> PurchaseRound:
    """A draft round: nothing is shown to districts until it opens."""
    require_staff(user)
    coop = cooperative(session)
    assert coop.id is not None
    found = PurchaseRound(
        cooperative_id=coop.id,
        **data.model_dump(exclude={"catalog_item_ids"}),
    )
    session.add(found)
    session.flush()
    _set_items(session, found, data.catalog_item_ids)
    session.flush()
    return found


def update_round(
    session: Session, *, user: User, round_id: int, data: RoundUpdate
) -> PurchaseRound:
    """Edit a draft: its name, windows, notes and items."""
    require_staff(user)
    found = get_round(session, user, round_id)
    claim_version(session, found, data.version, fields=FIELDS)
    if found.state is not RoundState.DRAFT:
        raise Conflict(
            f"Only a draft round can be edited; this one is {found.state.value}."
        )
    for name, value in data.model_dump(exclude={"catalog_item_ids", "version"}).items():
        setattr(found, name, value)
    _set_items(session, found, data.catalog_item_ids)
    session.flush()
    return found


def cancel_round(
    session: Session, *, user: User, round_id: int, version: int
) -> PurchaseRound:
    """Call a draft or open round off; closed and awarded rounds stay as they were."""
    require_staff(user)
    found = get_round(session, user, round_id)
    claim_version(session, found, version, fields=FIELDS)
    found = lock_round(session, round_id, share=False)
    if found.state not in (RoundState.DRAFT, RoundState.OPEN):
        raise Conflict(f"A {found.state.value} round cannot be cancelled any more.")
    found.state = RoundState.CANCELLED
    session.flush()
    return found


def open_round(
    session: Session,
    *,
    user: User,
    round_id: int,
    version: int,
    now: datetime | None = None,
) -> JobRecord:
    """Open a draft: one job writes every district's suggestions and tells them; the
    close job is scheduled for the close time (and swept for, should Redis lose it)."""
    require_staff(user)
    now = now or utcnow()
    found = get_round(session, user, round_id)
    claim_version(session, found, version, fields=FIELDS)
    found = lock_round(session, round_id, share=False)
    if found.state is not RoundState.DRAFT:
        raise Conflict(f"This round is {found.state.value} already.")
    problems: dict[str, str] = {}
    if not round_items(session, round_id):
        problems["catalog_item_ids"] = "add at least one catalog item before opening"
    if found.closes_at <= now:
        problems["closes_at"] = "must be in the future to open the round"
    if problems:
        raise ValidationFailed(problems, "The round cannot open yet.")
    found.state = RoundState.OPEN
    found.opens_at = now
    session.flush()
    record = start_job(
        session,
        kind=OPEN_JOB,
        user_id=user.id,
        district_id=None,
        params={"round_id": round_id},
    )
    schedule_close(session, found, now=now)
    return record


def schedule_close(
    session: Session, found: PurchaseRound, *, now: datetime | None = None
) -> None:
    """The close job, delayed to the close time (Redis down: the sweep makes it)."""
    assert found.id is not None
    # RQ keeps delayed jobs by whole seconds and may start one up to a second early,
    # when the close would find the round not due yet: a second's margin (and the
    # minute sweep for anything else).
    delay = max(found.closes_at - (now or utcnow()), timedelta(0)) + timedelta(
        seconds=1
    )
    enqueue_after_commit(
        session,
        CLOSE_TASK,
        found.id,
        job_id=close_job_id(found.id),
        unique=True,
        delay=delay,
        job_timeout=900,
    )
