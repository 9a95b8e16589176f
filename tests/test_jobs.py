"""Background jobs: enqueued after commit, run by RQ (embedded or real), progress in job records."""

from __future__ import annotations

import json
import time
import zlib
from datetime import timedelta
from typing import Any

import pytest
import redis
from rq import Queue
from sqlmodel import select

from lifecycle.db import get_db
from lifecycle.enums import JobState
from lifecycle.models import JobRecord
from lifecycle.scan.jobs import SCAN, scan_message
from lifecycle.work import queue as background
from lifecycle.work.queue import EmbeddedWorker, drain, get_queue, get_redis, start_job
from lifecycle.work.runner import HANDLERS, JobFailed, handler
from tests.conftest import htmx, login

CALLS: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def _test_handlers():
    @handler("test_ok", "Test job")
    def ok(session, record, progress):
        progress(50, "half way")
        CALLS.append(dict(record.params))
        return {"message": "All done.", "count": record.params.get("n", 0)}

    @handler("test_user_error", "Test job")
    def user_error(session, record, progress):
        raise JobFailed("The file has no header row.")

    @handler("test_crash", "Test job")
    def crash(session, record, progress):
        raise RuntimeError("boom")

    CALLS.clear()
    yield
    for kind in ("test_ok", "test_user_error", "test_crash"):
        HANDLERS.pop(kind, None)


def queued(app) -> int:
    return sum(get_queue(n, get_redis(app)).count for n in background.QUEUES)


def new_job(app, kind="test_ok", *, idle_queues=True, **params) -> int:
    """Start a job; with idle_queues, prove nothing is queued before the commit."""
    session = get_db(app).session()
    record = start_job(
        session, kind=kind, user_id=None, district_id=None, params=params
    )
    if idle_queues:
        assert queued(app) == 0, "enqueued before the commit"
    session.commit()
    session.close()
    return record.id


def record(app, job_id) -> JobRecord:
    with get_db(app).session() as s:
        return s.get(JobRecord, job_id)


def test_job_is_enqueued_only_after_commit_and_runs(app):
    job_id = new_job(app, n=3)
    assert queued(app) == 1
    drain(app)
    done = record(app, job_id)
    assert done.state == JobState.FINISHED
    assert done.progress == 100 and done.result["count"] == 3
    assert done.message == "All done."
    assert CALLS == [{"n": 3}]


def test_rolled_back_transaction_enqueues_nothing(app):
    session = get_db(app).session()
    start_job(session, kind="test_ok", user_id=None, district_id=None)
    session.rollback()
    session.close()
    assert queued(app) == 0


def test_a_finished_record_is_not_run_twice(app):
    job_id = new_job(app)
    drain(app)
    background.enqueue_now(background.RUN_RECORD, job_id)  # a duplicate delivery
    drain(app)
    assert len(CALLS) == 1
    assert record(app, job_id).state == JobState.FINISHED


def test_user_facing_failure_is_shown_not_retried(app):
    job_id = new_job(app, kind="test_user_error")
    drain(app)
    failed = record(app, job_id)
    assert failed.state == JobState.FAILED
    assert failed.message == "The file has no header row."


def test_crash_marks_the_record_failed(app):
    job_id = new_job(app, kind="test_crash")
    drain(app)
    failed = record(app, job_id)
    assert failed.state == JobState.FAILED
    assert "boom" in failed.error


def test_job_page_polls_until_done_then_answers_286(app, client, world, db):
    db.add(
        JobRecord(
            kind="test_ok", user_id=world.a.it.id, district_id=world.a.district.id
        )
    )
    db.commit()
    job = db.exec(select(JobRecord)).one()
    login(client, world.a.it.email)
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    running = client.get(f"/jobs/{job.id}", headers=htmx())
    body = running.get_data(as_text=True)
    assert (
        running.status_code == 200
        and "<html" not in body
        and 'hx-trigger="every 1s"' in body
    )
    assert "HX-Request" in running.headers["Vary"]
    job.state = JobState.FINISHED
    job.result = {"message": "Done.", "rows": 12}
    db.commit()
    final = client.get(f"/jobs/{job.id}", headers=htmx())
    assert final.status_code == 286
    assert "hx-trigger" not in final.get_data(as_text=True)
    assert "12" in final.get_data(as_text=True)


def test_district_colleagues_see_a_job_but_other_districts_do_not(
    app, client, world, db
):
    db.add(
        JobRecord(
            kind="test_ok", user_id=world.a.it.id, district_id=world.a.district.id
        )
    )
    db.commit()
    login(client, world.a.viewer.email)
    assert client.get("/jobs/1").status_code == 200
    other = app.test_client()
    login(other, world.b.it.email)
    assert other.get("/jobs/1").status_code == 404


def test_requeue_puts_back_a_job_lost_by_redis(app):
    job_id = new_job(app)
    get_redis(app).flushdb()  # Redis lost the job (restarted without persistence)
    with get_db(app).scope() as session:
        assert background.requeue_stalled(session, older_than=timedelta(0)) == 1
    drain(app)
    assert record(app, job_id).state == JobState.FINISHED


def test_enqueue_with_redis_down_keeps_the_record_queued(app, monkeypatch):
    def down(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(Queue, "enqueue", down)
    job_id = new_job(app)  # the commit succeeds; the enqueue fails quietly
    rec = record(app, job_id)
    assert rec.state == JobState.QUEUED


def test_cron_schedule_enqueues_json_jobs_the_worker_can_run(app):
    cron = background.make_cron(get_redis(app))
    names = [job.func_name for job in cron.get_jobs()]
    assert "jobs.tasks.requeue_lost_jobs" in names
    cron.enqueue_jobs()
    queue = get_queue("default", get_redis(app))
    (job,) = queue.get_jobs()
    raw = get_redis(app).hget(f"rq:job:{job.id}", "data")
    # RQ stores zlib-compressed serialized data; ours must be JSON, as our workers read JSON
    assert json.loads(zlib.decompress(raw))[0] == "jobs.tasks.requeue_lost_jobs"
    drain(app)
    assert get_queue("default", get_redis(app)).count == 0
    assert len(queue.finished_job_registry) == 1


def test_embedded_worker_runs_jobs_in_the_background(app):
    worker = EmbeddedWorker(app, poll_seconds=0.05)
    worker.start()
    try:
        job_id = new_job(app, idle_queues=False, n=1)
        deadline = time.monotonic() + 10
        while (
            record(app, job_id).state != JobState.FINISHED
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert record(app, job_id).state == JobState.FINISHED
    finally:
        worker.stop()


def test_delayed_jobs_wait_for_their_time(app):
    session = get_db(app).session()
    rec = JobRecord(kind="test_ok")
    session.add(rec)
    session.commit()
    background.enqueue_now(background.RUN_RECORD, rec.id, delay=timedelta(hours=1))
    drain(app)
    assert record(app, rec.id).state == JobState.QUEUED
    background.enqueue_now(background.RUN_RECORD, rec.id, delay=timedelta(seconds=0))
    time.sleep(1.1)
    drain(app)
    assert record(app, rec.id).state == JobState.FINISHED


def test_a_finished_scan_says_what_changed_and_leads_back(client, world, db):
    db.add(
        JobRecord(
            kind=SCAN,
            user_id=world.a.it.id,
            district_id=world.a.district.id,
            state=JobState.FINISHED,
            message=scan_message({"obligations_written": 1200, "reminders_sent": 1}),
            result={"message": "x", "district_id": world.a.district.id, "rows": 1200},
        )
    )
    db.commit()
    job = db.exec(select(JobRecord)).one()
    login(client, world.a.it.email)

    body = client.get(f"/jobs/{job.id}").get_data(as_text=True)

    assert (
        "Scan finished: 1,200 obligations created or updated, 1 reminder sent." in body
    )
    assert 'data-testid="job-back">Back to renewals' in body
    assert "<summary>All figures</summary>" in body and "<dd>1,200</dd>" in body
    assert "District id" not in body


def test_a_scan_that_changed_nothing_says_so():
    assert scan_message({}) == "Scan finished: everything was already up to date."
    assert scan_message({"obligations_closed": 2, "devices_refreshed": 1}) == (
        "Scan finished: 2 obligations closed, 1 device with a new refresh date."
    )
