"""Coop staff run a round from the pages: create, open, close early, award."""

from __future__ import annotations

from sqlmodel import select

from lifecycle.enums import RoundState
from lifecycle.models import OrderLine, PurchaseRound
from lifecycle.work.queue import drain
from tests.conftest import fresh, sign_in, text
from tests.rounds.conftest import NEED_END, NEED_START, commit_qty


def _form(rw, **kw):
    return {
        "name": "Winter laptops",
        "need_start": NEED_START.isoformat(),
        "need_end": NEED_END.isoformat(),
        "closes_at": "2040-01-15T17:00",
        "notes": "",
        "catalog_item_ids": [str(rw.laptop.id)],
    } | kw


def _act(client, round_id, action, version, confirm=True):
    data = {"version": str(version)} | ({"confirm": "yes"} if confirm else {})
    return client.post(f"/rounds/{round_id}/{action}", data=data)


def test_staff_create_open_close_and_award_from_the_pages(app, client, db, rw):
    app.config["WTF_CSRF_ENABLED"] = False
    sign_in(client, rw.staff)
    assert "Latitude 3450 laptop" in text(client.get("/rounds/new"))
    bad = client.post("/rounds", data=_form(rw, name="", closes_at="soon"))
    assert bad.status_code == 422
    assert "Commitments close (UTC) must be a date and time" in text(bad)
    made = client.post("/rounds", data=_form(rw))
    assert made.status_code == 303
    found = fresh(db).exec(select(PurchaseRound)).one()
    assert found.state is RoundState.DRAFT
    assert found.closes_at.isoformat() == "2040-01-15T17:00:00+00:00"
    # an action without the ticked confirmation changes nothing
    assert (
        _act(client, found.id, "open", found.version, confirm=False).status_code == 422
    )
    assert fresh(db).get(PurchaseRound, found.id).state is RoundState.DRAFT
    assert _act(client, found.id, "open", found.version).status_code == 303
    drain(app)
    found = fresh(db).get(PurchaseRound, found.id)
    assert found.state is RoundState.OPEN and found.suggested_at is not None
    commit_qty(app, rw.world.a.it, found.id, rw.laptop, 260)
    assert _act(client, found.id, "close", found.version).status_code == 303
    found = fresh(db).get(PurchaseRound, found.id)
    assert found.state is RoundState.CLOSED
    page = text(client.get(f"/rounds/{found.id}"))
    assert "Alpha ISD" in page and "Results and savings" in page  # staff see names
    assert _act(client, found.id, "award", found.version).status_code == 303
    assert fresh(db).get(PurchaseRound, found.id).state is RoundState.AWARDED
    (line,) = db.exec(select(OrderLine)).all()
    assert (line.quantity, str(line.unit_price)) == (260, "495.00")


def test_districts_may_not_run_rounds(app, client, db, rw):
    app.config["WTF_CSRF_ENABLED"] = False
    sign_in(client, rw.world.a.it)
    assert client.get("/rounds/new").status_code == 403
    assert client.post("/rounds", data=_form(rw)).status_code == 403
    assert fresh(db).exec(select(PurchaseRound)).all() == []
