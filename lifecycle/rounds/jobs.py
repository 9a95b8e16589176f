"""Round jobs: the opening job (a recorded job, progress shown), the close at the
close time, and the sweep that closes any round whose close job Redis lost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from lifecycle.enums import RoundState
from lifecycle.models import JobRecord, PurchaseRound, utcnow
from lifecycle.rounds.closing import close_round
from lifecycle.rounds.services import CLOSE_TASK, OPEN_JOB, close_job_id
from lifecycle.rounds.suggest import write_suggestions
from lifecycle.work.queue import enqueue_now
from lifecycle.work.runner import JobFailed, Progress, handler


@handler(OPEN_JOB, "Open a purchase round")
def open_job(session: Session, record: JobRecord, progress: Progress) -> dict[str, Any]:
    """Write every district's suggested lines and tell them, in one transaction."""
    round_id = record.params.get("round_id")
    if not isinstance(round_id, int):
        raise JobFailed("The job does not name a round.")
    progress(10, "Computing each district's suggested quantities…")
    return write_suggestions(session, round_id)


def close_due(session: Session, round_id: int) -> dict[str, Any]:
    """The scheduled close: settles the round if its time has come (else nothing)."""
    return close_round(session, round_id=round_id).summary()


def sweep_due_closes(session: Session, now: datetime | None = None) -> int:
    """Enqueue the close of every open round past its close time.

    The job id carries the minute: within a minute a second sweep adds nothing, and
    a close job that ran too early, failed or was lost (Redis keeps a finished job's
    id for a while, so the same id could not be enqueued again) is replaced by the
    next minute's. Closing is idempotent, so a spare run changes nothing."""
    now = now or utcnow()
    due = session.exec(
        select(PurchaseRound.id).where(
            col(PurchaseRound.state) == RoundState.OPEN,
            col(PurchaseRound.closes_at) <= now,
        )
    ).all()
    minute = int(now.timestamp() // 60)
    queued = 0
    for round_id in due:
        if round_id is None:
            continue
        job = enqueue_now(
            CLOSE_TASK,
            round_id,
            job_id=f"{close_job_id(round_id)}-sweep-{minute}",
            unique=True,
            job_timeout=900,
            result_ttl=600,
        )
        queued += job is not None
    return queued
