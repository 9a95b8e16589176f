"""The renewals page: full page and fragments, timeline = table, filters, actions, scan."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.enums import DeviceStatus, ObligationKind, ObligationState
from lifecycle.models import AuditEvent, Device, JobRecord, License, TermRecord
from tests.conftest import htmx
from tests.renewals.test_actions_data import (
    arrange,
    count_queries,
    find,
    fresh,
    make_obligation,
    sign_in,
    today_of,
)


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district, school_id=world.a.school.id)


def test_full_page_shows_numbers_timeline_and_rows(client, db, world, arranged):
    sign_in(client, world.a.it)
    response = client.get("/renewals")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert "HX-Request" in response.headers.get("Vary", "")
    assert 'role="img"' in html and '<title id="tl-title">' in html
    assert '<desc id="tl-desc">' in html
    assert arranged.device.asset_tag in html
    assert "Reading Suite" in html and "Core switch maintenance" in html
    assert 'data-testid="run-scan"' in html
    assert 'data-testid="open-count">4<' in html
    assert "style=" not in html  # strict CSP: no inline styles, not even in the SVG
    # every hx-get has a real href and every hx-post sits in a form with an action
    for tag in re.findall(r"<a [^>]*hx-get=[^>]*>", html):
        assert "href=" in tag, tag
    assert html.count("hx-post=") == len(re.findall(r"<form [^>]*hx-post=", html))


def test_fragment_is_only_the_regions(client, db, world, arranged):
    sign_in(client, world.a.it)
    response = client.get("/renewals?kind=refresh", headers=htmx())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert 'id="results"' in html
    assert (
        'id="obligation-count" class="muted" aria-live="polite" hx-swap-oob="true"'
        in html
    )
    assert 'id="timeline"' in html and 'hx-swap-oob="true"' in html
    assert arranged.device.asset_tag in html
    assert "Reading Suite" not in html.split('id="timeline"')[0]


def _chart_numbers(html: str) -> tuple[dict[str, str], dict[str, str]]:
    bars = dict(
        re.findall(r'<g class="month" data-month="([\d-]+)" data-total="([^"]+)"', html)
    )
    table = dict(
        re.findall(
            r'<tr data-month="([\d-]+)">.*?<td class="num" data-value="([^"]+)">[^<]*</td></tr>',
            html,
        )
    )
    return bars, table


def test_the_svg_has_one_bar_group_per_month_equal_to_the_table(
    client, db, world, arranged
):
    sign_in(client, world.a.it)
    html = client.get("/renewals").get_data(as_text=True)
    bars, table = _chart_numbers(html)
    assert len(bars) == 24
    assert bars == table
    expected = Decimal(0)
    for ob in (
        arranged.refresh(db),
        arranged.license_renewal(db),
        arranged.contract_renewal(db),
    ):
        expected += ob.estimated_cost
    assert sum(Decimal(v) for v in bars.values()) == expected  # warranty costs nothing
    segments = re.findall(
        r'<rect class="bar bar-(\w+)" x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" data-kind="\w+" data-value="([^"]+)"',
        html,
    )
    assert {kind for kind, _ in segments} == {
        "refresh",
        "license_renewal",
        "contract_renewal",
    }
    counted = client.get("/renewals?metric=count").get_data(as_text=True)
    bars, table = _chart_numbers(counted)
    assert bars == table and sum(int(v) for v in bars.values()) == 4


def test_the_page_runs_the_same_number_of_queries_for_3_or_30_obligations(
    app, client, db, world
):
    for _ in range(3):
        make_obligation(db, world.a.district)
    db.commit()
    sign_in(client, world.a.it)
    client.get("/renewals")  # warm up
    with count_queries(app) as few:
        assert client.get("/renewals").status_code == 200
    for _ in range(27):
        make_obligation(db, world.a.district)
    db.commit()
    with count_queries(app) as many:
        html = client.get("/renewals").get_data(as_text=True)
    assert html.count('<tr id="ob-') == 30
    assert len(many) == len(few), (len(few), len(many))


def test_decide_by_highlights_overdue_and_within_30_days(client, db, world):
    today = today_of(db, world.a.district)
    make_obligation(db, world.a.district, decide_by=today - timedelta(days=3))
    make_obligation(db, world.a.district, decide_by=today + timedelta(days=10))
    make_obligation(db, world.a.district, decide_by=today + timedelta(days=200))
    db.commit()
    sign_in(client, world.a.it)
    html = client.get("/renewals").get_data(as_text=True)
    assert 'data-testid="overdue-count">1<' in html
    assert 'data-testid="soon-count">1<' in html
    assert html.count('class="overdue"') == 1 and html.count('class="due-soon"') == 1


def test_filters_search_and_bad_values(client, db, world, arranged):
    sign_in(client, world.a.it)
    html = client.get("/renewals?q=reading").get_data(as_text=True)
    rows = re.findall(r'<tr id="ob-(\d+)"', html)
    assert rows == [str(arranged.license_renewal(db).id)]
    html = client.get(
        f"/renewals?q={arranged.device.asset_tag}&kind=warranty"
    ).get_data(as_text=True)
    assert re.findall(r'<tr id="ob-(\d+)"', html) == [str(arranged.warranty(db).id)]
    html = client.get("/renewals?category=service").get_data(as_text=True)
    assert re.findall(r'<tr id="ob-(\d+)"', html) == [
        str(arranged.contract_renewal(db).id)
    ]
    bad = client.get("/renewals?due_date_from=tomorrow")
    assert bad.status_code == 422
    html = client.get("/renewals?sort=-estimated_cost").get_data(as_text=True)
    ids = re.findall(r'<tr id="ob-(\d+)"', html)
    assert ids[0] == str(arranged.contract_renewal(db).id)


def test_keyset_pages_by_subject(client, db, world):
    for _ in range(55):
        make_obligation(db, world.a.district)
    db.commit()
    sign_in(client, world.a.it)
    first = client.get("/renewals?sort=subject").get_data(as_text=True)
    ids = re.findall(r'<tr id="ob-(\d+)"', first)
    assert len(ids) == 50
    nxt = (
        re.search(r'href="(/renewals\?[^"]*cursor=[^"]+)"', first)
        .group(1)
        .replace("&amp;", "&")
    )
    rest = re.findall(r'<tr id="ob-(\d+)"', client.get(nxt).get_data(as_text=True))
    assert len(rest) == 5 and not set(rest) & set(ids)


def test_acknowledge_as_htmx_swaps_the_row_and_updates_counts_and_bell(
    client, db, world, arranged
):
    sign_in(client, world.a.finance)
    ob = arranged.license_renewal(db)
    response = client.post(
        f"/renewals/{ob.id}/acknowledge",
        headers=htmx(
            **{"HX-Current-URL": "http://localhost/renewals?kind=license_renewal"}
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "<html" not in html
    assert html.lstrip().startswith(f'<tr id="ob-{ob.id}" data-state="acknowledged"')
    assert 'id="renewal-stats"' in html and 'id="bell"' in html
    assert 'data-testid="row-notice">Acknowledged: no more reminders' in html
    assert (
        'id="obligation-count" class="muted" aria-live="polite" hx-swap-oob="true" data-testid="obligation-count">1 obligation'
        in html
    )
    assert (
        find(fresh(db), "license", arranged.license.id).state
        == ObligationState.ACKNOWLEDGED
    )


def test_actions_without_javascript_redirect_back(client, db, world, arranged):
    sign_in(client, world.a.it)
    ob = arranged.warranty(db)
    response = client.post(f"/renewals/{ob.id}/acknowledge")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/renewals")


def test_snooze_in_the_past_is_422_with_the_row_and_its_message(
    client, db, world, arranged
):
    sign_in(client, world.a.it)
    ob = arranged.warranty(db)
    past = (arranged.today - timedelta(days=1)).isoformat()
    response = client.post(
        f"/renewals/{ob.id}/snooze", data={"until": past}, headers=htmx()
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="row-error"' in html and "must be a date after today" in html
    assert (
        client.post(f"/renewals/{ob.id}/snooze", data={"until": past}).status_code
        == 422
    )
    later = (arranged.today + timedelta(days=20)).isoformat()
    ok = client.post(f"/renewals/{ob.id}/snooze", data={"until": later}, headers=htmx())
    assert ok.status_code == 200 and 'data-state="snoozed"' in ok.get_data(as_text=True)


def test_renew_from_the_row_and_a_stale_version(client, db, world, arranged):
    sign_in(client, world.a.it)
    ob = arranged.license_renewal(db)
    version = db.get(License, arranged.license.id).version
    stale = client.post(
        f"/renewals/{ob.id}/renew", data={"version": str(version - 1)}, headers=htmx()
    )
    assert stale.status_code == 409
    assert "Someone else changed this record" in stale.get_data(as_text=True)
    ok = client.post(
        f"/renewals/{ob.id}/renew",
        data={"version": str(version), "seats": "90", "price_per_seat": ""},
        headers=htmx(),
    )
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert 'data-state="done"' in ok.get_data(as_text=True)
    lic = fresh(db).get(License, arranged.license.id)
    # renewed for term 2 with 90 seats; today's term 1 keeps its 100
    assert (lic.current_term_number, lic.decision_term_number, lic.seats) == (1, 2, 100)
    record = db.exec(select(TermRecord).where(TermRecord.subject_id == lic.id)).one()
    assert (record.term_number, record.seats, record.price) == (
        2,
        90,
        Decimal("450.00"),
    )


def test_mark_replaced_from_the_row(client, db, world, arranged):
    sign_in(client, world.a.it)
    ob = arranged.refresh(db)
    device = db.get(Device, arranged.device.id)
    response = client.post(
        f"/renewals/{ob.id}/replace",
        data={"version": str(device.version)},
        headers=htmx(),
    )
    assert response.status_code == 200
    assert fresh(db).get(Device, device.id).status == DeviceStatus.RETIRED


def test_viewers_and_coop_staff_see_no_buttons_and_may_not_post(
    client, db, world, arranged
):
    sign_in(client, world.a.viewer)
    html = client.get("/renewals").get_data(as_text=True)
    assert "Acknowledge</button>" not in html and "Run scan now" not in html
    ob = arranged.license_renewal(db)
    assert client.post(f"/renewals/{ob.id}/acknowledge").status_code == 403
    coop = client.application.test_client()
    sign_in(coop, world.coop_staff)
    assert coop.post(f"/renewals/{ob.id}/acknowledge").status_code == 403


def test_another_districts_obligation_is_404(client, db, world, arranged):
    other = make_obligation(db, world.b.district)
    db.commit()
    sign_in(client, world.a.it)
    for action in ("acknowledge", "snooze", "renew", "cancel", "replace"):
        response = client.post(f"/renewals/{other.id}/{action}", data={"version": "1"})
        assert response.status_code == 404, action
    events = db.exec(
        select(AuditEvent).where(col(AuditEvent.district_id) == world.b.district.id)
    ).all()
    assert all(e.entity_type != "obligation" for e in events)


def test_coop_staff_see_every_district_with_a_district_column(
    client, db, world, arranged
):
    make_obligation(db, world.b.district)
    db.commit()
    sign_in(client, world.coop_staff)
    html = client.get("/renewals").get_data(as_text=True)
    assert html.count('<tr id="ob-') == 5
    assert world.a.district.name in html and world.b.district.name in html
    assert ">District<" in html
    one = client.get(f"/renewals?district_id={world.b.district.id}").get_data(
        as_text=True
    )
    assert one.count('<tr id="ob-') == 1
    district_user = client.application.test_client()
    sign_in(district_user, world.b.it)
    assert (
        district_user.get("/renewals").get_data(as_text=True).count('<tr id="ob-') == 1
    )


def test_empty_state_explains_the_scan_and_offers_it(client, db, world):
    sign_in(client, world.a.it)
    html = client.get("/renewals").get_data(as_text=True)
    assert 'data-testid="empty-state"' in html and "lifecycle scan" in html
    assert "Run the scan now" in html


def test_run_scan_now_starts_a_job_and_goes_to_its_page(client, db, world):
    sign_in(client, world.a.it)
    response = client.post("/renewals/scan")
    assert response.status_code == 303
    job = fresh(db).exec(select(JobRecord).order_by(col(JobRecord.id).desc())).first()
    assert (
        job is not None
        and job.kind == "scan"
        and job.district_id == world.a.district.id
    )
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    viewer = client.application.test_client()
    sign_in(viewer, world.a.viewer)
    assert viewer.post("/renewals/scan").status_code == 403


def test_the_nav_has_renewals_for_district_roles(client, db, world):
    sign_in(client, world.a.finance)
    html = client.get("/renewals").get_data(as_text=True)
    assert re.search(r'<a href="/renewals" aria-current="page">Renewals</a>', html)
    assert ObligationKind.REFRESH  # the page names kinds in words, not codes
