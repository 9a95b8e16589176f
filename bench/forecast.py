"""The multi-year budget forecast at statewide size, against a bare GROUP BY in the same run.

Seeds as bench/scan.py does (1,000,000 devices, 200,000 licenses and 50,000 contracts
over 1,000 districts; the big district 140,000 devices) and runs its first full scan,
so every obligation the forecast reads exists. Then times, through
lifecycle/budget/services.py (`run_district`, `run_cooperative`), each run in its own
session as a request has:

  big baseline       the big district's 7-year baseline              target p95 ≤ 200 ms
  big scenario       the same with caps on two fiscal years at 70 %
                     of the baseline's totals for those years        target p95 ≤ 500 ms
  average baseline   an average district's 7-year baseline           target p95 ≤ 50 ms
  cooperative        every district's 10-year baseline, added up,
                     as the cooperative's staff see it               target p95 ≤ 2 s

Baseline: the bare `SELECT fiscal_year, kind, sum(estimated_cost) FROM obligations
WHERE district_id = … GROUP BY 1, 2` of the same district (for the cooperative without
the district filter), alternating with the app's runs so outside load hits both alike.
Then where the time goes, per case: inputs.load step by step (SQL, garbage collection
and Python apart) and per SQL statement, against the pure forecast (timed with the
collector on and off, and profiled), with the numbers of cohorts, terms and lines.

    python -m bench.forecast --workers 2 --repeat 5 --warmup 1 --coop-repeat 1 \\
        --coop-warmup 0 --breakdown-repeat 1      # full size (~30 min with today's code)
    python -m bench.forecast --devices 100000 --licenses 20000 --contracts 5000 \\
        --districts 100 --repeat 10 --coop-repeat 2
    python -m bench.forecast --reuse --keep       # again on a kept database
"""

from __future__ import annotations

import cProfile
import gc
import inspect
import pstats
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from unittest import mock

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from lifecycle.budget import forecast as fc
from lifecycle.budget import inputs, services
from lifecycle.db import get_db
from lifecycle.models import District, Obligation, User
from lifecycle.money import CENT

from .common import (
    Samples,
    SqlTimer,
    add_run_args,
    bench_app,
    drop_database,
    interleaved,
    ms,
    peak_rss_mb,
    ratio,
    stopwatch,
)
from .reference import EMAIL_DOMAIN
from .scan import scan_all
from .seed import (
    SeedReport,
    bench_parser,
    seeded,
    vacuum_analyze,
)

YEARS = services.DEFAULT_YEARS  # 7
COOP_YEARS = 10
CAP_SHARE = Decimal("0.70")
CAPPED_YEARS = 2
COOP_EMAIL = f"coop@{EMAIL_DOMAIN}"  # the seed's cooperative staff user
TARGETS = {
    "big baseline": 0.200,
    "big scenario": 0.500,
    "average baseline": 0.050,
    "cooperative": 2.0,
}

BARE_DISTRICT = sa.text(
    "SELECT fiscal_year, kind, sum(estimated_cost) FROM obligations "
    "WHERE district_id = :district_id GROUP BY 1, 2"
)
BARE_COOP = sa.text(
    "SELECT fiscal_year, kind, sum(estimated_cost) FROM obligations GROUP BY 1, 2"
)


# --- the two ways to get a district's money by year -----------------------------------


def forecast_district(
    app: Flask,
    district_id: int,
    today: date,
    *,
    years: int = YEARS,
    settings: fc.Settings | None = None,
) -> services.Run:
    """One district's forecast in a session of its own (the district read included)."""
    session = get_db(app).session()
    try:
        district = session.get(District, district_id)
        assert district is not None
        return services.run_district(
            session, district, years=years, settings=settings, today=today
        )
    finally:
        session.close()


def forecast_cooperative(
    app: Flask, today: date, *, years: int = COOP_YEARS
) -> services.Run:
    """The cooperative's forecast as its staff user asks for it."""
    session = get_db(app).session()
    try:
        user = session.execute(
            sa.select(User).where(col(User.email) == COOP_EMAIL)
        ).scalar_one()
        return services.run_cooperative(session, user, years=years, today=today)
    finally:
        session.close()


def bare_totals(app: Flask, district_id: int | None) -> list[Any]:
    """The bare GROUP BY of the scan's obligations, in a session of its own."""
    session = get_db(app).session()
    try:
        if district_id is None:
            return list(session.execute(BARE_COOP).all())
        return list(session.execute(BARE_DISTRICT, {"district_id": district_id}).all())
    finally:
        session.close()


def scenario_caps(baseline: fc.Forecast) -> dict[int, Decimal]:
    """Caps at 70 % of the baseline's totals on its two most expensive fiscal years
    that have a later year to defer into (not the last)."""
    totals = baseline.by_year()
    candidates = [fy for fy in baseline.fiscal_years[:-1] if totals.get(fy)]
    chosen = sorted(candidates, key=lambda fy: totals[fy], reverse=True)[:CAPPED_YEARS]
    return {fy: (totals[fy] * CAP_SHARE).quantize(CENT) for fy in sorted(chosen)}


# --- the cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one run of a case came to: kept instead of the run itself, whose hundreds of
    thousands of objects would make every later garbage collection slower."""

    by_year: dict[int, Decimal]
    lines: int
    deferrals: dict[tuple[int, int], int]  # (from FY, to FY) → devices moved
    shortfall: dict[int, Decimal]
    counts: str

    @classmethod
    def of(cls, run: services.Run) -> Outcome:
        f = run.forecast
        moved: Counter[tuple[int, int]] = Counter()
        for d in f.deferrals:
            moved[(d.from_fy, d.to_fy)] += d.quantity
        return cls(
            by_year=f.by_year(),
            lines=len(f.lines),
            deferrals=dict(sorted(moved.items())),
            shortfall=dict(f.shortfall),
            counts=counts_of(run),
        )


@dataclass
class Case:
    """One forecast request, timed against its bare baseline."""

    name: str
    district: str
    district_id: int | None  # None: the cooperative
    years: int
    app: Samples
    baseline: Samples
    settings: fc.Settings = field(default_factory=fc.Settings)
    outcome: Outcome | None = None  # of one untimed run
    breakdown: Breakdown | None = None

    @property
    def target(self) -> float:
        return TARGETS[self.name]

    @property
    def ok(self) -> bool:
        return self.app.p95 <= self.target


def time_case(
    app: Flask,
    name: str,
    district: str,
    district_id: int | None,
    today: date,
    *,
    years: int,
    settings: fc.Settings | None = None,
    repeat: int,
    warmup: int,
) -> Case:
    settings = settings or fc.Settings()
    if district_id is None:
        run_app: Callable[[], Any] = partial(
            forecast_cooperative, app, today, years=years
        )
    else:
        run_app = partial(
            forecast_district, app, district_id, today, years=years, settings=settings
        )
    samples = interleaved(
        {"app": run_app, "baseline": partial(bare_totals, app, district_id)},
        repeat=repeat,
        warmup=warmup,
    )
    return Case(
        name=name,
        district=district,
        district_id=district_id,
        years=years,
        app=samples["app"],
        baseline=samples["baseline"],
        settings=settings,
        outcome=Outcome.of(run_app()),
    )


# --- where the time goes --------------------------------------------------------------

# (module, function, label, depth): what a forecast run is timed by, step by step
STEPS: list[tuple[Any, str, str, int]] = [
    (services, "run_district", "districts' forecasts (run_district)", 0),
    (services, "load", "inputs.load", 1),
    (services, "load_many", "inputs.load_many (districts read together)", 1),
    (inputs, "_cohorts", "cohorts (_cohorts: devices GROUP BY)", 2),
    (inputs, "_committed", "committed (_committed)", 2),
    (inputs, "_terms", "terms (_terms)", 2),
    (inputs, "term_lines", "term_lines (priced terms, recursive CTE)", 3),
    (inputs, "_agreements", "agreements (_agreements)", 3),
    (inputs, "_ordered_renewals", "ordered renewals", 3),
    (inputs, "_items", "items (_items: catalog items, tiers)", 2),
    (fc, "forecast", "pure forecast (forecast.forecast)", 1),
    (fc, "condensed", "condense a district's lines (forecast.condensed)", 1),
    (fc, "merged", "merge the districts (forecast.merged)", 0),
]


class GcTimer:
    """Time the garbage collector runs, per generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds: dict[int, float] = defaultdict(float)
        self.collections: dict[int, int] = defaultdict(int)
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        generation = info["generation"]
        self.seconds[generation] += time.perf_counter() - self._start
        self.collections[generation] += 1

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def report(self, runs: int) -> str:
        return ", ".join(
            f"gen {g}: {self.collections[g] / runs:,.0f} a run, "
            f"{self.seconds[g] / runs * 1000:.1f} ms"
            for g in sorted(self.seconds)
        )


class StepTimer:
    """Wall, SQL and garbage-collection time spent inside each patched function."""

    def __init__(self, sql: SqlTimer, collector: GcTimer) -> None:
        self.sql = sql
        self.collector = collector
        self.seconds: dict[str, float] = defaultdict(float)
        self.sql_seconds: dict[str, float] = defaultdict(float)
        self.gc_seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def _wrap(self, real: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            sql_before, gc_before = self.sql.total, self.collector.total
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.sql_seconds[label] += self.sql.total - sql_before
                self.gc_seconds[label] += self.collector.total - gc_before
                self.calls[label] += 1

        def timed_items(*args: Any, **kwargs: Any) -> Iterator[Any]:
            """A generator's time is its steps' (not its consumer's between them)."""
            items = real(*args, **kwargs)
            self.calls[label] += 1
            while True:
                sql_before, gc_before = self.sql.total, self.collector.total
                start = time.perf_counter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.seconds[label] += time.perf_counter() - start
                    self.sql_seconds[label] += self.sql.total - sql_before
                    self.gc_seconds[label] += self.collector.total - gc_before
                yield item

        return timed_items if inspect.isgeneratorfunction(real) else timed

    @contextmanager
    def patched(self) -> Iterator[StepTimer]:
        with ExitStack() as stack:
            for owner, name, label, _depth in STEPS:
                real = getattr(owner, name)
                stack.enter_context(
                    mock.patch.object(owner, name, self._wrap(real, label))
                )
            yield self


@dataclass
class Breakdown:
    runs: int
    seconds: float  # wall time of all runs
    sql_seconds: float
    steps: StepTimer
    collector: GcTimer
    statements: str  # SqlTimer's report
    profile: str  # the pure forecast's functions (one district's cases only)
    counts: str

    def format(self, title: str) -> str:
        n = self.runs
        lines = [
            f"\n{title}: {self.seconds / n * 1000:.1f} ms a run (mean of {n}, timers "
            f"on), of which SQL {self.sql_seconds / n * 1000:.1f} ms and garbage "
            f"collection {self.collector.total / n * 1000:.1f} ms "
            f"({self.collector.report(n)})",
            f"    {'step':<52} {'wall':>9} {'SQL':>9} {'GC':>9} {'Python':>9} "
            f"{'calls':>7}",
        ]
        for _owner, _name, label, depth in STEPS:
            calls = self.steps.calls.get(label, 0)
            if not calls:
                continue
            wall = self.steps.seconds[label] / n
            sql = self.steps.sql_seconds[label] / n
            collect = self.steps.gc_seconds[label] / n
            python = wall - sql - collect
            lines.append(
                f"    {'  ' * depth + label:<52} {wall * 1000:7.1f}ms "
                f"{sql * 1000:7.1f}ms {collect * 1000:7.1f}ms {python * 1000:7.1f}ms "
                f"{calls // n:7d}"
            )
        lines.append(f"  {self.counts}")
        lines.append("  statements by total time (all runs):")
        lines.append(self.statements)
        if self.profile:
            lines.append(self.profile)
        return "\n".join(lines)


def counts_of(run: services.Run) -> str:
    """How much the forecast worked on: cohorts, terms, items and lines."""
    result = run.forecast
    lines = Counter(line.kind for line in result.lines)
    parts = []
    if run.inputs is not None:
        cohorts, terms = run.inputs.cohorts, run.inputs.terms
        kinds = Counter(t.kind for t in terms)
        parts.append(
            f"{len(cohorts):,} cohorts ({sum(c.quantity for c in cohorts):,} devices), "
            f"{len(terms):,} terms ({kinds['license']:,} license, "
            f"{kinds['contract']:,} contract; "
            f"{sum(t.committed for t in terms):,} committed), "
            f"{len(run.inputs.committed):,} committed orders, "
            f"{len(run.inputs.plan.items):,} catalog items"
        )
    parts.append(
        f"{len(result.lines):,} lines ("
        + ", ".join(f"{kind} {lines[kind]:,}" for kind in fc.KINDS)
        + f"), {len(result.deferrals):,} deferrals"
    )
    return "; ".join(parts)


def profile_pure(run: services.Run, top: int) -> str:
    """The pure forecast of loaded inputs timed with the garbage collector on and off,
    then under cProfile (collector off, so its pauses are not charged to whatever
    function they interrupt): its own functions by cumulative time, then every
    function by its own time."""
    assert run.inputs is not None
    data = run.inputs
    pure = partial(
        fc.forecast,
        data.plan,
        data.cohorts,
        data.terms,
        data.committed,
        run.forecast.settings,
    )
    with stopwatch() as collected:
        pure()
    with collector_off(), stopwatch() as uncollected:
        pure()
    profiler = cProfile.Profile()
    with collector_off(), stopwatch() as elapsed:
        profiler.runcall(pure)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [
        (f"{path.rsplit('/', 1)[-1]}:{func}", calls, own, cum)
        for (path, _line, func), (_cc, calls, own, cum, _callers) in raw.items()
    ]
    out = [
        f"  pure forecast of these inputs alone: {collected() * 1000:.1f} ms, "
        f"{uncollected() * 1000:.1f} ms with the garbage collector off",
        f"  pure forecast under cProfile (one run, collector off, "
        f"{elapsed() * 1000:.1f} ms with the profiler's overhead):",
        f"    {'function':<44} {'calls':>9} {'own':>9} {'cumulative':>10}",
    ]
    ours = [r for r in rows if r[0].startswith("forecast.py:")]
    for name, calls, own, cum in sorted(ours, key=lambda r: r[3], reverse=True)[:top]:
        out.append(
            f"    {name:<44} {calls:9,d} {own * 1000:7.1f}ms {cum * 1000:8.1f}ms"
        )
    out.append("    — by own time, every function:")
    for name, calls, own, cum in sorted(rows, key=lambda r: r[2], reverse=True)[:top]:
        out.append(
            f"    {name[:44]:<44} {calls:9,d} {own * 1000:7.1f}ms {cum * 1000:8.1f}ms"
        )
    return "\n".join(out)


@contextmanager
def collector_off() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def where_time_goes(
    app: Flask, case: Case, today: date, *, repeat: int, top: int
) -> Breakdown:
    """The case's request again `repeat` times with step and statement timers on."""
    engine = get_db(app).engine
    with (
        SqlTimer(engine) as sql,
        GcTimer() as collector,
        StepTimer(sql, collector).patched() as steps,
    ):
        with stopwatch() as elapsed:
            for _ in range(repeat):
                if case.district_id is None:
                    run = forecast_cooperative(app, today, years=case.years)
                else:
                    run = forecast_district(
                        app,
                        case.district_id,
                        today,
                        years=case.years,
                        settings=case.settings,
                    )
        seconds = elapsed()
    profile = profile_pure(run, top) if run.inputs is not None else ""
    return Breakdown(
        runs=repeat,
        seconds=seconds,
        sql_seconds=sql.total,
        steps=steps,
        collector=collector,
        statements=sql.report(top=top),
        profile=profile,
        counts=counts_of(run),
    )


# --- the run ----------------------------------------------------------------------------


def ensure_scanned(
    app: Flask,
    report: SeedReport,
    *,
    workers: int = 1,
    log: Callable[[str], None] = print,
) -> None:
    """bench.scan's first full scan of every district (no reminders: the forecast reads
    obligations, not notices), then what autovacuum would do after it. A database that
    has obligations already (--reuse) is left as it is."""
    engine = get_db(app).engine
    with Session(engine) as session:
        stored = session.execute(
            sa.select(sa.func.count()).select_from(Obligation)
        ).scalar_one()
    if stored:
        log(f"  {stored:,} obligations stored already: no scan")
        return
    ids = [d.id for d in report.districts]
    log(f"  scanning {len(ids):,} districts ({workers} process(es))…")
    result = scan_all(
        app,
        ids,
        report.today,
        "first full scan",
        reminders=False,
        workers=workers,
        progress=len(ids) >= 500,
    )
    log(f"  first full scan: {result.seconds:.1f}s, {result.changed:,} rows written")
    vacuum_analyze(engine)


def run(
    app: Flask,
    report: SeedReport,
    *,
    repeat: int = 30,
    warmup: int = 3,
    coop_repeat: int = 5,
    coop_warmup: int = 1,
    breakdown: bool = True,
    breakdown_repeat: int = 5,
    top: int = 10,
    log: Callable[[str], None] = print,
) -> list[Case]:
    """The four cases, each with its baseline, and where their time goes."""
    today = report.today
    big, average = report.big, report.average
    with app.app_context():
        first = forecast_district(app, big.id, today)
        caps = scenario_caps(first.forecast)
        capped = fc.Settings(caps=caps)
        log(
            "  caps: "
            + ", ".join(
                f"FY{fy} ${cap:,} (70 % of ${first.forecast.by_year()[fy]:,})"
                for fy, cap in caps.items()
            )
        )
        del first  # nothing large stays alive across the timings
        cases = []
        for name, label, info, settings in (
            ("big baseline", "big", big, None),
            ("big scenario", "big", big, capped),
            ("average baseline", "average", average, None),
        ):
            log(f"  {name}…")
            cases.append(
                time_case(
                    app,
                    name,
                    label,
                    info.id,
                    today,
                    years=YEARS,
                    settings=settings,
                    repeat=repeat,
                    warmup=warmup,
                )
            )
        log("  cooperative…")
        cases.append(
            time_case(
                app,
                "cooperative",
                "all",
                None,
                today,
                years=COOP_YEARS,
                repeat=coop_repeat,
                warmup=coop_warmup,
            )
        )
        if breakdown:
            for case in cases:
                log(f"  where the time goes: {case.name}…")
                n = breakdown_repeat if case.district_id else 1
                case.breakdown = where_time_goes(app, case, today, repeat=n, top=top)
    return cases


def format_cases(cases: list[Case]) -> str:
    head = (
        f"{'case':<17} {'years':>5} {'app p50':>11} {'app p95':>11} {'base p50':>11} "
        f"{'base p95':>11} {'× p50':>7} {'× p95':>7} {'target':>9}  verdict"
    )
    lines = [head, "-" * len(head)]
    for c in cases:
        target = (
            f"≤ {c.target * 1000:.0f} ms" if c.target < 1 else f"≤ {c.target:.0f} s"
        )
        lines.append(
            f"{c.name:<17} {c.years:>5} {ms(c.app.median)} {ms(c.app.p95)} "
            f"{ms(c.baseline.median)} {ms(c.baseline.p95)} "
            f"{ratio(c.app.median, c.baseline.median)}  "
            f"{ratio(c.app.p95, c.baseline.p95)} {target:>9}  "
            f"{'met' if c.ok else 'MISSED'}"
        )
    return "\n".join(lines)


def format_results(cases: list[Case]) -> str:
    """What each case's forecast came to: totals, counts, the scenario's deferrals."""
    out = []
    for c in cases:
        f = c.outcome
        if f is None:
            continue
        years = ", ".join(f"FY{fy} ${total:,.0f}" for fy, total in f.by_year.items())
        out.append(f"{c.name}: {years}")
        out.append(f"    {f.counts}")
        if c.settings.caps:
            moved = ", ".join(
                f"{n:,} devices FY{a}→FY{b}" for (a, b), n in f.deferrals.items()
            )
            short = ", ".join(f"FY{fy} ${v:,}" for fy, v in f.shortfall.items())
            caps = ", ".join(f"FY{fy} ${cap:,}" for fy, cap in c.settings.caps.items())
            out.append(
                f"    caps {caps}; deferred {moved or 'nothing'}; "
                f"shortfall {short or 'none'}"
            )
    return "\n".join(out)


def obligation_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM obligations")).scalar_one()
        )


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser(__doc__.split("\n")[0], "lifecycle_bench_forecast")
    add_run_args(
        parser,
        repeat=30,
        warmup=3,
        reuse="use a database kept by an earlier --keep run (no seeding; scanned "
        "only if it has no obligations)",
    )
    parser.add_argument(
        "--coop-repeat",
        type=int,
        default=5,
        help="timed runs of the cooperative-wide forecast (default 5)",
    )
    parser.add_argument("--coop-warmup", type=int, default=1)
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip where the time goes"
    )
    parser.add_argument(
        "--breakdown-repeat",
        type=int,
        default=5,
        help="runs per district case with the timers on (the cooperative: 1)",
    )
    parser.add_argument(
        "--top", type=int, default=10, help="statements and functions in the breakdown"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes for the first scan, as in bench.scan (default 1)",
    )
    args = parser.parse_args(argv)
    url, report = seeded(args, "devices, licenses, contracts")
    try:
        app = bench_app(url)
        ensure_scanned(app, report, workers=args.workers)
        stored = obligation_count(get_db(app).engine)
        print(
            f"\nForecasts, today = {report.today}: {args.repeat} runs of each district "
            f"case after {args.warmup} warm-up and {args.coop_repeat} of the "
            f"cooperative after {args.coop_warmup}, app and baseline alternating "
            f"({stored:,} obligations)"
        )
        cases = run(
            app,
            report,
            repeat=args.repeat,
            warmup=args.warmup,
            coop_repeat=args.coop_repeat,
            coop_warmup=args.coop_warmup,
            breakdown=not args.no_breakdown,
            breakdown_repeat=args.breakdown_repeat,
            top=args.top,
        )
        get_db(app).dispose()
        print(
            f"\nbig: {report.big.name} ({report.big.devices:,} devices), average: "
            f"{report.average.name} ({report.average.devices:,} devices), "
            f"cooperative: {len(report.districts):,} districts"
        )
        print(format_cases(cases))
        print("\n" + format_results(cases))
        print(f"peak RSS of this process: {peak_rss_mb():,.0f} MB")
        for case in cases:
            if case.breakdown is not None:
                print(
                    case.breakdown.format(
                        f"Where the time goes — {case.name} ({case.years} years)"
                    )
                )
        missed = [c.name for c in cases if not c.ok]
        print(
            "\nTargets (p95: big baseline ≤ 200 ms, big scenario ≤ 500 ms, average "
            "≤ 50 ms, cooperative ≤ 2 s): "
            + ("all met" if not missed else "MISSED: " + ", ".join(missed))
        )
        if args.keep:
            print(f"database kept: {url}")
    finally:
        if not args.keep:
            drop_database(args.server_url, args.db_name)


__all__ = ["Case", "ensure_scanned", "format_cases", "main", "run", "scenario_caps"]

if __name__ == "__main__":
    main()
