"""`lifecycle import FILE --district ID --kind …` runs in the terminal with a progress bar."""

from __future__ import annotations

import csv

from flask.cli import ScriptInfo
from sqlmodel import col, select

from lifecycle.cli import main
from lifecycle.models import Device, ImportFile
from tests import factories
from tests.api.conftest import fresh

from .files import bad_rows_csv, gam_devices


def _run(app, *args: str):
    info = ScriptInfo(create_app=lambda: app)
    return app.test_cli_runner().invoke(main, ["import", *args], obj=info)


def test_the_command_imports_and_writes_the_error_file(app, db, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bad_rows_csv())
    district = str(world.a.district.id)
    dry = _run(app, str(path), "--district", district, "--kind", "devices", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run finished: 1 would be created, 0 would be updated" in dry.output
    assert fresh(db).exec(select(Device)).all() == []
    result = _run(app, str(path), "--district", district, "--kind", "devices")
    assert result.exit_code == 0, result.output
    assert (
        "Import finished: 1 created, 0 updated, 0 unchanged, 6 rejected."
        in result.output
    )
    errors = tmp_path / "bad-errors.csv"
    assert f"rejected rows with their errors: {errors}" in result.output
    rows = list(csv.reader(errors.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][-1] == "error" and len(rows) == 7
    tags = (
        fresh(db)
        .exec(
            select(Device.asset_tag).where(
                col(Device.district_id) == world.a.district.id
            )
        )
        .all()
    )
    assert tags == ["GOOD-1"]
    assert all(i.user_id is None for i in fresh(db).exec(select(ImportFile)).all())


def test_a_gam_export_by_serial(app, db, world, tmp_path):
    path = tmp_path / "gam.csv"
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    db.commit()
    path.write_bytes(gam_devices(3))
    result = _run(app, str(path), "--district", str(world.a.district.id),
                  "--kind", "devices", "--key", "serial")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "serial ← serialNumber" in result.output
    assert "3 created" in result.output


def test_bad_arguments_say_why(app, db, world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01")
    result = _run(
        app, str(path), "--district", str(world.a.district.id), "--kind", "devices"
    )
    assert result.exit_code == 1 and "binary data" in result.output
    path.write_bytes(b"Asset Tag\nA\n")
    missing = _run(app, str(path), "--district", "999999", "--kind", "devices")
    assert missing.exit_code == 1 and "No such district" in missing.output
    key = _run(
        app,
        str(path),
        "--district",
        str(world.a.district.id),
        "--kind",
        "licenses",
        "--key",
        "serial",
    )
    assert (
        key.exit_code == 1
        and "key must be one of: product, product_start" in key.output
    )
