"""The renewals page: timeline, summary numbers, the obligations list and its actions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, flash, request, url_for
from sqlmodel import col, select
from werkzeug.datastructures import MultiDict

from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import ObligationKind, Role
from lifecycle.models import District, Obligation, School, User
from lifecycle.notices import calendar
from lifecycle.renewals import actions, queries
from lifecycle.scan.jobs import start_scan
from lifecycle.tenancy import get_scoped, scoped
from lifecycle.web import listing
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import refuse_unknown
from lifecycle.web.htmx import is_fragment, redirect_to, render
from lifecycle.web.lists import parse_list, render_list

bp = Blueprint("renewals", __name__, url_prefix="/renewals")

TEMPLATE = "renewals/index.html"
FILTER_LABELS = {f.name: f.label for f in queries.SPEC.filters}
DONE_MESSAGES = {
    "acknowledge": "Acknowledged: no more reminders for this term.",
    "snooze": "Snoozed.",
    "renew": "Renewed: the next term is recorded; its decision appears after the rescan.",
    "cancel": "Cancelled: it ends with its current term.",
    "replace": "Marked as replaced; the device is retired.",
}


@dataclass
class RowView:
    """One table row: the query row, the actions the user may take, an error to show."""

    row: Any
    actions: tuple[str, ...]
    error: str = ""
    notice: str = ""  # what the action just did, announced to screen readers

    @property
    def ob(self) -> Obligation:
        ob: Obligation = self.row[0]
        return ob

    @property
    def subject_url(self) -> str:
        return calendar.subject_url(self.ob.subject_type, self.ob.subject_id)


def _rows(
    user: User, rows: list[Any], today: date, errors: dict[int, str] | None = None
) -> list[RowView]:
    errors = errors or {}
    return [
        RowView(
            row=row,
            actions=actions.available(
                user,
                row[0],
                renewal_type=row.renewal_type,
                current_term=row.current_term,
                decision_term=row.decision_term,
                today=today,
            ),
            error=errors.get(row[0].id, ""),
        )
        for row in rows
    ]


def _rc(user: User, today: date) -> dict[str, Any]:
    """What every row needs besides itself: today, the 30-day mark, the snooze range."""
    return {
        "today": today,
        "soon": today + timedelta(days=30),
        "snooze_min": (today + timedelta(days=1)).isoformat(),
        "snooze_max": (today + actions.MAX_SNOOZE).isoformat(),
        "cross_district": queries.cross_district(user),
    }


def _choices(user: User) -> dict[str, Any]:
    return {
        "kinds": [(k.value, k.value.replace("_", " ").capitalize()) for k in ObligationKind],
        "states": [(s.value, s.value.replace("_", " ").capitalize()) for s in queries.StateChoice],
        "categories": queries.CATEGORY_CHOICES,
        "cross_district": queries.cross_district(user),
        "can_scan": Role(user.role) is Role.DISTRICT_IT,
    }  # fmt: skip


def _list_context(
    user: User, query: listing.ListQuery, today: date, errors: dict[int, str]
) -> dict[str, Any]:
    session = get_session()
    stmt = queries.with_default_state(queries.list_stmt(user), query)
    page = listing.page(
        session, queries.SPEC, stmt, query, row_key=queries.row_key(query)
    )
    return {
        "page": page,
        "rows": _rows(user, page.rows, today, errors),
        "chart": queries.chart(session, user, query, today),
        "metric": query.values.get("metric", queries.Metric.COST).value,
    }


def _render_page(
    *, status: int = 200, row_errors: dict[int, str] | None = None
) -> Response:
    user = get_user()
    session = get_session()
    today = queries.today_of(session, user)
    query, errors = parse_list(queries.SPEC)
    choices = _choices(user)
    return render_list(
        TEMPLATE,
        errors=errors,
        blocks=["results", "count_oob", "summary_oob", "chart_oob"],
        status=status,
        fragment={"bell_oob": True},
        full=lambda: {
            "bell_oob": False,
            "schools": _schools(user),
            "districts": _districts(user) if choices["cross_district"] else [],
            "has_calendar": user.calendar_token_hash is not None,
        },
        query=query,
        labels=FILTER_LABELS,
        rc=_rc(user, today),
        stats=queries.stats(session, user, today),
        **_list_context(user, query, today, row_errors or {}),
        **choices,
    )


def _districts(user: User) -> list[tuple[int, str]]:
    stmt = scoped(select(District.id, District.name), District, user)
    rows = get_session().exec(stmt.order_by(col(District.name))).all()
    return [(int(i), name) for i, name in rows if i is not None]


def _schools(user: User) -> list[tuple[int, str]]:
    stmt = scoped(select(School.id, School.name), School, user)
    rows = get_session().exec(stmt.order_by(col(School.name))).all()
    return [(int(i), name) for i, name in rows if i is not None]


@bp.get("")
def index() -> Response:
    return _render_page()


# --- actions on one obligation ----------------------------------------------------------


def _page_query() -> listing.ListQuery:
    """The filters of the page the action came from (htmx sends its URL)."""
    current = request.headers.get("HX-Current-URL", "")
    args = {k: v[0] for k, v in parse_qs(urlsplit(current).query).items() if v}
    query, errors = parse_list(queries.SPEC, MultiDict(args))
    return listing.ListQuery() if errors else query


def _row_response(
    user: User,
    obligation_id: int,
    *,
    status: int = 200,
    error: str = "",
    notice: str = "",
) -> Response:
    """The row again (plus the numbers, the chart, the count and the bell, out of band)."""
    session = get_session()
    today = queries.today_of(session, user)
    row = queries.one_row(session, user, obligation_id)
    query = _page_query()
    context: dict[str, Any] = {
        "r": dataclasses.replace(
            _rows(user, [row], today, {obligation_id: error})[0], notice=notice
        ),
        "rc": _rc(user, today),
        "query": query,
        "labels": FILTER_LABELS,
        "bell_oob": True,
        **_choices(user),
    }
    blocks = ["row"]
    if status == 200:
        stmt = queries.with_default_state(queries.list_stmt(user), query)
        context["page"] = listing.Page(
            rows=[],
            next_cursor=None,
            total=listing.count(session, listing.filtered(queries.SPEC, stmt, query)),
            sort="",
            descending=False,
        )
        context["stats"] = queries.stats(session, user, today)
        context["chart"] = queries.chart(session, user, query, today)
        context["metric"] = query.values.get("metric", queries.Metric.COST).value
        blocks += ["stats_oob", "count_oob", "chart_oob", "bell_oob"]
    return render(TEMPLATE, blocks, status=status, **context)


def _act(obligation_id: int, action: str) -> Response:
    user = get_user()
    session = get_session()
    obligation = get_scoped(session, Obligation, obligation_id, user)
    # A blank field is "not given" (keep the current seats, price or cost).
    values = {
        k: v.strip()
        for k, v in request.form.items()
        if k != "csrf_token" and v.strip() != ""
    }
    model = actions.INPUTS.get(action)
    try:
        refuse_unknown(request.form.keys(), model.model_fields if model else ())
        actions.run(
            session, user=user, obligation=obligation, action=action, values=values
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        message = " ".join([exc.message, *(f"{k}: {v}" for k, v in exc.fields.items())])
        if is_fragment():
            return _row_response(user, obligation_id, status=exc.status, error=message)
        flash(message, "error")
        return _render_page(status=exc.status, row_errors={obligation_id: message})
    session.commit()
    if is_fragment():
        return _row_response(user, obligation_id, notice=DONE_MESSAGES[action])
    flash(DONE_MESSAGES[action], "success")
    return redirect_to(url_for("renewals.index"))


@bp.post("/<int:obligation_id>/acknowledge")
def acknowledge(obligation_id: int) -> Response:
    return _act(obligation_id, "acknowledge")


@bp.post("/<int:obligation_id>/snooze")
def snooze(obligation_id: int) -> Response:
    return _act(obligation_id, "snooze")


@bp.post("/<int:obligation_id>/renew")
def renew(obligation_id: int) -> Response:
    return _act(obligation_id, "renew")


@bp.post("/<int:obligation_id>/cancel")
def cancel(obligation_id: int) -> Response:
    return _act(obligation_id, "cancel")


@bp.post("/<int:obligation_id>/replace")
def replace(obligation_id: int) -> Response:
    return _act(obligation_id, "replace")


@bp.post("/scan")
def scan() -> Response:
    """Run the lifecycle scan of the user's district now; watch it on the job page."""
    user = get_user()
    session = get_session()
    record = start_scan(session, user=user, district_id=user.district_id)
    session.commit()
    return redirect_to(url_for("home.job", job_id=record.id))


# --- the personal calendar feed ------------------------------------------------------------


@bp.get("/calendar")
def calendar_page() -> Response:
    user = get_user()
    return render(
        "notices/calendar.html",
        has_calendar=user.calendar_token_hash is not None,
        feed_url=None,
    )


@bp.post("/calendar")
def calendar_create() -> Response:
    """Create (or replace) the secret feed URL and show it, this once."""
    user = get_user()
    session = get_session()
    secret = calendar.create_token(session, user=user)
    session.commit()
    url = url_for("notifications.calendar_feed", token=secret, _external=True)
    response = render("notices/calendar.html", has_calendar=True, feed_url=url)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/calendar/revoke")
def calendar_revoke() -> Response:
    user = get_user()
    session = get_session()
    revoked = calendar.revoke_token(session, user=user)
    session.commit()
    flash(
        "Your calendar feed is turned off; the old address no longer works."
        if revoked
        else "You had no calendar feed.",
        "success",
    )
    return redirect_to(url_for("renewals.calendar_page"))
