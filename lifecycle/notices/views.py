"""The reminder bell (the notifications page, marking read, delivery preferences) and
the personal calendar feed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, request, url_for

from lifecycle.auth import get_user, public
from lifecycle.db import get_session
from lifecycle.models import utcnow
from lifecycle.notices import calendar, notify
from lifecycle.web.htmx import is_fragment, redirect_to, render
from lifecycle.web.paging import parse_limit

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 25


def _list_context(*, unread_only: bool) -> dict[str, Any]:
    user = get_user()
    page = notify.list_page(
        get_session(),
        user,
        limit=parse_limit(request.args.get("limit"), PAGE_SIZE),
        cursor=request.args.get("cursor"),
        unread_only=unread_only,
    )
    return {
        "page": page,
        "unread_only": unread_only,
        "cursor": request.args.get("cursor"),
        "user": user,
    }


@bp.get("/notifications")
def index() -> Response:
    unread_only = request.args.get("show") == "unread"
    return render(
        "notices/index.html",
        block="list",
        title="Notifications",
        **_list_context(unread_only=unread_only),
    )


@bp.post("/notifications/<int:notification_id>/read")
def read(notification_id: int) -> Response:
    session = get_session()
    notification = notify.mark_read(session, get_user(), notification_id)
    session.commit()
    if is_fragment():
        return render("notices/read.html", n=notification, bell_oob=True)
    return redirect_to(_back())


@bp.post("/notifications/read-all")
def read_all() -> Response:
    session = get_session()
    marked = notify.mark_all_read(session, get_user())
    session.commit()
    if is_fragment():
        return render(
            "notices/index.html",
            block=["list", "bell_oob"],
            bell_oob=True,
            **_list_context(unread_only=False),
        )
    flash(
        f"Marked {marked} notification{'' if marked == 1 else 's'} as read."
        if marked
        else "Nothing was unread.",
        "success",
    )
    return redirect_to(_back())


@bp.route("/notifications/preferences", methods=["GET", "POST"])
def preferences() -> Response:
    user = get_user()
    if request.method == "POST":
        session = get_session()
        user.notify_email = request.form.get("notify_email") == "1"
        user.weekly_digest = request.form.get("weekly_digest") == "1"
        session.commit()  # the audit trail records the change (User is audited)
        flash("Saved your notification preferences.", "success")
        return redirect_to(url_for("notifications.preferences"))
    return render(
        "notices/preferences.html", title="Notification preferences", user=user
    )


def _back() -> str:
    """Back to the notifications list the form came from (only our own path)."""
    target = request.form.get("next", "")
    if target.startswith("/notifications") and "//" not in target:
        return target
    return url_for("notifications.index")


@bp.get("/calendar/<token>.ics")
@public
def calendar_feed(token: str) -> Response:
    """The feed itself: no session needed, the secret in the URL is the credential."""
    session = get_session()
    user = calendar.user_for(session, token)
    if user is None:
        abort(404)
    today = utcnow().date()
    body = calendar.calendar_text(
        "Lifecycle renewals", calendar.events_of(session, user, today)
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="renewals.ics"'
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
