"""Scans on demand (API, CLI), nightly fan-out and rescans after edits, all through RQ."""

from __future__ import annotations

from flask.cli import ScriptInfo
from sqlmodel import select

from lifecycle.auth import create_token
from lifecycle.cli import main
from lifecycle.db import get_db
from lifecycle.models import JobRecord, Obligation
from lifecycle.scan.jobs import fan_out_nightly, schedule_rescan
from lifecycle.work.queue import QUEUES, drain, get_queue, get_redis
from tests import factories
from tests.conftest import bearer


def queued(app) -> int:
    return sum(get_queue(n, get_redis(app)).count for n in QUEUES)


def test_district_it_starts_a_scan_through_the_api_and_polls_the_job(
    app, client, db, world
):
    factories.make_device(db, world.a.district, lifespan_months=48)
    factories.make_device(db, world.b.district, lifespan_months=48)
    _, secret = create_token(db, user=world.a.it, name="t")
    db.commit()
    response = client.post("/api/v1/scans", headers=bearer(secret))
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert job["state"] == "queued" and response.headers["Location"].endswith(
        f"/jobs/{job['id']}"
    )
    drain(app)
    polled = client.get(f"/api/v1/jobs/{job['id']}", headers=bearer(secret)).get_json()
    assert polled["state"] == "finished", polled
    assert polled["result"]["obligations_written"] == 1
    db.expire_all()
    assert {o.district_id for o in db.exec(select(Obligation)).all()} == {
        world.a.district.id
    }


def test_scan_permissions(client, db, world):
    _, it_secret = create_token(db, user=world.a.it, name="t")
    _, viewer_secret = create_token(db, user=world.a.viewer, name="t")
    _, admin_secret = create_token(db, user=world.admin, name="t")
    db.commit()
    other = {"district_id": world.b.district.id}
    assert (
        client.post("/api/v1/scans", json=other, headers=bearer(it_secret)).status_code
        == 404
    )
    assert (
        client.post("/api/v1/scans", headers=bearer(viewer_secret)).status_code == 403
    )
    assert (
        client.post(
            "/api/v1/scans", json=other, headers=bearer(admin_secret)
        ).status_code
        == 202
    )
    assert (
        client.post(
            "/api/v1/scans", json={"district_id": "x"}, headers=bearer(admin_secret)
        ).status_code
        == 422
    )


def test_nightly_fan_out_enqueues_one_scan_per_district_once(app, db, world):
    assert fan_out_nightly(db) == 2
    assert fan_out_nightly(db) == 0  # a second tick the same day adds nothing
    assert queued(app) == 2
    drain(app)
    assert queued(app) == 0


def test_edits_schedule_a_single_delayed_rescan(app, db, world):
    session = get_db(app).session()
    for _ in range(5):
        schedule_rescan(session, world.a.district.id)
    session.commit()
    scheduled = get_queue("default", get_redis(app)).scheduled_job_registry
    assert len(scheduled) == 1
    session.close()


def test_cli_scan_prints_what_changed(app, db, world):
    factories.make_device(db, world.a.district, lifespan_months=48)
    db.commit()
    runner = app.test_cli_runner()
    info = ScriptInfo(create_app=lambda: app)
    result = runner.invoke(
        main, ["scan", "--district", str(world.a.district.id)], obj=info
    )
    assert result.exit_code == 0, result.output
    assert "obligations_written=1" in result.output
    again = runner.invoke(
        main, ["scan", "--district", str(world.a.district.id)], obj=info
    )
    assert "no changes" in again.output
    assert db.exec(select(JobRecord)).all() == []  # the CLI runs in-process, no job
