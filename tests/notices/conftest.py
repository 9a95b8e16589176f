"""Helpers of the reminder, notification, mail and fault tests: a local SMTP server, scans."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import event
from sqlmodel import Session, col, select

from lifecycle.db import get_db
from lifecycle.models import Notification, OutboxEmail, Reminder
from lifecycle.notices.reminders import ReminderRun, send_due_reminders
from lifecycle.scan.jobs import run_scan
from tests.conftest import build_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """A local SMTP server (aiosmtpd) that keeps what it receives; start/stop at will."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = free_port()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> Inbox:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def texts(self) -> list[str]:
        return [readable(m) for m in self.messages]


def readable(envelope: Any) -> str:
    """A received message as text: its Subject line, then the decoded plain-text body."""
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    content = body.get_content() if body is not None else ""
    return f"Subject: {message['Subject']}\n\n{content}"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """An SMTP server on a free port, not yet started (start it, or test it being down)."""
    box = Inbox()
    yield box
    box.stop()


MAIL_BASE_URL = "https://lifecycle.example.org"


@pytest.fixture
def mail_app(
    database_url: str, redis_url: str | None, tmp_path: Path, inbox: Inbox
) -> Iterator[Flask]:
    """An app that mails through `inbox` (started or not); a module opts in with
    `app = mail_app` as its own `app` fixture."""
    app = build_app(
        database_url,
        redis_url,
        tmp_path,
        settings={"smtp_port": inbox.port, "base_url": MAIL_BASE_URL},
    )
    with app.app_context():
        yield app
    get_db(app).dispose()


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def scan_and_remind(db: Session, district_id: int, today: date) -> ReminderRun:
    """The real scan of one district, then its reminders, committed as one transaction."""
    run_scan(db, district_id, today)
    run = send_due_reminders(db, district_id=district_id, today=today)
    db.commit()
    return run


def reminder_rows(db: Session) -> list[tuple[int, int, int]]:
    db.expire_all()
    rows = db.exec(
        select(
            Reminder.obligation_id, Reminder.term_number, Reminder.threshold_days
        ).order_by(col(Reminder.id))
    ).all()
    return [(int(a), int(b), int(c)) for a, b, c in rows]


def notifications_of(db: Session, user_id: int | None) -> list[Notification]:
    db.expire_all()
    return list(
        db.exec(
            select(Notification)
            .where(col(Notification.user_id) == user_id)
            .order_by(col(Notification.id))
        ).all()
    )


def outbox(db: Session) -> list[OutboxEmail]:
    db.expire_all()
    return list(db.exec(select(OutboxEmail).order_by(col(OutboxEmail.id))).all())
