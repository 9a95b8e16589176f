"""Imports through the API: upload a file (multipart) and it runs as a job; poll it."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request, url_for
from sqlmodel import Field, SQLModel

from lifecycle.api.frame import dump, operation
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import ImportKind, ImportState
from lifecycle.imports import services
from lifecycle.models import ImportFile, InputModel, JobRecord
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.forms import refuse_unknown


class ImportUpload(InputModel):
    """The form of an upload: the file, what it holds, the key; a dry run writes nothing."""

    file: str = Field(
        schema_extra={"json_schema_extra": {"format": "binary"}},
        description="a CSV (any delimiter, UTF-8 or Latin-1) or an XLSX workbook",
    )
    kind: ImportKind
    key: str | None = Field(
        default=None,
        description="devices: asset_tag (default) or serial; licenses: product or "
        "product_start; contracts: name or name_start",
    )
    dry_run: bool = False


class ImportRead(SQLModel):
    id: int
    district_id: int
    kind: ImportKind
    key: str
    filename: str
    state: ImportState
    dry_run: bool
    progress: int = Field(ge=0, le=100)
    rows_total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    message: str
    job_id: int | None
    mapping: dict[str, int]
    error_file_url: str | None
    version: int
    created_at: datetime
    finished_at: datetime | None


def _read(imp: ImportFile) -> dict[str, object]:
    job = get_session().get(JobRecord, imp.job_id) if imp.job_id else None
    done = not imp.state.busy
    progress = 100 if done and imp.job_id else (job.progress if job else 0)
    errors = (
        url_for("imports.errors_file", import_id=imp.id)
        if imp.rejected and done
        else None
    )
    return dump(
        ImportRead,
        {
            **{k: getattr(imp, k) for k in ImportRead.model_fields if hasattr(imp, k)},
            "progress": progress,
            "error_file_url": errors,
        },
    )


@operation(
    "/imports",
    "POST",
    summary="Upload a file of devices, licenses or contracts; it runs as a job (district IT)",
    tag="imports",
    request=ImportUpload,
    response=ImportRead,
    status=202,
    content="multipart/form-data",
)
def create_import_api() -> Response:
    user = get_user()
    district_id = writable_district(user)
    request.max_content_length = services.MAX_BYTES + 1024 * 1024
    refuse_unknown(
        [*request.form.keys(), *request.files.keys()], ImportUpload.model_fields
    )
    upload = request.files.get("file")
    dry = request.form.get("dry_run", "false").strip().lower()
    if dry not in ("", "true", "false", "1", "0"):
        raise ValidationFailed({"dry_run": "must be true or false"})
    session = get_session()
    imp = services.create_import(
        session,
        district_id=district_id,
        user_id=user.id,
        filename=(upload.filename or "") if upload else "",
        data=upload.read() if upload else b"",
        kind=request.form.get("kind", ""),
        key=request.form.get("key") or None,
    )
    services.start_run(session, imp=imp, user_id=user.id, dry_run=dry in ("true", "1"))
    session.commit()
    response = jsonify(_read(imp))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import_api", import_id=imp.id)
    return response


@operation(
    "/imports/<int:import_id>",
    "GET",
    summary="An import: state, progress, counts and the error file's URL (district IT)",
    tag="imports",
    response=ImportRead,
)
def get_import_api(import_id: int) -> Response:
    user = get_user()
    writable_district(user)
    imp = services.get_import(get_session(), user=user, import_id=import_id)
    return jsonify(_read(imp))
