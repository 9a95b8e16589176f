"""Runs a recorded job: state, progress and result live in the job_records row."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from rq import get_current_job
from sqlmodel import Session

from lifecycle.db import Database
from lifecycle.enums import JobState
from lifecycle.models import JobRecord, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
Handler = Callable[[Session, JobRecord, Progress], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
LABELS: dict[str, str] = {}
# Where the job page sends its reader when the job is done: (endpoint, link text).
BACK: dict[str, tuple[str, str]] = {}


def handler(
    kind: str, label: str, *, back: tuple[str, str] | None = None
) -> Callable[[Handler], Handler]:
    """Register the function that performs jobs of `kind`, its name on the job page and
    the page it leads back to when done."""

    def decorator(func: Handler) -> Handler:
        HANDLERS[kind] = func
        LABELS[kind] = label
        if back is not None:
            BACK[kind] = back
        return func

    return decorator


class JobFailed(Exception):
    """A job ended with a message for the user rather than a traceback."""


def run_record(db: Database, record_id: int) -> dict[str, Any] | None:
    """Execute one job record; a finished record is not run again."""
    with db.scope() as session:
        record = session.get(JobRecord, record_id, with_for_update=True)
        if record is None or record.state in (JobState.FINISHED, JobState.FAILED):
            return None
        record.state = JobState.RUNNING
        record.started_at = record.started_at or utcnow()
        record.attempts += 1
        record.message = "Running…"
        session.info["actor_id"] = record.user_id
        kind = record.kind

    def progress(percent: int, message: str) -> None:
        with db.scope() as s:
            row = s.get(JobRecord, record_id)
            if row is not None:
                row.progress = max(0, min(100, percent))
                row.message = message[:500]

    func = HANDLERS.get(kind)
    try:
        if func is None:
            raise JobFailed(f"Unknown job kind {kind!r}.")
        with db.scope() as session:
            record = session.get(JobRecord, record_id)
            assert record is not None
            session.info["actor_id"] = record.user_id
            result = func(session, record, progress)
    except Exception as exc:
        rq_job = get_current_job()
        retrying = bool(rq_job and rq_job.retries_left)
        message = str(exc) if isinstance(exc, JobFailed) else "The job failed."
        with db.scope() as session:
            record = session.get(JobRecord, record_id)
            assert record is not None
            record.error = (str(exc) or type(exc).__name__)[:4000]
            if retrying:
                record.state = JobState.QUEUED
                record.message = f"{message} Retrying…"
            else:
                record.state = JobState.FAILED
                record.message = message
                record.finished_at = utcnow()
        if not isinstance(exc, JobFailed):
            log.error("job %s failed:\n%s", record_id, traceback.format_exc())
        if retrying or not isinstance(exc, JobFailed):
            raise
        return None
    with db.scope() as session:
        record = session.get(JobRecord, record_id)
        assert record is not None
        record.state = JobState.FINISHED
        record.progress = 100
        record.result = result
        record.message = str(result.get("message", "Done."))[:500]
        record.finished_at = utcnow()
    return result
