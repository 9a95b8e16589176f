"""Functions RQ runs, by dotted name. Arguments are ids and plain values, never ORM objects."""

from __future__ import annotations

from typing import Any

from lifecycle.background import requeue_stalled
from lifecycle.db import get_db
from lifecycle.jobrunner import run_record

from . import get_app


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


def scan_district_job(district_id: int) -> dict[str, Any]:
    """Scan one district (nightly fan-out, or shortly after an inventory edit)."""
    from lifecycle.renewals.jobs import run_scan

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="lifecycle scan") as session:
        return run_scan(session, district_id).summary()


def nightly_scans() -> int:
    """Periodic: enqueue one scan per district for today (unique ids; safe to tick twice)."""
    from lifecycle.renewals.jobs import fan_out_nightly

    app = get_app()
    with app.app_context(), get_db(app).scope(actor_label="scheduler") as session:
        return fan_out_nightly(session)
