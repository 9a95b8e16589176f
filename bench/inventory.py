"""The device list at a statewide cooperative's size, against a bare query in the same run.

Seeds 1,000,000 devices over 1,000 districts (one big district of 140,000, like Garland
ISD) in PostgreSQL, signs in as the IT director of the big district and of an average
one (~1,000 devices), and times through the Flask test client:

  first page   GET /devices?status=all              (a full page)
  deep page    GET /devices?cursor=… at row 25,000  (the htmx fragment "Next page" gets;
               an average district's last page)
  search       GET /devices?q=<surname>&status=in_service&category=chromebook
               &sort=-refresh_due                   (the htmx fragment active search gets)

Baseline: the same request through the same view and template, with the list query
swapped for the bare indexed `SELECT … LIMIT 50` of the same rows (no count, keyset
bound written as a plain index range) and the filter choices precomputed; requests
alternate app/baseline so outside load hits both alike. Target: p95 < 100 ms and
within 3× of the baseline. Also streams the big district's CSV export (rows/s, peak
traced memory) next to a bare COPY of the same rows.

    python -m bench.inventory                    # full size, ~5 minutes
    python -m bench.inventory --devices 100000   # smaller
"""

from __future__ import annotations

import io
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from unittest import mock

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col

from lifecycle import get_settings
from lifecycle.db import get_db
from lifecycle.inventory import devices as device_services
from lifecycle.inventory import views as devices_views
from lifecycle.inventory.options import options
from lifecycle.models import Device, User
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.web import listing
from lifecycle.web.listing import AnySelect, ListQuery, ListSpec, Page
from lifecycle.web.paging import encode_cursor

from .common import (
    SqlTimer,
    add_run_args,
    bench_app,
    drop_database,
    interleaved,
    is_postgres,
    ms,
    peak_rss_mb,
    percentile,
    ratio,
    stopwatch,
)
from .seed import (
    DistrictInfo,
    SeedReport,
    bench_parser,
    seeded,
    vacuum_analyze,
)

TARGET_P95 = 0.100
TARGET_RATIO = 3.0
DEEP_ROW = 25_000  # page 500 at 50 rows a page
SEARCH = "Nguyen"
HTMX = {"HX-Request": "true"}


@dataclass
class Scenario:
    """One list request, and how to fetch the same rows the bare way."""

    name: str
    args: dict[str, str]
    fragment: bool
    # the bare statement, from the view's unfiltered (but scoped) list statement
    bare: Callable[[AnySelect], AnySelect] = field(repr=False)
    # what the app's page said, so the baseline renders the same page
    total: int = -1
    next_cursor: str | None = None

    @property
    def url(self) -> str:
        from urllib.parse import urlencode

        return "/devices" + (f"?{urlencode(self.args)}" if self.args else "")

    @property
    def headers(self) -> dict[str, str]:
        return HTMX if self.fragment else {}


@dataclass
class Result:
    district: str
    scenario: str
    app: list[float]
    baseline: list[float]
    app_bytes: int
    baseline_bytes: int

    @property
    def app_median(self) -> float:
        return statistics.median(self.app)

    @property
    def app_p95(self) -> float:
        return percentile(self.app, 95)

    @property
    def base_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def base_p95(self) -> float:
        return percentile(self.baseline, 95)

    @property
    def ok(self) -> bool:
        return (
            self.app_p95 < TARGET_P95
            and self.app_p95 <= TARGET_RATIO * self.base_p95
            and self.app_median <= TARGET_RATIO * self.base_median
        )


# --- scenarios -----------------------------------------------------------------------


def _order(stmt: AnySelect, spec: ListSpec, sort: str) -> AnySelect:
    key, descending = spec.sort_key(sort)
    order = key.column.desc() if descending else key.column.asc()
    if key.nullable:
        order = order.nulls_last()
    return stmt.order_by(order, spec.id_column.asc())


def scenarios(session: Session, district: DistrictInfo) -> list[Scenario]:
    """The three requests for one district; the deep page's cursor is built here."""
    spec = device_services.SPEC
    size = spec.page_size or get_settings().page_size  # called in an app context
    tags = (
        sa.select(col(Device.asset_tag), col(Device.id))
        .where(col(Device.district_id) == district.id)
        .order_by(col(Device.asset_tag), col(Device.id))
    )
    offset = max(min(DEEP_ROW, district.devices - size - 1), 0)
    last_tag, last_id = session.execute(tags.offset(offset).limit(1)).one()

    def first(stmt: AnySelect) -> AnySelect:
        return _order(stmt, spec, "").limit(size)

    def deep(stmt: AnySelect) -> AnySelect:
        # asset tags are unique in a district: "after the cursor" is a plain range
        return _order(stmt.where(col(Device.asset_tag) > last_tag), spec, "").limit(
            size
        )

    search_args = {
        "q": SEARCH,
        "status": "in_service",
        "category": "chromebook",
        "sort": "-refresh_due",
    }
    query = listing.parse_query(spec, search_args)
    scoped = sa.select(col(Device.id)).where(col(Device.district_id) == district.id)
    ids = list(
        session.execute(
            _order(listing.filtered(spec, scoped, query), spec, query.sort).limit(size)
        ).scalars()
    )

    def search(stmt: AnySelect) -> AnySelect:
        # the cheapest way to the same rows: by primary key
        return _order(stmt.where(col(Device.id).in_(ids)), spec, query.sort)

    return [
        # every device, as the baseline reads them (the list shows active ones unless
        # asked: status=all)
        Scenario("first page", {"status": "all"}, False, first),
        Scenario(
            f"deep page (row {offset + 1:,})",
            {"status": "all", "cursor": encode_cursor([last_tag, last_id])},
            True,
            deep,
        ),
        Scenario("search", search_args, True, search),
    ]


# --- the two ways to serve a scenario -------------------------------------------------


class ListBench:
    """A signed-in test client of one district user, and its baseline switch."""

    def __init__(self, app: Flask, user_email: str, password: str) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        response = self.client.post(
            "/login", data={"email": user_email, "password": password}
        )
        if response.status_code not in (302, 303):
            raise RuntimeError(f"could not sign in as {user_email}")
        with app.app_context(), Session(get_db(app).engine) as session:
            user = session.execute(
                sa.select(User).where(col(User.email) == user_email)
            ).scalar_one()
            session.expunge(user)
            self.opts = options(session, user)

    def get(self, scenario: Scenario) -> bytes:
        response = self.client.get(scenario.url, headers=scenario.headers)
        if response.status_code != 200:
            raise RuntimeError(
                f"{scenario.url} answered {response.status_code}: "
                f"{response.get_data(as_text=True)[:300]}"
            )
        return response.get_data()

    def learn(self, scenario: Scenario) -> None:
        """Remember the app's total and next cursor, for the baseline to render."""
        seen: list[Page] = []
        real = listing.page

        def spy(*args: Any, **kwargs: Any) -> Page:
            result = real(*args, **kwargs)
            seen.append(result)
            return result

        with mock.patch.object(listing, "page", spy):
            self.get(scenario)
        scenario.total, scenario.next_cursor = seen[-1].total, seen[-1].next_cursor

    @contextmanager
    def bare(self, scenario: Scenario) -> Iterator[None]:
        """The view, with its list query swapped for the bare one."""

        def bare_page(
            session: Session,
            spec: ListSpec,
            stmt: AnySelect,
            query: ListQuery,
            **_kwargs: Any,
        ) -> Page:
            key, descending = spec.sort_key(query.sort)
            rows = list(session.execute(scenario.bare(stmt)).all())
            return Page(
                rows=rows,
                next_cursor=scenario.next_cursor,
                total=scenario.total,
                sort=key.name,
                descending=descending,
            )

        def precomputed(*_args: Any, **_kwargs: Any) -> Any:
            return self.opts

        with (
            mock.patch.object(listing, "page", bare_page),
            mock.patch.object(devices_views, "options", precomputed),
        ):
            yield

    def baseline_get(self, scenario: Scenario) -> bytes:
        with self.bare(scenario):
            return self.get(scenario)


def bench_district(
    app: Flask,
    label: str,
    district: DistrictInfo,
    password: str,
    *,
    repeat: int,
    warmup: int,
) -> list[Result]:
    bench = ListBench(app, district.it_email, password)
    with app.app_context(), Session(get_db(app).engine) as session:
        found = scenarios(session, district)
    results = []
    for scenario in found:
        bench.learn(scenario)
        app_body = bench.get(scenario)
        base_body = bench.baseline_get(scenario)
        runs: dict[str, Callable[[], Any]] = {
            "app": partial(bench.get, scenario),
            "baseline": partial(bench.baseline_get, scenario),
        }
        samples = interleaved(runs, repeat=repeat, warmup=warmup)
        results.append(
            Result(
                district=label,
                scenario=scenario.name,
                app=samples["app"].seconds,
                baseline=samples["baseline"].seconds,
                app_bytes=len(app_body),
                baseline_bytes=len(base_body),
            )
        )
    return results


def where_time_goes(
    app: Flask, district: DistrictInfo, password: str, *, repeat: int = 10
) -> str:
    """Per statement shape, the database time of the app's requests (not the baseline)."""
    bench = ListBench(app, district.it_email, password)
    with app.app_context(), Session(get_db(app).engine) as session:
        found = scenarios(session, district)
    out = []
    for scenario in found:
        with SqlTimer(get_db(app).engine) as timer, stopwatch() as elapsed:
            for _ in range(repeat):
                bench.get(scenario)
        out.append(
            f"  {scenario.name}: {elapsed() / repeat * 1000:.1f} ms a request, of "
            f"which SQL {timer.total / repeat * 1000:.1f} ms:\n{timer.report(top=5)}"
        )
    return "\n".join(out)


# --- CSV export ----------------------------------------------------------------------


@dataclass
class ExportResult:
    rows: int
    megabytes: float
    seconds: float
    traced_peak_mb: float
    rss_growth_mb: float
    copy_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else math.nan


def _drain(client: FlaskClient, url: str) -> tuple[int, int]:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    rows = size = 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        rows += data.count(b"\n")
    response.close()
    return rows - 1, size  # minus the header


def bench_export(app: Flask, district: DistrictInfo, password: str) -> ExportResult:
    """Stream the big district's export twice: timed, then with tracemalloc on."""
    bench = ListBench(app, district.it_email, password)
    url = "/devices/export.csv?status=all"
    rss_before = peak_rss_mb()
    with stopwatch() as elapsed:
        rows, size = _drain(bench.client, url)
    seconds = elapsed()
    rss_growth = peak_rss_mb() - rss_before
    tracemalloc.start()
    _drain(bench.client, url)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return ExportResult(
        rows=rows,
        megabytes=size / 1e6,
        seconds=seconds,
        traced_peak_mb=peak / 1e6,
        rss_growth_mb=rss_growth,
        copy_seconds=_copy_baseline(app, district),
    )


def _copy_baseline(app: Flask, district: DistrictInfo) -> float:
    """The same rows in the same order through COPY … TO STDOUT (the floor)."""
    engine = get_db(app).engine
    if not is_postgres(engine):
        return math.nan
    spec = device_services.SPEC
    with Session(engine) as session:
        user = session.execute(
            sa.select(User).where(col(User.email) == district.it_email)
        ).scalar_one()
        stmt = listing.ordered(spec, device_services.list_stmt(user), ListQuery())
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        sink = io.BytesIO()
        start = time.perf_counter()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                sink.write(block)
        return time.perf_counter() - start
    finally:
        raw.close()


# --- setup and report -------------------------------------------------------------------


def derive_refresh_dates(app: Flask) -> float:
    """Refresh dates as the scan stores them (the search sorts on them); seconds taken."""
    engine = get_db(app).engine
    with stopwatch() as elapsed, Session(engine) as session:
        recompute_device_refresh(session)
        session.commit()
    vacuum_analyze(engine)
    return elapsed()


def format_results(results: list[Result]) -> str:
    head = (
        f"{'district':<10} {'request':<24} {'app median':>11} {'app p95':>11} "
        f"{'base median':>11} {'base p95':>11} {'× median':>8} {'× p95':>7}  target"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.district:<10} {r.scenario:<24} {ms(r.app_median)} {ms(r.app_p95)} "
            f"{ms(r.base_median)} {ms(r.base_p95)} {ratio(r.app_median, r.base_median)}"
            f"  {ratio(r.app_p95, r.base_p95)}  {'met' if r.ok else 'MISSED'}"
        )
        if abs(r.app_bytes - r.baseline_bytes) > 0.02 * r.app_bytes:
            lines.append(
                f"    (page sizes differ: app {r.app_bytes:,} B, "
                f"baseline {r.baseline_bytes:,} B)"
            )
    return "\n".join(lines)


def run(
    app: Flask,
    report: SeedReport,
    *,
    repeat: int,
    warmup: int,
    export: bool = True,
    breakdown: bool = True,
) -> tuple[list[Result], ExportResult | None]:
    results: list[Result] = []
    for label, district in (("average", report.average), ("big", report.big)):
        results += bench_district(
            app, label, district, report.password, repeat=repeat, warmup=warmup
        )
    print(
        f"\nDevice list: {repeat} requests each after {warmup} warm-up, app and "
        "baseline alternating"
    )
    print(format_results(results))
    if breakdown:
        print(f"\nWhere the app's time goes ({report.big.name}):")
        print(where_time_goes(app, report.big, report.password))
    result = None
    if export:
        result = bench_export(app, report.big, report.password)
        print(
            f"\nCSV export of {report.big.name}: {result.rows:,} rows, "
            f"{result.megabytes:.1f} MB in {result.seconds:.1f}s = "
            f"{result.rows_per_second:,.0f} rows/s; traced peak "
            f"{result.traced_peak_mb:.1f} MB, RSS growth {result.rss_growth_mb:.1f} MB; "
            f"bare COPY of the same rows {result.copy_seconds:.2f}s "
            f"({ratio(result.seconds, result.copy_seconds).strip()})"
        )
    return results, result


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__.split("\n")[0], "lifecycle_bench_inventory")
    add_run_args(
        parser,
        repeat=60,
        warmup=5,
        reuse="use an existing database from an earlier --keep run (no seeding)",
    )
    args = parser.parse_args(argv)
    url, report = seeded(args, "devices")
    try:
        app = bench_app(url)
        if args.underived:
            seconds = derive_refresh_dates(app)
            print(f"refresh dates derived for every device in {seconds:.1f}s")
        results, _export = run(app, report, repeat=args.repeat, warmup=args.warmup)
        get_db(app).dispose()
        missed = [r for r in results if not r.ok]
        print(
            "\nTargets (p95 < 100 ms, within 3× of the baseline): "
            + ("all met" if not missed else f"{len(missed)} missed")
        )
    finally:
        if not args.keep:
            drop_database(args.server_url, args.db_name)


if __name__ == "__main__":
    main()
