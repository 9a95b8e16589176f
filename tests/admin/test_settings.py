"""Cooperative settings and the test e-mail job."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlmodel import select

from lifecycle.models import Cooperative, JobRecord
from lifecycle.work.queue import drain, get_redis
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx


@pytest.fixture
def admin(client, world):
    sign_in(client, world.admin)
    return client


def _page(response):
    return response.get_data(as_text=True)


def _coop(db):
    return fresh(db).exec(select(Cooperative)).one()


# --- cooperative settings ----------------------------------------------------


def test_the_settings_page_shows_the_current_settings(admin):
    page = _page(admin.get("/admin/settings"))

    assert 'value="Region 99 Purchasing Cooperative"' in page
    assert 'value="120, 90, 60, 30, 7"' in page


def test_an_admin_saves_the_cooperative_name_and_default_thresholds(admin, db):
    response = admin.post(
        "/admin/settings",
        data={"name": "  Region 13 Cooperative ", "thresholds": "7, 30;90"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/settings"
    coop = _coop(db)
    assert coop.name == "Region 13 Cooperative"
    assert coop.default_reminder_thresholds == [90, 30, 7]
    page = _page(admin.get("/admin/settings"))
    assert "Saved the settings of Region 13 Cooperative." in page
    assert 'value="90, 30, 7"' in page


def test_a_threshold_given_twice_is_refused(admin, db):
    response = admin.post(
        "/admin/settings", data={"name": "Coop", "thresholds": "30, 7, 30"}
    )
    assert response.status_code == 422
    assert "give each threshold once" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ("abc", "must be whole days, e.g. 120, 90, 60, 30, 7"),
        ("60, 3.5", "must be whole days, e.g. 120, 90, 60, 30, 7"),
        ("-5", "each threshold must be between 0 and 730 days"),
        ("30, 1000", "each threshold must be between 0 and 730 days"),
        ("", "give at least one threshold"),
    ],
)
def test_invalid_thresholds_are_refused_with_a_message(admin, db, thresholds, message):
    response = admin.post(
        "/admin/settings", data={"name": "Renamed Coop", "thresholds": thresholds}
    )

    assert response.status_code == 422
    page = _page(response)
    assert (
        f"Default reminder thresholds (days before the decide-by date) {message}"
        in page
    )
    assert 'value="Renamed Coop"' in page  # what was typed is kept
    coop = _coop(db)
    assert coop.name == "Region 99 Purchasing Cooperative"
    assert coop.default_reminder_thresholds == [120, 90, 60, 30, 7]


def test_a_blank_cooperative_name_is_refused(admin, db):
    response = admin.post("/admin/settings", data={"name": "  ", "thresholds": "30"})

    assert response.status_code == 422
    assert "Name is required" in _page(response)
    assert _coop(db).default_reminder_thresholds == [120, 90, 60, 30, 7]


# --- the test e-mail ---------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        handler.port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def _start_test_email(client):
    response = client.post("/admin/settings/test-email")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/jobs/")
    return int(location.removeprefix("/jobs/"))


def test_asking_for_a_test_email_records_a_job_and_shows_its_page(admin, world, db):
    job_id = _start_test_email(admin)

    record = fresh(db).get(JobRecord, job_id)
    assert (record.kind, record.user_id, record.state) == (
        "test_email",
        world.admin.id,
        "queued",
    )
    page = _page(admin.get(f"/jobs/{job_id}"))
    assert "Test e-mail" in page
    assert 'data-testid="job-state">Queued<' in page


def test_the_test_email_reaches_the_admin_through_smtp(make_app, world, db, inbox):
    app = make_app(settings={"smtp_port": inbox.port})
    client = app.test_client()
    sign_in(client, world.admin)
    job_id = _start_test_email(client)
    assert inbox.messages == []  # sent by the worker, not the request

    drain(app)

    [message] = inbox.messages
    assert message.rcpt_tos == [world.admin.email]
    assert message.mail_from == "lifecycle@test.example"
    content = message.content.decode()
    assert "Subject: Lifecycle test e-mail" in content
    assert f"Hello {world.admin.name}" in content
    record = fresh(db).get(JobRecord, job_id)
    assert record.state == "finished"
    assert record.result["recipient"] == world.admin.email
    page = _page(client.get(f"/jobs/{job_id}"))
    assert 'data-testid="job-state">Finished<' in page
    assert f"Sent to {world.admin.email}." in page
    # A poll from the page stops now that the job is done.
    assert client.get(f"/jobs/{job_id}", headers=htmx()).status_code == 286


def test_with_no_mail_server_the_job_retries_and_is_not_finished(app, admin, db):
    job_id = _start_test_email(admin)

    drain(app)

    record = fresh(db).get(JobRecord, job_id)
    assert record.state in ("queued", "failed")
    assert record.state != "finished"
    assert record.finished_at is None or record.state == "failed"
    assert "mail server 127.0.0.1:1" in record.error
    assert record.attempts == 1
    job = Job.fetch(
        record.rq_job_id, connection=get_redis(app), serializer=JSONSerializer
    )
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it later
    assert job.retries_left == 2
    page = _page(admin.get(f"/jobs/{job_id}"))
    assert "Finished" not in page
    assert "Retrying" in page


def test_only_the_admin_who_asked_sees_the_test_email_job(client, admin, world):
    job_id = _start_test_email(admin)
    other = client.application.test_client()
    sign_in(other, world.coop_staff)

    assert other.get(f"/jobs/{job_id}").status_code == 404


@pytest.mark.parametrize("thresholds", ["90, ³⁰", "٣٠", "99999999999999999999"])
def test_thresholds_in_other_digits_or_huge_are_refused(admin, db, thresholds):
    response = admin.post(
        "/admin/settings", data={"name": "Renamed Coop", "thresholds": thresholds}
    )

    assert response.status_code == 422
    assert _coop(db).default_reminder_thresholds == [120, 90, 60, 30, 7]
