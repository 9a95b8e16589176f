"""Running the lifecycle scan: on demand (a recorded job), nightly (fan-out) and after edits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from lifecycle.enums import Role
from lifecycle.models import District, JobRecord, User
from lifecycle.notices.reminders import send_due_reminders
from lifecycle.scan.engine import ScanResult, scan_district
from lifecycle.web.errors import Forbidden, NotFound
from lifecycle.work.queue import enqueue_after_commit, enqueue_now, start_job
from lifecycle.work.runner import Progress, handler

SCAN = "scan"
SCAN_TASK = "jobs.tasks.scan_district_job"
RESCAN_DELAY = timedelta(seconds=20)


def district_today(district: District, now: datetime | None = None) -> date:
    """Today's date where the district is (its decide-by dates are local dates)."""
    try:
        zone = ZoneInfo(district.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("America/Chicago")
    return (now or datetime.now(zone)).astimezone(zone).date()


def run_scan(
    session: Session, district_id: int, today: date | None = None
) -> ScanResult:
    district = session.get(District, district_id)
    if district is None:
        raise NotFound(f"No district {district_id}.")
    return scan_district(
        session, district_id=district_id, today=today or district_today(district)
    )


def scan_and_remind(session: Session, district_id: int) -> dict[str, Any]:
    """Scan one district, then send the reminders now due, in the same transaction."""
    district = session.get(District, district_id)
    if district is None:
        raise NotFound(f"No district {district_id}.")
    today = district_today(district)
    result = run_scan(session, district_id, today)
    reminders = send_due_reminders(session, district_id=district_id, today=today)
    return {**result.summary(), **reminders.summary()}


@handler(SCAN, "Lifecycle scan", back=("renewals.index", "Back to renewals"))
def scan_job(session: Session, record: JobRecord, progress: Progress) -> dict[str, Any]:
    """A scan someone started: one district, or every district with progress."""
    if record.district_id is not None:
        ids = [record.district_id]
    else:
        ids = [
            i
            for i in session.exec(select(District.id).order_by(col(District.id))).all()
            if i
        ]
    totals: dict[str, int] = {}
    for done, district_id in enumerate(ids, start=1):
        summary = scan_and_remind(session, district_id)
        # Each district is its own unit of work: progress is kept if a later one fails,
        # and the progress row can be written (SQLite allows one writer at a time).
        session.commit()
        for key, value in summary.items():
            if key != "district_id":
                totals[key] = totals.get(key, 0) + int(value)
        progress(int(done * 100 / len(ids)), f"Scanned {done} of {len(ids)} districts…")
    message = scan_message(totals)
    return {"message": message, "districts": len(ids), **totals}


def scan_message(totals: dict[str, int]) -> str:
    """What a scan changed, in words."""
    said = [
        (totals.get("obligations_written", 0), "obligation created or updated",
         "obligations created or updated"),
        (totals.get("obligations_closed", 0), "obligation closed", "obligations closed"),
        (totals.get("devices_refreshed", 0), "device with a new refresh date",
         "devices with a new refresh date"),
        (totals.get("terms_renewed", 0), "agreement moved into its next term",
         "agreements moved into their next term"),
        (totals.get("terms_lapsed", 0), "agreement lapsed", "agreements lapsed"),
        (totals.get("reminders_sent", 0), "reminder sent", "reminders sent"),
    ]  # fmt: skip
    parts = [f"{n:,} {one if n == 1 else many}" for n, one, many in said if n]
    if not parts:
        return "Scan finished: everything was already up to date."
    return "Scan finished: " + ", ".join(parts) + "."


def start_scan(session: Session, *, user: User, district_id: int | None) -> JobRecord:
    """District IT scans their district; administrators may scan one or all."""
    role = Role(user.role)
    if role is Role.DISTRICT_IT:
        if district_id not in (None, user.district_id):
            raise NotFound()
        district_id = user.district_id
    elif role is not Role.ADMIN:
        raise Forbidden("Only district IT staff and administrators can start a scan.")
    if district_id is not None and session.get(District, district_id) is None:
        raise NotFound("No such district.")
    return start_job(session, kind=SCAN, user_id=user.id, district_id=district_id)


def schedule_rescan(session: Session, district_id: int) -> None:
    """After an inventory edit: one scan shortly after, however many edits come meanwhile."""
    bucket = int(datetime.now(UTC).timestamp() // RESCAN_DELAY.total_seconds())
    enqueue_after_commit(
        session,
        SCAN_TASK,
        district_id,
        job_id=f"rescan-{district_id}-{bucket}",
        unique=True,
        delay=RESCAN_DELAY,
        job_timeout=1800,
    )


def fan_out_nightly(session: Session, today: date | None = None) -> int:
    """One idempotent job per district; ids carry the date so a second tick adds nothing."""
    queued = 0
    for district_id in session.exec(
        select(District.id).order_by(col(District.id))
    ).all():
        if district_id is None:
            continue
        day = (today or datetime.now(UTC).date()).isoformat()
        job = enqueue_now(
            SCAN_TASK,
            district_id,
            job_id=f"scan-{district_id}-{day}",
            unique=True,
            job_timeout=1800,
            result_ttl=2 * 86_400,
        )
        queued += job is not None
    return queued
