"""The pipeline's aggregates against the hand-worked needs of tests/pipeline/conftest.py
(on SQLite, and on PostgreSQL with LIFECYCLE_TEST_DATABASE_URL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifecycle.pipeline import services
from lifecycle.pipeline.params import Query
from lifecycle.web.errors import Forbidden, NotFound
from tests.pipeline.conftest import TODAY, Pipe
from tests.querycount import count_queries

D = Decimal


def spend(table, key: str) -> list[Decimal]:
    row = next(r for r in table.rows if r.key == key)
    return [c.spend for c in row.cells]


def test_by_vendor_quarter_by_quarter(db, pipe: Pipe):
    found = services.pipeline(db, pipe.world.coop_staff, Query(), today=TODAY)
    t = found.table

    assert [q.label for q in t.quarters] == ["Q1 2027", "Q2 2027", "Q3 2027", "Q4 2027"]
    dell, google = str(pipe.dell.id), str(pipe.google.id)
    assert [r.key for r in t.rows] == [dell, google]  # most spend first
    assert spend(t, dell) == [D("610.00"), D("600.00"), D("320.00"), D("5000.00")]
    assert spend(t, google) == [0, 0, D("1000.00"), 0]
    assert t.rows[0].label == "Dell Technologies"
    assert t.rows[0].cells[0].units == {"devices": 2}
    assert t.rows[0].cells[0].districts == 2
    assert t.rows[0].cells[1].districts == 1
    assert t.rows[0].cells[3].units == {"contracts": 1}
    assert t.rows[0].total.districts == 2
    assert t.rows[1].cells[2].units == {"seats": 200}
    assert t.rows[1].cells[2].unit_text == "200 seats"
    assert [c.spend for c in t.columns] == [
        D("610.00"), D("600.00"), D("1320.00"), D("5000.00"),
    ]  # fmt: skip
    assert [c.districts for c in t.columns] == [2, 1, 2, 1]
    assert t.total.spend == D("7530.00")
    assert t.total.units == {"devices": 5, "seats": 200, "contracts": 1}
    assert t.total.districts == 2
    # the overdue Chromebook is in Q1, and said so
    assert t.overdue.spend == D("300.00")
    assert t.overdue.units == {"devices": 1}


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("vehicle", {"va": D("1530.00"), "vb": D("1000.00"), "": D("5000.00")}),
        ("item", {"cb": D("1530.00"), "gw": D("1000.00"), "": D("5000.00")}),
        (
            "category",
            {
                "chromebook": D("1530.00"),
                "license": D("1000.00"),
                "service": D("5000.00"),
            },
        ),
    ],
)
def test_each_grouping(db, pipe: Pipe, group, expected):
    ids = {
        "va": pipe.va.id, "vb": pipe.vb.id, "cb": pipe.cb.id, "gw": pipe.gw.id,
    }  # fmt: skip
    want = {str(ids.get(k, k)) if k in ids else k: v for k, v in expected.items()}
    t = services.pipeline(
        db, pipe.world.coop_staff, Query(group=group), today=TODAY
    ).table
    assert {r.key: r.total.spend for r in t.rows} == want
    assert t.total.spend == D("7530.00")
    labels = {r.key: r.label for r in t.rows}
    if group == "vehicle":
        assert labels[str(pipe.va.id)].startswith("R99-DELL")
        assert labels[""] == "No contract vehicle"
    if group == "item":
        assert labels[str(pipe.cb.id)] == "Dell Chromebook 3120 (DELL-3120)"
        assert labels[""] == "Not in the catalog"
    if group == "category":
        assert labels["license"] == "Software license"


@pytest.mark.parametrize(
    ("filters", "total"),
    [
        ({"district_id": "alpha"}, D("1220.00")),
        ({"district_id": "bravo"}, D("6310.00")),
        ({"kind": "license_renewal"}, D("1000.00")),
        ({"kind": "contract_renewal"}, D("5000.00")),
        ({"category": "service"}, D("5000.00")),
        ({"category": "chromebook"}, D("1530.00")),
        ({"vendor_id": "dell"}, D("6530.00")),
        ({"vendor_id": "google"}, D("1000.00")),
        ({"vehicle_id": "va"}, D("1530.00")),
        ({"vehicle_id": "vb", "district_id": "alpha"}, D("0.00")),
        ({"quarters": 5}, D("7860.00")),
    ],
)
def test_filters(db, pipe: Pipe, filters, total):
    ids = {
        "alpha": pipe.alpha.id, "bravo": pipe.bravo.id, "dell": pipe.dell.id,
        "google": pipe.google.id, "va": pipe.va.id, "vb": pipe.vb.id,
    }  # fmt: skip
    query = Query(**{k: ids.get(v, v) for k, v in filters.items()})
    t = services.pipeline(db, pipe.world.coop_staff, query, today=TODAY).table
    assert t.total.spend == total
    assert t.empty is (total == 0)


def test_the_districts_behind_a_cell_a_row_and_a_column(db, pipe: Pipe):
    user = pipe.world.coop_staff
    dell = str(pipe.dell.id)
    cell = services.districts_behind(
        db, user, Query(), key=dell, quarter=0, today=TODAY
    )
    assert [(d.name, d.amount.spend, d.amount.units) for d in cell] == [
        ("Bravo ISD", D("310.00"), {"devices": 1}),
        ("Alpha ISD", D("300.00"), {"devices": 1}),
    ]
    row = services.districts_behind(
        db, user, Query(), key=dell, quarter=None, today=TODAY
    )
    assert [(d.name, d.amount.spend) for d in row] == [
        ("Bravo ISD", D("5310.00")),
        ("Alpha ISD", D("1220.00")),
    ]
    column = services.districts_behind(
        db, user, Query(), key=None, quarter=2, today=TODAY
    )
    assert [(d.name, d.amount.spend) for d in column] == [
        ("Bravo ISD", D("1000.00")),
        ("Alpha ISD", D("320.00")),
    ]


def test_the_quantity_estimate(db, pipe: Pipe):
    lines = services.bid_lines(db, pipe.world.coop_staff, Query(), today=TODAY)
    shown = [
        (ln.quarter.label, ln.sku, ln.vehicle, ln.vendor, ln.kind, ln.units,
         ln.overdue_units, ln.spend, ln.districts)
        for ln in lines
    ]  # fmt: skip
    assert shown == [
        ("Q1 2027", "DELL-3120", "R99-DELL", "Dell Technologies", "refresh", 2, 1, D("610.00"), 2),
        ("Q2 2027", "DELL-3120", "R99-DELL", "Dell Technologies", "refresh", 2, 0, D("600.00"), 1),
        ("Q3 2027", "DELL-3120", "R99-DELL", "Dell Technologies", "refresh", 1, 0, D("320.00"), 1),
        ("Q3 2027", "GWE-PLUS", "R99-GOOG", "Google", "license_renewal", 200, 0, D("1000.00"), 1),
        ("Q4 2027", "", "", "Dell Technologies", "contract_renewal", 1, 0, D("5000.00"), 1),
    ]  # fmt: skip
    assert sum(ln.spend for ln in lines) == D("7530.00")


def test_district_users_are_refused_and_unknown_districts_are_404(db, pipe: Pipe):
    w = pipe.world
    for user in (w.a.it, w.a.finance, w.a.viewer):
        with pytest.raises(Forbidden):
            services.pipeline(db, user, Query(), today=TODAY)
        with pytest.raises(Forbidden):
            services.bid_lines(db, user, Query(), today=TODAY)
        with pytest.raises(Forbidden):
            services.districts_behind(db, user, Query(), key=None, quarter=None)
    with pytest.raises(NotFound):
        services.pipeline(db, w.coop_staff, Query(district_id=999999), today=TODAY)
    assert services.pipeline(db, w.admin, Query(), today=TODAY).table.total.spend == D(
        "7530.00"
    )


def test_the_whole_table_is_two_statements(app, db, pipe: Pipe):
    with count_queries(app) as queries:
        services.pipeline(db, pipe.world.coop_staff, Query(), today=TODAY)
    # the sums with the district counts, then the vendors' names: none per district
    assert len(queries) == 2, queries.report()
