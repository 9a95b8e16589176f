"""License pages: list, export, detail, forms, click-to-edit, bulk, renew, isolation."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from lifecycle.agreements import rules as terms
from lifecycle.agreements.terms import district_today
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import AuditEvent, License, TermRecord
from tests.conftest import fresh, htmx, login, text
from tests.factories import make_catalog_item, make_license, make_vehicle, make_vendor
from tests.querycount import count_queries


def today_in(db: Session, district_id: int) -> date:
    return district_today(db, district_id)


def derived(lic: License) -> tuple:
    return (
        lic.current_term_number,
        lic.current_term_start,
        lic.current_term_end,
        lic.decide_by,
        lic.status,
    )


# --- list ------------------------------------------------------------------------


def test_the_list_is_a_full_page_and_an_htmx_fragment(it, db, world):
    make_license(db, world.a.district, product="Securly Filter")
    make_license(db, world.a.district, product="Adobe Express")
    make_license(db, world.b.district, product="Bravo Only Suite")
    db.commit()

    page = it.get("/licenses")
    fragment = it.get("/licenses?q=securly", headers=htmx())

    assert page.status_code == 200
    assert "<html" in text(page)
    assert "Securly Filter" in text(page) and "Adobe Express" in text(page)
    assert "Bravo Only Suite" not in text(page)
    assert 'data-testid="license-count"' in text(page)
    assert fragment.status_code == 200
    assert "<html" not in text(fragment)
    assert "Securly Filter" in text(fragment) and "Adobe Express" not in text(fragment)
    assert 'id="results"' in text(fragment)
    assert 'hx-swap-oob="true"' in text(fragment)  # the count and summary follow
    assert "HX-Request" in fragment.headers["Vary"]
    assert "HX-Request" in page.headers["Vary"]


def test_filters_narrow_the_list_and_a_bad_filter_is_a_422(it, db, world):
    t = today_in(db, world.a.district.id)
    make_license(
        db,
        world.a.district,
        product="Tacit One",
        renewal_type=RenewalType.TACIT,
        decide_by=t + timedelta(days=10),
    )
    make_license(
        db,
        world.a.district,
        product="Express One",
        decide_by=t + timedelta(days=100),
        school_id=world.a.school.id,
    )
    make_license(
        db, world.a.district, product="Cancelled One", status=AgreementStatus.CANCELLED
    )
    db.commit()

    def products(url: str) -> list[str]:
        body = text(it.get(url, headers=htmx()))
        return [p for p in ("Tacit One", "Express One", "Cancelled One") if p in body]

    assert products("/licenses?renewal_type=tacit") == ["Tacit One"]
    assert products("/licenses?status=cancelled") == ["Cancelled One"]
    assert products(f"/licenses?school_id={world.a.school.id}") == ["Express One"]
    before = (t + timedelta(days=30)).isoformat()
    assert products(f"/licenses?decide_by_before={before}") == ["Tacit One"]
    bad = it.get("/licenses?decide_by_before=someday&status=gone", headers=htmx())
    assert bad.status_code == 422
    assert "must be a date (YYYY-MM-DD)" in text(bad)
    assert "must be one of: active, lapsed, cancelled, ended" in text(bad)


def test_sorting_by_utilization_pages_through_every_row_once(it, db, world):
    for i in range(55):
        make_license(
            db, world.a.district, product=f"P{i:02d}", seats=100, seats_used=i % 7 * 10
        )
    make_license(db, world.a.district, product="No seats", seats=0, seats_used=0)
    db.commit()

    first = it.get("/licenses?sort=-utilization", headers=htmx())
    body = text(first)
    assert 'aria-sort="descending"' in body
    assert body.count("/licenses/") >= 50
    next_url = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = text(it.get(next_url.replace("&amp;", "&"), headers=htmx()))

    seen = [
        line.split(">")[1].split("<")[0]
        for chunk in (body, second)
        for line in chunk.split('<th scope="row"><a href="/licenses/')[1:]
    ]
    assert len(seen) == 56 and len(set(seen)) == 56
    assert seen[-1] == "No seats"  # no utilization sorts last
    assert 'rel="next"' not in second


@pytest.mark.parametrize("fragment", [False, True])
def test_the_list_runs_the_same_queries_for_3_or_30_licenses(
    app, it, db, world, fragment
):
    headers = htmx() if fragment else {}
    vendor = make_vendor(db)
    for _ in range(3):
        make_license(
            db, world.a.district, vendor_id=vendor.id, school_id=world.a.school.id
        )
    db.commit()
    it.get("/licenses", headers=headers)  # warm up caches of the first request
    with count_queries(app) as few:
        assert it.get("/licenses", headers=headers).status_code == 200
    for _ in range(27):
        make_license(
            db, world.a.district, vendor_id=vendor.id, school_id=world.a.school.id
        )
    db.commit()
    with count_queries(app) as many:
        response = it.get("/licenses", headers=headers)

    assert response.status_code == 200
    assert text(response).count('<th scope="row">') == 30
    assert len(many) == len(few), many


# --- export ----------------------------------------------------------------------


def test_export_streams_the_filtered_rows_and_defuses_formulas(it, db, world):
    make_license(
        db,
        world.a.district,
        product='=HYPERLINK("http://x")',
        renewal_type=RenewalType.TACIT,
        seats=10,
        price_per_seat=Decimal("2.50"),
    )
    make_license(db, world.a.district, product="Express thing")
    make_license(
        db, world.b.district, product="Bravo tacit", renewal_type=RenewalType.TACIT
    )
    db.commit()

    response = it.get("/licenses/export.csv?renewal_type=tacit")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text(response))))
    assert rows[0][:5] == ["id", "product", "vendor", "school", "seats"]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["product"] == '\'=HYPERLINK("http://x")'
    assert record["renewal_type"] == "tacit"
    assert record["cost_per_term"] == "25.00"


# --- create and edit -----------------------------------------------------------------


def test_adding_a_license_stores_its_derived_term_fields(it, db, world):
    t = today_in(db, world.a.district.id)
    start = t - timedelta(days=400)
    form = {
        "product": "  GoGuardian Admin ",
        "seats": "1200",
        "seats_used": "1100",
        "term_start": start.isoformat(),
        "initial_term_months": "12",
        "renewal_term_months": "12",
        "renewal_type": "tacit",
        "notice_days": "30",
        "price_per_seat": "3.75",
        "reminder_thresholds": "90, 30,7",
        "school_id": str(world.a.school.id),
        "notes": "",
    }

    response = it.post("/licenses", data=form)

    assert response.status_code == 303
    lic = (
        fresh(db)
        .exec(select(License).where(col(License.product) == "GoGuardian Admin"))
        .one()
    )
    assert response.headers["Location"].endswith(f"/licenses/{lic.id}")
    expected = terms.derive(
        term_start=start,
        initial_months=12,
        renewal_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=30,
        today=t,
    )
    assert derived(lic) == (
        expected.number,
        expected.start,
        expected.end,
        expected.decide_by,
        AgreementStatus.ACTIVE,
    )
    assert lic.current_term_number == 2
    assert lic.reminder_thresholds == [90, 30, 7]
    assert lic.district_id == world.a.district.id


@pytest.mark.parametrize("as_fragment", [False, True])
def test_a_bad_form_answers_422_with_a_message_per_field(it, db, world, as_fragment):
    form = {
        "product": " ",
        "seats": "-3",
        "term_start": "31/01/2027",
        "initial_term_months": "0",
        "price_per_seat": "abc",
        "reminder_thresholds": "30, soon",
        "renewal_type": "maybe",
    }

    response = it.post("/licenses", data=form, headers=htmx() if as_fragment else {})

    body = text(response)
    assert response.status_code == 422
    assert ("<html" in body) is not as_fragment
    for message in (
        "Product is required",
        "Seats owned must be at least 0",
        "Term starts must be a date (YYYY-MM-DD)",
        "First term (months) must be at least 1",
        "Price per seat per term ($) must be an amount like 1234.50",
        "Reminder thresholds (days) must be a whole number",
        "Renewal type must be one of",
    ):
        assert message in body, message
    assert 'aria-invalid="true"' in body
    assert fresh(db).exec(select(License)).all() == []


def test_editing_recomputes_the_terms_and_a_stale_form_is_a_409(it, db, world):
    t = today_in(db, world.a.district.id)
    lic = make_license(
        db,
        world.a.district,
        product="Clever",
        term_start=t - timedelta(days=30),
        renewal_type=RenewalType.EXPRESS,
    )
    db.commit()
    form_page = it.get(f"/licenses/{lic.id}/edit")
    assert form_page.status_code == 200 and 'name="version" value="1"' in text(
        form_page
    )
    values = {
        "product": "Clever",
        "seats": "500",
        "seats_used": "420",
        "term_start": lic.term_start.isoformat(),
        "initial_term_months": "12",
        "renewal_term_months": "12",
        "renewal_type": "tacit",
        "notice_days": "45",
        "price_per_seat": "4.50",
        "version": "1",
    }

    saved = it.post(f"/licenses/{lic.id}", data=values)
    stale = it.post(
        f"/licenses/{lic.id}", data={**values, "seats": "999"}, headers=htmx()
    )

    assert saved.status_code == 303
    lic = fresh(db).get(License, lic.id)
    assert lic.renewal_type == RenewalType.TACIT and lic.version == 2
    assert lic.decide_by == lic.current_term_end - timedelta(days=45)
    assert stale.status_code == 409
    body = text(stale)
    assert 'data-testid="conflict"' in body and "<html" not in body
    assert 'value="999"' in body  # the user's entry is kept
    assert "Notice days: <strong>45</strong>" in body  # and the stored values shown
    assert fresh(db).get(License, lic.id).seats == 500


def test_viewers_read_but_cannot_change(client, db, world):
    lic = make_license(db, world.a.district, product="Read only")
    db.commit()
    login(client, world.a.viewer.email)

    detail = client.get(f"/licenses/{lic.id}")
    new = client.get("/licenses/new")
    post = client.post(
        f"/licenses/{lic.id}/fields/seats", data={"seats": "1", "version": "1"}
    )

    assert detail.status_code == 200 and "Read only" in text(detail)
    assert "Edit</a>" not in text(detail) and "Delete" not in text(detail)
    assert new.status_code == 403 and post.status_code == 403
    assert fresh(db).get(License, lic.id).seats == 500


# --- detail and click-to-edit ---------------------------------------------------------


def test_the_detail_shows_seats_terms_and_history(it, db, world):
    t = today_in(db, world.a.district.id)
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    item = make_catalog_item(
        db, vehicle, name="Securly Filter (per student)", kind="license"
    )
    lic = make_license(
        db,
        world.a.district,
        product="Securly",
        seats=400,
        seats_used=300,
        term_start=t - timedelta(days=10),
        renewal_type=RenewalType.EXPRESS,
        catalog_item_id=item.id,
    )
    db.commit()
    state = terms.derive(
        term_start=lic.term_start,
        initial_months=12,
        renewal_months=12,
        renewal_type=RenewalType.EXPRESS,
        notice_days=0,
        today=t,
    )

    response = it.get(f"/licenses/{lic.id}")
    fragment = it.get(f"/licenses/{lic.id}", headers=htmx())

    body = text(response)
    assert response.status_code == 200
    assert '<span data-testid="utilization">75%</span>' in body
    assert "<meter" in body
    assert f"Lapses on {state.end.strftime('%b %-d, %Y')} unless renewed." in body
    assert (
        "Securly Filter (per student)" in body and f"/catalog/items/{item.id}" in body
    )
    assert "Cost per term: <strong>$1,800.00</strong>" in body
    assert "Term history" in body and "History" in body
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]


def test_click_to_edit_saves_one_field_and_refreshes_the_summaries(it, db, world):
    lic = make_license(
        db,
        world.a.district,
        seats=400,
        seats_used=100,
        renewal_type=RenewalType.TACIT,
        notice_days=30,
    )
    db.commit()

    editor = it.get(f"/licenses/{lic.id}/fields/seats_used/edit", headers=htmx())
    no_js = it.get(f"/licenses/{lic.id}/fields/seats_used/edit")
    saved = it.post(
        f"/licenses/{lic.id}/fields/seats_used",
        data={"seats_used": "500", "version": "1"},
        headers=htmx(),
    )
    notice = it.post(
        f"/licenses/{lic.id}/fields/notice_days",
        data={"notice_days": "90", "version": "2"},
        headers=htmx(),
    )

    assert (
        editor.status_code == 200
        and "<form" in text(editor)
        and "<html" not in text(editor)
    )
    assert no_js.status_code == 303 and no_js.headers["Location"].endswith("/edit")
    assert saved.status_code == 200
    body = text(saved)
    assert '<span data-testid="value-seats_used">500</span>' in body
    assert 'id="seat-info" hx-swap-oob="true"' in body and "125%" in body
    assert "more seats are in use than owned" in body
    lic = fresh(db).get(License, lic.id)
    assert (lic.seats_used, lic.notice_days, lic.version) == (500, 90, 3)
    assert notice.status_code == 200 and 'id="term-info" hx-swap-oob="true"' in text(
        notice
    )
    assert lic.decide_by == lic.current_term_end - timedelta(days=90)


def test_click_to_edit_answers_422_and_409(it, db, world):
    lic = make_license(db, world.a.district, seats=400)
    db.commit()

    invalid = it.post(
        f"/licenses/{lic.id}/fields/seats",
        data={"seats": "-1", "version": "1"},
        headers=htmx(),
    )
    blank = it.post(
        f"/licenses/{lic.id}/fields/price_per_seat",
        data={"price_per_seat": "", "version": "1"},
        headers=htmx(),
    )
    lic.seats = 450
    db.commit()  # someone else saves: version 2
    stale = it.post(
        f"/licenses/{lic.id}/fields/seats",
        data={"seats": "300", "version": "1"},
        headers=htmx(),
    )
    unknown = it.get(f"/licenses/{lic.id}/fields/district_id", headers=htmx())

    assert invalid.status_code == 422 and "Seats owned must be at least 0" in text(
        invalid
    )
    assert blank.status_code == 422 and "Price per seat is required" in text(blank)
    assert stale.status_code == 409
    assert "Someone else changed this license" in text(stale)
    assert "The current value is 450" in text(stale)
    assert 'name="version" value="2"' in text(stale)  # saving again will work
    assert unknown.status_code == 404
    assert fresh(db).get(License, lic.id).seats == 450


# --- renew, cancel, delete, bulk ------------------------------------------------------


def test_renewing_an_express_license_records_the_term_and_moves_the_decide_by(
    it, db, world
):
    t = today_in(db, world.a.district.id)
    lic = make_license(
        db,
        world.a.district,
        term_start=t - timedelta(days=30),
        seats=300,
        price_per_seat=Decimal("5.00"),
    )
    db.commit()
    term_1_end = fresh(db).get(License, lic.id).current_term_end or lic.term_start

    response = it.post(f"/licenses/{lic.id}/renew", data={"version": "1"})

    assert response.status_code == 303
    record = fresh(db).exec(select(TermRecord)).one()
    assert (record.subject_type, record.subject_id, record.term_number) == (
        "license",
        lic.id,
        2,
    )
    assert (record.price, record.seats) == (Decimal("1500.00"), 300)
    lic = db.get(License, lic.id)
    assert lic.current_term_number == 1
    assert lic.decide_by == record.end and lic.decide_by > term_1_end
    detail = text(it.get(f"/licenses/{lic.id}"))
    assert "Already renewed through term 2." in detail


def test_cancel_keeps_the_license_and_reinstate_brings_it_back(it, db, world):
    lic = make_license(db, world.a.district)
    db.commit()

    cancelled = it.post(f"/licenses/{lic.id}/cancel", data={"version": "1"})
    lic = fresh(db).get(License, lic.id)
    assert cancelled.status_code == 303
    assert (lic.status, lic.decide_by) == (AgreementStatus.CANCELLED, None)
    stale = it.post(f"/licenses/{lic.id}/reinstate", data={"version": "1"})
    reinstated = it.post(
        f"/licenses/{lic.id}/reinstate", data={"version": str(lic.version)}
    )

    assert stale.status_code == 409
    assert reinstated.status_code == 303
    assert fresh(db).get(License, lic.id).status != AgreementStatus.CANCELLED


def test_delete_removes_a_mistake_with_its_term_history(it, db, world):
    lic = make_license(db, world.a.district, product="Typo")
    db.add(
        TermRecord(
            district_id=world.a.district.id,
            subject_type="license",
            subject_id=lic.id,
            term_number=2,
            start=date(2026, 7, 1),
            end=date(2027, 6, 30),
        )
    )
    db.commit()

    response = it.post(f"/licenses/{lic.id}/delete", headers=htmx())

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/licenses"
    assert fresh(db).exec(select(License)).all() == []
    assert db.exec(select(TermRecord)).all() == []
    assert db.exec(select(AuditEvent).where(col(AuditEvent.action) == "delete")).first()


def test_bulk_actions_change_only_the_districts_own_licenses(it, db, world):
    mine = [make_license(db, world.a.district) for _ in range(3)]
    theirs = make_license(db, world.b.district)
    db.commit()
    ids = [str(lic.id) for lic in [*mine[:2], theirs]]

    renewal = it.post(
        "/licenses/bulk",
        data={"ids": ids, "action": "renewal_type", "value_renewal_type": "tacit"},
    )
    cancel = it.post(
        "/licenses/bulk", data={"ids": [str(mine[2].id)], "action": "cancel"}
    )
    nothing = it.post(
        "/licenses/bulk", data={"action": "cancel"}, follow_redirects=True
    )

    assert renewal.status_code == cancel.status_code == 303
    db = fresh(db)
    got = [db.get(License, lic.id) for lic in mine]
    assert [g.renewal_type for g in got] == [
        RenewalType.TACIT,
        RenewalType.TACIT,
        RenewalType.EXPRESS,
    ]
    assert got[0].decide_by == got[0].current_term_end - timedelta(
        days=got[0].notice_days
    )
    assert got[2].status == AgreementStatus.CANCELLED
    assert db.get(License, theirs.id).renewal_type == RenewalType.EXPRESS
    assert "select at least one license" in text(nothing)
    events = db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "license", col(AuditEvent.action) == "update"
        )
    ).all()
    assert len(events) == 3


# --- isolation ------------------------------------------------------------------------


def test_another_districts_license_is_a_404_on_every_route(it, db, world):
    theirs = make_license(db, world.b.district, product="Bravo secret")
    db.commit()
    base = f"/licenses/{theirs.id}"
    gets = [base, f"{base}/edit", f"{base}/fields/seats", f"{base}/fields/seats/edit"]
    posts = [
        base,
        f"{base}/fields/seats",
        f"{base}/renew",
        f"{base}/cancel",
        f"{base}/reinstate",
        f"{base}/delete",
    ]

    answers = [it.get(u, headers=h).status_code for u in gets for h in ({}, htmx())]
    answers += [
        it.post(u, data={"version": "1", "seats": "1"}).status_code for u in posts
    ]
    export = text(it.get("/licenses/export.csv"))

    assert answers == [404] * len(answers)
    assert "Bravo secret" not in export
    stored = fresh(db).get(License, theirs.id)
    assert (stored.seats, stored.version, stored.status) == (
        500,
        1,
        AgreementStatus.ACTIVE,
    )
