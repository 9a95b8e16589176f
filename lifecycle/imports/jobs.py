"""An import run as a recorded background job: chunk by chunk, each committed whole.

The import row remembers the last file row a committed chunk covered; a worker killed
mid-chunk loses only that uncommitted chunk, and the retried job starts after the last
committed one, so no row is written twice or lost. Progress is the job record's.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from sqlmodel import Session

from lifecycle import audit
from lifecycle.agreements.advance import advance_agreements
from lifecycle.enums import ImportKind, ImportState
from lifecycle.imports.engine import Context, apply_chunk, first_rows
from lifecycle.imports.reading import read_table
from lifecycle.imports.services import IMPORT, plan_of
from lifecycle.models import District, ImportFile, JobRecord, utcnow
from lifecycle.scan.jobs import district_today, schedule_rescan
from lifecycle.work.runner import JobFailed, Progress, handler

CHUNK_ROWS = 2000


def summary(imp: ImportFile) -> str:
    verb = "Dry run" if imp.dry_run else "Import"
    would = "would be " if imp.dry_run else ""
    return (
        f"{verb} finished: {imp.created} {would}created, {imp.updated} {would}updated, "
        f"{imp.unchanged} unchanged, {imp.rejected} rejected."
    )


@handler(IMPORT, "Import")
def import_job(
    session: Session, record: JobRecord, progress: Progress
) -> dict[str, Any]:
    imp = session.get(ImportFile, int(record.params["import_id"]), with_for_update=True)
    if imp is None:
        raise JobFailed("The import no longer exists.")
    if imp.job_id != record.id or imp.state not in (
        ImportState.QUEUED,
        ImportState.RUNNING,
    ):
        raise JobFailed("This import was started again by a newer run.")
    resumed = imp.state is ImportState.RUNNING
    imp.state = ImportState.RUNNING
    plan = plan_of(imp)
    total, duplicates = first_rows(plan, read_table(imp.content, imp.filename).rows)
    imp.rows_total = total
    if not resumed:
        audit.record(
            session,
            action="dry_run" if imp.dry_run else "import",
            entity_type="import",
            entity_id=imp.id or 0,
            district_id=imp.district_id,
            changes={"kind": plan.kind.value, "key": plan.key, "rows": total},
            summary=imp.filename,
        )
    session.commit()
    ctx = Context.load(session, imp.district_id, plan.kind)
    district = session.get(District, imp.district_id)
    assert district is not None
    today = district_today(district)
    rows = (
        (n, cells)
        for n, cells in read_table(imp.content, imp.filename).rows
        if n > imp.last_row
    )
    done = imp.created + imp.updated + imp.unchanged + imp.rejected
    while chunk := list(islice(rows, CHUNK_ROWS)):
        counts = apply_chunk(
            session,
            import_id=imp.id or 0,
            plan=plan,
            ctx=ctx,
            rows=chunk,
            duplicates=duplicates,
            dry_run=imp.dry_run,
        )
        agreements = plan.kind is not ImportKind.DEVICES and not imp.dry_run
        if agreements and (counts.created or counts.updated):
            advance_agreements(session, district_id=imp.district_id, today=today)
        imp.created += counts.created
        imp.updated += counts.updated
        imp.unchanged += counts.unchanged
        imp.rejected += counts.rejected
        imp.last_row = chunk[-1][0]
        done += len(chunk)
        imp.message = f"{done:,} of {total:,} rows read…"
        session.add(imp)
        session.commit()  # the chunk, its refused rows and the resume point, at once
        progress(min(99, done * 100 // max(total, 1)), imp.message)
    imp.state = ImportState.CHECKED if imp.dry_run else ImportState.FINISHED
    imp.message = summary(imp)
    imp.finished_at = utcnow()
    counts_now = {
        "created": imp.created, "updated": imp.updated,
        "unchanged": imp.unchanged, "rejected": imp.rejected,
    }  # fmt: skip
    audit.record(
        session,
        action="dry_run_done" if imp.dry_run else "import_done",
        entity_type="import",
        entity_id=imp.id or 0,
        district_id=imp.district_id,
        changes=counts_now,
        summary=imp.message,
    )
    if not imp.dry_run and (imp.created or imp.updated):
        schedule_rescan(session, imp.district_id)
    session.add(imp)
    return {"message": imp.message, "import_id": imp.id, "rows": total, **counts_now}
