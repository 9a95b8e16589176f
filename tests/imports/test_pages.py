"""The import pages: district IT uploads, maps, previews, dry-runs and imports; other
roles get 403 and other districts' imports 404."""

from __future__ import annotations

import io

from sqlmodel import select

from lifecycle.enums import ImportState
from lifecycle.models import Device, ImportFile
from lifecycle.work.queue import drain
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx

from .files import GAM_DEVICES, bad_rows_csv, gam_devices


def _page(response) -> str:
    return response.get_data(as_text=True)


def _upload(client, data: bytes, name: str = "gam.csv", **form: str):
    return client.post(
        "/import",
        data={"kind": "devices", **form, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_journey_upload_map_preview_dry_run_import_errors(app, client, db, world):
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    db.commit()
    sign_in(client, world.a.it)
    empty = client.get("/import")
    assert empty.status_code == 200 and "No imports yet" in _page(empty)

    response = _upload(
        client, gam_devices(3) + b"dev-x,CB-0002,,,,,GAMX,ACTIVE,m,/x,,,\n"
    )
    assert response.status_code == 303
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/import/{import_id}")
    body = _page(page)
    assert page.status_code == 200
    # every field has a select of the file's columns, the guessed ones chosen
    tag_column = GAM_DEVICES.index("annotatedAssetId")
    assert f'<option value="{tag_column}" selected>annotatedAssetId</option>' in body
    assert 'name="map_school"' in body and "Lenovo 100e Chromebook Gen 3" in body
    # the preview shows rows as stored: the AUE from the reference list, the school
    assert "2031-06-30" in body and "Lincoln Elementary" in body

    # fix the mapping: key by serial, read the school from annotatedLocation
    imp = fresh(db).get(ImportFile, import_id)
    mapping = {f"map_{k}": str(v) for k, v in imp.mapping.items()}
    mapping["map_school"] = str(GAM_DEVICES.index("annotatedLocation"))
    saved = client.post(
        f"/import/{import_id}/mapping",
        data={**mapping, "key": "serial", "default_category": "chromebook",
              "version": str(imp.version)},
        headers=htmx(),
    )  # fmt: skip
    assert saved.status_code == 200
    imp = fresh(db).get(ImportFile, import_id)
    assert imp.key == "serial" and imp.mapping["school"] == 2

    dry = client.post(
        f"/import/{import_id}/run", data={"dry_run": "1", "version": str(imp.version)}
    )
    assert dry.status_code == 303
    polling = client.get(f"/import/{import_id}/status", headers=htmx())
    assert polling.status_code == 200 and 'hx-trigger="every 1s"' in _page(polling)
    drain(app)
    checked = client.get(f"/import/{import_id}/status", headers=htmx())
    assert checked.status_code == 286 and "hx-trigger" not in _page(checked)
    assert "Would be created" in _page(checked)
    assert fresh(db).exec(select(Device)).all() == []

    imp = fresh(db).get(ImportFile, import_id)
    client.post(f"/import/{import_id}/run", data={"version": str(imp.version)})
    drain(app)
    done = client.get(f"/import/{import_id}")
    assert "Import finished: 3 created, 0 updated, 0 unchanged, 1 rejected." in _page(
        done
    )
    assert fresh(db).get(ImportFile, import_id).state is ImportState.FINISHED
    errors = client.get(f"/import/{import_id}/errors.csv")
    assert errors.status_code == 200 and errors.headers["Cache-Control"] == "no-store"
    assert "attachment" in errors.headers["Content-Disposition"]
    assert "the same asset tag as row 3" in errors.get_data(as_text=True)
    history = _page(client.get("/import"))
    assert "gam.csv" in history and "Finished" in history


def test_bad_uploads_say_why(client, world):
    sign_in(client, world.a.it)
    none = client.post(
        "/import", data={"kind": "devices"}, content_type="multipart/form-data"
    )
    assert none.status_code == 422 and "choose a CSV or XLSX file" in _page(none)
    binary = _upload(client, b"\x00\x01\x02", "x.csv")
    assert binary.status_code == 422 and "binary data" in _page(binary)
    fake = _upload(client, b"Tag\nA\n", "x.xlsx")
    assert fake.status_code == 422 and "not an Excel workbook" in _page(fake)
    kind = _upload(client, b"Tag\nA\n", kind="cars")
    assert kind.status_code == 422 and "must be one of" in _page(kind)


def test_a_stale_or_bad_mapping_is_refused(client, db, world):
    sign_in(client, world.a.it)
    response = _upload(client, bad_rows_csv(), "bad.csv")
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    bad = client.post(
        f"/import/{import_id}/mapping", data={"map_asset_tag": "99", "key": "asset_tag"}
    )
    assert bad.status_code == 422 and "names a column the file does not have" in _page(
        bad
    )
    stale = client.post(
        f"/import/{import_id}/mapping",
        data={"map_asset_tag": "0", "key": "asset_tag", "version": "0"},
    )
    assert stale.status_code == 409
    run_stale = client.post(f"/import/{import_id}/run", data={"version": "0"})
    assert run_stale.status_code == 409


def test_other_roles_get_403_and_other_districts_404(client, db, world):
    sign_in(client, world.a.it)
    response = _upload(client, bad_rows_csv(), "bad.csv")
    import_id = int(response.headers["Location"].rsplit("/", 1)[1])
    for user in (world.a.viewer, world.a.finance, world.coop_staff, world.admin):
        sign_in(client, user)
        assert client.get("/import").status_code == 403
        assert client.get(f"/import/{import_id}").status_code == 403
        assert _upload(client, bad_rows_csv()).status_code == 403
    sign_in(client, world.b.it)
    for url in ("", "/status", "/errors.csv"):
        assert client.get(f"/import/{import_id}{url}").status_code == 404
    assert client.post(f"/import/{import_id}/run", data={}).status_code == 404
    assert client.post(f"/import/{import_id}/mapping", data={}).status_code == 404
