"""What was sent, through the API: your notifications (the bell) and an obligation's
reminders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.enums import RenewalType
from lifecycle.models import Notification, Obligation
from lifecycle.notices import notify
from tests.api.conftest import error_of, fresh
from tests.factories import make_license
from tests.notices.conftest import scan_and_remind

# A yearly express license from 1 Jan 2026: term 1 must be decided by 31 Dec 2026.
DECIDE_BY = date(2026, 12, 31)


@pytest.fixture
def reminded(db, world):
    """The license, reminded by the real scan 95 days and then 25 days before."""
    lic = make_license(
        db,
        world.a.district,
        product="Reading Plus",
        term_start=date(2026, 1, 1),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=RenewalType.EXPRESS,
        seats=500,
        price_per_seat=Decimal("4.50"),
    )
    db.commit()
    for days in (95, 25):
        scan_and_remind(db, world.a.district.id, DECIDE_BY - timedelta(days=days))
    obligation = db.exec(
        select(Obligation).where(
            col(Obligation.subject_type) == "license",
            col(Obligation.subject_id) == lic.id,
        )
    ).one()
    return obligation


def _schema(client, name):
    return client.get("/api/v1/openapi.json").json["components"]["schemas"][name]


# --- an obligation's reminders ---------------------------------------------------------


def test_an_obligations_reminders_say_which_threshold_was_sent_when(
    client, world, token_for, reminded
):
    response = client.get(
        f"/api/v1/obligations/{reminded.id}/reminders", headers=token_for(world.a.it)
    )

    assert response.status_code == 200, response.json
    items = response.json["items"]
    assert [(i["term_number"], i["threshold_days"]) for i in items] == [
        (1, 120),
        (1, 30),
    ]
    assert all(i["obligation_id"] == reminded.id for i in items)
    assert items[0]["sent_at"] <= items[1]["sent_at"]
    assert response.json["next_cursor"] is None
    assert set(items[0]) == set(_schema(client, "ReminderRead")["properties"])


def test_another_districts_obligation_has_no_reminders_to_show(
    client, world, token_for, reminded
):
    url = f"/api/v1/obligations/{reminded.id}/reminders"

    other = client.get(url, headers=token_for(world.b.it))
    missing = client.get(
        "/api/v1/obligations/999999/reminders", headers=token_for(world.a.it)
    )
    coop = client.get(url, headers=token_for(world.coop_staff))

    assert other.status_code == 404 and error_of(other)["code"] == "not_found"
    assert missing.status_code == 404
    assert coop.status_code == 200 and len(coop.json["items"]) == 2


def test_reminders_page_with_a_cursor_and_refuse_filters(
    client, world, token_for, reminded
):
    headers = token_for(world.a.viewer)
    url = f"/api/v1/obligations/{reminded.id}/reminders"

    first = client.get(f"{url}?limit=1", headers=headers).json
    second = client.get(
        f"{url}?limit=1&cursor={first['next_cursor']}", headers=headers
    ).json
    unknown = client.get(f"{url}?state=sent", headers=headers)

    assert [i["threshold_days"] for i in first["items"] + second["items"]] == [120, 30]
    assert second["next_cursor"] is None
    assert unknown.status_code == 422
    assert error_of(unknown)["fields"] == {"state": "is not a filter of this list"}


# --- your notifications -----------------------------------------------------------------


def test_your_notifications_newest_first_with_their_read_state(
    client, db, world, token_for, reminded
):
    mine = client.get("/api/v1/notifications", headers=token_for(world.a.it))

    assert mine.status_code == 200, mine.json
    items = mine.json["items"]
    assert len(items) == 2  # one per reminder run
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    assert all(i["read_at"] is None for i in items)
    assert "Reading Plus" in items[0]["body"]
    assert items[0]["reminder_count"] == 1
    assert set(items[0]) == set(_schema(client, "NotificationRead")["properties"])
    others = client.get("/api/v1/notifications", headers=token_for(world.b.it)).json
    assert others["items"] == []


def test_marking_read_and_the_unread_filter(client, db, world, token_for, reminded):
    headers = token_for(world.a.it)
    newest, oldest = client.get("/api/v1/notifications", headers=headers).json["items"]

    read = client.post(f"/api/v1/notifications/{oldest['id']}/read", headers=headers)
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).json
    everything = client.get("/api/v1/notifications?unread=false", headers=headers).json

    assert read.status_code == 200 and read.json["read_at"] is not None
    assert [i["id"] for i in unread["items"]] == [newest["id"]]
    assert len(everything["items"]) == 2
    assert notify.unread_count(fresh(db), world.a.it) == 1

    all_read = client.post("/api/v1/notifications/read-all", headers=headers)
    again = client.post("/api/v1/notifications/read-all", headers=headers)

    assert all_read.status_code == 200 and all_read.json == {"marked": 1}
    assert again.json == {"marked": 0}
    assert notify.unread_count(fresh(db), world.a.it) == 0


def test_someone_elses_notification_is_404_and_stays_unread(
    client, db, world, token_for, reminded
):
    theirs = (
        fresh(db)
        .exec(select(Notification).where(col(Notification.user_id) == world.a.it.id))
        .first()
    )

    response = client.post(
        f"/api/v1/notifications/{theirs.id}/read", headers=token_for(world.b.it)
    )
    bad = client.get(
        "/api/v1/notifications?unread=maybe", headers=token_for(world.a.it)
    )

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert fresh(db).get(Notification, theirs.id).read_at is None
    assert bad.status_code == 422
    assert error_of(bad)["fields"] == {"unread": "must be true or false"}


def test_notifications_page_with_a_cursor(client, db, world, token_for):
    for n in range(5):
        db.add(Notification(user_id=world.a.it.id, title=f"Note {n}"))
    db.commit()
    headers = token_for(world.a.it)

    seen, url = [], "/api/v1/notifications?limit=2"
    while url:
        body = client.get(url, headers=headers).json
        seen += [i["title"] for i in body["items"]]
        cursor = body["next_cursor"]
        url = f"/api/v1/notifications?limit=2&cursor={cursor}" if cursor else ""

    assert seen == [f"Note {n}" for n in reversed(range(5))]
