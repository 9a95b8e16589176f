"""Rows saved with far-off dates before input dates were bounded (a device bought
9999-06-01 with a 240-month lifespan, agreements starting 9990 or in year 1): every
page and API read still answers, the scan runs, and a save says which date to fix."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from lifecycle.enums import RenewalType
from lifecycle.models import Device
from lifecycle.scan.engine import scan_district
from lifecycle.scan.jobs import district_today
from lifecycle.scan.refresh import recompute_device_refresh
from tests.conftest import fresh, htmx, text
from tests.factories import World, make_contract, make_device, make_license
from tests.notices.test_calendar import create_feed

RANGE = "must be between 1980-01-01 and 2200-12-31"


@pytest.fixture
def far_rows(db: Session, world: World) -> dict[str, Any]:
    a = world.a.district
    rows = {
        "device": make_device(
            db, a, asset_tag="FAR-1", purchase_date=date(9999, 6, 1), lifespan_months=240
        ),
        "aue": make_device(
            db,
            a,
            asset_tag="FAR-2",
            purchase_date=date(9999, 1, 1),
            aue_date=date(9999, 12, 31),
            warranty_end=date(9999, 12, 31),
        ),
        "end": make_device(
            db,
            a,
            asset_tag="FAR-3",
            aue_date=date(9999, 12, 31),
            warranty_end=date(9999, 12, 31),
        ),
        "license": make_license(
            db,
            a,
            term_start=date(9990, 1, 1),
            initial_term_months=120,
            renewal_type=RenewalType.TACIT,
        ),
        "contract": make_contract(db, a, term_start=date(9990, 1, 1), initial_term_months=120),
        # yearly: SQLite's date() counts 28 Feb 300 + 1 day as 29 Feb, which
        # monthly terms from year 1 would reach
        "ancient": make_contract(
            db,
            a,
            name="Ancient",
            term_start=date(1, 1, 1),
            initial_term_months=12,
            renewal_term_months=12,
            notice_days=730,
        ),
    }  # fmt: skip
    db.commit()
    return rows


def test_rows_with_far_dates_never_break_a_page(it, db, world, far_rows):
    district = world.a.district
    device, lic = far_rows["device"], far_rows["license"]
    # a save runs the refresh rule in SQL, the scan the term rules; a save that
    # keeps the far-off date says which field to correct
    kept = it.post(
        f"/devices/{device.id}/fields/notes",
        data={"notes": "kept", "version": "1"},
        headers=htmx(),
    )
    fixed = it.post(
        f"/devices/{far_rows['aue'].id}",
        data={
            "asset_tag": "FAR-2",
            "category": "chromebook",
            "status": "in_service",
            "purchase_date": "2019-01-01",
            "aue_date": "2026-06-30",
            "warranty_end": "",
            "version": "1",
        },
    )
    recompute_device_refresh(db, district_id=district.id)
    scan_district(db, district_id=district.id, today=district_today(district))
    db.commit()

    urls = [
        *(f"/devices/{far_rows[k].id}" for k in ("device", "aue", "end")),
        *(f"/devices/{far_rows[k].id}/edit" for k in ("device", "aue", "end")),
        f"/licenses/{lic.id}",
        f"/licenses/{lic.id}/edit",
        *(f"/contracts/{far_rows[k].id}" for k in ("contract", "ancient")),
        "/devices",
        "/devices?sort=-refresh_due",
        "/licenses?sort=-decide_by",
        "/contracts?sort=-current_term_end",
        "/renewals",
        "/renewals?sort=-due_date",
        "/renewals?state=all&sort=-decide_by",
        "/",
        "/devices/export.csv",
        "/licenses/export.csv",
        "/contracts/export.csv",
    ]
    answers = {url: it.get(url).status_code for url in urls}
    feed = create_feed(it)
    answers[feed] = it.application.test_client().get(feed).status_code

    assert kept.status_code == 422
    assert f"cannot be saved: purchase date {RANGE}" in text(kept)
    assert fixed.status_code == 303, text(fixed)[:500]
    assert {url: code for url, code in answers.items() if code != 200} == {}
    assert "FAR-1" in text(it.get("/devices"))
    assert "lead outside the calendar" in text(it.get(f"/licenses/{lic.id}"))
    fresh(db)
    assert db.get(Device, device.id).notes == ""
    assert db.get(Device, far_rows["aue"].id).refresh_due == date(2026, 6, 30)


def test_a_far_row_still_answers_its_api_reads(client, db, world, far_rows, token_for):
    district = world.a.district
    recompute_device_refresh(db, district_id=district.id)
    scan_district(db, district_id=district.id, today=district_today(district))
    db.commit()
    headers = token_for(world.a.it)
    path = {"device": "devices", "license": "licenses", "contract": "contracts"}
    for kind, resource in path.items():
        one = client.get(f"/api/v1/{resource}/{far_rows[kind].id}", headers=headers)
        many = client.get(f"/api/v1/{resource}", headers=headers)
        assert (one.status_code, many.status_code) == (200, 200), kind
    assert client.get("/api/v1/obligations", headers=headers).status_code == 200


@pytest.mark.parametrize("kind", ["license", "contract"])
def test_cancelling_far_terms_is_a_422_saying_what_to_correct(it, db, far_rows, kind):
    row = far_rows[kind]

    response = it.post(
        f"/{kind}s/{row.id}/cancel", data={"version": "1"}, headers=htmx()
    )

    assert response.status_code == 422, text(response)[:300]
    assert "lead outside the calendar" in text(response)
    assert fresh(db).get(type(row), row.id).version == 1
