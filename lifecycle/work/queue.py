"""Background jobs on RQ (docs/architecture.md#background-jobs).

Production: RQ workers (`lifecycle worker`) and one cron scheduler (`lifecycle cron`) on
Redis. Embedded default: fakeredis (with Lua, for RQ's unique enqueue) and one in-process
worker thread that also moves delayed jobs and fires the periodic ones.

Jobs are enqueued only after the database commit, with ids as arguments.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import redis
from fakeredis import FakeRedis, FakeServer
from flask import Flask, current_app
from rq import Queue, Retry, SimpleWorker
from rq.cron import CronJob, CronScheduler
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from sqlmodel import Session

from lifecycle.db import after_commit
from lifecycle.enums import JobState
from lifecycle.models import JobRecord

log = logging.getLogger(__name__)

EXTENSION_KEY = "lifecycle.redis"
QUEUES = ("default", "mail")
RUN_RECORD = "jobs.tasks.run_job_record"


def init_app(app: Flask, redis_url: str | None) -> redis.Redis:
    if redis_url:
        connection: redis.Redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=10
        )
    else:
        connection = FakeRedis(server=FakeServer())
    app.extensions[EXTENSION_KEY] = connection
    return connection


def get_redis(app: Flask | None = None) -> redis.Redis:
    connection: redis.Redis = (app or current_app).extensions[EXTENSION_KEY]
    return connection


def get_queue(name: str = "default", connection: redis.Redis | None = None) -> Queue:
    return Queue(name, connection=connection or get_redis(), serializer=JSONSerializer)


def redis_ok(connection: redis.Redis | None = None) -> bool:
    try:
        return bool((connection or get_redis()).ping())
    except redis.RedisError:
        return False


def enqueue_now(
    func: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    unique: bool = False,
    job_timeout: int = 600,
    result_ttl: int = 86_400,
    retry: Retry | None = None,
    delay: timedelta | None = None,
    connection: redis.Redis | None = None,
) -> Job | None:
    """Put a job on its queue; a duplicate unique id is not an error, Redis down is logged."""
    q = get_queue(queue, connection)
    options: dict[str, Any] = {
        "job_id": job_id,
        "job_timeout": job_timeout,
        "result_ttl": result_ttl,
        "failure_ttl": 7 * 86_400,
        "retry": retry,
    }
    try:
        if delay is not None:
            if unique:
                options["unique"] = True
            return q.enqueue_in(delay, func, *args, **options)
        return q.enqueue(func, *args, unique=unique, **options)
    except DuplicateJobError:
        log.info("job %s is already queued", job_id)
        return None
    except redis.RedisError as exc:
        # The database row stays queued; the sweeper re-enqueues it once Redis is back.
        log.warning("could not reach Redis to enqueue %s (%s): %s", func, job_id, exc)
        return None


def enqueue_after_commit(
    session: Session, func: str, *args: Any, **options: Any
) -> None:
    """Enqueue once the current transaction has committed (never for a rolled-back one)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _go() -> None:
        with app.app_context():
            enqueue_now(func, *args, **options)

    after_commit(session, _go)


def start_job(
    session: Session,
    *,
    kind: str,
    user_id: int | None,
    district_id: int | None,
    params: dict[str, Any] | None = None,
    queue: str = "default",
    retry: Retry | None = None,
    job_timeout: int = 1800,
) -> JobRecord:
    """Record a user-visible job and enqueue it after the commit."""
    record = JobRecord(
        kind=kind,
        user_id=user_id,
        district_id=district_id,
        params=params or {},
        message="Waiting for a worker…",
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    record.rq_job_id = f"record-{record.id}"
    enqueue_after_commit(
        session,
        RUN_RECORD,
        record.id,
        queue=queue,
        job_id=record.rq_job_id,
        unique=True,
        retry=retry,
        job_timeout=job_timeout,
    )
    return record


def requeue_stalled(
    session: Session, *, older_than: timedelta = timedelta(minutes=2)
) -> int:
    """Re-enqueue queued job records whose RQ job was lost (Redis was down or flushed)."""
    from sqlmodel import col, select

    from lifecycle.models import utcnow

    cutoff = utcnow() - older_than
    records = session.exec(
        select(JobRecord).where(
            col(JobRecord.state) == JobState.QUEUED, col(JobRecord.created_at) < cutoff
        )
    ).all()
    connection = get_redis()
    count = 0
    for record in records:
        if Job.exists(record.rq_job_id, connection=connection):
            continue
        if enqueue_now(RUN_RECORD, record.id, job_id=record.rq_job_id, unique=True):
            count += 1
    return count


class JsonCronJob(CronJob):
    """RQ's CronJob enqueues with the default (pickle) serializer; ours speak JSON."""

    def enqueue(self, connection: redis.Redis) -> Job:
        if self.func is None:
            raise ValueError("cron job has no function")
        queue = get_queue(self.queue_name, connection)
        return queue.enqueue(self.func, *self.args, **self.kwargs, **self.job_options)


class JsonCronScheduler(CronScheduler):
    def register(  # type: ignore[override]
        self, func: Callable[..., Any], queue_name: str, **kwargs: Any
    ) -> CronJob:
        cron_job = JsonCronJob(queue_name=queue_name, func=func, **kwargs)
        self._cron_jobs.append(cron_job)
        return cron_job


def make_cron(connection: redis.Redis) -> JsonCronScheduler:
    cron = JsonCronScheduler(connection=connection, logging_level=logging.WARNING)
    cron.load_config_from_file("jobs.cron")
    return cron


class ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a thread: no signal handlers, timer-based timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def make_worker(
    connection: redis.Redis, queues: Sequence[str] = QUEUES, *, threaded: bool = False
) -> SimpleWorker:
    cls = ThreadWorker if threaded else SimpleWorker
    return cls(
        [get_queue(name, connection) for name in queues],
        connection=connection,
        serializer=JSONSerializer,
    )


def drain(app: Flask, *, include_cron: bool = False, max_rounds: int = 20) -> int:
    """Run every job that is due now, in this thread; for the embedded worker and tests."""
    connection = get_redis(app)
    scheduler = RQScheduler(
        list(QUEUES), connection=connection, serializer=JSONSerializer
    )
    scheduler.prepare_registries(list(QUEUES))
    worker = make_worker(connection, threaded=True)
    ran = 0
    cron = make_cron(connection) if include_cron else None
    with app.app_context():
        for _ in range(max_rounds):
            scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
            if cron is not None:
                cron.enqueue_jobs()
                cron = None
            pending = sum(get_queue(n, connection).count for n in QUEUES)
            if not pending:
                break
            worker.work(burst=True, logging_level="WARNING")
            ran += pending
    return ran


class EmbeddedWorker(threading.Thread):
    """The in-process worker of the embedded default: immediate, delayed and periodic jobs."""

    def __init__(self, app: Flask, *, poll_seconds: float = 0.5) -> None:
        super().__init__(name="lifecycle-embedded-worker", daemon=True)
        self.app = app
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()

    def run(self) -> None:
        connection = get_redis(self.app)
        scheduler = RQScheduler(
            list(QUEUES), connection=connection, serializer=JSONSerializer
        )
        scheduler.prepare_registries(list(QUEUES))
        cron = make_cron(connection)
        worker = make_worker(connection, threaded=True)
        with self.app.app_context():
            while not self.stopping.is_set():
                try:
                    scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
                    cron.enqueue_jobs()
                    if any(get_queue(n, connection).count for n in QUEUES):
                        worker.work(burst=True, logging_level="WARNING")
                except Exception:
                    log.exception("embedded worker loop failed; continuing")
                self.stopping.wait(self.poll_seconds)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        self.join(timeout)
