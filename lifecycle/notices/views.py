"""The reminder bell: the notifications page, marking read, and delivery preferences."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.notices import notify
from lifecycle.web.htmx import is_fragment, redirect_to, render
from lifecycle.web.paging import parse_limit

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
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


@bp.get("")
def index() -> Response:
    unread_only = request.args.get("show") == "unread"
    return render(
        "notices/index.html",
        block="list",
        title="Notifications",
        **_list_context(unread_only=unread_only),
    )


@bp.post("/<int:notification_id>/read")
def read(notification_id: int) -> Response:
    session = get_session()
    notification = notify.mark_read(session, get_user(), notification_id)
    session.commit()
    if is_fragment():
        return render("notices/read.html", n=notification, bell_oob=True)
    return redirect_to(_back())


@bp.post("/read-all")
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


@bp.route("/preferences", methods=["GET", "POST"])
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
