"""Starting a lifecycle scan through the API; it answers the job to poll."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for

from lifecycle.api.frame import dump, json_body, operation
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.models import InputModel
from lifecycle.models.jobs import JobRead
from lifecycle.scan.jobs import start_scan
from lifecycle.web.forms import validate


class ScanCreate(InputModel):
    district_id: int | None = None


@operation(
    "/scans",
    "POST",
    summary="Start a lifecycle scan (district IT: own district; admin: any or all)",
    tag="scans",
    request=ScanCreate,
    response=JobRead,
    status=202,
)
def create_scan() -> Response:
    session = get_session()
    data = validate(ScanCreate, json_body(ScanCreate) if request.get_data() else {})
    record = start_scan(session, user=get_user(), district_id=data.district_id)
    session.commit()
    response = jsonify(dump(JobRead, record))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_job_api", job_id=record.id)
    return response
