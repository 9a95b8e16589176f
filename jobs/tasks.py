"""Functions RQ runs, by dotted name. Arguments are ids and plain values, never ORM objects."""

from __future__ import annotations

from typing import Any

from jobs import get_app
from lifecycle.db import get_db
from lifecycle.work.queue import requeue_stalled
from lifecycle.work.runner import run_record


def run_job_record(record_id: int) -> dict[str, Any] | None:
    """Run a user-visible job recorded in job_records."""
    app = get_app()
    with app.app_context():
        return run_record(get_db(app), record_id)


def requeue_lost_jobs() -> int:
    """Periodic: put back job records whose RQ job vanished (e.g. Redis was down)."""
    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return requeue_stalled(session)


def forget_ended_sign_ins() -> int:
    """Periodic: delete sign-ins past their lifetime (they are refused already)."""
    from lifecycle.auth import forget_ended_sign_ins as forget

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return forget(session)


def scan_district_job(district_id: int) -> dict[str, Any]:
    """Scan one district (nightly, or shortly after an inventory edit), then remind."""
    from lifecycle.scan.jobs import scan_and_remind

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="lifecycle scan") as session:
        return scan_and_remind(session, district_id)


def nightly_scans() -> int:
    """Periodic: enqueue one scan per district for today (unique ids; safe to tick twice)."""
    from lifecycle.scan.jobs import fan_out_nightly

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return fan_out_nightly(session)


def send_outbox_email(outbox_id: int) -> dict[str, Any]:
    """Send one outbox e-mail unless it was sent (queue "mail", retried)."""
    from lifecycle import get_settings
    from lifecycle.notices.mailing import send_outbox

    app = get_app()
    with app.app_context():
        return send_outbox(get_db(app), get_settings(app), outbox_id)


def requeue_unsent_mail() -> int:
    """Periodic: re-enqueue unsent outbox e-mails whose send job Redis lost."""
    from lifecycle.notices.mailing import requeue_unsent

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return requeue_unsent(session)


def weekly_digest() -> int:
    """Periodic (Mondays): one digest e-mail per person who wants it, once a week."""
    from datetime import UTC, datetime

    from lifecycle import get_settings
    from lifecycle.notices.digest import write_weekly_digest

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="weekly digest") as session:
        today = datetime.now(UTC).date()
        ids = write_weekly_digest(session, today=today, settings=get_settings(app))
        return len(ids)


def close_round_job(round_id: int) -> dict[str, Any]:
    """At a round's close time: fix its final tiers and tell the districts (idempotent)."""
    from lifecycle.rounds.jobs import close_due

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="round close") as session:
        return close_due(session, round_id)


def close_due_rounds() -> int:
    """Periodic: enqueue the close of open rounds past their close time."""
    from lifecycle.rounds.jobs import sweep_due_closes

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return sweep_due_closes(session)
