"""An import run as a job: upsert by the chosen key, counts, refused rows, the error
file, dry runs, licenses and contracts, audit — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.db import get_db
from lifecycle.enums import DeviceCategory, DeviceStatus, ImportState, JobState
from lifecycle.imports import jobs as import_jobs
from lifecycle.imports.services import (
    create_import,
    error_file,
    preview,
    set_mapping,
    start_run,
)
from lifecycle.models import (
    AuditEvent,
    Device,
    ImportFile,
    ImportRejection,
    JobRecord,
    License,
    ServiceContract,
)
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.work.queue import drain
from tests import factories

from .files import (
    BAD_ROWS,
    bad_rows_csv,
    csv_bytes,
    gam_devices,
    merged_header_xlsx,
    snipe_assets,
)


def upload(db, world, data: bytes, kind: str = "devices", name: str = "f.csv", **kw):
    imp = create_import(
        db, district_id=world.a.district.id, user_id=world.a.it.id,
        filename=name, data=data, kind=kind, **kw,
    )  # fmt: skip
    db.commit()
    return imp


def run(app, db, imp: ImportFile, *, dry_run: bool = False) -> ImportFile:
    start_run(db, imp=imp, user_id=imp.user_id, dry_run=dry_run)
    db.commit()
    drain(app)
    db.expire_all()
    fresh = db.get(ImportFile, imp.id)
    assert fresh is not None
    return fresh


def devices(db, district_id: int) -> dict[str, Device]:
    db.expire_all()
    rows = db.exec(select(Device).where(col(Device.district_id) == district_id)).all()
    return {d.asset_tag: d for d in rows}


def test_a_snipe_it_export_is_created_then_unchanged_then_updated(app, db, world):
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    db.commit()
    imp = run(app, db, upload(db, world, snipe_assets(5)))
    assert imp.state is ImportState.FINISHED, imp.message
    assert (imp.created, imp.updated, imp.unchanged, imp.rejected) == (5, 0, 0, 0)
    assert imp.rows_total == 5 and imp.last_row == 6
    stored = devices(db, world.a.district.id)
    one = stored["LHS-0001"]
    assert (
        one.category is DeviceCategory.LAPTOP and one.status is DeviceStatus.IN_SERVICE
    )
    assert one.purchase_cost == Decimal("1049.00")
    assert one.warranty_end == date(2027, 8, 15) and one.school_id is not None
    assert one.assigned_to == "student1" and one.version == 1
    assert not devices(db, world.b.district.id)
    job = db.get(JobRecord, imp.job_id)
    assert job is not None and job.state is JobState.FINISHED and job.progress == 100
    assert job.result and job.result["created"] == 5

    # the same file again changes nothing
    again = run(app, db, upload(db, world, snipe_assets(5)))
    assert (again.created, again.updated, again.unchanged, again.rejected) == (
        0,
        0,
        5,
        0,
    )
    assert devices(db, world.a.district.id)["LHS-0001"].version == 1

    # one changed row, one new: the rest unchanged
    changed = snipe_assets(6).replace(b"student2", b"teacher2")
    third = run(app, db, upload(db, world, changed))
    assert (third.created, third.updated, third.unchanged) == (1, 1, 4)
    after = devices(db, world.a.district.id)
    assert (
        after["LHS-0002"].assigned_to == "teacher2" and after["LHS-0002"].version == 2
    )
    events = db.exec(
        select(AuditEvent).where(col(AuditEvent.entity_id) == after["LHS-0002"].id,
                                 col(AuditEvent.entity_type) == "device")
    ).all()  # fmt: skip
    assert [e.action for e in events] == ["import_create", "import_update"]
    assert events[1].changes == {"assigned_to": ["student2", "teacher2"]}
    kinds = {
        e.action
        for e in db.exec(
            select(AuditEvent).where(col(AuditEvent.entity_type) == "import")
        )
    }
    assert kinds == {"upload", "import", "import_done"}


def test_a_gam_export_keyed_by_serial_takes_aue_dates(app, db, world):
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    db.commit()
    imp = upload(db, world, gam_devices(4), key="serial")
    assert imp.defaults == {"category": "chromebook"}
    done = run(app, db, imp)
    assert (done.created, done.rejected) == (4, 0), done.message
    stored = devices(db, world.a.district.id)
    assert {d.serial for d in stored.values()} == {f"GAM{i:06d}" for i in range(1, 5)}
    assert all(d.aue_date == date(2031, 6, 30) for d in stored.values())
    assert all(d.category is DeviceCategory.CHROMEBOOK for d in stored.values())
    assert all(d.refresh_due == date(2031, 6, 30) for d in stored.values())
    assert all(d.refresh_reason == "aue" for d in stored.values())


def test_every_kind_of_bad_row_is_refused_and_the_rest_imported(app, db, world):
    imp = run(app, db, upload(db, world, bad_rows_csv()))
    assert imp.state is ImportState.FINISHED
    assert (imp.created, imp.rejected) == (1, 6)
    assert set(devices(db, world.a.district.id)) == {"GOOD-1"}
    rejected = db.exec(
        select(ImportRejection).order_by(col(ImportRejection.row_number))
    ).all()
    assert [(r.row_number, r.column) for r in rejected] == [
        (n, column) for n, (_, column) in enumerate(BAD_ROWS, start=2) if column
    ]
    messages = {r.row_number: r.message for r in rejected}
    assert messages[6] == "the same key as row 5 (not merged)"
    assert messages[7] == "no school named 'Hogwarts' in this district"
    # the error file: the original rows with an error column, ready to fix
    text = error_file(db, imp=imp).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-1] == "error" and len(table) == 7
    assert table[1][:3] == ["BAD-1", "Laptop", "Vaporized"]
    assert table[1][-1] == "row 2, Status: 'Vaporized' is not a device status we know"
    assert table[-1][-2] == "x" * 5000


def test_the_error_file_cannot_run_formulas(app, db, world):
    data = csv_bytes(
        ["Asset Tag", "Category", "Status"], [["=HYPERLINK(1)", "Laptop", "@SUM(1)"]]
    )
    imp = run(app, db, upload(db, world, data))
    assert imp.rejected == 1
    rows = list(csv.reader(io.StringIO(error_file(db, imp=imp).decode("utf-8-sig"))))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][2] == "'@SUM(1)"


def test_a_dry_run_writes_nothing_but_counts_what_would_happen(app, db, world):
    imp = upload(db, world, bad_rows_csv())
    checked = run(app, db, imp, dry_run=True)
    assert checked.state is ImportState.CHECKED
    assert (checked.created, checked.rejected) == (1, 6)
    assert checked.message.startswith("Dry run finished: 1 would be created")
    assert devices(db, world.a.district.id) == {}
    # then for real: the refused rows are those of this run only
    done = run(app, db, checked)
    assert (done.created, done.rejected) == (1, 6)
    assert len(db.exec(select(ImportRejection)).all()) == 6
    with pytest.raises(Conflict):
        start_run(db, imp=done, user_id=None, dry_run=False)


def test_chunks_resume_after_the_last_committed_one(app, db, world, monkeypatch):
    """A run stopped after some chunks (its state RUNNING, as a killed worker leaves it)
    resumes after the last committed chunk: every row once."""
    monkeypatch.setattr(import_jobs, "CHUNK_ROWS", 3)
    imp = upload(db, world, snipe_assets(10, school=""))
    real = import_jobs.apply_chunk
    calls = {"n": 0}

    def dies_on_the_third(session, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            real(session, **kw)  # written, then the worker dies before the commit
            raise KeyboardInterrupt
        return real(session, **kw)

    monkeypatch.setattr(import_jobs, "apply_chunk", dies_on_the_third)
    start_run(db, imp=imp, user_id=None, dry_run=False)
    db.commit()
    record_id = imp.job_id
    with pytest.raises(KeyboardInterrupt), app.app_context():
        from lifecycle.work.runner import run_record

        run_record(get_db(app), record_id)
    db.expire_all()
    stopped = db.get(ImportFile, imp.id)
    assert stopped.state is ImportState.RUNNING and stopped.last_row == 7
    assert len(devices(db, world.a.district.id)) == 6
    monkeypatch.setattr(import_jobs, "apply_chunk", real)
    with app.app_context():
        run_record(get_db(app), record_id)
    db.expire_all()
    done = db.get(ImportFile, imp.id)
    assert done.state is ImportState.FINISHED
    assert (done.created, done.updated, done.unchanged, done.rejected) == (10, 0, 0, 0)
    assert sorted(devices(db, world.a.district.id)) == [
        f"LHS-{i:04d}" for i in range(1, 11)
    ]


def test_an_xlsx_with_merged_headers(app, db, world):
    data = merged_header_xlsx([["X-1", "2024-08-15", 349.5, "Chromebook"],
                               ["X-2", 45519, "$1,000", "Tablets"]])  # fmt: skip
    imp = run(app, db, upload(db, world, data, name="inventory.xlsx"))
    assert (imp.created, imp.rejected) == (2, 0), imp.message
    stored = devices(db, world.a.district.id)
    assert stored["X-1"].purchase_cost == Decimal("349.50")
    assert stored["X-2"].purchase_date == date(2024, 8, 15)
    assert stored["X-2"].category is DeviceCategory.TABLET


def test_a_serial_held_by_another_device_refuses_the_row(app, db, world):
    factories.make_device(db, world.a.district, asset_tag="OLD-1", serial="SN000001")
    db.commit()
    imp = run(app, db, upload(db, world, snipe_assets(2, school="")))
    assert (imp.created, imp.rejected) == (1, 1)
    message = db.exec(select(ImportRejection.message)).one()
    assert message == "serial SN000001 belongs to device OLD-1 already"


def test_licenses_and_contracts_upsert_on_the_chosen_key(app, db, world):
    vendor = factories.make_vendor(db, name="Cisco")
    db.commit()
    licenses = csv_bytes(
        ["License Name", "Seats", "Start Date", "Expiration Date", "Purchase Cost"],
        [["GoGuardian", "1,200", "07/01/2025", "06/30/2026", "$9,000.00"],
         ["Reading Plus", "300", "2025-08-01", "2026-07-31", "1500"]],
    )  # fmt: skip
    imp = run(app, db, upload(db, world, licenses, kind="licenses", key="product"))
    assert (imp.created, imp.rejected) == (2, 0), imp.message
    db.expire_all()
    gg = db.exec(select(License).where(col(License.product) == "GoGuardian")).one()
    assert gg.seats == 1200 and gg.price_per_seat == Decimal("7.50")
    assert gg.initial_term_months == 12 and gg.current_term_number is not None
    again = run(app, db, upload(db, world, licenses, kind="licenses", key="product"))
    assert (again.created, again.unchanged) == (0, 2)

    contracts = csv_bytes(
        ["Contract Name", "Vendor", "Type", "Start Date", "End Date", "Annual Cost"],
        [["Core switching", "Cisco", "Support", "2025-07-01", "2028-06-30", "$12,000"],
         ["Copiers", "Nobody Inc", "Maintenance", "2025-07-01", "2026-06-30", "1"]],
    )  # fmt: skip
    done = run(
        app, db, upload(db, world, contracts, kind="contracts", key="name_start")
    )
    assert (done.created, done.rejected) == (1, 1)
    db.expire_all()
    core = db.exec(select(ServiceContract)).one()
    assert core.vendor_id == vendor.id and core.initial_term_months == 36
    assert core.cost_per_period == Decimal("12000.00")
    assert db.exec(select(ImportRejection.message).where(
        col(ImportRejection.import_id) == done.id)).one() == "no vendor named 'Nobody Inc'"  # fmt: skip


def test_uploads_and_mappings_are_validated(app, db, world):
    with pytest.raises(ValidationFailed) as bad:
        upload(db, world, b"", kind="cars")
    assert set(bad.value.fields) == {"kind", "file"}
    with pytest.raises(ValidationFailed) as binary:
        upload(db, world, b"\x00\x01")
    assert "binary" in binary.value.fields["file"]
    imp = upload(db, world, snipe_assets(2))
    with pytest.raises(ValidationFailed) as mapping:
        set_mapping(db, imp=imp, mapping={"asset_tag": 99}, key="asset_tag",
                    defaults={"category": "spaceship"}, version=imp.version)  # fmt: skip
    assert mapping.value.fields == {
        "asset_tag": "names a column the file does not have",
        "default_category": "'spaceship' is not a device category we know",
    }
    with pytest.raises(Conflict):
        set_mapping(db, imp=imp, mapping={}, key="asset_tag", defaults={}, version=0)


def test_the_preview_shows_rows_as_stored_and_their_problems(app, db, world):
    imp = upload(db, world, bad_rows_csv())
    rows = preview(db, imp=imp)
    assert [r.number for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    assert rows[3].values == {"asset_tag": "GOOD-1", "category": DeviceCategory.LAPTOP,
                              "status": DeviceStatus.IN_SERVICE}  # fmt: skip
    assert rows[0].problem is not None and rows[0].problem.column == "Status"
    assert rows[5].problem is not None and "Hogwarts" in rows[5].problem.message
