"""Import services: upload, mapping, preview, a run as a background job, the error file.

Keyword-only, session first, never commit. Who may do what is decided by the callers
(the pages and the API through tenancy.writable_district; the command line names its
district), so these take the district and the acting user's id.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rq import Retry
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.enums import ImportKind, ImportState, Role
from lifecycle.imports.engine import Context, resolve
from lifecycle.imports.fields import (
    FIELDS,
    KEYS,
    check_mapping,
    guess_mapping,
    looks_like_google_admin,
)
from lifecycle.imports.reading import Cell, UnreadableFile, read_table
from lifecycle.imports.rows import PARSERS, Plan, Prepared, Rejected, prepare
from lifecycle.imports.values import name_key
from lifecycle.models import District, ImportFile, ImportRejection, JobRecord, User
from lifecycle.spreadsheet import csv_cell
from lifecycle.tenancy import district_filter
from lifecycle.web.errors import Conflict, NotFound, ValidationFailed
from lifecycle.work.queue import start_job

IMPORT = "import"
# Only district IT changes a district's inventory (tenancy.writable_district).
IMPORT_ROLES = (Role.DISTRICT_IT,)
MAX_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 10
# Defaults a person may give for a field the file lacks.
DEFAULTABLE = {ImportKind.DEVICES: ("category", "status")}


def plan_of(imp: ImportFile) -> Plan:
    return Plan(
        kind=ImportKind(imp.kind),
        key=imp.key,
        mapping=dict(imp.mapping),
        headers=list(imp.headers),
        defaults=dict(imp.defaults),
    )


def get_import(session: Session, *, user: User, import_id: int) -> ImportFile:
    """An import of the user's district (any district for cooperative readers), or 404."""
    imp = session.get(ImportFile, import_id)
    district = district_filter(user)
    if imp is None or (district is not None and imp.district_id != district):
        raise NotFound()
    return imp


def history(session: Session, *, district_id: int, limit: int = 50) -> list[ImportFile]:
    stmt = (
        select(ImportFile)
        .where(col(ImportFile.district_id) == district_id)
        .order_by(col(ImportFile.id).desc())
        .limit(limit)
        .options(sa.orm.defer(ImportFile.content))  # type: ignore[arg-type]
    )
    return list(session.exec(stmt).all())


def create_import(
    session: Session,
    *,
    district_id: int,
    user_id: int | None,
    filename: str,
    data: bytes,
    kind: str,
    key: str | None = None,
) -> ImportFile:
    """Store an uploaded file with the mapping its headers suggest (a draft)."""
    problems: dict[str, str] = {}
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        import_kind = None
        problems["kind"] = "must be one of: " + ", ".join(k.value for k in ImportKind)
    if not data:
        problems["file"] = "choose a CSV or XLSX file"
    elif len(data) > MAX_BYTES:
        problems["file"] = f"must be at most {MAX_BYTES // (1024 * 1024)} MB"
    if problems or import_kind is None:
        raise ValidationFailed(problems)
    if session.get(District, district_id) is None:
        raise NotFound("No such district.")
    try:
        table = read_table(data, filename)
    except UnreadableFile as exc:
        raise ValidationFailed({"file": str(exc)}) from exc
    chosen = key or next(iter(KEYS[import_kind]))
    if chosen not in KEYS[import_kind]:
        raise ValidationFailed(
            {"key": "must be one of: " + ", ".join(KEYS[import_kind])}
        )
    defaults: dict[str, str] = {}
    if import_kind is ImportKind.DEVICES and looks_like_google_admin(table.headers):
        defaults["category"] = "chromebook"
    imp = ImportFile(
        district_id=district_id,
        user_id=user_id,
        kind=import_kind,
        key=chosen,
        filename=(filename or "upload.csv")[-255:],
        size=len(data),
        content=data,
        headers=table.headers,
        mapping=guess_mapping(import_kind, table.headers),
        defaults=defaults,
        warnings=table.warnings,
    )
    session.add(imp)
    session.flush()
    assert imp.id is not None
    audit.record(
        session,
        action="upload",
        entity_type="import",
        entity_id=imp.id,
        district_id=district_id,
        changes={
            "filename": imp.filename,
            "kind": import_kind.value,
            "size": len(data),
        },
        summary=imp.filename,
    )
    return imp


def _claim(session: Session, imp: ImportFile, version: int | None) -> None:
    if imp.state.busy:
        raise Conflict("The import is running; wait for it to finish.")
    if version is not None and version != imp.version:
        raise Conflict("Someone changed this import meanwhile; reload it.")


def set_mapping(
    session: Session,
    *,
    imp: ImportFile,
    mapping: dict[str, int],
    key: str,
    defaults: dict[str, str],
    version: int | None,
) -> ImportFile:
    """Change how the file is read; a draft or a dry-run import only."""
    _claim(session, imp, version)
    if imp.state is ImportState.FINISHED:
        raise Conflict("This file was imported; upload it again to import it anew.")
    kind = ImportKind(imp.kind)
    problems = check_mapping(kind, mapping, len(imp.headers), key)
    allowed = DEFAULTABLE.get(kind, ())
    for name, value in defaults.items():
        if name not in allowed:
            problems[f"default_{name}"] = "cannot have a default"
        elif value:
            try:
                PARSERS[name](value)
            except ValueError as exc:
                problems[f"default_{name}"] = str(exc)
    if problems:
        raise ValidationFailed(problems)
    imp.mapping, imp.key = dict(mapping), key
    imp.defaults = {k: v for k, v in defaults.items() if v}
    imp.state = ImportState.DRAFT
    imp.version += 1
    session.add(imp)
    session.flush()
    return imp


@dataclass
class PreviewRow:
    number: int
    cells: list[Cell]
    values: dict[str, Any] | None
    problem: Rejected | None


def preview(
    session: Session, *, imp: ImportFile, rows: int = PREVIEW_ROWS
) -> list[PreviewRow]:
    """The first rows as they will be stored (names resolved), or what is wrong."""
    plan = plan_of(imp)
    ctx = Context.load(session, imp.district_id, plan.kind)
    table = read_table(imp.content, imp.filename)
    out: list[PreviewRow] = []
    for number, cells in table.rows:
        result = prepare(plan, number, cells)
        if isinstance(result, Prepared):
            problem = resolve(plan, ctx, result)
            if problem:
                column = plan.column("vendor" if "vendor" in problem else "school")
                result = Rejected(number, column, problem)
        if isinstance(result, Rejected):
            out.append(PreviewRow(number, cells, None, result))
            continue
        shown = dict(result.values)
        matched = [n for n in result.school if name_key(n) in ctx.schools]
        if matched:
            shown["school"] = matched[0]
        if result.vendor:
            shown["vendor"] = result.vendor
        out.append(PreviewRow(number, cells, shown, None))
        if len(out) >= rows:
            break
    return out


def start_run(
    session: Session,
    *,
    imp: ImportFile,
    user_id: int | None,
    dry_run: bool,
    version: int | None = None,
    enqueue: bool = True,
) -> JobRecord:
    """Queue a run of the whole file (a dry run writes nothing but the refused rows)."""
    _claim(session, imp, version)
    if imp.state is ImportState.FINISHED:
        raise Conflict("This file was imported already.")
    problems = check_mapping(
        ImportKind(imp.kind), imp.mapping, len(imp.headers), imp.key
    )
    if problems:
        raise ValidationFailed(problems, "Fix the mapping first.")
    session.execute(
        sa.delete(ImportRejection).where(col(ImportRejection.import_id) == imp.id)
    )
    imp.state, imp.dry_run = ImportState.QUEUED, dry_run
    imp.created = imp.updated = imp.unchanged = imp.rejected = 0
    imp.last_row, imp.rows_total, imp.message = 0, 0, "Waiting for a worker…"
    imp.finished_at = None
    imp.version += 1
    params = {"import_id": imp.id, "dry_run": dry_run}
    if enqueue:
        record = start_job(
            session,
            kind=IMPORT,
            user_id=user_id,
            district_id=imp.district_id,
            params=params,
            retry=Retry(max=3, interval=[5, 30, 120]),
            job_timeout=4 * 3600,
        )
    else:  # the command line runs it in its own process
        record = JobRecord(
            kind=IMPORT, user_id=user_id, district_id=imp.district_id, params=params
        )
        session.add(record)
        session.flush()
    imp.job_id = record.id
    session.add(imp)
    session.flush()
    return record


def error_file(session: Session, *, imp: ImportFile) -> bytes:
    """The refused rows as they were, with an `error` column: fix them, upload again."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([csv_cell(h) for h in [*imp.headers, "error"]])
    rows = session.exec(
        select(ImportRejection)
        .where(col(ImportRejection.import_id) == imp.id)
        .order_by(col(ImportRejection.row_number))
    )
    for row in rows:
        cells = list(row.cells) + [None] * (len(imp.headers) - len(row.cells))
        error = f"row {row.row_number}, {row.column}: {row.message}"
        writer.writerow([csv_cell("" if c is None else c) for c in [*cells, error]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def field_choices(kind: ImportKind) -> list[tuple[str, str]]:
    return [(f.name, f.label) for f in FIELDS[kind]]
