"""Member districts for cooperative staff: the list, and each district at a glance with
links to its read-only pages and its budget."""

from __future__ import annotations

import calendar
from datetime import date

from flask import Blueprint, Response

from lifecycle.auth import get_user, require_roles
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.org.districts import services
from lifecycle.web.htmx import render
from lifecycle.web.lists import load_list, render_list

bp = Blueprint("districts", __name__, url_prefix="/districts")
cooperative = require_roles(Role.COOP_STAFF, Role.ADMIN)


@bp.get("")
@cooperative
def index() -> Response:
    today = date.today()  # noqa: DTZ011 - cooperative-wide: the server's calendar day
    query, page, errors = load_list(
        services.MEMBER_SPEC, services.member_list_stmt(today)
    )
    return render_list(
        "org/districts/list.html",
        errors=errors,
        page=page,
        query=query,
        labels={"state": "State"},
        soon_days=services.SOON_DAYS,
        full=lambda: {"states": services.member_states(get_session())},
    )


@bp.get("/<int:district_id>")
@cooperative
def detail(district_id: int) -> Response:
    found = services.overview(get_session(), get_user(), district_id)
    return render(
        "org/districts/detail.html",
        o=found,
        soon_days=services.SOON_DAYS,
        fy_month=calendar.month_name[found.district.fy_start_month],
    )
