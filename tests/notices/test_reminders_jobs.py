"""Reminders through the scan jobs: wiring, a retried job, two sessions racing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from rq import Retry
from sqlmodel import select

from lifecycle.db import get_db
from lifecycle.enums import JobState
from lifecycle.models import JobRecord, Notification
from lifecycle.notices.reminders import send_due_reminders
from lifecycle.scan import jobs as scan_jobs
from lifecycle.scan.jobs import SCAN, SCAN_TASK, district_today, run_scan
from lifecycle.work.queue import drain, enqueue_now, start_job
from tests import factories
from tests.notices.conftest import notifications_of, outbox, reminder_rows


def license_due_in(db, world, days: int, **kw):
    """An express yearly license whose decide-by date is `days` from the district's today."""
    decide_by = district_today(world.a.district) + timedelta(days=days)
    start = decide_by + timedelta(days=1) - relativedelta(months=12)
    lic = factories.make_license(
        db, world.a.district, term_start=start, product=kw.pop("product", "Suite"), **kw
    )
    db.commit()
    return lic


def test_the_recorded_scan_job_sends_reminders(app, db, world):
    license_due_in(db, world, 95)
    record = start_job(
        db, kind=SCAN, user_id=world.a.it.id, district_id=world.a.district.id
    )
    db.commit()
    drain(app)
    db.expire_all()
    done = db.get(JobRecord, record.id)
    assert done.state == JobState.FINISHED, done.error
    assert done.result["reminders_sent"] == 1
    assert done.result["reminder_notifications"] == 2  # IT and finance
    assert "1 reminder sent" in done.message
    assert [t for _, _, t in reminder_rows(db)] == [120]
    assert len(outbox(db)) == 2


def test_the_nightly_task_sends_reminders_and_mail_jobs(app, db, world):
    license_due_in(db, world, 25)
    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-test", unique=True)
    drain(app)  # the scan, then the two send jobs it enqueued after its commit
    assert [t for _, _, t in reminder_rows(db)] == [30]
    rows = outbox(db)
    assert len(rows) == 2
    # no SMTP server in these tests: every row was tried once and is not marked sent
    assert all(r.attempts == 1 and r.sent_at is None for r in rows)


def test_a_retried_scan_job_notifies_once(app, db, world, monkeypatch):
    """The job fails after writing its reminders: the rollback undoes them; the retry
    writes them once, with one notification and one e-mail per person."""
    license_due_in(db, world, 95)
    real = scan_jobs.send_due_reminders
    calls = []

    def flaky(session, **kw):
        run = real(session, **kw)
        calls.append(run.sent)
        if len(calls) == 1:
            raise RuntimeError("worker lost its database connection")
        return run

    monkeypatch.setattr(scan_jobs, "send_due_reminders", flaky)
    enqueue_now(
        SCAN_TASK, world.a.district.id, job_id="scan-retry", unique=True, retry=Retry(1)
    )
    drain(app)
    assert calls == [1, 1]  # the first attempt's reminder was rolled back
    assert len(reminder_rows(db)) == 1
    assert len(notifications_of(db, world.a.it.id)) == 1
    assert len(outbox(db)) == 2
    enqueue_now(SCAN_TASK, world.a.district.id, job_id="scan-again", unique=True)
    drain(app)
    assert len(reminder_rows(db)) == 1 and len(outbox(db)) == 2


def test_two_sessions_racing_notify_once(app, db, world):
    """Both insert at the same moment; the unique key lets one win, the other sees 0."""
    for n in range(3):
        license_due_in(db, world, 95, product=f"Suite {n}")
    factories.make_device(
        db,
        world.a.district,
        aue_date=district_today(world.a.district) + timedelta(days=80),
    )
    db.commit()
    today = district_today(world.a.district)
    run_scan(db, world.a.district.id, today)
    db.commit()

    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        with app.app_context():
            session = get_db(app).session()
            try:
                barrier.wait()
                run = send_due_reminders(
                    session, district_id=world.a.district.id, today=today
                )
                time.sleep(0.3)  # hold the transaction open: the other one overlaps
                session.commit()
                sent.append(run.sent)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                session.rollback()
            finally:
                session.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(sent) == [0, 4]
    assert len(reminder_rows(db)) == 4
    db.expire_all()
    notes = db.exec(select(Notification)).all()
    assert sorted(n.user_id for n in notes) == sorted(
        [world.a.it.id, world.a.finance.id]
    )
    assert len(outbox(db)) == 2
