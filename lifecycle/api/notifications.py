"""The signed-in user's own notifications (the bell), read and marked read."""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify, request
from pydantic import BaseModel, Field

from lifecycle.api.frame import QueryParam, dump, filters, one, operation
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.notices import notify
from lifecycle.web.paging import parse_limit


class NotificationRead(BaseModel):
    """A notification in the bell of the token's user."""

    id: int
    district_id: int | None
    kind: str = Field(description="reminder | ...")
    title: str
    body: str
    link: str = Field(description="the page it is about, a path on this site")
    reminder_count: int = Field(description="how many reminders it summarises")
    created_at: datetime
    read_at: datetime | None = Field(description="null while unread")


class MarkedRead(BaseModel):
    marked: int = Field(description="how many were unread and are now read")


FILTERS = [QueryParam("unread", bool, "true: only the unread ones")]


@operation(
    "/notifications",
    "GET",
    summary="Your notifications (the bell), newest first",
    tag="notifications",
    response=NotificationRead,
    many=True,
    query=FILTERS,
)
def list_notifications() -> Response:
    values = filters(FILTERS)
    page = notify.list_page(
        get_session(),
        get_user(),
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
        unread_only=values.get("unread", False),
    )
    return jsonify(
        {
            "items": [dump(NotificationRead, n) for n in page.items],
            "next_cursor": page.next_cursor,
        }
    )


@operation(
    "/notifications/<int:notification_id>/read",
    "POST",
    summary="Mark one of your notifications read",
    tag="notifications",
    response=NotificationRead,
)
def read_notification(notification_id: int) -> Response:
    session = get_session()
    found = notify.mark_read(session, get_user(), notification_id)
    session.commit()
    return one(NotificationRead, found)


@operation(
    "/notifications/read-all",
    "POST",
    summary="Mark all your notifications read",
    tag="notifications",
    response=MarkedRead,
)
def read_all_notifications() -> Response:
    session = get_session()
    marked = notify.mark_all_read(session, get_user())
    session.commit()
    return jsonify({"marked": marked})
