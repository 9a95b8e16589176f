"""The personal ICS feed: create, read back with `icalendar`, rotate, revoke, wrong token."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import icalendar
import pytest
from sqlmodel import col, select

from lifecycle.enums import ObligationState
from lifecycle.models import AuditEvent, User
from lifecycle.notices import calendar
from tests.renewals.test_actions_data import arrange, fresh, make_obligation, sign_in


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district)


def create_feed(client) -> str:
    response = client.post("/renewals/calendar")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    url = re.search(r'data-testid="feed-url">([^<]+)<', html).group(1)
    return url.replace("http://localhost", "")


def events_of(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_the_feed_lists_decide_by_and_due_dates_as_all_day_events(
    client, db, world, arranged
):
    sign_in(client, world.a.finance)
    url = create_feed(client)
    assert re.fullmatch(r"/calendar/[A-Za-z0-9_-]{43}\.ics", url)
    secret = url.removeprefix("/calendar/").removesuffix(".ics")
    user = fresh(db).get(User, world.a.finance.id)
    assert user.calendar_token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(db.exec(select(AuditEvent.changes)).all())

    feed = client.application.test_client()  # no session: the URL is the credential
    response = feed.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert b"\r\n" in response.data
    cal = icalendar.Calendar.from_ical(response.data)
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal
    events = events_of(response.data)

    lic = arranged.license_renewal(db)
    base = f"obligation-{lic.id}-term-1-license_renewal"
    decide = events[f"{base}-decide@lifecycle"]
    assert decide.decoded("DTSTART") == lic.decide_by  # a date: all day
    assert decide.decoded("DTEND") == lic.decide_by + timedelta(days=1)
    assert str(decide["SUMMARY"]) == "Decide by: License renewal — Reading Suite"
    assert "$500.00" in str(decide["DESCRIPTION"])
    page = (
        f"/licenses/{arranged.license.id}"
        if "licenses.detail" in client.application.view_functions
        else "/renewals"  # a tree without the license pages links the renewals page
    )
    assert str(decide["URL"]).endswith(page)
    due = events[f"{base}-due@lifecycle"]
    assert due.decoded("DTSTART") == lic.due_date
    # a device refresh is due on its decide-by day: one event, not two
    refresh = arranged.refresh(db)
    ref_base = f"obligation-{refresh.id}-term-0-refresh"
    assert f"{ref_base}-decide@lifecycle" in events
    assert f"{ref_base}-due@lifecycle" not in events
    # refresh and warranty: one each (due = decide-by); license and contract: two each
    assert len(events) == 6


def test_uids_are_stable_and_closed_obligations_leave_the_feed(
    client, db, world, arranged
):
    sign_in(client, world.a.it)
    url = create_feed(client)
    first = set(events_of(client.get(url).data))
    assert first == set(events_of(client.get(url).data))
    ob = arranged.warranty(db)
    ob.state = ObligationState.DONE
    db.commit()
    later = set(events_of(client.get(url).data))
    assert later == {u for u in first if not u.startswith(f"obligation-{ob.id}-")}


def test_rotating_and_revoking_the_address(client, db, world, arranged):
    sign_in(client, world.a.it)
    old = create_feed(client)
    new = create_feed(client)
    assert old != new
    feed = client.application.test_client()
    assert feed.get(old).status_code == 404
    assert feed.get(new).status_code == 200
    page = client.get("/renewals/calendar").get_data(as_text=True)
    assert 'data-testid="feed-state">On<' in page and "feed-url" not in page
    response = client.post("/renewals/calendar/revoke")
    assert response.status_code == 303
    assert feed.get(new).status_code == 404
    assert fresh(db).get(User, world.a.it.id).calendar_token_hash is None
    actions = [
        e.action
        for e in db.exec(
            select(AuditEvent)
            .where(col(AuditEvent.entity_type) == "user")
            .order_by(col(AuditEvent.id))
        ).all()
        if e.action.startswith("calendar_")
    ]
    assert actions == ["calendar_create", "calendar_rotate", "calendar_revoke"]


def test_a_wrong_token_is_404_and_shows_nothing(client, db, world, arranged):
    sign_in(client, world.a.it)
    create_feed(client)
    feed = client.application.test_client()
    for token in ("nope", "x" * 43, "", "a" * 500):
        response = feed.get(f"/calendar/{token}.ics")
        assert response.status_code == 404
        assert b"Reading Suite" not in response.data
        assert b"VCALENDAR" not in response.data


def test_the_feed_shows_only_the_users_district(client, db, world, arranged):
    make_obligation(db, world.b.district)
    db.commit()
    sign_in(client, world.b.viewer)
    url = create_feed(client)
    events = events_of(client.application.test_client().get(url).data)
    assert len(events) == 1
    (uid,) = events
    assert uid.endswith("-refresh-decide@lifecycle")


def test_a_deactivated_user_loses_the_feed(client, db, world, arranged):
    sign_in(client, world.a.it)
    url = create_feed(client)
    user = fresh(db).get(User, world.a.it.id)
    user.is_active = False
    db.commit()
    assert client.application.test_client().get(url).status_code == 404


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("line\nnext", "line\\nnext"),
    ],
)
def test_text_is_escaped(text, escaped):
    assert calendar.escape(text) == escaped


def test_long_lines_fold_at_75_octets_without_splitting_characters():
    line = "SUMMARY:" + "é" * 100
    folded = calendar.fold(line)
    parts = folded.split("\r\n ")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(parts) == line
