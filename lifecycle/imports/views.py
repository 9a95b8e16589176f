"""Import pages for district IT: upload, mapping and preview, dry run, run with a
progress bar, the error file, the district's history."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, request, url_for

from lifecycle.auth import get_user, require_roles
from lifecycle.bounds import parse_int
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, DeviceStatus, ImportKind
from lifecycle.imports import services
from lifecycle.imports.fields import FIELDS, KEY_LABELS, KEYS
from lifecycle.models import ImportFile, JobRecord
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.htmx import STOP_POLLING, is_fragment, redirect_to, render

bp = Blueprint("imports", __name__, url_prefix="/import")
it_only = require_roles(*services.IMPORT_ROLES)
KIND_OPTIONS = [(k.value, k.label) for k in ImportKind]


def _mine(import_id: int) -> ImportFile:
    user = get_user()
    writable_district(user)
    return services.get_import(get_session(), user=user, import_id=import_id)


@bp.get("")
@it_only
def index(errors: dict[str, str] | None = None, status: int = 200) -> Response:
    district_id = writable_district(get_user())
    rows = services.history(get_session(), district_id=district_id)
    return render(
        "imports/index.html",
        status=status,
        rows=rows,
        kinds=KIND_OPTIONS,
        keys=KEYS,
        key_labels=KEY_LABELS,
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        max_mb=services.MAX_BYTES // (1024 * 1024),
    )


@bp.post("")
@it_only
def upload() -> Response:
    user = get_user()
    district_id = writable_district(user)
    request.max_content_length = services.MAX_BYTES + 1024 * 1024
    upload = request.files.get("file")
    kind = request.form.get("kind", "")
    key = request.form.get("key") or None
    if key and kind in KEYS and key not in KEYS[ImportKind(kind)]:
        key = None  # a key of another kind: the kind's default
    try:
        imp = services.create_import(
            get_session(),
            district_id=district_id,
            user_id=user.id,
            filename=upload.filename or "" if upload else "",
            data=upload.read() if upload else b"",
            kind=kind,
            key=key,
        )
    except ValidationFailed as exc:
        return index(errors=exc.fields or {}, status=422)
    get_session().commit()
    return redirect_to(url_for("imports.detail", import_id=imp.id))


def _detail(
    imp: ImportFile, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    session = get_session()
    job = session.get(JobRecord, imp.job_id) if imp.job_id else None
    rows = services.preview(session, imp=imp)
    kind = ImportKind(imp.kind)
    return render(
        "imports/detail.html",
        "import_page",
        status=status,
        imp=imp,
        job=job,
        fields=FIELDS[kind],
        keys=[(k, KEY_LABELS[k]) for k in KEYS[kind]],
        columns=list(enumerate(imp.headers)),
        preview=rows,
        # the mapped fields, and those the import derives (an AUE from the model)
        shown=[
            f
            for f in FIELDS[kind]
            if f.name in imp.mapping or any(f.name in (r.values or {}) for r in rows)
        ],
        categories=[(c.value, c.label) for c in DeviceCategory],
        statuses=[(s.value, s.label) for s in DeviceStatus],
        errors=errors or {},
    )


@bp.get("/<int:import_id>")
@it_only
def detail(import_id: int) -> Response:
    return _detail(_mine(import_id))


def _version() -> int | None:
    raw = request.form.get("version", "")
    try:
        return parse_int(raw) if raw else None
    except ValueError as exc:
        raise ValidationFailed({"version": str(exc)}) from exc


@bp.post("/<int:import_id>/mapping")
@it_only
def mapping(import_id: int) -> Response:
    imp = _mine(import_id)
    kind = ImportKind(imp.kind)
    chosen: dict[str, int] = {}
    errors: dict[str, str] = {}
    for fld in FIELDS[kind]:
        raw = request.form.get(f"map_{fld.name}", "")
        if raw:
            try:
                chosen[fld.name] = parse_int(raw, low=0, high=len(imp.headers) - 1)
            except ValueError:
                errors[fld.name] = "names a column the file does not have"
    defaults = {
        name: request.form.get(f"default_{name}", "")
        for name in services.DEFAULTABLE.get(kind, ())
    }
    if errors:
        return _detail(imp, errors=errors, status=422)
    try:
        services.set_mapping(
            get_session(),
            imp=imp,
            mapping=chosen,
            key=request.form.get("key", imp.key),
            defaults=defaults,
            version=_version(),
        )
    except ValidationFailed as exc:
        get_session().rollback()
        return _detail(_mine(import_id), errors=exc.fields or {}, status=422)
    get_session().commit()
    return _detail(imp)


@bp.post("/<int:import_id>/run")
@it_only
def run(import_id: int) -> Response:
    imp = _mine(import_id)
    dry_run = request.form.get("dry_run") == "1"
    try:
        services.start_run(
            get_session(),
            imp=imp,
            user_id=get_user().id,
            dry_run=dry_run,
            version=_version(),
        )
    except ValidationFailed as exc:
        get_session().rollback()
        return _detail(_mine(import_id), errors=exc.fields or {}, status=422)
    get_session().commit()
    return redirect_to(url_for("imports.detail", import_id=imp.id))


@bp.get("/<int:import_id>/status")
@it_only
def status(import_id: int) -> Response:
    """The run's progress, polled as a fragment until it is done (then 286)."""
    imp = _mine(import_id)
    session = get_session()
    job = session.get(JobRecord, imp.job_id) if imp.job_id else None
    done = not imp.state.busy
    code = STOP_POLLING if done and is_fragment() else 200
    return render(
        "imports/detail.html", "run_status", status=code, imp=imp, job=job, done=done
    )


@bp.get("/<int:import_id>/errors.csv")
@it_only
def errors_file(import_id: int) -> Response:
    imp = _mine(import_id)
    body = services.error_file(get_session(), imp=imp)
    response = make_response(body)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    stem = imp.filename.rsplit(".", 1)[0] or "import"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe}-errors.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
