"""A personal iCalendar feed of decide-by and due dates (RFC 5545), at a secret URL.

The URL carries a random secret; only its SHA-256 is stored (User.calendar_token_hash),
so the URL is shown once, when it is created. Rotating makes a new one and the old URL
stops working; revoking removes it. A wrong, old or revoked secret answers 404 and
nothing else, so the feed never confirms that a user or an obligation exists.

Events are all-day, one for each open obligation's decide-by date and one for its due
date when that is another day. Their UIDs are stable (obligation id + term + kind +
which date), so calendar apps update an event instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlmodel import Session, col, select
from werkzeug.routing import BuildError

from lifecycle import audit
from lifecycle.models import Obligation, User
from lifecycle.renewals.queries import SUBJECT, _joined
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.tenancy import scoped

TOKEN_BYTES = 32
PAST_DAYS = 90  # keep recent decisions visible; older ones drop out of the feed
MAX_EVENTS = 5000
KIND_LABELS = {
    "refresh": "Device refresh",
    "warranty": "Warranty ends",
    "license_renewal": "License renewal",
    "contract_renewal": "Contract renewal",
}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, *, user: User) -> str:
    """A new secret for the user's feed (replacing any old one); returned once."""
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    rotated = user.calendar_token_hash is not None
    _store(session, user, digest(secret))
    _audit(session, user, "calendar_rotate" if rotated else "calendar_create")
    session.flush()
    return secret


def revoke_token(session: Session, *, user: User) -> bool:
    if user.calendar_token_hash is None:
        return False
    _store(session, user, None)
    _audit(session, user, "calendar_revoke")
    session.flush()
    return True


def _store(session: Session, user: User, value: str | None) -> None:
    # A plain UPDATE: the ORM audit hook would copy the digest into the audit trail.
    session.execute(
        sa.update(User)
        .where(col(User.id) == user.id)
        .values(calendar_token_hash=value)
        .execution_options(synchronize_session="evaluate")
    )


def _audit(session: Session, user: User, action: str) -> None:
    assert user.id is not None
    audit.record(
        session,
        action=action,
        entity_type="user",
        entity_id=user.id,
        district_id=user.district_id,
        summary=f"{user.email}: personal calendar feed",
    )


def user_for(session: Session, secret: str) -> User | None:
    if not secret or len(secret) > 200:
        return None
    user = session.exec(
        select(User).where(col(User.calendar_token_hash) == digest(secret))
    ).first()
    if user is None or not user.is_active:
        return None
    return user


# --- iCalendar text ------------------------------------------------------------------


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    while raw:
        cut = min(limit, len(raw))
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:
            cut -= 1  # never split a UTF-8 character
        parts.append(raw[:cut].decode())
        raw = raw[cut:]
        limit = 74  # the leading space counts
    return "\r\n ".join(parts)


def _day(d: date) -> str:
    return d.strftime("%Y%m%d")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event_lines(
    *,
    uid: str,
    day: date,
    summary: str,
    description: str,
    url: str,
    stamp: datetime,
    category: str,
) -> list[str]:
    # an all-day event ends the next day; without DTEND it lasts one day anyway
    # (RFC 5545 §3.6.1), which the last day of the calendar needs
    end = (
        [f"DTEND;VALUE=DATE:{_day(day + timedelta(days=1))}"] if day < date.max else []
    )
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_stamp(stamp)}",
        f"DTSTART;VALUE=DATE:{_day(day)}",
        *end,
        f"SUMMARY:{escape(summary)}",
        f"DESCRIPTION:{escape(description)}",
        f"URL:{url}",
        f"CATEGORIES:{escape(category)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def calendar_text(name: str, events: Iterable[list[str]]) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Lifecycle//Renewals calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def events_of(session: Session, user: User, today: date) -> Iterator[list[str]]:
    """The user's open obligations (recent and upcoming) as calendar events."""
    stmt = (
        scoped(
            _joined(sa.select(Obligation, SUBJECT.label("subject"))),
            Obligation,
            user,
        )
        .where(
            col(Obligation.state).in_(OPEN_STATES),
            col(Obligation.decide_by) >= today - timedelta(days=PAST_DAYS),
        )
        .order_by(col(Obligation.decide_by), col(Obligation.id))
        .limit(MAX_EVENTS)
    )
    for ob, subject in session.execute(stmt).all():
        yield from obligation_events(ob, subject or f"#{ob.subject_id}")


SUBJECT_PAGES = {
    "device": ("devices.detail", "device_id"),
    "license": ("licenses.detail", "license_id"),
    "contract": ("contracts.detail", "contract_id"),
}


def subject_url(subject_type: str, subject_id: int, *, external: bool = False) -> str:
    """The page of an obligation's subject; "" when that page does not exist here."""
    endpoint, arg = SUBJECT_PAGES.get(subject_type, ("", ""))
    values: dict[str, Any] = {arg: subject_id}
    try:
        return url_for(endpoint, _external=external, **values) if endpoint else ""
    except BuildError:
        return ""


def _subject_url(ob: Obligation) -> str:
    return subject_url(ob.subject_type, ob.subject_id, external=True) or url_for(
        "renewals.index", _external=True
    )


def obligation_events(ob: Obligation, subject: str) -> list[list[str]]:
    label = KIND_LABELS.get(ob.kind.value, ob.kind.value)
    base = f"obligation-{ob.id}-term-{ob.term_number}-{ob.kind.value}"
    detail = (
        f"{label}: {subject}\n"
        f"Decide by {ob.decide_by.isoformat()}; due {ob.due_date.isoformat()}.\n"
        f"Estimated cost ${ob.estimated_cost:,.2f} (FY{ob.fiscal_year}).\n"
        f"State: {ob.state.value.replace('_', ' ')}."
    )
    common: dict[str, Any] = {
        "description": detail,
        "url": _subject_url(ob),
        "stamp": ob.updated_at,
        "category": label,
    }
    events = [
        event_lines(
            uid=f"{base}-decide@lifecycle",
            day=ob.decide_by,
            summary=f"Decide by: {label} — {subject}",
            **common,
        )
    ]
    if ob.due_date != ob.decide_by:
        events.append(
            event_lines(
                uid=f"{base}-due@lifecycle",
                day=ob.due_date,
                summary=f"Due: {label} — {subject}",
                **common,
            )
        )
    return events
