"""The activity page: the audit trail of every change, filtered and paged."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from lifecycle.models import AuditEvent
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx

ROW = re.compile(
    r"<tr>\s*<td><time[^>]*>.*?</time></td>\s*<td>(?P<actor>[^<]*)</td>\s*"
    r"<td>(?P<action>[^<]*)</td>\s*<td>(?P<type>[^#<]*) #(?P<id>\d+)",
    re.S,
)


@pytest.fixture
def admin(client, world):
    sign_in(client, world.admin)
    return client


def _rows(response):
    page = response.get_data(as_text=True)
    return [
        (m["action"], m["type"].strip(), int(m["id"]), m["actor"])
        for m in ROW.finditer(page)
    ]


def _older_link(response):
    page = response.get_data(as_text=True)
    match = re.search(r'<a href="([^"]+)"[^>]*>Older events →</a>', page)
    return html.unescape(match.group(1)) if match else None


def test_an_update_shows_who_changed_which_field_from_what_to_what(
    admin, world, token_for
):
    school = world.a.school
    client_headers = token_for(world.a.it)
    admin.application.test_client().patch(
        f"/api/v1/schools/{school.id}",
        json={"level": "high", "enrollment": 1450, "version": school.version},
        headers=client_headers,
    )

    response = admin.get("/admin/activity?entity_type=school")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(response)[0] == ("update", "school", school.id, world.a.it.email)
    assert "level</span>: <del></del> → <ins>high</ins>" in page
    assert "enrollment</span>: <del>—</del> → <ins>1450</ins>" in page


def test_a_create_shows_the_values_the_record_started_with(admin, world):
    admin.post(
        "/admin/users",
        data={
            "email": "new.person@example.org",
            "name": "New Person",
            "role": "coop_staff",
            "password": "a-first-password-1",
        },
    )

    response = admin.get("/admin/activity?entity_type=user")

    action, entity_type, _id, actor = _rows(response)[0]
    page = response.get_data(as_text=True)
    assert (action, entity_type, actor) == ("create", "user", world.admin.email)
    assert "<ins>new.person@example.org</ins>" in page
    assert "<ins>•••</ins>" in page  # the password hash is never shown


def test_filtering_by_record_type_shows_only_that_type(admin, world, db):
    response = admin.get("/admin/activity?entity_type=district")

    rows = _rows(response)
    expected = (
        fresh(db)
        .exec(
            select(AuditEvent.entity_id)
            .where(AuditEvent.entity_type == "district")
            .order_by(col(AuditEvent.id).desc())
        )
        .all()
    )
    assert [r[2] for r in rows] == list(expected)
    assert {r[1] for r in rows} == {"district"}
    assert len(rows) == 2
    assert '<option value="district" selected>' in response.get_data(as_text=True)


def test_filtering_by_district_and_actor(admin, world, db, token_for):
    admin.application.test_client().post(
        "/api/v1/schools", json={"name": "Bravo Annex"}, headers=token_for(world.b.it)
    )

    by_district = _rows(admin.get(f"/admin/activity?district_id={world.b.district.id}"))
    by_actor = _rows(admin.get(f"/admin/activity?actor={world.b.it.email[:12]}"))

    assert by_district[0][:2] == ("create", "school")
    assert all(r[1] in {"district", "school", "user"} for r in by_district)
    assert {r[3] for r in by_actor} == {world.b.it.email}


def test_older_events_page_through_the_whole_trail_without_gaps(admin, db):
    expected = [
        (e.action, e.entity_type, e.entity_id)
        for e in fresh(db)
        .exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()))
        .all()
    ]
    assert len(expected) > 7

    seen, url, pages = [], "/admin/activity?limit=3", 0
    while url:
        response = admin.get(url)
        assert response.status_code == 200
        rows = _rows(response)
        assert 0 < len(rows) <= 3
        seen.extend(r[:3] for r in rows)
        url = _older_link(response)
        pages += 1
        assert pages < 20

    assert seen == expected
    assert pages == -(-len(expected) // 3)


def test_older_events_keep_the_filters_and_come_as_a_fragment_for_htmx(admin, world):
    first = admin.get("/admin/activity?entity_type=user&limit=4")
    link = _older_link(first)
    assert "entity_type=user" in link

    response = admin.get(link, headers=htmx())

    page = response.get_data(as_text=True)
    assert "<html" not in page
    assert page.lstrip().startswith('<section id="results"')
    assert {r[1] for r in _rows(response)} == {"user"}
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "01/02/2026"])
def test_an_invalid_since_date_is_a_422_with_a_message(admin, since):
    response = admin.get(f"/admin/activity?since={since}")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Since must be a date (YYYY-MM-DD)" in page
    assert 'aria-invalid="true"' in page


def test_an_invalid_since_date_from_htmx_shows_the_message_in_the_results(admin):
    response = admin.get("/admin/activity?since=yesterday", headers=htmx())

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in page
    assert 'id="e-since"' in page
    assert "Since must be a date (YYYY-MM-DD)" in page


def test_since_a_future_date_shows_nothing(admin):
    later = datetime.now(UTC).date() + timedelta(days=2)

    response = admin.get(f"/admin/activity?since={later.isoformat()}")

    assert response.status_code == 200
    assert "No activity matches these filters." in response.get_data(as_text=True)


def test_since_today_keeps_todays_events(admin):
    rows = _rows(
        admin.get(f"/admin/activity?since={datetime.now(UTC).date().isoformat()}")
    )

    assert len(rows) > 5


@pytest.mark.parametrize("district_id", ["²", "٣", "99999999999999999999", "first"])
def test_a_district_filter_that_is_no_id_is_a_422_with_a_message(admin, district_id):
    response = admin.get(f"/admin/activity?district_id={district_id}", headers=htmx())

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "District must be a whole number" in page or "must be at most" in page
