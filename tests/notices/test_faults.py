"""Faults (docs/operations.md#what-survives-what): killed workers, racing workers and ticks, Redis and SMTP down.

The worker tests start real RQ worker processes on the test's database and Redis, so they
need a Redis server shared between processes: with LIFECYCLE_TEST_REDIS_URL unset they are
skipped (fakeredis lives inside one process), and with CI=true they fail instead. The
Redis-down and SMTP tests run on every backend.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from sqlmodel import col, select

from lifecycle import create_app
from lifecycle.auth import create_token
from lifecycle.db import get_db
from lifecycle.enums import JobState
from lifecycle.models import JobRecord, Notification, Obligation, User
from lifecycle.notices.mailing import requeue_unsent
from lifecycle.scan.jobs import SCAN_TASK, district_today
from lifecycle.work.queue import (
    QUEUES,
    drain,
    enqueue_now,
    get_queue,
    get_redis,
    requeue_stalled,
)
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import (
    CI,
    REDIS_SERVER_URL,
    RequestIsolatedClient,
    bearer,
    make_settings,
)
from tests.notices.conftest import outbox, reminder_rows, scan_and_remind

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
DEVICES = 12

# A real RQ worker process. FAULT_PAUSE stops it inside the scan job, before or right
# after its commit, and writes FAULT_MARKER so the test knows when to SIGKILL it.
WORKER = r"""
import os, pathlib, time

import redis
from rq import SimpleWorker
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

pause = os.environ.get("FAULT_PAUSE", "")
marker = pathlib.Path(os.environ.get("FAULT_MARKER", os.devnull))


def stop_here(what):
    marker.write_text(what)
    time.sleep(600)  # the test kills this process now


if pause == "before_commit":
    from lifecycle.scan import jobs as scan_jobs

    real = scan_jobs.send_due_reminders

    def paused(session, **kw):
        run = real(session, **kw)
        session.flush()
        stop_here(f"uncommitted reminders: {run.sent}")
        return run

    scan_jobs.send_due_reminders = paused
elif pause == "after_commit":
    from lifecycle.work import queue

    real_enqueue = queue.enqueue_now

    def paused_enqueue(func, *args, **kw):
        if func == "jobs.tasks.send_outbox_email":
            stop_here("committed, mail not enqueued")
        return real_enqueue(func, *args, **kw)

    queue.enqueue_now = paused_enqueue

from lifecycle.work.queue import QUEUES, get_queue

connection = redis.Redis.from_url(os.environ["REDIS_URL"])
scheduler = RQScheduler(list(QUEUES), connection=connection, serializer=JSONSerializer)
scheduler.prepare_registries(list(QUEUES))
scheduler.enqueue_scheduled_jobs()
queues = [get_queue(name, connection) for name in QUEUES]
SimpleWorker(queues, connection=connection, serializer=JSONSerializer).work(
    burst=True, logging_level="WARNING"
)
"""


@pytest.fixture
def app(mail_app):
    return mail_app


@pytest.fixture
def real_redis(redis_url):
    """Worker processes share Redis with the test: a real server, never fakeredis."""
    if not redis_url:
        if CI:
            pytest.fail("CI=true: set LIFECYCLE_TEST_REDIS_URL for the worker tests")
        pytest.skip("needs LIFECYCLE_TEST_REDIS_URL (workers are separate processes)")
    assert REDIS_SERVER_URL
    return redis_url


@pytest.fixture
def workers(
    database_url: str, redis_url: str | None, tmp_path: Path, inbox: Any
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start worker processes on the test's database, Redis and SMTP server."""
    started: list[subprocess.Popen[bytes]] = []

    def start(pause: str = "", name: str = "worker") -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LIFECYCLE_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-1234567890",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url or "",
            "LIFECYCLE_EMBEDDED_WORKER": "0",
            "LIFECYCLE_SMTP_HOST": "127.0.0.1",
            "LIFECYCLE_SMTP_PORT": str(inbox.port),
            "LIFECYCLE_MAIL_FROM": "lifecycle@test.example",
            "FAULT_PAUSE": pause,
            "FAULT_MARKER": str(tmp_path / f"{name}.marker"),
        }
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.marker = tmp_path / f"{name}.marker"  # type: ignore[attr-defined]
        process.log = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finish(process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    code = process.wait(timeout)
    log = process.log.read_text()  # type: ignore[attr-defined]
    assert code == 0, log


def arrange(db, world, district=None) -> int:
    """A license decided in 95 days and devices reaching AUE in 80: all due today."""
    district = district or world.a.district
    today = district_today(district)
    decide_by = today + timedelta(days=95)
    factories.make_license(
        db,
        district,
        product="Reading Plus",
        term_start=decide_by + timedelta(days=1) - relativedelta(months=12),
    )
    for _ in range(DEVICES):
        factories.make_device(db, district, aue_date=today + timedelta(days=80))
    db.commit()
    return 1 + DEVICES


def snapshot(db) -> list[tuple[Any, ...]]:
    db.expire_all()
    rows = db.exec(select(Obligation).order_by(col(Obligation.id))).all()
    return [
        (o.kind, o.subject_type, o.subject_id, o.term_number, o.decide_by, o.state)
        for o in rows
    ]


def notes(db) -> list[tuple[int, int | None]]:
    db.expire_all()
    return sorted(
        (n.user_id, n.district_id) for n in db.exec(select(Notification)).all()
    )


def fetch(app, job_id: str) -> Job:
    return Job.fetch(job_id, connection=get_redis(app), serializer=JSONSerializer)


# --- (a) a worker killed in the middle of a scan -----------------------------------


@pytest.mark.parametrize("pause", ["before_commit", "after_commit"])
def test_a_worker_killed_mid_scan_leaves_no_duplicates(
    app, db, world, inbox, real_redis, workers, pause
):
    due = arrange(db, world)
    inbox.start()
    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-killed", unique=True)
    victim = workers(pause, name="victim")
    wait_for(victim.marker.exists, "the worker to reach the pause")
    assert fetch(app, "scan-killed").get_status() == JobStatus.STARTED
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)

    if pause == "before_commit":
        # the killed transaction rolled back: nothing of the scan exists
        assert snapshot(db) == [] and reminder_rows(db) == [] and outbox(db) == []
    else:
        # committed, but the e-mail jobs were never enqueued: the sweeper finds them
        assert len(reminder_rows(db)) == due and len(outbox(db)) == 2
        assert get_queue("mail", get_redis(app)).count == 0
        session = get_db(app).session()
        assert requeue_unsent(session, older_than=timedelta(0)) == 2
        session.close()

    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-rerun", unique=True)
    finish(workers(name="rerun"))
    after = snapshot(db)
    assert len(after) == due
    assert len(reminder_rows(db)) == due  # one per obligation and threshold
    assert len({(o, t, h) for o, t, h in reminder_rows(db)}) == due
    assert notes(db) == sorted(
        [
            (world.a.it.id, world.a.district.id),
            (world.a.finance.id, world.a.district.id),
        ]
    )
    rows = outbox(db)
    assert len(rows) == 2 and all(r.sent_at is not None for r in rows)
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted(
        [world.a.it.email, world.a.finance.email]
    )

    # and once more: the same obligations, nothing new to say
    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-third", unique=True)
    drain(app)
    assert snapshot(db) == after
    assert len(reminder_rows(db)) == due and len(outbox(db)) == 2
    assert len(inbox.messages) == 2


# --- (b) two workers and two scheduler ticks at once --------------------------------


def test_two_workers_and_two_ticks_still_remind_once(
    app, db, world, inbox, real_redis, workers
):
    due = arrange(db, world) + arrange(db, world, world.b.district)
    inbox.start()
    # Two cron ticks of the nightly fan-out, plus rescans of each district queued at
    # the same moment (as an edit would): four scans of each district race.
    for tick in ("tick-1", "tick-2"):
        enqueue_now("jobs.tasks.nightly_scans", job_id=f"nightly-{tick}")
        for district in (world.a.district, world.b.district):
            enqueue_now(SCAN_TASK, district.id, job_id=f"{tick}-{district.id}")
    first, second = workers(name="w1"), workers(name="w2")
    finish(first)
    finish(second)
    drain(app)  # anything left over (a retry scheduled now), in this process
    for name in QUEUES:  # no scan lost to a deadlock or a lock timeout
        assert FailedJobRegistry(queue=get_queue(name, get_redis(app))).count == 0

    assert len(reminder_rows(db)) == due
    people = [world.a.it, world.a.finance, world.b.it, world.b.finance]
    assert notes(db) == sorted((p.id, p.district_id) for p in people)
    rows = outbox(db)
    assert len(rows) == 4 and all(r.sent_at is not None for r in rows)
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == sorted(
        p.email for p in people
    )


# --- (c) Redis down: the web keeps serving, the work runs once it is back -----------


def down_app(database_url: str, tmp_path: Path, inbox: Any):
    app = create_app(
        make_settings(database_url, DEAD_REDIS, smtp_port=inbox.port),
        INSTANCE_PATH=str(tmp_path / "down"),
        WTF_CSRF_ENABLED=False,
    )
    app.test_client_class = RequestIsolatedClient
    return app


def test_with_redis_down_the_web_saves_edits_and_the_work_runs_when_it_is_back(
    app, db, world, inbox, database_url, tmp_path
):
    arrange(db, world)
    down = down_app(database_url, tmp_path, inbox)
    client = down.test_client()
    sign_in(client, world.a.it)

    page = client.get("/notifications")
    assert page.status_code == 200
    assert "Background work is delayed" in page.get_data(as_text=True)
    saved = client.post("/notifications/preferences", data={"notify_email": "1"})
    assert saved.status_code == 303  # an edit is saved …
    assert fresh(db).get(User, world.a.it.id).weekly_digest is False
    started = client.post("/renewals/scan")  # the page's "Scan now" button
    assert started.status_code == 303  # … and a scan is recorded, to run later
    record_id = int(started.headers["Location"].rsplit("/", 1)[1])
    # A worker that reached the database but not Redis: reminders and outbox rows are
    # committed, their send jobs could not be enqueued.
    from jobs.tasks import scan_district_job

    with down.app_context():
        assert scan_district_job(world.a.district.id)["reminders_sent"] == 1 + DEVICES
    assert len(outbox(db)) == 2 and inbox.messages == []

    # Redis is back: the sweepers re-enqueue what was lost, the workers run it once.
    inbox.start()
    session = get_db(app).session()
    assert requeue_stalled(session, older_than=timedelta(0)) == 1
    assert requeue_unsent(session, older_than=timedelta(0)) == 2
    session.close()
    drain(app)
    assert fresh(db).get(JobRecord, record_id).state == JobState.FINISHED
    assert len(inbox.messages) == 2
    assert all(r.sent_at is not None for r in outbox(db))
    assert len(reminder_rows(db)) == 1 + DEVICES  # the recorded scan added nothing
    up = app.test_client()
    sign_in(up, world.a.it)
    assert "Background work is delayed" not in up.get("/").get_data(as_text=True)


def test_with_redis_down_people_can_still_sign_in_and_use_the_api(
    db, world, database_url, tmp_path
):
    from tests.notices.conftest import Inbox

    down = down_app(database_url, tmp_path, Inbox())
    _token, secret = create_token(db, user=world.a.it, name="script")
    db.commit()
    api = down.test_client().get("/api/v1/licenses", headers=bearer(secret))
    login = down.test_client().post(
        "/login", data={"email": world.a.it.email, "password": factories.PASSWORD}
    )
    assert (api.status_code, login.status_code) == (200, 303)


# --- (d) SMTP down or refusing: nothing is marked sent that was not ------------------


def test_smtp_down_in_a_worker_process_marks_nothing_sent(
    app, db, world, inbox, real_redis, workers
):
    arrange(db, world)
    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-smtp", unique=True)
    finish(workers(name="no-smtp"))  # the inbox is not started
    rows = outbox(db)
    assert len(rows) == 2
    assert all(r.sent_at is None and r.message_id == "" for r in rows)
    assert all(r.attempts == 1 and "mail server" in r.last_error for r in rows)
    for row in rows:
        job = fetch(app, f"outbox-{row.id}")
        assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 4

    inbox.start()
    registry = get_queue("mail", get_redis(app)).scheduled_job_registry
    for row in rows:  # the retry is due now
        registry.schedule(fetch(app, f"outbox-{row.id}"), datetime.now(UTC))
    finish(workers(name="smtp-back"))
    assert len(inbox.messages) == 2
    assert all(r.sent_at is not None and r.attempts == 2 for r in outbox(db))


class Refusing:
    """An SMTP server that answers every message with a permanent error."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "554 Transaction failed: mailbox unavailable"


def test_a_refusing_smtp_server_marks_nothing_sent(app, db, world, inbox):
    from aiosmtpd.controller import Controller

    arrange(db, world)
    controller = Controller(Refusing(), hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        scan_and_remind(db, world.a.district.id, district_today(world.a.district))
        drain(app)
    finally:
        controller.stop()
    rows = outbox(db)
    assert len(rows) == 2
    assert all(r.sent_at is None and r.attempts == 1 for r in rows)
    assert all("554" in r.last_error for r in rows)
    assert all(
        get_queue(q, get_redis(app)).count == 0 for q in QUEUES
    )  # waiting for the retry, not lost
