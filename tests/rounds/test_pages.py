"""The district's round pages: the list, a round with the live tiers (a fragment with
ETag/304), committing a line (422/409 re-render the lines), orders and received."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from lifecycle.db import get_db
from lifecycle.models import Commitment, OrderLine, PurchaseRound
from lifecycle.rounds import award
from tests.conftest import fresh, htmx, sign_in, text
from tests.rounds.conftest import commit_qty, line_of, new_round, open_now
from tests.rounds.test_services import _close, _issue_example


def _csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


def test_the_list_shows_open_rounds_and_never_drafts_to_districts(app, client, rw):
    new_round(app, rw, name="Draft only")
    opened = new_round(app, rw, name="Open one")
    open_now(app, rw, opened)
    sign_in(client, rw.world.a.it)
    page = text(client.get("/rounds"))
    assert "Open one" in page and "Draft only" not in page
    fragment = client.get("/rounds", headers=htmx())
    assert "<html" not in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


def test_an_empty_list_says_so(client, rw):
    sign_in(client, rw.world.a.it)
    assert 'data-testid="empty"' in text(client.get("/rounds"))


def test_the_round_page_shows_the_pool_and_only_the_districts_own_lines(
    app, client, rw
):
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    commit_qty(app, rw.world.b.it, round_id, rw.laptop, 770)
    sign_in(client, rw.world.a.it)
    page = text(client.get(f"/rounds/{round_id}"))
    assert "230 more units and everyone pays $470.00" in page
    assert "Bravo ISD" not in page
    assert "Your lines" in page
    mine = line_of(app, rw.world.a.it, round_id, rw.laptop)
    theirs = line_of(app, rw.world.b.it, round_id, rw.laptop)
    assert f'id="line-{mine.id}"' in page
    assert f'id="line-{theirs.id}"' not in page


def test_the_tier_fragment_answers_304_until_the_pool_moves(app, client, rw):
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    sign_in(client, rw.world.a.it)
    url = f"/rounds/{round_id}/tiers"
    first = client.get(url, headers=htmx())
    assert first.status_code == 200
    assert 'hx-trigger="every 10s"' in text(first)
    etag = first.headers["ETag"]
    same = client.get(url, headers=htmx(**{"If-None-Match": etag}))
    assert same.status_code == 304
    commit_qty(app, rw.world.b.it, round_id, rw.laptop, 300)
    moved = client.get(url, headers=htmx(**{"If-None-Match": etag}))
    assert moved.status_code == 200
    assert "700 more units and everyone pays $470.00" in text(moved)


def test_commit_a_line_from_the_page(app, client, db, rw):
    _csrf_off(app)
    round_id = new_round(app, rw, catalog_item_ids=[rw.laptop.id])
    open_now(app, rw, round_id)
    mine = line_of(app, rw.world.a.it, round_id, rw.laptop)
    sign_in(client, rw.world.a.it)
    url = f"/rounds/{round_id}/commitments/{mine.id}"
    ok = client.post(
        url, data={"committed_qty": "120", "version": str(mine.version)}, headers=htmx()
    )
    assert ok.status_code == 200
    assert "committed 120" in text(ok)
    bad = client.post(
        url,
        data={"committed_qty": "-3", "version": str(mine.version + 1)},
        headers=htmx(),
    )
    assert bad.status_code == 422
    assert 'role="alert"' in text(bad)
    stale = client.post(
        url, data={"committed_qty": "7", "version": str(mine.version)}, headers=htmx()
    )
    assert stale.status_code == 409
    assert fresh(db).get(Commitment, mine.id).committed_qty == 120


def test_after_close_the_page_shows_results_and_refuses_commits(app, client, db, rw):
    _csrf_off(app)
    round_id = _issue_example(app, db, rw)
    _close(app, round_id)
    sign_in(client, rw.world.b.it)
    page = text(client.get(f"/rounds/{round_id}"))
    assert "Results and savings" in page
    assert "$7,500.00" in page  # Bravo's saving vs alone
    assert "Alpha ISD" not in page and "Charlie ISD" not in page
    mine = line_of(app, rw.world.b.it, round_id, rw.laptop)
    refused = client.post(
        f"/rounds/{round_id}/commitments/{mine.id}",
        data={"committed_qty": "1", "version": str(mine.version)},
        headers=htmx(),
    )
    assert refused.status_code == 409
    assert "can no longer change" in text(refused)
    assert fresh(db).get(Commitment, mine.id).committed_qty == 300


def test_close_pending_is_shown_once_the_close_time_has_passed(app, client, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    found = fresh(db).get(PurchaseRound, round_id)
    found.closes_at = found.closes_at - timedelta(days=30)
    db.commit()
    sign_in(client, rw.world.a.it)
    assert "Close pending" in text(client.get(f"/rounds/{round_id}"))


def test_orders_page_and_mark_received(app, client, db, rw):
    _csrf_off(app)
    round_id = _issue_example(app, db, rw)
    _close(app, round_id)
    with get_db(app).scope() as s:
        award.award_round(s, user=s.merge(rw.staff), round_id=round_id)
    sign_in(client, rw.world.a.it)
    page = text(client.get("/orders"))
    assert "Latitude 3450 laptop" in page and "$282,000.00" in page  # 600 × 470
    mine = (
        fresh(db)
        .exec(select(OrderLine).where(OrderLine.district_id == rw.world.a.district.id))
        .one()
    )
    done = client.post(f"/orders/{mine.id}/receive", data={"version": mine.version})
    assert done.status_code == 303
    assert fresh(db).get(OrderLine, mine.id).state.value == "received"
    theirs = db.exec(
        select(OrderLine).where(OrderLine.district_id == rw.world.b.district.id)
    ).one()
    assert (
        client.post(
            f"/orders/{theirs.id}/receive", data={"version": theirs.version}
        ).status_code
        == 404
    )


def test_results_download_as_csv_and_xlsx_own_lines_for_a_district(app, client, db, rw):
    import csv
    import io

    from openpyxl import load_workbook

    round_id = _issue_example(app, db, rw)
    sign_in(client, rw.world.b.it)
    assert client.get(f"/rounds/{round_id}/results.csv").status_code == 422
    _close(app, round_id)
    own = client.get(f"/rounds/{round_id}/results.csv")
    assert own.status_code == 200 and own.mimetype == "text/csv"
    assert own.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(text(own))))
    assert table[0][:2] == ["Item", "SKU"]
    assert [row[2] for row in table[1:]] == ["300", "300"]  # its line, then the total
    assert table[-1][-1] == "7500.00"
    assert "Alpha" not in text(own) and "Charlie" not in text(own)
    staff = app.test_client()
    sign_in(staff, rw.staff)
    book = load_workbook(io.BytesIO(staff.get(f"/rounds/{round_id}/results.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "District"
    assert {r[0] for r in rows[1:-1]} == {"Alpha ISD", "Bravo ISD", "Charlie ISD"}
    assert rows[-1][0] == "Total" and rows[-1][-1] == 30000
