"""Background jobs started from the admin pages."""

from __future__ import annotations

from typing import Any

from rq import Retry
from sqlmodel import Session

from lifecycle import get_settings
from lifecycle.models import JobRecord, User
from lifecycle.work.mail import send_mail
from lifecycle.work.queue import start_job
from lifecycle.work.runner import JobFailed, Progress, handler

TEST_EMAIL = "test_email"


@handler(TEST_EMAIL, "Test e-mail")
def send_test_email(
    session: Session, record: JobRecord, progress: Progress
) -> dict[str, Any]:
    """Prove the SMTP settings work by mailing the admin who asked."""
    user = session.get(User, record.user_id) if record.user_id else None
    if user is None:
        raise JobFailed("The user who asked for the test e-mail no longer exists.")
    settings = get_settings()
    progress(30, f"Connecting to {settings.smtp_host}:{settings.smtp_port}…")
    message_id = send_mail(
        settings,
        to=[user.email],
        subject="Lifecycle test e-mail",
        text=(
            f"Hello {user.name},\n\nThis is a test message from Lifecycle. "
            "If you can read it, reminder e-mails will reach your users.\n"
        ),
    )
    return {
        "message": f"Sent to {user.email}.",
        "recipient": user.email,
        "message_id": message_id,
    }


def start_test_email(session: Session, *, user: User) -> JobRecord:
    # Mail servers have bad minutes: retry with backoff before giving up.
    return start_job(
        session,
        kind=TEST_EMAIL,
        user_id=user.id,
        district_id=None,
        queue="mail",
        retry=Retry(max=3, interval=[10, 60, 300]),
        job_timeout=120,
    )
