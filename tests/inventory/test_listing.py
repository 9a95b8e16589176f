"""The generic list machinery (lifecycle/listing.py): parsing, keyset pages with NULLs,
tampered cursors, CSV cells, and streamed exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.enums import DeviceCategory, DeviceStatus
from lifecycle.models import Device
from lifecycle.spreadsheet import csv_cell
from lifecycle.web import listing
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.paging import encode_cursor
from tests.factories import World, make_device
from tests.querycount import count_queries

SPEC = listing.ListSpec(
    filters=[
        listing.Filter("status", "Status", DeviceStatus, column=col(Device.status)),
        listing.Filter("school_id", "School", int, column=col(Device.school_id)),
        listing.Filter(
            "from", "From", date, where=lambda v: col(Device.purchase_date) >= v
        ),
        listing.Filter("cost", "Cost", Decimal, column=col(Device.purchase_cost)),
    ],
    sorts=[
        listing.SortKey("asset_tag", "Tag", col(Device.asset_tag)),
        listing.SortKey(
            "purchase_date", "Bought", col(Device.purchase_date), nullable=True
        ),
        listing.SortKey(
            "purchase_cost", "Cost", col(Device.purchase_cost), nullable=True
        ),
    ],
    default_sort="asset_tag",
    id_column=col(Device.id),
    search=lambda q: col(Device.asset_tag).ilike(f"%{q}%"),
    page_size=2,
)


def test_parse_query_reports_every_bad_value_at_once():
    with pytest.raises(ValidationFailed) as bad:
        listing.parse_query(
            SPEC,
            {"status": "gone", "school_id": "x", "from": "1/2/2025", "cost": "a lot"},
        )

    assert bad.value.fields == {
        "status": "must be one of: in_service, spare, in_repair, lost, retired, on_order",
        "school_id": "must be a whole number",
        "from": "must be a date (YYYY-MM-DD)",
        "cost": "must be a number",
    }


def test_parse_query_reads_values_trims_search_and_keeps_links_clean():
    query = listing.parse_query(
        SPEC,
        {
            "status": "spare",
            "school_id": " 3 ",
            "q": "  " + "x" * 300,
            "sort": "-asset_tag",
        },
    )

    assert query.values == {"status": DeviceStatus.SPARE, "school_id": 3}
    assert len(query.q) == 200
    assert query.args(cursor="abc") == {
        "status": "spare",
        "school_id": "3",
        "q": "x" * 200,
        "sort": "-asset_tag",
        "cursor": "abc",
    }
    assert "status" not in query.args(status=None)


def test_an_unknown_sort_is_refused():
    with pytest.raises(ValidationFailed) as bad:
        listing.parse_query(SPEC, {"sort": "-password_hash"})
    assert "sort" in bad.value.fields


@pytest.fixture
def dated(db: Session, world: World) -> list[Device]:
    """Five devices: two with purchase dates (a tie), three without."""
    made = [
        make_device(
            db, world.a.district, asset_tag="D1", purchase_date=date(2024, 1, 1)
        ),
        make_device(db, world.a.district, asset_tag="D2", purchase_date=None),
        make_device(
            db, world.a.district, asset_tag="D3", purchase_date=date(2024, 1, 1)
        ),
        make_device(db, world.a.district, asset_tag="D4", purchase_date=None),
        make_device(db, world.a.district, asset_tag="D5", purchase_date=None),
    ]
    db.commit()
    return made


def _all_pages(db: Session, sort: str) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = listing.ListQuery(sort=sort, cursor=cursor)
        page = listing.page(db, SPEC, sa.select(Device), query)
        pages.append([row[0].asset_tag for row in page.rows])
        assert page.total == 5
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["purchase_date", "-purchase_date"])
def test_keyset_pages_run_through_ties_and_trailing_nulls(db, dated, sort):
    # NULLs come last in both directions, ties and NULLs in id order; page 2 starts on
    # a NULL and page 3 starts inside the NULLs.
    assert _all_pages(db, sort) == [["D1", "D3"], ["D2", "D4"], ["D5"]]


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor(["x"]),
        encode_cursor([[1], 3]),
        encode_cursor([{"a": 1}, 3]),
        encode_cursor(["2024-01-01", "3"]),
        encode_cursor(["2024-01-01", True]),
        encode_cursor(["yesterday", 3]),
        "###",
    ],
)
def test_a_tampered_cursor_is_a_validation_error(db, dated, cursor):
    query = listing.ListQuery(sort="purchase_date", cursor=cursor)

    with pytest.raises(ValidationFailed) as bad:
        listing.page(db, SPEC, sa.select(Device), query)
    assert "cursor" in bad.value.fields


def test_a_null_cursor_value_on_a_column_without_nulls_is_refused(db, dated):
    query = listing.ListQuery(sort="asset_tag", cursor=encode_cursor([None, 3]))

    with pytest.raises(ValidationFailed):
        listing.page(db, SPEC, sa.select(Device), query)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (Decimal("-5.00"), Decimal("-5.00")),  # numbers are not formulas
        (DeviceCategory.LAPTOP, "laptop"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_csv_response_streams_in_batches_on_its_own_session(app, db, world):
    district_id = world.a.district.id
    db.execute(
        sa.insert(Device),
        [
            {
                "district_id": district_id,
                "asset_tag": f"S{n:04d}",
                "category": DeviceCategory.LAPTOP,
                "status": DeviceStatus.IN_SERVICE,
            }
            for n in range(5)
        ],
    )
    db.commit()
    stmt = sa.select(Device).order_by(col(Device.id))
    with app.test_request_context():
        response = listing.csv_response(
            stmt,
            ["tag", "status"],
            lambda row: [row[0].asset_tag, row[0].status],
            filename="x.csv",
        )
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="x.csv"'
    with count_queries(app) as queries:
        body = "".join(
            chunk.decode() if isinstance(chunk, bytes) else chunk
            for chunk in response.response
        )
        response.close()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["tag", "status"]
    assert rows[1:] == [[f"S{n:04d}", "in_service"] for n in range(5)]
    assert len(queries.matching(r"^\s*SELECT")) == 1


def test_count_ignores_order_and_limit(db, dated):
    stmt = sa.select(Device).order_by(col(Device.asset_tag)).limit(1)
    assert listing.count(db, stmt.limit(None)) == 5
