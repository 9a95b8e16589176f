"""What every benchmark shares: a throw-away database, the app, timing and statistics."""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lifecycle import create_app
from lifecycle.config import Settings, normalize_database_url

DEFAULT_SERVER = os.environ.get(
    "LIFECYCLE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


# --- databases ---------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (psycopg 3 driver)."""
    return str(sa.make_url(normalize_database_url(server_url)).set(database=name))


def _admin(server_url: str) -> Engine:
    return sa.create_engine(
        normalize_database_url(server_url),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )


def create_database(server_url: str, name: str) -> str:
    """(Re)create an empty PostgreSQL database and return its URL."""
    drop_database(server_url, name)
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# --- the app -------------------------------------------------------------------


def bench_app(url: str, *, instance_path: str | None = None) -> Flask:
    """The real app on `url`: no job worker (nothing runs behind the timings), no CSRF."""
    settings = Settings(
        env="development",
        secret_key="bench-secret-key-that-is-long-enough-0123456789",
        database_url=url,
        redis_url=None,
        embedded_worker=False,
        smtp_host="127.0.0.1",
        smtp_port=1,
    )
    return create_app(
        settings,
        INSTANCE_PATH=instance_path or tempfile.mkdtemp(prefix="lifecycle-bench-"),
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
    )


# --- statistics ------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 50 samples is the 48th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Samples:
    """Durations in seconds of repeated runs of one thing."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.nan

    @property
    def p95(self) -> float:
        return percentile(self.seconds, 95)

    def add(self, seconds: float) -> None:
        self.seconds.append(seconds)


def measure(
    name: str, run: Callable[[], Any], *, repeat: int, warmup: int = 0
) -> Samples:
    """Time `run` `repeat` times after `warmup` untimed runs."""
    for _ in range(warmup):
        run()
    samples = Samples(name)
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.add(time.perf_counter() - start)
    return samples


def interleaved(
    runs: dict[str, Callable[[], Any]], *, repeat: int, warmup: int = 0
) -> dict[str, Samples]:
    """Time several things round-robin, so load from other processes hits each alike."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    samples = {name: Samples(name) for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            samples[name].add(time.perf_counter() - start)
    return samples


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def ratio(value: float, baseline: float) -> str:
    if not baseline or math.isnan(baseline):
        return "   n/a"
    return f"{value / baseline:5.2f}×"


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: …; elapsed()` — seconds since the block began."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


# --- where the database time goes ----------------------------------------------------

_LITERALS = re.compile(r"'[^']*'|\b\d+\b|%\(\w+\)s|\$\d+")
_SPACE = re.compile(r"\s+")


def statement_shape(sql: str) -> str:
    """A statement with its literals and parameters blanked, on one line."""
    return _SPACE.sub(" ", _LITERALS.sub("?", sql)).strip()


class SqlTimer:
    """Per statement shape: how often it ran and for how long (client-side wall time)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self._started: dict[int, float] = {}

    def _before(self, conn: Any, cursor: Any, *_args: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        start = self._started.pop(id(cursor), None)
        if start is None:
            return
        shape = statement_shape(statement)
        self.calls[shape] += 1
        self.seconds[shape] += time.perf_counter() - start

    def __enter__(self) -> SqlTimer:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def report(self, top: int = 8, width: int = 150) -> str:
        rows = sorted(self.seconds.items(), key=lambda kv: kv[1], reverse=True)[:top]
        lines = [f"    {'total':>9} {'calls':>7} {'avg':>9}  statement"]
        for shape, seconds in rows:
            calls = self.calls[shape]
            lines.append(
                f"    {seconds:8.2f}s {calls:7d} {seconds / calls * 1000:7.2f}ms  "
                f"{shape[:width]}"
            )
        return "\n".join(lines)


# --- command lines -----------------------------------------------------------------------


def add_database_args(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--server-url",
        default=DEFAULT_SERVER,
        help="a PostgreSQL server URL (env LIFECYCLE_BENCH_DATABASE_URL); "
        "the benchmark creates its own database there",
    )
    parser.add_argument("--db-name", default=default_name, help="database to create")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database afterwards"
    )


def add_run_args(
    parser: argparse.ArgumentParser, *, repeat: int, warmup: int, reuse: str
) -> None:
    """The timed runs per case, their warm-up, and --reuse (what a kept database is
    used for, `reuse`)."""
    parser.add_argument(
        "--repeat", type=int, default=repeat, help=f"timed runs each (default {repeat})"
    )
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--reuse", action="store_true", help=reuse)
