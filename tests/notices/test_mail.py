"""Reminder e-mail through a local SMTP server: one per recipient, sent once, retried."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlmodel import col, select

from jobs.tasks import send_outbox_email
from lifecycle.db import get_db
from lifecycle.models import AuditEvent, OutboxEmail
from lifecycle.notices.mailing import RETRY_INTERVALS, job_id, requeue_unsent
from lifecycle.work.mail import MailError
from lifecycle.work.queue import drain, get_queue, get_redis
from tests import factories
from tests.api.conftest import sign_in
from tests.notices.conftest import MAIL_BASE_URL as BASE
from tests.notices.conftest import outbox, readable, scan_and_remind

TODAY = date(2026, 9, 27)  # 95 days before the license's decide-by date


@pytest.fixture
def app(mail_app):
    """These tests mail through the `inbox` SMTP server (started or not)."""
    return mail_app


def arrange(db, world, **license_kw):
    lic = factories.make_license(
        db,
        world.a.district,
        product="Reading Plus",
        term_start=date(2026, 1, 1),
        **license_kw,
    )
    world.a.finance.notify_email = False  # in-app only
    db.commit()
    scan_and_remind(db, world.a.district.id, TODAY)
    return lic


def fetch(app, outbox_id):
    return Job.fetch(
        job_id(outbox_id), connection=get_redis(app), serializer=JSONSerializer
    )


def test_each_recipient_gets_exactly_one_email(app, db, world, inbox):
    inbox.start()
    lic = arrange(db, world)
    assert inbox.messages == []  # sent by the worker after the commit, not the scan
    drain(app)

    [message] = inbox.messages
    assert message.rcpt_tos == [world.a.it.email]
    text = readable(message)
    assert "Subject: Lifecycle: 1 renewal to decide by Dec 31, 2026" in text
    assert f"Hello {world.a.it.name}" in text
    assert "- License renewal: decide on Reading Plus by Dec 31, 2026" in text
    assert f"{BASE}/licenses/{lic.id}" in text
    assert f"{BASE}/renewals?state=notified" in text
    assert f"{BASE}/notifications/preferences" in text
    [row] = outbox(db)
    assert row.sent_at is not None and row.message_id and row.attempts == 1
    assert row.dedupe_key.startswith(
        f"reminders:{world.a.it.id}:{world.a.district.id}:2026-09-27:"
    )
    # nothing new to say: no new row, no second message
    scan_and_remind(db, world.a.district.id, TODAY)
    drain(app)
    assert len(inbox.messages) == 1 and len(outbox(db)) == 1


def test_send_jobs_are_unique_on_the_mail_queue_with_backoff(app, db, world):
    arrange(db, world)
    [row] = outbox(db)
    job = fetch(app, row.id)
    assert job.origin == "mail"
    assert job.func_name == "jobs.tasks.send_outbox_email" and job.args == [row.id]
    assert job.retries_left == 5 and job.retry_intervals == RETRY_INTERVALS
    assert get_queue("mail", get_redis(app)).count == 1


def test_a_duplicate_send_job_never_sends_twice(app, db, world, inbox):
    inbox.start()
    arrange(db, world)
    [row] = outbox(db)
    assert send_outbox_email(row.id)["status"] == "sent"
    assert send_outbox_email(row.id)["status"] == "already sent"
    drain(app)  # the queued job finds it sent
    assert len(inbox.messages) == 1


def test_smtp_down_records_the_attempt_schedules_a_retry_then_delivers_once(
    app, db, world, inbox
):
    arrange(db, world)  # the inbox is not started: nothing listens on its port
    drain(app)

    [row] = outbox(db)
    assert row.sent_at is None and row.message_id == ""
    assert row.attempts == 1
    assert f"mail server 127.0.0.1:{inbox.port}" in row.last_error
    job = fetch(app, row.id)
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it in 30 s
    assert job.retries_left == 4

    inbox.start()
    queue = get_queue("mail", get_redis(app))
    queue.scheduled_job_registry.schedule(job, datetime.now(UTC) - timedelta(seconds=1))
    drain(app)

    assert len(inbox.to(world.a.it.email)) == 1
    [row] = outbox(db)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""
    drain(app)
    assert len(inbox.messages) == 1


def test_a_failed_send_raises_so_rq_retries(app, db, world):
    arrange(db, world)
    [row] = outbox(db)
    with pytest.raises(MailError):
        send_outbox_email(row.id)
    [row] = outbox(db)
    assert row.sent_at is None and row.attempts == 1


def test_the_sweeper_re_enqueues_unsent_mail_whose_job_redis_lost(
    app, db, world, inbox
):
    arrange(db, world)
    [row] = outbox(db)
    connection = get_redis(app)
    fetch(app, row.id).delete()  # Redis lost it (flushed, or down at enqueue time)
    get_queue("mail", connection).empty()

    session = get_db(app).session()
    assert requeue_unsent(session) == 0  # not stale yet: its job may still come
    assert requeue_unsent(session, older_than=timedelta(0)) == 1
    assert requeue_unsent(session, older_than=timedelta(0)) == 0  # job exists now
    session.close()

    inbox.start()
    drain(app)
    assert len(inbox.messages) == 1
    session = get_db(app).session()
    assert requeue_unsent(session, older_than=timedelta(0)) == 0  # sent: left alone
    session.close()
    assert [r.sent_at is not None for r in outbox(db)] == [True]


def test_people_who_opted_out_get_in_app_notices_only(app, db, world, inbox):
    inbox.start()
    world.a.it.notify_email = False
    db.commit()
    arrange(db, world)
    drain(app)
    assert inbox.messages == [] and outbox(db) == []


def test_an_outbox_row_is_written_once_per_dedupe_key(app, db, world):
    from lifecycle.notices.mailing import write_outbox

    row = {
        "user_id": world.a.it.id,
        "district_id": world.a.district.id,
        "kind": "reminder",
        "dedupe_key": "reminders:test:once",
        "to_address": world.a.it.email,
        "subject": "s",
        "body_text": "b",
    }
    session = get_db(app).session()
    assert len(write_outbox(session, [row])) == 1
    assert write_outbox(session, [row]) == []
    session.commit()
    session.close()
    assert len(outbox(db)) == 1
    assert isinstance(outbox(db)[0], OutboxEmail)


# --- undelivered mail: the admin page and "send again" --------------------------------


def gave_up(app, outbox_id):
    """As RQ leaves a send job whose retries ran out: failed, not scheduled."""
    job = fetch(app, outbox_id)
    get_queue("mail", get_redis(app)).scheduled_job_registry.remove(job)
    job.set_status(JobStatus.FAILED)
    return job


def resend_events(db):
    db.expire_all()
    return db.exec(
        select(AuditEvent).where(col(AuditEvent.entity_type) == "outbox_email")
    ).all()


def test_an_admin_sees_mail_whose_retries_ran_out_and_sends_it_again(
    app, db, world, inbox, client
):
    arrange(db, world)  # the mail server is down
    drain(app)
    [row] = outbox(db)
    gave_up(app, row.id)
    sign_in(client, world.admin)

    assert "1</span> message the mail server has not accepted" in client.get(
        "/admin/settings"
    ).get_data(as_text=True)
    page = client.get("/admin/mail").get_data(as_text=True)
    assert world.a.it.email in page and row.subject in page
    assert f"mail server 127.0.0.1:{inbox.port}" in page
    assert '<span class="badge bad">Gave up</span>' in page
    assert f'action="/admin/mail/{row.id}/resend"' in page

    response = client.post(f"/admin/mail/{row.id}/resend")
    assert response.status_code == 303
    assert fetch(app, row.id).get_status() == JobStatus.QUEUED
    [event] = resend_events(db)
    assert (event.action, event.entity_id) == ("resend", row.id)
    assert event.actor_id == world.admin.id
    assert event.district_id == world.a.district.id
    assert event.changes["attempts"] == 1
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Queued again" in page
    assert "<td>Queued</td>" in page  # still listed until sent, without the button
    assert f'action="/admin/mail/{row.id}/resend"' not in page

    inbox.start()
    drain(app)
    assert len(inbox.to(world.a.it.email)) == 1
    [row] = outbox(db)
    assert row.sent_at is not None and row.attempts == 2
    assert "accepted by the mail server" in client.get("/admin/mail").get_data(
        as_text=True
    )
    # sent meanwhile: a second click changes nothing
    client.post(f"/admin/mail/{row.id}/resend")
    assert "sent meanwhile" in client.get("/admin/mail").get_data(as_text=True)
    assert len(resend_events(db)) == 1
    drain(app)
    assert len(inbox.messages) == 1


def test_send_again_leaves_a_job_that_is_still_retrying_alone(app, db, world, client):
    arrange(db, world)
    drain(app)  # failed once, retry scheduled
    [row] = outbox(db)
    sign_in(client, world.admin)

    page = client.get("/admin/mail").get_data(as_text=True)
    assert "<td>Waiting to retry</td>" in page
    assert f'action="/admin/mail/{row.id}/resend"' not in page

    client.post(f"/admin/mail/{row.id}/resend")  # from a page loaded before

    assert "still queued or being retried" in client.get("/admin/mail").get_data(
        as_text=True
    )
    assert fetch(app, row.id).get_status() == JobStatus.SCHEDULED
    assert resend_events(db) == []


def test_send_again_with_the_job_queue_down_changes_nothing(
    app, db, world, client, monkeypatch
):
    arrange(db, world)
    drain(app)
    [row] = outbox(db)
    gave_up(app, row.id)
    sign_in(client, world.admin)
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr("lifecycle.notices.mailing.get_redis", lambda: unreachable)

    listed = client.get("/admin/mail")
    assert listed.status_code == 200
    assert "Unknown: the job queue is unreachable" in listed.get_data(as_text=True)

    response = client.post(f"/admin/mail/{row.id}/resend")

    assert response.status_code == 303
    assert "Background work is delayed" in client.get("/admin/mail").get_data(
        as_text=True
    )
    assert fetch(app, row.id).get_status() == JobStatus.FAILED
    assert resend_events(db) == []


def test_the_undelivered_list_is_empty_pages_and_refuses_unknown_mail(
    app, db, world, client
):
    sign_in(client, world.admin)
    assert "Every message written so far" in client.get("/admin/mail").get_data(
        as_text=True
    )
    assert client.post("/admin/mail/999999/resend").status_code == 404
    for n in range(3):
        db.add(
            OutboxEmail(
                dedupe_key=f"test:{n}",
                to_address=f"person{n}@example.org",
                subject=f"Message {n}",
                body_text="…",
                attempts=n,  # the first was never tried: not listed
                last_error="refused" if n else "",
            )
        )
    db.commit()
    first = client.get("/admin/mail?limit=1").get_data(as_text=True)
    assert "Message 2" in first and "Message 1" not in first
    assert "<td>Not queued</td>" in first and "Send again" in first
    assert "Older messages" in first
    link = first.split('href="/admin/mail?')[1].split('"')[0].replace("&amp;", "&")
    assert "limit=1" in link  # the page size goes on
    older = client.get(f"/admin/mail?{link}").get_data(as_text=True)
    assert "Message 1" in older and "Message 0" not in older
    assert client.get("/admin/mail?limit=0").status_code == 422


def test_a_message_whose_job_failed_before_recording_a_try_is_listed(
    app, db, world, client
):
    """A send job that died before its commit (database down, timed out) leaves
    attempts at 0; once it is older than a send takes, the page shows it."""
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    db.add_all(
        [
            OutboxEmail(
                dedupe_key="test:old", to_address="old@example.org",
                subject="Never tried, three hours old", body_text="…",
                created_at=long_ago,
            ),
            OutboxEmail(
                dedupe_key="test:new", to_address="new@example.org",
                subject="Just written", body_text="…",
            ),
        ]
    )  # fmt: skip
    db.commit()
    sign_in(client, world.admin)

    page = client.get("/admin/mail").get_data(as_text=True)

    assert "Never tried, three hours old" in page and "Just written" not in page
    assert "1</span> message the mail server has not accepted" in client.get(
        "/admin/settings"
    ).get_data(as_text=True)


def test_a_finished_job_that_sent_nothing_can_be_replaced(app, db, world, client):
    arrange(db, world)
    [row] = outbox(db)
    job = fetch(app, row.id)
    get_queue("mail", get_redis(app)).remove(job)
    job.set_status(JobStatus.FINISHED)
    db.get(OutboxEmail, row.id).attempts = 1  # as if tried once
    db.commit()
    sign_in(client, world.admin)

    assert "<td>Ended without sending</td>" in client.get("/admin/mail").get_data(
        as_text=True
    )
    client.post(f"/admin/mail/{row.id}/resend")
    assert fetch(app, row.id).get_status() == JobStatus.QUEUED
