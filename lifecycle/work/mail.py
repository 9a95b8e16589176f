"""Outgoing e-mail over SMTP (Mailpit in compose, a local SMTP server in tests)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from lifecycle.config import Settings


class MailError(RuntimeError):
    """The mail server did not accept the message."""


def send_mail(
    settings: Settings,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
) -> str:
    """Send one message; returns its Message-ID once the server accepted it."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message_id = make_msgid(domain=settings.mail_from.rpartition("@")[2] or "localhost")
    message["Message-ID"] = message_id
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if settings.mail_dir:
        return _write(Path(settings.mail_dir), message, message_id)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"mail server {settings.smtp_host}:{settings.smtp_port}: {exc}"
        ) from exc
    if refused:
        raise MailError(f"mail server refused: {', '.join(refused)}")
    return message_id


def _write(folder: Path, message: EmailMessage, message_id: str) -> str:
    """Keep the message as an .eml file (named by its Message-ID) instead of sending."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = message_id.strip("<>").replace("@", "_").replace("/", "_")
        (folder / f"{name}.eml").write_bytes(message.as_bytes())
    except OSError as exc:
        raise MailError(f"mail folder {folder}: {exc}") from exc
    return message_id
