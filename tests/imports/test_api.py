"""POST /api/v1/imports (multipart) runs a file as a job; GET /api/v1/imports/{id} polls it."""

from __future__ import annotations

import io

from lifecycle.auth import create_token
from lifecycle.work.queue import drain
from tests import factories
from tests.conftest import bearer

from .files import bad_rows_csv, gam_devices


def _post(client, secret: str, data: bytes, **form: str):
    return client.post(
        "/api/v1/imports",
        data={"kind": "devices", **form, "file": (io.BytesIO(data), "f.csv")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )


def test_an_upload_runs_as_a_job_and_is_polled(app, client, db, world):
    factories.make_school(db, world.a.district, name="Lincoln Elementary")
    _, secret = create_token(db, user=world.a.it, name="t")
    db.commit()
    response = _post(client, secret, gam_devices(3), key="serial")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["state"] == "queued" and body["key"] == "serial"
    assert body["progress"] == 0 and body["error_file_url"] is None
    assert response.headers["Location"].endswith(f"/api/v1/imports/{body['id']}")
    drain(app)
    polled = client.get(f"/api/v1/imports/{body['id']}", headers=bearer(secret))
    done = polled.get_json()
    assert done["state"] == "finished" and done["progress"] == 100, done
    assert (done["created"], done["rejected"], done["rows_total"]) == (3, 0, 3)

    bad = _post(client, secret, bad_rows_csv(), dry_run="true").get_json()
    drain(app)
    checked = client.get(
        f"/api/v1/imports/{bad['id']}", headers=bearer(secret)
    ).get_json()
    assert checked["state"] == "checked" and checked["dry_run"] is True
    assert checked["rejected"] == 6
    assert checked["error_file_url"] == f"/import/{bad['id']}/errors.csv"


def test_bad_uploads_are_422_with_fields(client, db, world):
    _, secret = create_token(db, user=world.a.it, name="t")
    db.commit()
    empty = _post(client, secret, b"", kind="cars")
    assert empty.status_code == 422
    assert set(empty.get_json()["error"]["fields"]) == {"kind", "file"}
    extra = _post(client, secret, b"Tag\nA\n", colour="red")
    assert extra.get_json()["error"]["fields"] == {
        "colour": "is not a field this form accepts"
    }
    dry = _post(client, secret, b"Tag\nA\n", dry_run="maybe")
    assert dry.get_json()["error"]["fields"] == {"dry_run": "must be true or false"}
    key = _post(client, secret, b"Asset Tag\nA\n", key="colour")
    assert "key" in key.get_json()["error"]["fields"]


def test_roles_and_districts(client, db, world):
    _, it = create_token(db, user=world.a.it, name="t")
    _, viewer = create_token(db, user=world.a.viewer, name="t")
    _, other = create_token(db, user=world.b.it, name="t")
    db.commit()
    created = _post(client, it, gam_devices(1)).get_json()
    assert _post(client, viewer, gam_devices(1)).status_code == 403
    assert (
        client.get(
            f"/api/v1/imports/{created['id']}", headers=bearer(viewer)
        ).status_code
        == 403
    )
    missing = client.get(f"/api/v1/imports/{created['id']}", headers=bearer(other))
    assert (
        missing.status_code == 404
        and missing.get_json()["error"]["code"] == "not_found"
    )


def test_the_document_describes_the_upload(client):
    document = client.get("/api/v1/openapi.json").get_json()
    post = document["paths"]["/api/v1/imports"]["post"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["$ref"].endswith("ImportUpload")
    upload = document["components"]["schemas"]["ImportUpload"]
    assert upload["properties"]["file"]["format"] == "binary"
    assert {"202", "403", "422"} <= set(post["responses"])
    assert "404" in document["paths"]["/api/v1/imports/{import_id}"]["get"]["responses"]
