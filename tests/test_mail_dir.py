"""Mail kept in a folder instead of sent (the demo without an SMTP server)."""

from __future__ import annotations

import email
from pathlib import Path

import pytest

from lifecycle.config import Settings
from lifecycle.work.mail import MailError, send_mail


def test_with_a_mail_dir_the_message_is_written_not_sent(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    settings = Settings(env="test", mail_dir=str(folder), smtp_port=1)

    message_id = send_mail(
        settings, to=["it@example.org"], subject="Renewal due", text="Decide by Friday."
    )

    (written,) = folder.glob("*.eml")
    parsed = email.message_from_bytes(written.read_bytes())
    assert parsed["Message-ID"] == message_id
    assert parsed["To"] == "it@example.org" and parsed["Subject"] == "Renewal due"


def test_a_mail_dir_that_cannot_be_written_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = Settings(env="test", mail_dir=str(blocker / "mail"))

    with pytest.raises(MailError, match="mail folder"):
        send_mail(settings, to=["it@example.org"], subject="x", text="y")


def test_the_environment_names_the_mail_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIFECYCLE_MAIL_DIR", str(tmp_path))
    assert Settings.from_env().mail_dir == str(tmp_path)
