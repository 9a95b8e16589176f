"""The bell, the notifications page, marking read, and delivery preferences."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import col, select

from lifecycle.models import AuditEvent, Notification, User
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx
from tests.notices.conftest import notifications_of, scan_and_remind, statements


def notify(db, user, title="2 renewals to decide by Dec 31, 2026", **kw):
    note = Notification(
        user_id=user.id,
        district_id=user.district_id,
        title=title,
        body=kw.pop("body", "License renewal: decide on Reading Plus by Dec 31, 2026"),
        link="/renewals?state=notified",
        reminder_count=kw.pop("reminder_count", 2),
        **kw,
    )
    db.add(note)
    db.commit()
    return note


def page(response) -> str:
    return response.get_data(as_text=True)


def bell(html: str) -> str:
    found = re.search(r'<a id="bell".*?</a>', html, re.S)
    assert found, html[:2000]
    return found.group(0)


def test_the_header_bell_shows_the_unread_count(client, db, world):
    notify(db, world.a.it)
    notify(db, world.a.it)
    notify(db, world.a.it, read_at=factories_now())
    notify(db, world.a.finance)
    sign_in(client, world.a.it)
    html = page(client.get("/"))
    assert 'aria-label="Notifications, 2 unread"' in bell(html)
    assert 'href="/notifications"' in bell(html)
    assert "hx-swap-oob" not in bell(html)


def factories_now():
    from lifecycle.models import utcnow

    return utcnow()


def test_reminders_from_a_scan_reach_the_bell(client, db, world):
    factories.make_license(
        db, world.a.district, product="Reading Plus", term_start=date(2026, 1, 1)
    )
    db.commit()
    scan_and_remind(db, world.a.district.id, date(2026, 9, 27))
    sign_in(client, world.a.it)
    html = page(client.get("/notifications"))
    assert 'aria-label="Notifications, 1 unread"' in bell(html)
    assert "1 renewal to decide by Dec 31, 2026" in html
    assert "License renewal: decide on Reading Plus by Dec 31, 2026" in html
    assert 'href="/renewals?state=notified"' in html


def test_the_page_lists_only_my_own_notifications(client, db, world):
    mine = notify(db, world.a.it, title="Mine to read")
    notify(db, world.a.finance, title="A colleague's")
    notify(db, world.b.it, title="Another district's")
    sign_in(client, world.a.it)
    html = page(client.get("/notifications"))
    assert "Mine to read" in html
    assert "A colleague's" not in html and "Another district's" not in html
    assert f'id="notification-{mine.id}"' in html


def test_an_empty_list_says_so(client, world):
    sign_in(client, world.a.viewer)
    html = page(client.get("/notifications"))
    assert "No notifications yet" in html
    assert 'aria-label="Notifications, 0 unread"' in html


def test_the_list_is_a_fragment_for_htmx_and_varies_on_it(client, db, world):
    notify(db, world.a.it, title="Fragment me")
    sign_in(client, world.a.it)
    full = client.get("/notifications")
    fragment = client.get("/notifications?show=unread", headers=htmx())
    assert "<html" in page(full) and "HX-Request" in full.headers["Vary"]
    assert "<html" not in page(fragment)
    assert page(fragment).lstrip().startswith('<section id="notification-list"')
    assert "Fragment me" in page(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_marking_read_from_the_list_answers_the_item_and_the_bell_out_of_band(
    client, db, world
):
    first = notify(db, world.a.it)
    notify(db, world.a.it)
    sign_in(client, world.a.it)
    response = client.post(f"/notifications/{first.id}/read", headers=htmx())
    assert response.status_code == 200
    html = page(response)
    assert "HX-Request" in response.headers["Vary"]
    assert f'id="notification-{first.id}"' in html and "Unread" not in html
    assert 'hx-swap-oob="true"' in bell(html)
    assert 'aria-label="Notifications, 1 unread"' in bell(html)
    assert fresh(db).get(Notification, first.id).read_at is not None


def test_marking_read_without_javascript_redirects_back(client, db, world):
    note = notify(db, world.a.it)
    sign_in(client, world.a.it)
    response = client.post(
        f"/notifications/{note.id}/read", data={"next": "/notifications?show=unread"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/notifications?show=unread"
    evil = client.post(
        f"/notifications/{note.id}/read", data={"next": "//evil.example"}
    )
    assert evil.headers["Location"] == "/notifications"
    html = page(client.get("/notifications"))
    assert 'aria-label="Notifications, 0 unread"' in html


def test_mark_all_read(client, db, world):
    for _ in range(3):
        notify(db, world.a.it)
    other = notify(db, world.a.finance)
    sign_in(client, world.a.it)
    response = client.post("/notifications/read-all", headers=htmx())
    html = page(response)
    assert response.status_code == 200
    assert '<section id="notification-list"' in html
    assert 'aria-label="Notifications, 0 unread"' in bell(html)
    assert 'hx-swap-oob="true"' in bell(html)
    assert all(n.read_at for n in notifications_of(db, world.a.it.id))
    assert fresh(db).get(Notification, other.id).read_at is None
    plain = client.post("/notifications/read-all")
    assert plain.status_code == 303


def test_someone_elses_notification_is_not_found(client, db, world):
    colleague = notify(db, world.a.finance)
    stranger = notify(db, world.b.it)
    sign_in(client, world.a.it)
    for note in (colleague, stranger):
        assert client.post(f"/notifications/{note.id}/read").status_code == 404
        assert (
            client.post(f"/notifications/{note.id}/read", headers=htmx()).status_code
            == 404
        )
    assert fresh(db).get(Notification, colleague.id).read_at is None
    assert client.post("/notifications/999999/read").status_code == 404


def test_the_list_pages_by_keyset(client, db, world):
    for i in range(30):
        notify(db, world.a.it, title=f"Notice number {i:02d}")
    sign_in(client, world.a.it)
    html = page(client.get("/notifications"))
    assert "Notice number 29" in html and "Notice number 05" in html
    assert "Notice number 04" not in html
    older = re.search(r'href="(/notifications\?cursor=[^"]+)"', html).group(1)
    second = page(client.get(older.replace("&amp;", "&")))
    assert "Notice number 04" in second and "Notice number 00" in second
    assert "Notice number 05" not in second


def statement_count(app, client, url):
    with statements(app) as seen:
        assert client.get(url).status_code == 200
    return len(seen)


def test_the_page_costs_the_same_statements_for_3_or_30(app, client, db, world):
    sign_in(client, world.a.it)
    for _ in range(3):
        notify(db, world.a.it)
    few = statement_count(app, client, "/notifications")
    for _ in range(27):
        notify(db, world.a.it)
    assert statement_count(app, client, "/notifications") == few


def test_preferences_toggle_email_and_digest_and_are_audited(client, db, world):
    sign_in(client, world.a.finance)
    html = page(client.get("/notifications/preferences"))
    assert 'name="notify_email"' in html and 'name="weekly_digest"' in html
    response = client.post("/notifications/preferences", data={"weekly_digest": "1"})
    assert response.status_code == 303
    user = fresh(db).get(User, world.a.finance.id)
    assert (user.notify_email, user.weekly_digest) == (False, True)
    events = db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "user",
            col(AuditEvent.entity_id) == world.a.finance.id,
        )
    ).all()
    assert any("notify_email" in (e.changes or {}) for e in events)
    client.post("/notifications/preferences", data={"notify_email": "1"})
    user = fresh(db).get(User, world.a.finance.id)
    assert (user.notify_email, user.weekly_digest) == (True, False)


def test_every_role_has_a_bell_and_the_pages(client, world):
    for user in (world.coop_staff, world.admin, world.a.viewer):
        sign_in(client, user)
        assert client.get("/notifications").status_code == 200
        assert client.get("/notifications/preferences").status_code == 200


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/notifications").status_code in (302, 303)
    assert client.get("/").status_code in (302, 303)
