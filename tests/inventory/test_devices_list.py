"""The device list: page and fragment, search, filters, sorting, keyset pages, CSV,
query counts, and who sees what."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from lifecycle.enums import DeviceCategory, DeviceStatus
from lifecycle.models import Device
from lifecycle.scan.refresh import recompute_device_refresh
from tests.conftest import htmx, sign_in, text
from tests.factories import (
    World,
    make_catalog_item,
    make_device,
    make_school,
    make_vehicle,
    make_vendor,
)
from tests.querycount import count_queries

ROW = re.compile(r'<th scope="row"><a href="/devices/(\d+)">')


def row_ids(response: Any) -> list[int]:
    return [int(i) for i in ROW.findall(text(response))]


def next_link(response: Any) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', text(response))
    return html.unescape(found.group(1)) if found else None


def refresh_all(db: Session) -> None:
    recompute_device_refresh(db)
    db.commit()


# --- page and fragment -----------------------------------------------------------


def test_the_list_is_a_full_page_and_an_htmx_fragment(it, db, world):
    make_device(db, world.a.district, asset_tag="ALPHA-1")
    make_device(db, world.a.district, asset_tag="ALPHA-2", model="HP ProBook 450")
    make_device(db, world.b.district, asset_tag="BRAVO-1")
    db.commit()

    page = it.get("/devices")
    fragment = it.get("/devices?q=probook", headers=htmx())

    assert page.status_code == 200
    assert "<html" in text(page)
    assert "ALPHA-1" in text(page) and "ALPHA-2" in text(page)
    assert "BRAVO-1" not in text(page)
    assert re.search(r'data-testid="device-count">2 devices<', text(page))
    assert "HX-Request" in page.headers["Vary"]

    assert fragment.status_code == 200
    body = text(fragment)
    assert "<html" not in body and "<form" not in body
    assert 'id="results"' in body
    assert "ALPHA-2" in body and "ALPHA-1" not in body
    assert re.search(
        r'<p id="device-count"[^>]*hx-swap-oob="true"[^>]*>1 device<', body
    )
    assert re.search(r'<p id="filter-summary"[^>]*hx-swap-oob="true"', body)
    assert "matches for “probook”" in body
    assert re.search(r'<input type="hidden" id="list-sort"[^>]*hx-swap-oob', body)
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_boosted_request_gets_the_whole_page(it, db, world):
    make_device(db, world.a.district)
    db.commit()

    response = it.get("/devices", headers=htmx(**{"HX-Boosted": "true"}))

    assert "<html" in text(response)


def test_search_matches_tag_serial_model_and_person(it, db, world):
    d1 = make_device(db, world.a.district, asset_tag="LIB-0001", serial="5CD1234XYZ")
    d2 = make_device(db, world.a.district, model="Dell Latitude 3440")
    d3 = make_device(db, world.a.district, assigned_to="Maria Gonzalez")
    make_device(db, world.b.district, model="Dell Latitude 3440")
    db.commit()

    def found(q: str) -> list[int]:
        return row_ids(it.get("/devices", query_string={"q": q}, headers=htmx()))

    assert found("lib-00") == [d1.id]
    assert found("234x") == [d1.id]
    assert found("LATITUDE") == [d2.id]
    assert found("gonzalez") == [d3.id]
    assert found("no such thing") == []
    # % and _ are searched for, not wildcards
    assert found("%") == [] and found("_") == []


def test_filters_narrow_the_list(it, db, world):
    a = world.a.district
    other_school = make_school(db, a, name="Alpha Middle")
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    item = make_catalog_item(db, vehicle)
    laptop = make_device(
        db,
        a,
        category=DeviceCategory.LAPTOP,
        school_id=world.a.school.id,
        funding_source="Title IV-A",
        vehicle_id=vehicle.id,
        catalog_item_id=item.id,
        purchase_date=date(2022, 1, 10),
        lifespan_months=48,
    )
    spare = make_device(
        db,
        a,
        status=DeviceStatus.SPARE,
        school_id=other_school.id,
        purchase_date=date(2024, 1, 10),
        lifespan_months=48,
    )
    undated = make_device(db, a, purchase_date=None)
    db.commit()
    refresh_all(db)

    def found(**args: str) -> list[int]:
        response = it.get("/devices", query_string=args, headers=htmx())
        assert response.status_code == 200, text(response)
        return row_ids(response)

    assert found(category="laptop") == [laptop.id]
    assert found(status="spare") == [spare.id]
    assert found(school_id=str(other_school.id)) == [spare.id]
    assert found(funding_source="Title IV-A") == [laptop.id]
    assert found(vehicle_id=str(vehicle.id)) == [laptop.id]
    assert found(catalog_item_id=str(item.id)) == [laptop.id]
    assert found(refresh_due_before="2027-01-01") == [laptop.id]  # due 2026-01-10
    assert found(refresh_due_from="2027-01-01") == [spare.id]  # due 2028-01-10
    assert undated.id not in found(refresh_due_from="2000-01-01")
    assert found(category="chromebook", status="spare") == [spare.id]
    summary = text(it.get("/devices?status=spare&category=chromebook"))
    assert "Status: spare" in summary and "Category: chromebook" in summary


def test_a_bad_filter_answers_422_and_says_which(it, db, world):
    make_device(db, world.a.district, asset_tag="STILL-SHOWN")
    db.commit()

    for headers in ({}, htmx()):
        response = it.get(
            "/devices?status=broken&refresh_due_from=someday&school_id=x",
            headers=headers,
        )
        body = text(response)
        assert response.status_code == 422
        assert "Status must be one of: in_service, spare" in body
        assert "Refresh due from must be a date (YYYY-MM-DD)" in body
        assert "School must be a whole number" in body
        assert "STILL-SHOWN" in body  # the unfiltered list below the message


@pytest.mark.parametrize(
    "args",
    [
        {"sort": "password_hash"},
        {"cursor": "not-a-cursor"},
        {"cursor": "WzFd"},  # [1]: one value where two belong
        {"cursor": "W1sxXSwxXQ"},  # [[1],1]: a list as the sort value
        {"cursor": "WyJhIiwieCJd"},  # ["a","x"]: an id that is not a number
        {"sort": "purchase_date", "cursor": "WyJub3QtYS1kYXRlIiwxXQ"},
    ],
)
def test_a_bad_sort_or_cursor_is_a_422_never_a_500(it, db, world, args):
    make_device(db, world.a.district)
    db.commit()

    response = it.get("/devices", query_string=args, headers=htmx())

    assert response.status_code == 422, text(response)[:300]
    assert re.search(r"(Sort|Cursor) is not", text(response))


# --- sorting and keyset pages ------------------------------------------------------


@pytest.fixture
def many(db: Session, world: World) -> list[Device]:
    """120 devices of district A with ties and NULLs in the sortable columns."""
    devices = []
    for n in range(120):
        devices.append(
            make_device(
                db,
                world.a.district,
                asset_tag=f"DEV{n:04d}",
                serial=None if n % 7 == 0 else f"SER{(n * 37) % 120:04d}",
                purchase_cost=Decimal(100 + (n % 5) * 50),
                purchase_date=None if n % 3 == 0 else date(2020, 1, 1) + timedelta(n),
                lifespan_months=48,
            )
        )
    make_device(db, world.b.district, asset_tag="DEV9999")
    db.commit()
    refresh_all(db)
    for d in devices:
        db.refresh(d)
    return devices


def _expected(devices: list[Device], name: str, descending: bool) -> list[int]:
    """The list's order: by value (NULLs last either way), ties by id ascending."""
    present = [d for d in devices if getattr(d, name) is not None]
    missing = [d for d in devices if getattr(d, name) is None]
    present.sort(key=lambda d: d.id)
    present.sort(key=lambda d: getattr(d, name), reverse=descending)
    return [d.id for d in present] + sorted(d.id for d in missing)


def _walk(client: FlaskClient, url: str) -> tuple[list[int], int]:
    ids: list[int] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = client.get(next_url, headers=htmx())
        assert response.status_code == 200, text(response)[:500]
        ids += row_ids(response)
        pages += 1
        next_url = next_link(response)
        assert pages < 10
    return ids, pages


@pytest.mark.parametrize(
    ("sort", "name"),
    [
        ("asset_tag", "asset_tag"),
        ("-asset_tag", "asset_tag"),
        ("purchase_cost", "purchase_cost"),
        ("-purchase_cost", "purchase_cost"),
        ("refresh_due", "refresh_due"),
        ("-refresh_due", "refresh_due"),
        ("purchase_date", "purchase_date"),
        ("-serial", "serial"),
    ],
)
def test_keyset_pages_visit_every_row_once_in_order(it, many, sort, name):
    ids, pages = _walk(it, f"/devices?sort={sort}")

    assert pages == 3  # 50 + 50 + 20
    assert len(ids) == len(set(ids)) == 120
    assert ids == _expected(many, name, sort.startswith("-"))


def test_pages_keep_the_filter_and_the_count(it, many):
    response = it.get("/devices?q=DEV00&sort=-refresh_due")
    nxt = next_link(response)

    assert re.search(r'data-testid="device-count">100 devices<', text(response))
    assert nxt is not None and "q=DEV00" in nxt and "sort=-refresh_due" in nxt
    ids, _ = _walk(it, "/devices?q=DEV00&sort=-refresh_due")
    assert ids == _expected(many[:100], "refresh_due", True)


def test_the_page_size_comes_from_the_configuration(app, it, many):
    app.extensions["lifecycle.settings"].page_size = 40
    ids, pages = _walk(it, "/devices")

    assert pages == 3  # 40 + 40 + 40
    assert len(set(ids)) == 120


def test_sort_headers_keep_the_filters_and_the_form_learns_the_sort(it, many):
    response = it.get("/devices?status=in_service&sort=-refresh_due", headers=htmx())
    body = html.unescape(text(response))

    assert 'aria-sort="descending"' in body
    header = re.search(r'<a href="([^"]*sort=refresh_due[^"]*)"', body)
    assert header is not None and "status=in_service" in header.group(1)
    assert "cursor" not in header.group(1)
    assert re.search(
        r'id="list-sort" name="sort" value="-refresh_due" hx-swap-oob="true"', body
    )
    unsorted = text(it.get("/devices", headers=htmx()))
    assert re.search(r'id="list-sort" name="sort" value="" disabled', unsorted)


# --- export ----------------------------------------------------------------------


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(response))))


def test_export_streams_the_filtered_rows_with_a_header(it, db, world):
    make_device(
        db,
        world.a.district,
        asset_tag="KEEP-1",
        school_id=world.a.school.id,
        purchase_cost=Decimal("1234.5"),
    )
    make_device(db, world.a.district, asset_tag="SPARE-1", status=DeviceStatus.SPARE)
    make_device(db, world.b.district, asset_tag="BRAVO-1")
    db.commit()

    response = it.get("/devices/export.csv?status=in_service")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="devices-'
    )
    rows = _csv(response)
    assert [r["asset_tag"] for r in rows] == ["KEEP-1"]
    assert rows[0]["school"] == world.a.school.name
    assert rows[0]["district"] == world.a.district.name
    assert rows[0]["purchase_cost"] == "1234.50"
    assert rows[0]["status"] == "in_service"
    assert text(response).splitlines()[0].startswith("id,district,asset_tag,serial")


def test_export_defuses_spreadsheet_formulas(it, db, world):
    make_device(
        db,
        world.a.district,
        asset_tag="=HYPERLINK(1)",
        model="+SUM(A1)",
        assigned_to="@cmd",
        funding_source="-2+3",
        notes="x",
    )
    make_device(db, world.a.district, asset_tag="TAB", assigned_to="\t=1")
    db.commit()

    rows = {r["model"]: r for r in _csv(it.get("/devices/export.csv"))}

    formula = rows["'+SUM(A1)"]
    assert formula["asset_tag"] == "'=HYPERLINK(1)"
    assert formula["assigned_to"] == "'@cmd"
    assert formula["funding_source"] == "'-2+3"
    tabbed = next(r for r in rows.values() if r["asset_tag"] == "TAB")
    assert tabbed["assigned_to"] == "'\t=1"


def test_export_has_no_row_cap(it, db, world):
    district_id = world.a.district.id
    db.execute(
        sa.insert(Device),
        [
            {
                "district_id": district_id,
                "asset_tag": f"BULK{n:05d}",
                "model": "Chromebook",
                "category": DeviceCategory.CHROMEBOOK,
                "status": DeviceStatus.IN_SERVICE,
            }
            for n in range(2_345)
        ],
    )
    db.commit()

    rows = _csv(it.get("/devices/export.csv"))

    assert len(rows) == 2_345
    assert rows[0]["asset_tag"] == "BULK00000" and rows[-1]["asset_tag"] == "BULK02344"


def test_export_with_a_bad_filter_is_a_422(it, db, world):
    response = it.get("/devices/export.csv?purchase_date=x&status=gone")

    assert response.status_code == 422
    assert "Status" in text(response) or "status" in text(response)


# --- query counts ----------------------------------------------------------------


def _arrange(db: Session, world: World, n: int) -> None:
    vehicle = make_vehicle(db, world.coop, make_vendor(db))
    item = make_catalog_item(db, vehicle)
    schools = [world.a.school, make_school(db, world.a.district)]
    for i in range(n):
        make_device(
            db,
            world.a.district,
            school_id=schools[i % 2].id,
            catalog_item_id=item.id if i % 2 else None,
            vehicle_id=vehicle.id if i % 3 else None,
            funding_source=f"Fund {i % 4}",
            serial=None if i % 5 == 0 else f"S{n}-{i:06d}",
        )
        make_device(db, world.b.district, school_id=world.b.school.id)
    db.commit()
    refresh_all(db)


def _cost(app: Flask, client: FlaskClient, url: str, **kw: Any) -> int:
    with count_queries(app) as queries:
        response = client.get(url, **kw)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["it", "coop_staff"])
def test_the_list_costs_the_same_queries_for_3_or_60_rows(app, client, db, world, role):
    user = world.coop_staff if role == "coop_staff" else world.a.it
    sign_in(client, user)
    _arrange(db, world, 3)
    few = {
        "page": _cost(app, client, "/devices"),
        "fragment": _cost(app, client, "/devices?sort=-refresh_due", headers=htmx()),
        "detail": _cost(app, client, f"/devices/{db.get(Device, 1).id}"),
    }
    _arrange(db, world, 57)
    many = {
        "page": _cost(app, client, "/devices"),
        "fragment": _cost(app, client, "/devices?sort=-refresh_due", headers=htmx()),
        "detail": _cost(app, client, f"/devices/{db.get(Device, 1).id}"),
    }

    assert few == many
    assert many["fragment"] < many["page"] <= 14


# --- who sees what ---------------------------------------------------------------


def test_cooperative_staff_read_every_district_but_change_nothing(client, db, world):
    sign_in(client, world.coop_staff)
    a = make_device(db, world.a.district, asset_tag="ALPHA-1")
    b = make_device(db, world.b.district, asset_tag="BRAVO-1")
    db.commit()

    page = text(client.get("/devices"))
    only_b = row_ids(client.get(f"/devices?district_id={world.b.district.id}"))

    assert "ALPHA-1" in page and "BRAVO-1" in page
    assert re.search(r'data-testid="device-count">2 devices<', page)
    assert '<th scope="col">District</th>' in page
    assert world.a.district.name in page and world.b.district.name in page
    assert 'id="f-district_id"' in page
    assert only_b == [b.id]
    assert 'name="ids"' not in page and 'id="bulk"' not in page
    assert "Add a device" not in page
    detail = text(client.get(f"/devices/{a.id}"))
    assert "ALPHA-1" in detail and "edit-link" not in detail and "Retire" not in detail


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_district_readers_see_their_list_without_edit_controls(client, db, world, role):
    sign_in(client, getattr(world.a, role))
    make_device(db, world.a.district, asset_tag="ALPHA-1")
    make_device(db, world.b.district, asset_tag="BRAVO-1")
    db.commit()

    page = text(client.get("/devices"))

    assert "ALPHA-1" in page and "BRAVO-1" not in page
    assert 'id="bulk"' not in page and "Add a device" not in page
    assert '<th scope="col">District</th>' not in page
    assert 'id="f-district_id"' not in page
    export = _csv(client.get("/devices/export.csv"))
    assert [r["asset_tag"] for r in export] == ["ALPHA-1"]


def test_a_district_user_cannot_list_another_district_by_filter(it, db, world):
    make_device(db, world.b.district, asset_tag="BRAVO-1")
    db.commit()

    page = it.get(f"/devices?district_id={world.b.district.id}")
    export = it.get(f"/devices/export.csv?district_id={world.b.district.id}")

    assert row_ids(page) == []
    assert "BRAVO-1" not in text(page) and "BRAVO-1" not in text(export)


def test_the_list_shows_active_devices_unless_asked_and_marks_past_refreshes(
    it: FlaskClient, db: Session, world: World
) -> None:
    old = date.today() - timedelta(days=6 * 365)
    make_device(
        db, world.a.district, asset_tag="IN-USE", purchase_date=old, lifespan_months=48
    )
    make_device(db, world.a.district, asset_tag="GONE", status=DeviceStatus.RETIRED)
    make_device(db, world.a.district, asset_tag="MISSING", status=DeviceStatus.LOST)
    recompute_device_refresh(db, district_id=world.a.district.id)
    db.commit()

    default = text(it.get("/devices"))
    every = text(it.get("/devices?status=all"))
    retired = text(it.get("/devices?status=retired"))
    exported = text(it.get("/devices/export.csv"))

    assert "IN-USE" in default and "GONE" not in default and "MISSING" not in default
    assert 'data-testid="device-count">1 device' in default
    assert "Showing all" in default  # the default is no chosen filter
    assert all(tag in every for tag in ("IN-USE", "GONE", "MISSING"))
    assert "GONE" in retired and "IN-USE" not in retired
    assert "IN-USE" in exported and "GONE" not in exported
    row = default[default.index("IN-USE") :].split("</tr>")[0]
    assert 'class="past-due"' in row and ">past</span>" in row
