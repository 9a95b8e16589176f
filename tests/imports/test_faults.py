"""A worker killed in the middle of an import (docs/operations.md#what-survives-what):
the retried job resumes after the last committed chunk, no row twice, none lost.

Real RQ worker processes on the test's database and Redis: skipped without
LIFECYCLE_TEST_REDIS_URL (fakeredis lives inside one process), failed with CI=true.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from lifecycle.enums import ImportState, JobState
from lifecycle.imports.services import create_import, start_run
from lifecycle.models import Device, ImportFile, ImportRejection, JobRecord
from lifecycle.work.queue import RUN_RECORD, enqueue_now
from tests.conftest import CI, REDIS_SERVER_URL

from .files import csv_bytes

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
ROWS = 23  # five chunks of 5: the worker dies inside the third

WORKER = r"""
import os, pathlib, time

import redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from lifecycle.imports import jobs

jobs.CHUNK_ROWS = 5
marker = pathlib.Path(os.environ["FAULT_MARKER"])
if os.environ.get("FAULT_PAUSE"):
    real = jobs.apply_chunk
    calls = []

    def paused(session, **kw):
        calls.append(1)
        counts = real(session, **kw)
        if len(calls) == 3:
            session.flush()  # written, not committed
            marker.write_text("inside the third chunk")
            time.sleep(600)  # the test kills this process now
        return counts

    jobs.apply_chunk = paused

from lifecycle.work.queue import QUEUES, get_queue

connection = redis.Redis.from_url(os.environ["REDIS_URL"])
queues = [get_queue(name, connection) for name in QUEUES]
SimpleWorker(queues, connection=connection, serializer=JSONSerializer).work(
    burst=True, logging_level="WARNING"
)
"""


@pytest.fixture
def real_redis(redis_url):
    if not redis_url:
        if CI:
            pytest.fail("CI=true: set LIFECYCLE_TEST_REDIS_URL for the worker tests")
        pytest.skip("needs LIFECYCLE_TEST_REDIS_URL (workers are separate processes)")
    assert REDIS_SERVER_URL
    return redis_url


@pytest.fixture
def worker(
    database_url: str, redis_url: str | None, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(pause: bool = False, name: str = "worker") -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LIFECYCLE_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-1234567890",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url or "",
            "LIFECYCLE_EMBEDDED_WORKER": "0",
            "FAULT_PAUSE": "1" if pause else "",
            "FAULT_MARKER": str(tmp_path / f"{name}.marker"),
        }
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.marker = tmp_path / f"{name}.marker"  # type: ignore[attr-defined]
        process.log = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_import_resumes_after_the_last_committed_chunk(
    app, db, world, real_redis, worker
):
    header = ["Asset Tag", "Category", "Status"]
    rows = [[f"K-{i:03d}", "Chromebook", "Deployed"] for i in range(1, ROWS + 1)]
    rows[13][2] = "Vaporized"  # file row 15, in the third chunk: refused once
    imp = create_import(
        db, district_id=world.a.district.id, user_id=world.a.it.id,
        filename="k.csv", data=csv_bytes(header, rows), kind="devices",
    )  # fmt: skip
    start_run(db, imp=imp, user_id=world.a.it.id, dry_run=False)
    db.commit()
    victim = worker(pause=True, name="victim")
    wait_for(victim.marker.exists, "the worker to reach the third chunk")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(10)

    db.expire_all()
    stopped = db.get(ImportFile, imp.id)
    assert stopped is not None and stopped.state is ImportState.RUNNING
    assert stopped.last_row == 11 and stopped.created == 10
    count = select(func.count()).select_from(Device)
    assert db.exec(count).one() == 10  # the third chunk rolled back whole
    assert db.exec(select(func.count()).select_from(ImportRejection)).one() == 0

    # the retry (RQ re-enqueues an abandoned job that has retries left)
    enqueue_now(RUN_RECORD, stopped.job_id, job_id="import-retry")
    rerun = worker(name="rerun")
    assert rerun.wait(120) == 0, rerun.log.read_text()  # type: ignore[attr-defined]
    db.expire_all()
    done = db.get(ImportFile, imp.id)
    assert done is not None and done.state is ImportState.FINISHED, done.message
    assert (done.created, done.updated, done.unchanged, done.rejected) == (22, 0, 0, 1)
    tags = db.exec(select(Device.asset_tag).order_by(col(Device.asset_tag))).all()
    assert tags == [r[0] for r in rows if r[2] != "Vaporized"]
    refused = db.exec(select(ImportRejection.row_number)).all()
    assert refused == [15]
    job = db.get(JobRecord, done.job_id)
    assert job is not None and job.state is JobState.FINISHED and job.attempts == 2
