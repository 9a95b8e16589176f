"""The benchmarks in bench/ still run: each one's core on a handful of rows.

No timings are asserted here (STYLE.md: speed targets live in bench/); these tests only
keep the scripts from rotting as the models, views and scan change.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session

from bench import forecast, inventory, pipeline, scan
from bench.seed import SeedReport, Sizes, seed
from lifecycle.db import get_db
from lifecycle.enums import DeviceCategory
from lifecycle.models import Device

TODAY = date(2026, 11, 26)
SIZES = Sizes(
    districts=3,
    devices=150,
    licenses=15,
    contracts=6,
    big_devices=90,
    schools=2,
    big_schools=4,
)


def _seed(app: Flask) -> SeedReport:
    return seed(get_db(app).engine, SIZES, today=TODAY)


def test_seed_fills_every_table_with_consistent_rows(app: Flask) -> None:
    report = _seed(app)

    assert report.rows["districts"] == 3
    assert report.rows["devices"] == 150
    assert report.rows["licenses"] == 15
    assert report.rows["contracts"] == 6
    assert report.rows["users"] == 2 * 3 + 2
    assert report.big.devices == 90
    assert sum(d.devices for d in report.districts) == 150
    with get_db(app).engine.connect() as conn:
        orphans = conn.execute(
            sa.text(
                "SELECT count(*) FROM devices d LEFT JOIN schools s "
                "ON s.id = d.school_id AND s.district_id = d.district_id "
                "WHERE s.id IS NULL"
            )
        ).scalar_one()
    assert orphans == 0
    # ids were given explicitly: the next device the app adds still gets a fresh one
    with Session(get_db(app).engine) as session:
        device = Device(
            district_id=report.big.id, asset_tag="NEW-1", category=DeviceCategory.LAPTOP
        )
        session.add(device)
        session.commit()
        assert device.id == 151


def test_inventory_bench_serves_every_request_and_the_export(app: Flask) -> None:
    report = _seed(app)
    inventory.derive_refresh_dates(app)

    results, export = inventory.run(app, report, repeat=2, warmup=1)

    assert [(r.district, r.scenario.split(" ")[0]) for r in results] == [
        ("average", "first"),
        ("average", "deep"),
        ("average", "search"),
        ("big", "first"),
        ("big", "deep"),
        ("big", "search"),
    ]
    assert all(len(r.app) == len(r.baseline) == 2 for r in results)
    # the baseline renders the same page as the app
    assert all(
        abs(r.app_bytes - r.baseline_bytes) < 0.02 * r.app_bytes for r in results
    )
    assert export is not None and export.rows == report.big.devices


def test_scan_bench_phases_and_the_unchanged_rescan_writes_nothing(app: Flask) -> None:
    report = _seed(app)

    phases, baselines, rows = scan.run(
        app, report, rescans=1, progress=False, log=lambda _message: None
    )

    first, unchanged, after_change = phases
    assert first.run.changed > 0
    # the seed stores refresh dates by the app's own rule: the scan has none to fix
    assert first.run.totals()["devices_refreshed"] == 0
    assert rows > 0 and len(baselines) == 3
    assert unchanged.clean, unchanged.run.changed_districts()
    assert unchanged.run.sent == 0
    assert after_change.run.changed > 0
    assert "first full scan" in scan.format_phases(phases, baselines, rows, report)


def test_scan_bench_with_worker_processes_scans_every_district_once(
    app: Flask,
) -> None:
    report = _seed(app)
    ids = [d.id for d in report.districts]

    run = scan.scan_all(app, ids, TODAY, "parallel", workers=2)

    assert sorted(r.district_id for r in run.results) == sorted(ids)
    assert set(run.per_district) == set(ids)
    assert run.changed > 0 and run.seconds > 0
    again = scan.scan_all(app, ids, TODAY, "again", workers=2)
    assert again.changed == 0 and again.sent == 0


def test_forecast_bench_times_every_case_and_says_where_the_time_goes(
    app: Flask,
) -> None:
    report = _seed(app)
    forecast.ensure_scanned(app, report, log=lambda _message: None)

    cases = forecast.run(
        app,
        report,
        repeat=2,
        warmup=1,
        coop_repeat=1,
        breakdown_repeat=1,
        log=lambda _message: None,
    )

    assert [c.name for c in cases] == [
        "big baseline",
        "big scenario",
        "average baseline",
        "cooperative",
    ]
    assert all(len(c.app.seconds) == len(c.baseline.seconds) for c in cases)
    assert [len(c.app.seconds) for c in cases] == [2, 2, 2, 1]
    big, scenario, average, coop = cases
    assert big.outcome is not None and big.outcome.lines > 0
    # the scenario caps two of the baseline's years at 70 % of their totals
    assert len(scenario.settings.caps) == 2
    for fy, cap in scenario.settings.caps.items():
        expected = big.outcome.by_year[fy] * Decimal("0.70")
        assert cap == expected.quantize(Decimal("0.01"))
    # the cooperative's forecast has the lines of every district's
    assert coop.outcome is not None and average.outcome is not None
    assert coop.outcome.lines >= big.outcome.lines + average.outcome.lines
    for case in cases:
        assert case.breakdown is not None
        text = case.breakdown.format(case.name)
        assert "inputs.load" in text and "pure forecast" in text
    assert "big scenario" in forecast.format_cases(cases)
    assert "caps FY" in forecast.format_results(cases)


def test_pipeline_bench_times_the_page_and_the_estimate(app: Flask) -> None:
    report = _seed(app)
    forecast.ensure_scanned(app, report, log=lambda _message: None)

    cases = pipeline.run(app, report, repeat=2, warmup=1, log=lambda _message: None)

    assert [c.name for c in cases] == [
        "page by vendor",
        "page by item",
        "estimate (CSV)",
    ]
    assert all(len(c.app.seconds) == len(c.baseline.seconds) == 2 for c in cases)
    assert all(c.size > 0 for c in cases)
    assert "page by item" in pipeline.format_cases(cases)
