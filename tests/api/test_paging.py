"""Cursor pages and field-named filters of API lists (docs/architecture.md#the-json-api)."""

from __future__ import annotations

from sqlmodel import select

from lifecycle.models import School
from tests.factories import make_school, make_vendor


def _all_pages(client, url, headers, limit, **filters):
    pages, cursor = [], None
    while True:
        query = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "the cursor never ends"


def test_seven_schools_in_pages_of_three_come_as_3_3_1_without_gaps(
    client, world, db, token_for
):
    for n in range(6):
        make_school(db, world.a.district, name=f"Alpha Elementary {n}")
    db.commit()
    expected = sorted(
        db.exec(
            select(School.id).where(School.district_id == world.a.district.id)
        ).all()
    )

    pages = _all_pages(client, "/api/v1/schools", token_for(world.a.it), 3)

    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [item["id"] for page in pages for item in page]
    assert ids == expected
    assert len(set(ids)) == 7


def test_a_page_that_fills_the_limit_exactly_ends_the_list(
    client, world, db, token_for
):
    make_school(db, world.a.district)
    db.commit()
    headers = token_for(world.a.it)

    pages = _all_pages(client, "/api/v1/schools", headers, 2)

    assert [len(p) for p in pages] == [2]


def test_filters_are_named_after_fields(client, world, db, token_for):
    high = make_school(db, world.b.district, name="Bravo North High", level="high")
    make_school(db, world.b.district, name="Bravo Elementary", level="elementary")
    make_school(db, world.a.district, name="Alpha North High", level="high")
    db.commit()
    headers = token_for(world.coop_staff)

    by_district = client.get(
        f"/api/v1/schools?district_id={world.b.district.id}", headers=headers
    ).json["items"]
    both = client.get(
        f"/api/v1/schools?district_id={world.b.district.id}&level=high",
        headers=headers,
    ).json["items"]

    assert {s["district_id"] for s in by_district} == {world.b.district.id}
    assert len(by_district) == 3
    assert [s["id"] for s in both] == [high.id]


def test_the_cursor_of_a_filtered_list_keeps_the_filter(client, world, db, token_for):
    for n in range(4):
        make_school(db, world.b.district, name=f"Bravo Middle {n}", level="middle")
        make_school(db, world.a.district, name=f"Alpha Middle {n}", level="middle")
    db.commit()

    pages = _all_pages(
        client,
        "/api/v1/schools",
        token_for(world.admin),
        3,
        district_id=world.a.district.id,
        level="middle",
    )

    items = [s for page in pages for s in page]
    assert [len(p) for p in pages] == [3, 1]
    assert {s["district_id"] for s in items} == {world.a.district.id}
    assert {s["level"] for s in items} == {"middle"}


def test_vendors_filter_by_exact_name(client, world, db, token_for):
    dell = make_vendor(db, name="Dell")
    make_vendor(db, name="Dell Financial Services")
    db.commit()

    items = client.get(
        "/api/v1/vendors?name=Dell", headers=token_for(world.a.viewer)
    ).json["items"]

    assert [v["id"] for v in items] == [dell.id]


def test_an_empty_filter_value_means_no_filter(client, world, token_for):
    items = client.get("/api/v1/schools?level=", headers=token_for(world.admin)).json[
        "items"
    ]

    assert len(items) == 2
