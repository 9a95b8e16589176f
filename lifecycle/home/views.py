"""Home page per role, job progress, and the health check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lifecycle.auth import get_user, public
from lifecycle.budget.summary import budget_summary
from lifecycle.db import get_session
from lifecycle.enums import JobState, Role
from lifecycle.home import services
from lifecycle.rounds.notify import local_time
from lifecycle.web.htmx import STOP_POLLING, is_fragment, render
from lifecycle.work.queue import redis_ok
from lifecycle.work.runner import BACK, LABELS

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    user = get_user()
    session = get_session()
    role = Role(user.role)
    context: dict[str, Any] = {"user": user}
    if role.is_district:
        context["counts"] = services.district_counts(session, user=user)
        if role is Role.DISTRICT_FINANCE:
            context["budget"] = budget_summary(session, user)
    else:
        context["members"] = services.member_districts(session, user=user)
        today = datetime.now(UTC).date()  # cooperative-wide: the server's day, as UTC
        context["coop"] = services.coop_figures(session, today)
        context["closes"] = {
            r.id: local_time(r.closes_at, "America/Chicago")
            for r in context["coop"].open_rounds
        }
    return render("home/index.html", role=role, **context)


@bp.get("/jobs/<int:job_id>")
def job(job_id: int) -> Response:
    """A job's progress page; polled as a fragment until the job is done (then 286)."""
    record = services.get_job(get_session(), job_id=job_id, user=get_user())
    done = JobState(record.state).done
    status = STOP_POLLING if done and is_fragment() else 200
    return render(
        "home/job.html",
        "job_status",
        status=status,
        job=record,
        done=done,
        labels=LABELS,
        back=BACK.get(record.kind),
    )


@bp.get("/healthz")
@public
def healthz() -> Response:
    """Database and Redis reachability, for load balancers and compose health checks."""
    try:
        get_session().execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "down"
    redis_state = "ok" if redis_ok() else "down"
    status = "ok" if database == "ok" and redis_state == "ok" else "degraded"
    response = jsonify({"status": status, "database": database, "redis": redis_state})
    response.status_code = 200 if database == "ok" else 503
    return response
