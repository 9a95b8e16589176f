"""The e-mail outbox: write each message once, send it at most once, recover losses.

A message is a row of `outbox_emails` whose `dedupe_key` names what it is (the reminders
of one run for one person, one person's weekly digest), so however often the job that
writes it runs there is one row. One RQ job per row sends it; the job re-reads the row
first and sets `sent_at` only after the SMTP server accepted the message. A periodic
sweep re-enqueues unsent rows whose job Redis lost; an administrator sends again one
whose job ran out of retries (`resend`, from the admin page of undelivered e-mail).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import redis
from flask import has_app_context
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import func
from sqlmodel import Session, col, select

from lifecycle.audit import record
from lifecycle.config import Settings
from lifecycle.db import Database
from lifecycle.models import District, OutboxEmail, utcnow
from lifecycle.notices.notify import RENEWALS_LINK, detail_lines, fmt_day, headline
from lifecycle.sqlfuncs import insert_ignore
from lifecycle.web.errors import NotFound
from lifecycle.web.paging import Page, id_page
from lifecycle.work.mail import MailError, send_mail
from lifecycle.work.queue import enqueue_after_commit, enqueue_now, get_redis

if TYPE_CHECKING:
    from lifecycle.notices.reminders import Recipient, ReminderLine

log = logging.getLogger(__name__)

SEND_TASK = "jobs.tasks.send_outbox_email"
MAIL_QUEUE = "mail"
RETRY_INTERVALS = [30, 120, 600, 1800, 3600]
SWEEP_AFTER = timedelta(minutes=5)
SWEEP_MAX_AGE = timedelta(days=7)


def job_id(outbox_id: int) -> str:
    return f"outbox-{outbox_id}"


def _send_options(outbox_id: int) -> dict[str, Any]:
    return {
        "queue": MAIL_QUEUE,
        "job_id": job_id(outbox_id),
        "unique": True,
        "retry": Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        "job_timeout": 120,
        "result_ttl": 86_400,
    }


def write_outbox(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert messages whose dedupe key is new; the ids of the rows actually inserted.

    Each new row gets its send job after the commit (never for a rolled-back one).
    """
    if not rows:
        return []
    now = utcnow()
    values = [{"created_at": now, "attempts": 0, **row} for row in rows]
    stmt = (
        insert_ignore(session, OutboxEmail)
        .values(values)
        .returning(col(OutboxEmail.id))
    )
    ids = [int(i) for i in session.execute(stmt).scalars().all()]
    if has_app_context():
        for outbox_id in ids:
            enqueue_after_commit(
                session, SEND_TASK, outbox_id, **_send_options(outbox_id)
            )
    return ids


def absolute(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


def reminder_text(
    settings: Settings, *, person: Recipient, district: District, today: date
) -> str:
    """The plain-text body: what is due, with links to the agreements and renewals."""

    def link(line: ReminderLine) -> str:
        if line.subject_type in ("license", "contract") and line.subject_id:
            return absolute(settings, f"/{line.subject_type}s/{line.subject_id}")
        return ""

    n = person.reminder_count
    body = [
        f"Hello {person.name},",
        "",
        f"The lifecycle scan of {district.name} on {fmt_day(today)} found {n:,} "
        f"{'item' if n == 1 else 'items'} that need a decision soon:",
        "",
        *detail_lines(person.lines, link, bullet="- "),
        "",
        f"Review and act on them: {absolute(settings, RENEWALS_LINK)}",
        "",
        "--",
        "You get these e-mails as a member of your district's staff in Lifecycle.",
        f"Change this: {absolute(settings, '/notifications/preferences')}",
    ]
    return "\n".join(body) + "\n"


def write_reminder_emails(
    session: Session,
    *,
    district: District,
    today: date,
    people: list[Recipient],
    run_key: int,
) -> list[int]:
    """One outbox row per person who wants e-mail, keyed by the run's first reminder."""
    from lifecycle import get_settings

    if not people:
        return []
    settings = get_settings() if has_app_context() else Settings()
    rows = [
        {
            "user_id": person.user_id,
            "district_id": district.id,
            "kind": "reminder",
            "dedupe_key": (
                f"reminders:{person.user_id}:{district.id}:{today.isoformat()}:{run_key}"
            ),
            "to_address": person.email,
            "subject": f"Lifecycle: {headline(person.lines)}"[:300],
            "body_text": reminder_text(
                settings, person=person, district=district, today=today
            ),
        }
        for person in people
        if person.notify_email and person.email
    ]
    return write_outbox(session, rows)


def send_outbox(db: Database, settings: Settings, outbox_id: int) -> dict[str, Any]:
    """Send one outbox message unless it was sent; failures are recorded and re-raised.

    The row is locked while sending (PostgreSQL), so a duplicate job waits and then sees
    `sent_at`. If the process dies after the server accepted but before the commit, the
    message can go out again: at-least-once in that window, never silently lost.
    """
    failure: MailError | None = None
    message_id = ""
    with db.scope(actor_label="mailer") as session:
        row = session.get(OutboxEmail, outbox_id, with_for_update=True)
        if row is None:
            return {"outbox_id": outbox_id, "status": "missing"}
        if row.sent_at is not None:
            return {"outbox_id": outbox_id, "status": "already sent"}
        row.attempts += 1
        try:
            message_id = send_mail(
                settings, to=[row.to_address], subject=row.subject, text=row.body_text
            )
        except MailError as exc:
            row.last_error = str(exc)[:1000]
            failure = exc
        else:
            row.sent_at = utcnow()
            row.message_id = message_id[:300]
            row.last_error = ""
    if failure is not None:
        raise failure
    return {"outbox_id": outbox_id, "status": "sent", "message_id": message_id}


def requeue_unsent(
    session: Session,
    *,
    older_than: timedelta = SWEEP_AFTER,
    max_age: timedelta = SWEEP_MAX_AGE,
) -> int:
    """Re-enqueue unsent messages whose send job is gone (Redis lost or was flushed).

    A job that is queued, scheduled for a retry, running or failed still exists in Redis
    and is left alone; a permanently failed one stays visible in RQ's failed registry.
    """
    now = utcnow()
    ids = session.exec(
        select(OutboxEmail.id)
        .where(
            col(OutboxEmail.sent_at).is_(None),
            col(OutboxEmail.created_at) < now - older_than,
            col(OutboxEmail.created_at) > now - max_age,
        )
        .order_by(col(OutboxEmail.id))
    ).all()
    connection = get_redis()
    count = 0
    for outbox_id in ids:
        if outbox_id is None or Job.exists(job_id(outbox_id), connection=connection):
            continue
        if enqueue_now(SEND_TASK, outbox_id, **_send_options(outbox_id)):
            count += 1
    if count:
        log.info("re-enqueued %d unsent e-mails", count)
    return count


# --- messages the mail server never accepted ------------------------------------------


def _undelivered() -> Any:
    """Not sent, and tried — or old enough that it should have been: a send job that
    failed before it could record its try (database down, timed out) leaves attempts
    at 0."""
    return col(OutboxEmail.sent_at).is_(None) & (
        (col(OutboxEmail.attempts) > 0)
        | (col(OutboxEmail.created_at) < utcnow() - SWEEP_AFTER)
    )


def undelivered(
    session: Session, *, cursor: str | None, limit: int = 50
) -> Page[OutboxEmail]:
    """Messages the mail server has not accepted after a try (or the time one takes),
    newest first."""
    return id_page(
        session,
        select(OutboxEmail).where(_undelivered()),
        col(OutboxEmail.id),
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def count_undelivered(session: Session) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(OutboxEmail).where(_undelivered())
        ).one()
    )


# A job that ended without the message going out (finished: it found nothing to send
# at the time) may be replaced by a new one.
RESENDABLE = (
    JobStatus.FAILED,
    JobStatus.STOPPED,
    JobStatus.CANCELED,
    JobStatus.FINISHED,
)
# What an undelivered message's send job is doing, as the admin page says it.
JOB_STATES: dict[JobStatus, str] = {
    JobStatus.QUEUED: "Queued",
    JobStatus.STARTED: "Sending",
    JobStatus.SCHEDULED: "Waiting to retry",
    JobStatus.DEFERRED: "Waiting to retry",
    JobStatus.CREATED: "Queued",
    JobStatus.FINISHED: "Ended without sending",
    JobStatus.FAILED: "Gave up",
    JobStatus.STOPPED: "Gave up",
    JobStatus.CANCELED: "Gave up",
}
NO_JOB = "Not queued"
UNKNOWN = "Unknown: the job queue is unreachable"


def delivery_states(ids: list[int]) -> dict[int, tuple[str, bool]]:
    """Each message's send job state and whether "Send again" applies (it gave up, or
    Redis lost it); one round trip to Redis for the page."""
    try:
        jobs = Job.fetch_many(
            [job_id(i) for i in ids], connection=get_redis(), serializer=JSONSerializer
        )
        states: dict[int, tuple[str, bool]] = {}
        for outbox_id, job in zip(ids, jobs, strict=True):
            if job is None:
                states[outbox_id] = (NO_JOB, True)
            else:
                status = job.get_status(refresh=False)
                label = JOB_STATES.get(status, "Unknown")
                states[outbox_id] = (label, status in RESENDABLE)
        return states
    except redis.RedisError:
        return {outbox_id: (UNKNOWN, False) for outbox_id in ids}


def resend(session: Session, outbox_id: int) -> str:
    """Queue an unsent message again, once its send job gave up (audited).

    What happened: "queued", "sent" (it went out meanwhile: nothing to do), "pending"
    (its job is still queued, retrying or running) or "delayed" (Redis is down: nothing
    was changed; try again when background work is back).
    """
    row = session.get(OutboxEmail, outbox_id)
    if row is None:
        raise NotFound(f"No e-mail {outbox_id} in the outbox.")
    if row.sent_at is not None:
        return "sent"
    try:
        connection = get_redis()
        try:
            job = Job.fetch(
                job_id(outbox_id), connection=connection, serializer=JSONSerializer
            )
        except NoSuchJobError:
            job = None
        if job is not None:
            if job.get_status(refresh=False) not in RESENDABLE:
                return "pending"
            job.delete()
    except redis.RedisError:
        return "delayed"
    record(
        session,
        action="resend",
        entity_type="outbox_email",
        entity_id=outbox_id,
        district_id=row.district_id,
        changes={"attempts": row.attempts, "last_error": row.last_error},
        summary=f"{row.subject} to {row.to_address}",
    )
    enqueue_after_commit(session, SEND_TASK, outbox_id, **_send_options(outbox_id))
    return "queued"
