"""The cooperative's pipeline at statewide size, against a bare aggregate in the same run.

Seeds as bench/scan.py does (1,000 districts, 1,000,000 devices, 200,000 licenses,
50,000 contracts) and runs its first full scan, so every obligation exists. Then times,
signed in as the seed's cooperative staff user through the app's test client (the whole
request: the queries, the pivot, the chart and the template), alternating with the
baseline so outside load hits both alike:

  page by vendor     /pipeline (4 quarters, by vendor)                 target p95 ≤ 300 ms
  page by item       /pipeline?group=item&quarters=8                   target p95 ≤ 300 ms
  estimate (CSV)     /pipeline/estimate.csv?quarters=8                 reported, no target

Baseline: the bare `SELECT kind, sum(quantity), sum(estimated_cost) FROM obligations
WHERE state IN (the needs) AND kind IN (the priced kinds) AND due_date < :end GROUP BY
kind` over the same rows, in a session of its own.

    python -m bench.pipeline --workers 2                 # full size
    python -m bench.pipeline --devices 100000 --licenses 20000 --contracts 5000 \\
        --districts 100
    python -m bench.pipeline --reuse --keep              # again on a kept database
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any
from unittest import mock

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from lifecycle.budget.inputs import NEEDS
from lifecycle.db import get_db
from lifecycle.pipeline import pivot, services

from .common import (
    Samples,
    add_database_args,
    bench_app,
    create_database,
    database_url,
    drop_database,
    interleaved,
    ms,
    peak_rss_mb,
    ratio,
)
from .forecast import ensure_scanned, obligation_count
from .reference import EMAIL_DOMAIN, PASSWORD
from .seed import SeedReport, add_size_args, create_schema, describe, seed, sizes_from

COOP_EMAIL = f"coop@{EMAIL_DOMAIN}"
TARGET = 0.300
CASES = (
    ("page by vendor", "/pipeline", 4, TARGET),
    ("page by item", "/pipeline?group=item&quarters=8", 8, TARGET),
    ("estimate (CSV)", "/pipeline/estimate.csv?quarters=8", 8, None),
)


def _literals(values: Any) -> str:
    return ", ".join(f"'{getattr(v, 'value', v)}'" for v in sorted(values))


BARE = sa.text(
    "SELECT kind, sum(quantity), sum(estimated_cost) FROM obligations "
    f"WHERE state IN ({_literals(NEEDS)}) "
    f"AND kind IN ({_literals(services.PRICED_KINDS)}) "
    "AND due_date < :end GROUP BY kind"
)


@dataclass
class Case:
    name: str
    url: str
    quarters: int
    target: float | None
    app: Samples
    baseline: Samples
    size: int  # bytes of the answer

    @property
    def ok(self) -> bool:
        return self.target is None or self.app.p95 <= self.target


def coop_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": COOP_EMAIL, "password": PASSWORD})
    if response.status_code not in (302, 303):
        raise RuntimeError(f"could not sign in as {COOP_EMAIL}")
    return client


def bare(app: Flask, end: date) -> list[Any]:
    session = get_db(app).session()
    try:
        return list(session.execute(BARE, {"end": end}).all())
    finally:
        session.close()


def get(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(
            f"{url} answered {response.status_code}: "
            f"{response.get_data(as_text=True)[:300]}"
        )
    return response.get_data()


def run(
    app: Flask,
    report: SeedReport,
    *,
    repeat: int = 30,
    warmup: int = 3,
    log: Callable[[str], None] = print,
) -> list[Case]:
    """Each case against the bare aggregate over the rows it reads."""
    today = report.today
    client = coop_client(app)
    cases = []
    with mock.patch.object(services, "today_utc", lambda: today):
        for name, url, quarters, target in CASES:
            log(f"  {name}…")
            end = pivot.quarters_from(today, quarters)[-1].end
            size = len(get(client, url))
            runs: dict[str, Callable[[], Any]] = {
                "app": partial(get, client, url),
                "bare": partial(bare, app, end),
            }
            samples = interleaved(runs, repeat=repeat, warmup=warmup)
            cases.append(
                Case(name, url, quarters, target, samples["app"], samples["bare"], size)
            )
    return cases


def format_cases(cases: list[Case]) -> str:
    head = (
        f"{'case':<16} {'app p50':>11} {'app p95':>11} {'base p50':>11} "
        f"{'base p95':>11} {'× p50':>7} {'× p95':>7} {'KB':>6} {'target':>9}  verdict"
    )
    lines = [head, "-" * len(head)]
    for c in cases:
        target = f"≤ {c.target * 1000:.0f} ms" if c.target else "—"
        verdict = "met" if c.ok and c.target else ("—" if not c.target else "MISSED")
        lines.append(
            f"{c.name:<16} {ms(c.app.median)} {ms(c.app.p95)} "
            f"{ms(c.baseline.median)} {ms(c.baseline.p95)} "
            f"{ratio(c.app.median, c.baseline.median)}  "
            f"{ratio(c.app.p95, c.baseline.p95)} {c.size / 1024:6.0f} {target:>9}  "
            f"{verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_size_args(parser)
    add_database_args(parser, "lifecycle_bench_pipeline")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for the first scan"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use a database kept by an earlier --keep run (no seeding; scanned "
        "only if it has no obligations)",
    )
    args = parser.parse_args(argv)
    if args.reuse:
        url = database_url(args.server_url, args.db_name)
        engine = sa.create_engine(url)
        report = describe(engine)
    else:
        sizes = sizes_from(args)
        print(
            f"Seeding {sizes.devices:,} devices, {sizes.licenses:,} licenses, "
            f"{sizes.contracts:,} contracts over {sizes.districts:,} districts…"
        )
        url = create_database(args.server_url, args.db_name)
        engine = sa.create_engine(url)
        create_schema(engine)
        report = seed(engine, sizes, derive=not args.underived, log=True)
        print(report.describe())
    engine.dispose()
    try:
        app = bench_app(url)
        ensure_scanned(app, report, workers=args.workers)
        stored = obligation_count(get_db(app).engine)
        print(
            f"\nThe pipeline, today = {report.today}: {args.repeat} runs of each case "
            f"after {args.warmup} warm-up, app and baseline alternating "
            f"({stored:,} obligations, {len(report.districts):,} districts)"
        )
        cases = run(app, report, repeat=args.repeat, warmup=args.warmup)
        get_db(app).dispose()
        print(format_cases(cases))
        print(f"peak RSS of this process: {peak_rss_mb():,.0f} MB")
        missed = [c.name for c in cases if not c.ok]
        print(
            "\nTarget (p95 of the page ≤ 300 ms): "
            + ("met" if not missed else "MISSED: " + ", ".join(missed))
        )
        if args.keep:
            print(f"database kept: {url}")
    finally:
        if not args.keep:
            drop_database(args.server_url, args.db_name)


__all__ = ["Case", "format_cases", "main", "run"]

if __name__ == "__main__":
    main()
