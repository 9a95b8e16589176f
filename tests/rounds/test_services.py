"""Rounds end to end through the services: draft, open (suggestions, notices), commit,
close (final tiers, MOQ, idempotent), results and savings, award, received."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, col, select

from lifecycle.db import get_db
from lifecycle.enums import (
    DeviceCategory,
    JobState,
    ObligationKind,
    ObligationState,
    OrderState,
    RoundState,
)
from lifecycle.models import (
    AuditEvent,
    CategoryPolicy,
    Commitment,
    CommitmentUpdate,
    JobRecord,
    Notification,
    Obligation,
    OrderLine,
    OutboxEmail,
    PurchaseRound,
    RoundCreate,
    RoundItem,
    RoundUpdate,
    utcnow,
)
from lifecycle.rounds import award, closing, commit, services
from lifecycle.scan.engine import scan_district
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lifecycle.work.queue import drain
from tests import factories
from tests.conftest import fresh
from tests.rounds.conftest import (
    NEED_END,
    NEED_START,
    RoundWorld,
    commit_qty,
    in_days,
    line_of,
    make_obligation,
    new_round,
    open_now,
)


def _state(db: Session, round_id: int) -> PurchaseRound:
    found = fresh(db).get(PurchaseRound, round_id)
    assert found is not None
    return found


def _needs(db: Session, rw: RoundWorld, counts: tuple[int, int, int]) -> None:
    """Laptop refreshes due in the need window, per district (one unit each)."""
    for district, n in zip(rw.districts, counts, strict=True):
        for k in range(n):
            make_obligation(
                db,
                district,
                catalog_item_id=rw.laptop.id,
                due_date=NEED_START + timedelta(days=k % 300),
            )
    db.commit()


def _issue_example(app: Flask, db: Session, rw: RoundWorld) -> int:
    """Districts commit 600, 300 and 150 laptops to an open round."""
    _needs(db, rw, (600, 300, 150))
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    for user, qty in zip(
        [rw.world.a.it, rw.world.b.it, rw.c_it], (600, 300, 150), strict=True
    ):
        commit_qty(app, user, round_id, rw.laptop, qty)
    return round_id


def _close(app: Flask, round_id: int, **kw) -> closing.CloseOutcome:
    found_closes = None
    with get_db(app).scope() as s:
        found_closes = s.get(PurchaseRound, round_id).closes_at  # type: ignore[union-attr]
    with get_db(app).scope(actor_label="round close") as s:
        return closing.close_round(
            s, round_id=round_id, now=found_closes + timedelta(seconds=1), **kw
        )


# --- drafts -------------------------------------------------------------------------


def test_staff_create_a_draft_districts_do_not_see_it(app, db, rw):
    round_id = new_round(app, rw)
    found = _state(db, round_id)
    assert found.state is RoundState.DRAFT
    with get_db(app).scope() as s:
        assert len(services.round_items(s, round_id)) == 2
        with pytest.raises(NotFound):
            services.get_round(s, s.merge(rw.world.a.it), round_id)


def test_a_district_cannot_create_a_round(app, rw):
    data = RoundCreate(
        name="X", need_start=NEED_START, need_end=NEED_END, closes_at=in_days(3)
    )
    with get_db(app).scope() as s, pytest.raises(Forbidden):
        services.create_round(s, user=s.merge(rw.world.a.it), data=data)


def test_unknown_items_and_backwards_windows_are_refused(app, rw):
    with pytest.raises(ValueError, match="need_end"):
        RoundCreate(
            name="X", need_start=NEED_END, need_end=NEED_START, closes_at=in_days(3)
        )
    data = RoundCreate(
        name="X",
        need_start=NEED_START,
        need_end=NEED_END,
        closes_at=in_days(3),
        catalog_item_ids=[rw.laptop.id, 999_999],
    )
    with get_db(app).scope() as s, pytest.raises(ValidationFailed) as caught:
        services.create_round(s, user=s.merge(rw.staff), data=data)
    assert "999999" in caught.value.fields["catalog_item_ids"]


def test_edit_a_draft_with_its_version_then_a_stale_edit_is_a_conflict(app, db, rw):
    round_id = new_round(app, rw)
    found = _state(db, round_id)
    version = found.version
    data = RoundUpdate(
        name="Spring laptops (revised)",
        need_start=NEED_START,
        need_end=NEED_END,
        closes_at=found.closes_at,
        catalog_item_ids=[rw.laptop.id],
        version=found.version,
    )
    with get_db(app).scope() as s:
        services.update_round(s, user=s.merge(rw.staff), round_id=round_id, data=data)
    again = _state(db, round_id)
    assert again.name == "Spring laptops (revised)"
    assert again.version == version + 1
    with get_db(app).scope() as s:
        assert [ci.id for _, ci in services.round_items(s, round_id)] == [rw.laptop.id]
        with pytest.raises(Conflict):
            services.update_round(
                s, user=s.merge(rw.staff), round_id=round_id, data=data
            )


def test_a_round_with_no_items_or_a_past_close_cannot_open(app, db, rw):
    round_id = new_round(app, rw, catalog_item_ids=[], closes_at=in_days(-1))
    version = _state(db, round_id).version
    with get_db(app).scope() as s, pytest.raises(ValidationFailed) as caught:
        services.open_round(
            s, user=s.merge(rw.staff), round_id=round_id, version=version
        )
    assert set(caught.value.fields) == {"catalog_item_ids", "closes_at"}
    assert _state(db, round_id).state is RoundState.DRAFT


# --- opening ------------------------------------------------------------------------


def test_opening_suggests_each_districts_needs_in_the_window_and_tells_it_once(
    app, db, rw
):
    _needs(db, rw, (3, 2, 0))
    a = rw.world.a.district
    # outside the window, already ordered, or a warranty: not suggested
    make_obligation(db, a, catalog_item_id=rw.laptop.id, due_date=date(2028, 7, 1))
    make_obligation(db, a, catalog_item_id=rw.laptop.id, state=ObligationState.ORDERED)
    make_obligation(db, a, catalog_item_id=rw.laptop.id, kind=ObligationKind.WARRANTY)
    # a license renewal: its seats
    make_obligation(
        db,
        a,
        kind=ObligationKind.LICENSE_RENEWAL,
        subject_type="license",
        catalog_item_id=rw.license.id,
        quantity=1200,
    )
    db.commit()
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)

    record = fresh(db).exec(select(JobRecord)).one()
    assert record.state is JobState.FINISHED
    assert record.progress == 100
    assert record.result["suggested_units"] == 3 + 2 + 1200
    suggested = {
        (c.district_id, c.round_item_id): c.suggested_qty
        for c in db.exec(select(Commitment)).all()
    }
    items = {ri.catalog_item_id: ri.id for ri in db.exec(select(RoundItem)).all()}
    laptop, lic = items[rw.laptop.id], items[rw.license.id]
    b, c = rw.world.b.district, rw.c
    assert suggested == {
        (a.id, laptop): 3,
        (a.id, lic): 1200,
        (b.id, laptop): 2,
        (b.id, lic): 0,
        (c.id, laptop): 0,
        (c.id, lic): 0,
    }
    assert _state(db, round_id).suggested_at is not None
    # every district's IT user told once, bell and e-mail
    bells = db.exec(select(Notification).where(Notification.kind == "round")).all()
    assert sorted(n.user_id for n in bells) == sorted(
        [rw.world.a.it.id, rw.world.b.it.id, rw.c_it.id]
    )
    assert all(n.link == f"/rounds/{round_id}" for n in bells)
    mails = db.exec(select(OutboxEmail).where(OutboxEmail.kind == "round")).all()
    assert len(mails) == 3

    # the job run again (a retry after a kill): nothing more
    with get_db(app).scope() as s:
        from lifecycle.rounds.suggest import write_suggestions

        again = write_suggestions(s, round_id)
    assert again["message"].startswith("Nothing to do")
    assert fresh(db).exec(select(sa.func.count()).select_from(Notification)).one() == 3
    assert db.exec(select(sa.func.count()).select_from(Commitment)).one() == 6


def test_a_refresh_is_suggested_as_the_policys_replacement_item(app, db, rw):
    """Through the real scan: a district's policy names the laptop as replacement."""
    a = rw.world.a.district
    old_model = factories.make_catalog_item(
        db,
        factories.make_vehicle(db, rw.world.coop, factories.make_vendor(db)),
        name="Old laptop",
        category=DeviceCategory.LAPTOP,
        lifespan_months=48,
    )
    db.add(
        CategoryPolicy(
            district_id=a.id,
            category=DeviceCategory.LAPTOP,
            lifespan_months=48,
            replacement_item_id=rw.laptop.id,
        )
    )
    for _ in range(4):
        factories.make_device(
            db,
            a,
            category=DeviceCategory.LAPTOP,
            model="Old laptop",
            catalog_item_id=old_model.id,
            purchase_date=date(2023, 9, 1),  # due Sep 1, 2027: in the need window
        )
    db.commit()
    scan_district(db, district_id=a.id, today=date(2026, 12, 1))
    db.commit()
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    assert line_of(app, rw.world.a.it, round_id, rw.laptop).suggested_qty == 4


# --- committing ---------------------------------------------------------------------


def test_a_district_commits_its_own_lines_with_their_version(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    line = line_of(app, rw.world.a.it, round_id, rw.laptop)
    saved = commit_qty(app, rw.world.a.it, round_id, rw.laptop, 40)
    assert (saved.committed_qty, saved.version) == (40, line.version + 1)
    audit = (
        fresh(db)
        .exec(
            select(AuditEvent).where(
                AuditEvent.entity_type == "commitment", AuditEvent.entity_id == line.id
            )
        )
        .all()
    )
    assert [e.changes["committed_qty"] for e in audit] == [[None, 40]]
    assert audit[0].actor_id == rw.world.a.it.id
    # a stale version: 409, nothing changes
    with get_db(app).scope() as s, pytest.raises(Conflict):
        commit.commit_line(
            s,
            user=s.merge(rw.world.a.it),
            round_id=round_id,
            commitment_id=line.id,
            data=CommitmentUpdate(committed_qty=99, version=line.version),
        )
    assert fresh(db).get(Commitment, line.id).committed_qty == 40
    # zero is "not this time"
    assert commit_qty(app, rw.world.a.it, round_id, rw.laptop, 0).committed_qty == 0


def test_another_districts_line_is_not_found_and_others_may_not_commit(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    theirs = line_of(app, rw.world.b.it, round_id, rw.laptop)
    data = CommitmentUpdate(committed_qty=5, version=theirs.version)
    for user in (rw.world.a.it, rw.staff):
        with get_db(app).scope() as s, pytest.raises(NotFound):
            commit.commit_line(
                s,
                user=s.merge(user),
                round_id=round_id,
                commitment_id=theirs.id,
                data=data,
            )
    # the finance user of the owning district sees it but may not commit
    with get_db(app).scope() as s, pytest.raises(Forbidden):
        commit.commit_line(
            s,
            user=s.merge(rw.world.b.finance),
            round_id=round_id,
            commitment_id=theirs.id,
            data=data,
        )
    # the right line under another round's id: not found either
    other = new_round(app, rw, name="Other")
    open_now(app, rw, other)
    with get_db(app).scope() as s, pytest.raises(NotFound):
        commit.commit_line(
            s,
            user=s.merge(rw.world.b.it),
            round_id=other,
            commitment_id=theirs.id,
            data=data,
        )
    assert fresh(db).get(Commitment, theirs.id).committed_qty is None


@pytest.mark.parametrize(
    "body",
    [
        {"committed_qty": -1, "version": 1},
        {"committed_qty": 2.5, "version": 1},
        {"committed_qty": "12", "version": 1},
        {"committed_qty": True, "version": 1},
        {"committed_qty": 5},
    ],
)
def test_bad_quantities_are_refused_by_the_input_model(body):
    with pytest.raises(ValueError):
        CommitmentUpdate.model_validate(body)


def test_a_commit_after_the_close_time_is_refused_and_changes_nothing(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    commit_qty(app, rw.world.a.it, round_id, rw.laptop, 10)
    late = _state(db, round_id).closes_at + timedelta(seconds=1)
    # past the close time, the close job not run yet (Redis down): close pending
    assert services.status(_state(db, round_id), late).code == "close_pending"
    with pytest.raises(Conflict, match="can no longer change"):
        commit_qty(app, rw.world.a.it, round_id, rw.laptop, 99, now=late)
    assert line_of(app, rw.world.a.it, round_id, rw.laptop).committed_qty == 10
    _close(app, round_id)
    with pytest.raises(Conflict, match="can no longer change"):
        commit_qty(app, rw.world.a.it, round_id, rw.laptop, 99)
    assert line_of(app, rw.world.a.it, round_id, rw.laptop).committed_qty == 10


# --- close, results, award -----------------------------------------------------------


def test_close_sets_the_pooled_tier_and_savings_match_the_worked_example(app, db, rw):
    round_id = _issue_example(app, db, rw)
    outcome = _close(app, round_id)
    assert outcome.closed
    found = _state(db, round_id)
    assert found.state is RoundState.CLOSED
    items = {ri.catalog_item_id: ri for ri in db.exec(select(RoundItem)).all()}
    laptop = items[rw.laptop.id]
    assert (laptop.pooled_qty, laptop.final_unit_price, laptop.final_min_qty) == (
        1050,
        Decimal("470.00"),
        1000,
    )
    assert not laptop.cancelled
    # nobody committed licenses: below the minimum of 2,000 seats, cancelled
    assert items[rw.license.id].cancelled
    with get_db(app).scope() as s:
        staff = closing.results(s, s.merge(rw.staff), round_id)
        assert staff.total.saved_vs_alone == Decimal("30000.00")
        assert staff.total.saved_vs_list == Decimal("52500.00")
        assert staff.total.amount == Decimal("493500.00")
        by = {line.district_name: line.line for line in staff.lines}
        assert by["Alpha ISD"].alone_price == Decimal("495.00")
        assert by["Charlie ISD"].alone_price == Decimal("520.00")
        # a district sees its own lines only, and no one else's name
        own = closing.results(s, s.merge(rw.world.b.it), round_id)
        assert {line.district_name for line in own.lines} == {"Bravo ISD"}
        assert own.total.saved_vs_alone == Decimal("7500.00")
        assert list(own.by_district) == [rw.world.b.district.id]


def test_closing_twice_changes_nothing_and_tells_no_one_again(app, db, rw):
    round_id = _issue_example(app, db, rw)
    before = fresh(db).exec(select(sa.func.count()).select_from(Notification)).one()
    assert _close(app, round_id).closed
    told = fresh(db).exec(select(sa.func.count()).select_from(Notification)).one()
    assert told - before == 3  # each committing district's IT user, once
    stamp = _state(db, round_id).closed_at
    again = _close(app, round_id)
    assert not again.closed
    assert _state(db, round_id).closed_at == stamp
    assert (
        fresh(db).exec(select(sa.func.count()).select_from(Notification)).one() == told
    )


def test_a_close_killed_half_way_leaves_the_round_open_and_the_rerun_does_it_all(
    app, db, rw, monkeypatch
):
    round_id = _issue_example(app, db, rw)
    real = closing._tell_participants

    def dies(*args, **kw):
        real(*args, **kw)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(closing, "_tell_participants", dies)
    with pytest.raises(RuntimeError):
        _close(app, round_id)
    assert _state(db, round_id).state is RoundState.OPEN
    assert all(ri.pooled_qty is None for ri in db.exec(select(RoundItem)).all())
    monkeypatch.setattr(closing, "_tell_participants", real)
    before = db.exec(select(sa.func.count()).select_from(OutboxEmail)).one()
    assert _close(app, round_id).closed
    after = fresh(db).exec(select(sa.func.count()).select_from(OutboxEmail)).one()
    assert after - before == 3
    assert _state(db, round_id).state is RoundState.CLOSED


def test_districts_of_a_cancelled_item_are_told_which(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    commit_qty(app, rw.world.a.it, round_id, rw.license, 500)
    commit_qty(app, rw.world.b.it, round_id, rw.laptop, 60)
    _close(app, round_id)
    bells = {
        n.user_id: n.body
        for n in fresh(db).exec(
            select(Notification).where(col(Notification.title).like("%closed%"))
        )
    }
    assert "Filtering seat (500 of the 2,000 needed)" in bells[rw.world.a.it.id]
    assert "cancelled" not in bells[rw.world.b.it.id]
    assert rw.c_it.id not in bells  # committed nothing: not a participant


def test_early_close_by_staff_and_only_by_staff(app, db, rw):
    round_id = _issue_example(app, db, rw)
    with get_db(app).scope() as s, pytest.raises(Forbidden):
        closing.close_round(s, round_id=round_id, early_by=s.merge(rw.world.a.it))
    with get_db(app).scope() as s:
        assert closing.close_round(
            s, round_id=round_id, early_by=s.merge(rw.staff)
        ).closed
    found = _state(db, round_id)
    assert found.state is RoundState.CLOSED
    assert found.closes_at <= utcnow()


def test_the_scheduled_close_before_its_time_does_nothing(app, db, rw):
    round_id = _issue_example(app, db, rw)
    with get_db(app).scope() as s:
        assert not closing.close_round(s, round_id=round_id).closed
    assert _state(db, round_id).state is RoundState.OPEN


def test_award_orders_the_lines_and_the_needs_they_cover_once(app, db, rw):
    round_id = _issue_example(app, db, rw)
    # Alpha commits 600 of its 600 needs; Bravo lowers to 250 of its 300
    commit_qty(app, rw.world.b.it, round_id, rw.laptop, 250)
    _close(app, round_id)
    with get_db(app).scope() as s:
        outcome = award.award_round(s, user=s.merge(rw.staff), round_id=round_id)
    assert outcome.order_lines == 3
    assert outcome.obligations_ordered == 600 + 250 + 150
    lines = {o.district_id: o for o in fresh(db).exec(select(OrderLine)).all()}
    b = lines[rw.world.b.district.id]
    assert (b.quantity, b.unit_price, b.amount, b.state) == (
        250,
        Decimal("470.00"),
        Decimal("117500.00"),
        OrderState.ORDERED,
    )
    assert b.vehicle_id == rw.laptop.vehicle_id
    # Bravo's 50 latest-due needs stay open
    states = db.exec(
        select(Obligation.state, sa.func.count())
        .where(Obligation.district_id == rw.world.b.district.id)
        .group_by(Obligation.state)
    ).all()
    assert dict(states) == {ObligationState.ORDERED: 250, ObligationState.UPCOMING: 50}
    assert _state(db, round_id).state is RoundState.AWARDED
    with get_db(app).scope() as s:
        again = award.award_round(s, user=s.merge(rw.staff), round_id=round_id)
    assert not again.awarded
    assert fresh(db).exec(select(sa.func.count()).select_from(OrderLine)).one() == 3
    with get_db(app).scope() as s:
        spend = award.ordered_amounts(s, rw.world.b.district.id)
    assert spend == {rw.laptop.id: (250, Decimal("117500.00"))}


def test_only_a_closed_round_is_awarded(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    with get_db(app).scope() as s, pytest.raises(Conflict):
        award.award_round(s, user=s.merge(rw.staff), round_id=round_id)


def test_a_district_marks_its_own_order_line_received(app, db, rw):
    round_id = _issue_example(app, db, rw)
    _close(app, round_id)
    with get_db(app).scope() as s:
        award.award_round(s, user=s.merge(rw.staff), round_id=round_id)
    mine = (
        fresh(db)
        .exec(select(OrderLine).where(OrderLine.district_id == rw.world.a.district.id))
        .one()
    )
    with get_db(app).scope() as s, pytest.raises(NotFound):
        award.mark_received(
            s, user=s.merge(rw.world.b.it), line_id=mine.id, version=mine.version
        )
    with get_db(app).scope() as s:
        award.mark_received(
            s, user=s.merge(rw.world.a.it), line_id=mine.id, version=mine.version
        )
    got = fresh(db).get(OrderLine, mine.id)
    assert got.state is OrderState.RECEIVED
    assert got.received_by_id == rw.world.a.it.id
    with get_db(app).scope() as s, pytest.raises(Conflict):
        award.mark_received(
            s, user=s.merge(rw.world.a.it), line_id=mine.id, version=got.version
        )


def test_cancel_a_draft_or_open_round_not_a_closed_one(app, db, rw):
    round_id = new_round(app, rw)
    with get_db(app).scope() as s:
        services.cancel_round(
            s,
            user=s.merge(rw.staff),
            round_id=round_id,
            version=_state(db, round_id).version,
        )
    assert _state(db, round_id).state is RoundState.CANCELLED
    closed = _issue_example(app, db, rw)
    _close(app, closed)
    with get_db(app).scope() as s, pytest.raises(Conflict):
        services.cancel_round(
            s,
            user=s.merge(rw.staff),
            round_id=closed,
            version=_state(db, closed).version,
        )


def test_the_close_job_runs_at_the_close_time_from_the_queue(app, db, rw):
    round_id = new_round(app, rw, closes_at=in_days(1 / 86_400))  # a second away
    open_now(app, rw, round_id)
    import time

    time.sleep(3)
    drain(app)
    assert _state(db, round_id).state is RoundState.CLOSED


def test_the_sweep_closes_a_round_whose_close_job_was_lost(app, db, rw):
    from lifecycle.rounds.jobs import sweep_due_closes
    from lifecycle.work.queue import get_queue, get_redis

    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    get_redis(app).flushdb()  # Redis lost everything, the scheduled close too
    with get_db(app).scope() as s:
        assert sweep_due_closes(s) == 0  # not due yet
    with get_db(app).scope() as s:
        s.get(PurchaseRound, round_id).closes_at = utcnow()  # type: ignore[union-attr]
    at = utcnow() + timedelta(seconds=1)
    with get_db(app).scope() as s:
        assert sweep_due_closes(s, now=at) == 1
        assert sweep_due_closes(s, now=at) == 0  # one job a minute, however often swept
    assert get_queue("default", get_redis(app)).count == 1
    assert _state(db, round_id).state is RoundState.OPEN  # close pending
    drain(app)
    assert _state(db, round_id).state is RoundState.CLOSED
