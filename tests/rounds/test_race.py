"""A commit racing the close is either in the result or refused, never lost.

The commit holds the round row's shared lock to its end, the close the exclusive one
(rounds.services.lock_round). On PostgreSQL the ordered tests check that the second
party really waited for the first; on SQLite the database's one writer serializes
them the same way.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select

from lifecycle.db import get_db
from lifecycle.enums import RoundState
from lifecycle.models import Commitment, CommitmentUpdate, PurchaseRound, RoundItem
from lifecycle.rounds import closing, commit, services
from lifecycle.web.errors import Conflict
from tests.conftest import PG_SERVER_URL, fresh
from tests.rounds.conftest import commit_qty, line_of, new_round, open_now
from tests.test_locking import _until_the_other_writer_waits

pg_only = pytest.mark.skipif(
    not PG_SERVER_URL, reason="lock waits are observable on PostgreSQL only"
)


def _laptop_pool(db: Any, rw: Any) -> RoundItem:
    return (
        fresh(db)
        .exec(select(RoundItem).where(RoundItem.catalog_item_id == rw.laptop.id))
        .one()
    )


def _run(target: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["value"] = target()
        except Exception as exc:
            out["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


@pg_only
def test_a_commit_waiting_on_the_close_is_refused_after_it(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    commit_qty(app, rw.world.a.it, round_id, rw.laptop, 60)
    with get_db(app).scope() as closer:
        services.lock_round(closer, round_id, share=False)
        thread, out = _run(
            lambda: commit_qty(app, rw.world.b.it, round_id, rw.laptop, 40)
        )
        assert _until_the_other_writer_waits(closer)
        staff = closer.merge(rw.staff)
        assert closing.close_round(closer, round_id=round_id, early_by=staff).closed
    thread.join(30)
    assert isinstance(out.get("error"), Conflict)
    assert _laptop_pool(db, rw).pooled_qty == 60
    assert line_of(app, rw.world.b.it, round_id, rw.laptop).committed_qty is None


@pg_only
def test_a_close_waiting_on_a_commit_counts_it(app, db, rw):
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    commit_qty(app, rw.world.a.it, round_id, rw.laptop, 60)
    line = line_of(app, rw.world.b.it, round_id, rw.laptop)
    with get_db(app).scope() as committer:
        commit.commit_line(
            committer,
            user=committer.merge(rw.world.b.it),
            round_id=round_id,
            commitment_id=line.id,
            data=CommitmentUpdate(committed_qty=40, version=line.version),
        )

        def close() -> Any:
            with get_db(app).scope() as s:
                return closing.close_round(
                    s, round_id=round_id, early_by=s.merge(rw.staff)
                )

        thread, out = _run(close)
        assert _until_the_other_writer_waits(committer)
    thread.join(30)
    assert out["value"].closed
    assert _laptop_pool(db, rw).pooled_qty == 100


def test_many_commits_racing_the_close_lose_nothing(app, db, rw):
    """Every district commits again and again while the close runs: what the close
    counted is exactly the sum of the commits that were not refused."""
    round_id = new_round(app, rw)
    open_now(app, rw, round_id)
    users = [rw.world.a.it, rw.world.b.it, rw.c_it]
    accepted: dict[int, int] = {}
    refused: list[int] = []
    lock = threading.Lock()
    start = threading.Event()

    def keep_committing(n: int) -> None:
        user = users[n]
        start.wait()
        for qty in range(1, 40):
            try:
                saved = commit_qty(app, user, round_id, rw.laptop, qty * 10 + n)
            except Conflict:
                with lock:
                    refused.append(n)
                return
            with lock:
                accepted[n] = saved.committed_qty or 0

    def close() -> None:
        start.wait()
        with get_db(app).scope() as s:
            closing.close_round(s, round_id=round_id, early_by=s.merge(rw.staff))

    threads = [threading.Thread(target=keep_committing, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=close))
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(60)
    found = fresh(db).get(PurchaseRound, round_id)
    assert found is not None and found.state is RoundState.CLOSED
    stored = {
        c.district_id: c.committed_qty or 0
        for c in db.exec(
            select(Commitment).where(
                Commitment.round_item_id == _laptop_pool(db, rw).id
            )
        )
    }
    # what each district last had accepted is what is stored, and what was counted
    assert sum(accepted.values()) == sum(stored.values())
    assert _laptop_pool(db, rw).pooled_qty == sum(stored.values())
    # and after the close nothing more gets in
    with pytest.raises(Conflict):
        commit_qty(app, users[0], round_id, rw.laptop, 1)
