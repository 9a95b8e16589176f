"""Inputs that once crashed the inventory pages: ids beyond the range, non-ASCII
digits, far-off dates and strange cursors answer 422 (a bulk form: its error message,
as every bulk refusal does) and write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from lifecycle.models import Device, License, ServiceContract
from lifecycle.web.paging import encode_cursor
from tests.conftest import fresh, htmx, text
from tests.factories import make_contract, make_device, make_license

BIG = "99999999999999999999"
RANGE = "must be between 1980-01-01 and 2200-12-31"


def versions(db: Session, model: Any) -> list[tuple[int, int]]:
    fresh(db)
    return [(r.id, r.version) for r in db.exec(select(model).order_by(model.id))]


# --- bulk forms -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [BIG, "2147483648", "²", "٣", "1_0", "-1"])
@pytest.mark.parametrize(
    ("kind", "model", "make", "action"),
    [
        ("devices", Device, make_device, "retire"),
        ("licenses", License, make_license, "cancel"),
        ("contracts", ServiceContract, make_contract, "cancel"),
    ],
)
def test_a_bulk_form_with_an_id_no_row_can_have_says_so_and_changes_nothing(
    it, db, world, kind, model, make, action, bad
):
    mine = make(db, world.a.district)
    db.commit()
    before = versions(db, model)

    response = it.post(
        f"/{kind}/bulk", data={"ids": [str(mine.id), bad], "action": action}
    )

    assert response.status_code == 303
    page = text(it.get(response.headers["Location"]))
    assert "flash-error" in page and "not a record of this list" in page
    assert versions(db, model) == before


def test_a_bulk_move_to_a_school_beyond_the_range_is_refused(it, db, world):
    device = make_device(db, world.a.district)
    db.commit()

    for value in (BIG, "²"):
        response = it.post(
            "/devices/bulk",
            data={"ids": [str(device.id)], "action": "school", "value_school": value},
        )
        page = text(it.get(response.headers["Location"]))
        assert "choose a school" in page
    assert versions(db, Device) == [(device.id, 1)]


# --- forms ----------------------------------------------------------------------------


def device_form(**overrides: str) -> dict[str, str]:
    values = {"asset_tag": "CB-1", "category": "chromebook", "status": "in_service"}
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("catalog_item_id", BIG, "must be at most 2147483647"),
        ("school_id", "²", "must be a whole number"),
        ("vehicle_id", "٣", "must be a whole number"),
        ("lifespan_months", "²", "must be a whole number"),
        ("aue_date", "9999-12-31", RANGE),
        ("purchase_date", "9999-06-01", RANGE),
        ("eol_date", "1900-01-01", RANGE),
    ],
)
def test_a_device_form_out_of_range_is_a_422_naming_the_field(
    it, db, field, value, message
):
    response = it.post("/devices", data=device_form(**{field: value}), headers=htmx())

    assert response.status_code == 422
    assert message in text(response)
    assert fresh(db).exec(select(Device)).all() == []


@pytest.mark.parametrize(
    ("url", "form"),
    [
        (
            "/licenses",
            {"product": "P", "seats": "1", "term_start": "9990-01-01", "initial_term_months": "12"},
        ),
        (
            "/contracts",
            {"name": "C", "term_start": "9990-01-01", "initial_term_months": "12"},
        ),
    ],
)  # fmt: skip
def test_an_agreement_starting_in_9990_is_a_422(it, db, url, form):
    response = it.post(url, data=form, headers=htmx())

    assert response.status_code == 422
    assert RANGE in text(response)
    assert fresh(db).exec(select(License)).all() == []
    assert fresh(db).exec(select(ServiceContract)).all() == []


@pytest.mark.parametrize(
    ("field", "value", "version", "message"),
    [
        ("warranty_end", "9999-12-31", "1", RANGE),
        ("school_id", BIG, "1", "must be at most 2147483647"),
        ("notes", "x", "²", "must be a whole number"),
        ("notes", "x", BIG, "must be at most 2147483647"),
    ],
)
def test_click_to_edit_out_of_range_is_a_422_and_changes_nothing(
    it, db, world, field, value, version, message
):
    device = make_device(db, world.a.district)
    db.commit()

    response = it.post(
        f"/devices/{device.id}/fields/{field}",
        data={field: value, "version": version},
        headers=htmx(),
    )

    assert response.status_code == 422
    assert message in text(response)
    assert versions(db, Device) == [(device.id, 1)]


@pytest.mark.parametrize("version", ["²", BIG])
def test_an_edit_form_with_a_version_out_of_range_is_a_422(it, db, world, version):
    lic = make_license(db, world.a.district)
    db.commit()
    form = {
        "product": "Renamed",
        "seats": "500",
        "term_start": "2025-07-01",
        "initial_term_months": "12",
        "version": version,
    }

    response = it.post(f"/licenses/{lic.id}", data=form, headers=htmx())

    assert response.status_code == 422
    assert versions(db, License) == [(lic.id, 1)]


# --- list filters and cursors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"/devices?school_id={BIG}", "must be at most 2147483647"),
        ("/devices?school_id=²", "must be a whole number"),
        ("/devices?catalog_item_id=٣", "must be a whole number"),
        ("/devices?refresh_due_before=9999-12-31", RANGE),
        (f"/licenses?vendor_id={BIG}", "must be at most 2147483647"),
        ("/contracts?school_id=²", "must be a whole number"),
        (f"/renewals?fiscal_year={BIG}", "must be at most 2147483647"),
        ("/renewals?due_date_from=9999-12-01", RANGE),
        (f"/schools?district_id={BIG}", "must be at most 2147483647"),
    ],
)
def test_a_list_filter_out_of_range_is_a_422_with_the_message(it, url, message):
    response = it.get(url, headers=htmx())

    assert response.status_code == 422, text(response)[:300]
    assert message in text(response)


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("asset_tag", [1e308, 1]),
        ("asset_tag", ["A", int(BIG)]),
        ("asset_tag", ["A", 2**31]),
        ("asset_tag", ["A", 1.5]),
        ("asset_tag", ["\ud800", 1]),
        ("status", ["gone", 1]),
        ("status", [7, 1]),
        ("purchase_date", [1e308, 1]),
        ("purchase_date", ["9999-99-99", 1]),
        ("purchase_cost", ["Infinity", 1]),
        ("purchase_cost", ["1e999999", 1]),
        ("purchase_cost", [True, 1]),
        ("refresh_due", [{"a": 1}, 1]),
    ],
)
def test_a_list_cursor_of_the_wrong_kind_is_a_422(it, db, world, sort, cursor):
    make_device(db, world.a.district)
    db.commit()

    response = it.get(
        "/devices",
        query_string={"sort": sort, "cursor": encode_cursor(cursor)},
        headers=htmx(),
    )

    assert response.status_code == 422, text(response)[:300]
    assert "is not a cursor this list gave out" in text(response)


@pytest.mark.parametrize(
    ("url", "sort", "cursor"),
    [
        ("/licenses", "seats", [int(BIG), 1]),
        ("/licenses", "seats", ["many", 1]),
        ("/licenses", "utilization", ["x", 1]),
        ("/renewals", "fiscal_year", [1e308, 1]),
        ("/renewals", "kind", ["upgrade", 1]),
        ("/schools", "enrollment", [2**31, 1]),
    ],
)
def test_other_lists_refuse_a_cursor_of_the_wrong_kind(it, url, sort, cursor):
    response = it.get(
        url,
        query_string={"sort": sort, "cursor": encode_cursor(cursor)},
        headers=htmx(),
    )

    assert response.status_code == 422, text(response)[:300]
    assert "is not a cursor this list gave out" in text(response)


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("GET", "/devices?q=A%00", None),
        ("GET", "/renewals?category=%00", None),
        ("POST", "/devices", {"asset_tag": "A\x00", "category": "chromebook"}),
    ],
)
def test_a_nul_character_in_a_page_request_is_a_422(it, db, method, url, data):
    response = it.open(url, method=method, data=data, headers=htmx())

    assert response.status_code == 422, text(response)[:300]
    assert "must not contain a NUL character" in text(response)
    assert fresh(db).exec(select(Device)).all() == []
