"""Vendors: cooperative reference data coop staff and admins keep; everyone reads."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from lifecycle.models import AuditEvent, Vendor
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx


def _page(response) -> str:
    return response.get_data(as_text=True)


def _user(world, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    return user


def test_everyone_reads_the_vendor_list_and_searches_it(client, world, db):
    dell = factories.make_vendor(db, name="Dell Technologies", website="dell.com")
    factories.make_vendor(db, name="Google for Education")
    factories.make_vehicle(db, world.coop, dell)
    db.commit()
    sign_in(client, world.a.viewer)

    page = _page(client.get("/vendors"))
    fragment = client.get("/vendors?q=dell", headers=htmx())

    assert "Dell Technologies" in page and "Google for Education" in page
    assert 'data-testid="vendor-count">2 vendors' in page
    assert "Add a vendor" not in page
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["Vary"]
    body = _page(fragment)
    assert "<html" not in body and 'id="results"' in body
    assert "Dell Technologies" in body and "Google" not in body.split("vendor-count")[0]
    assert "1 vendor<" in body
    row = body[body.index("Dell Technologies") :].split("</tr>")[0]
    assert '<td class="num">1</td>' in row  # one contract vehicle


def test_an_empty_vendor_list_says_who_adds_vendors(client, world):
    sign_in(client, world.a.it)
    assert "The cooperative's staff add the vendors" in _page(client.get("/vendors"))
    sign_in(client, world.coop_staff)
    assert "Add the first vendor" in _page(client.get("/vendors"))


@pytest.mark.parametrize("who", ["coop_staff", "admin"])
def test_cooperative_staff_add_a_vendor(client, world, db, who):
    sign_in(client, _user(world, who))

    response = client.post(
        "/vendors",
        data={"name": " CDW-G ", "website": "cdwg.com", "support_email": "",
              "support_phone": "800-808-4239"},
    )  # fmt: skip

    assert response.status_code == 303
    vendor = fresh(db).exec(select(Vendor).where(Vendor.name == "CDW-G")).one()
    assert vendor.support_phone == "800-808-4239"
    detail = _page(client.get(response.headers["Location"]))
    assert "Vendor CDW-G added." in detail and "History" in detail
    assert "No cooperative contract with CDW-G yet." in detail


def test_a_duplicate_vendor_name_is_a_422(client, world, db):
    factories.make_vendor(db, name="Lenovo")
    db.commit()
    sign_in(client, world.coop_staff)

    response = client.post("/vendors", data={"name": "LENOVO"}, headers=htmx())
    blank = client.post("/vendors", data={"name": ""})

    assert response.status_code == 422
    page = _page(response)
    assert "<html" not in page and 'id="vendor-form"' in page
    assert "Name is already a vendor" in page and 'value="LENOVO"' in page
    assert blank.status_code == 422 and "Name is required" in _page(blank)


def test_an_edit_is_audited_and_a_stale_edit_is_a_409(client, world, db):
    vendor = factories.make_vendor(db, name="HP Inc.", support_email="k12@hp.com")
    db.commit()
    sign_in(client, world.coop_staff)
    assert 'value="k12@hp.com"' in _page(client.get(f"/vendors/{vendor.id}/edit"))

    saved = client.post(
        f"/vendors/{vendor.id}",
        data={"name": "HP Inc.", "support_email": "", "version": "1"},
    )
    stale = client.post(
        f"/vendors/{vendor.id}",
        data={"name": "Hewlett-Packard", "version": "1"},
        headers=htmx(),
    )

    assert saved.status_code == 303
    assert stale.status_code == 409
    page = _page(stale)
    assert 'data-testid="conflict"' in page and 'name="version" value="2"' in page
    stored = fresh(db).get(Vendor, vendor.id)
    assert (stored.name, stored.support_email) == ("HP Inc.", "")
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.entity_type == "vendor",
            AuditEvent.entity_id == vendor.id,
            AuditEvent.action == "update",
        )
    ).one()
    assert event.changes == {"support_email": ["k12@hp.com", ""]}
    detail = _page(client.get(f"/vendors/{vendor.id}"))
    assert "support email" in detail and "k12@hp.com" in detail


@pytest.mark.parametrize("who", ["a.it", "a.finance", "a.viewer"])
def test_district_users_read_vendors_but_cannot_change_them(client, world, db, who):
    vendor = factories.make_vendor(db, name="Apple")
    db.commit()
    sign_in(client, _user(world, who))

    detail = client.get(f"/vendors/{vendor.id}")
    attempts = [
        client.get("/vendors/new"),
        client.post("/vendors", data={"name": "Rogue"}),
        client.get(f"/vendors/{vendor.id}/edit"),
        client.post(f"/vendors/{vendor.id}", data={"name": "Pear", "version": "1"}),
    ]

    assert detail.status_code == 200 and "Apple" in _page(detail)
    assert ">Edit<" not in _page(detail)
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    assert fresh(db).get(Vendor, vendor.id).name == "Apple"
    assert db.exec(select(Vendor).where(Vendor.name == "Rogue")).first() is None


def test_an_unknown_vendor_is_not_found(client, world):
    sign_in(client, world.a.it)
    assert client.get("/vendors/999999").status_code == 404


def test_the_vendor_page_lists_its_contract_vehicles(client, world, db):
    vendor = factories.make_vendor(db, name="Extreme Networks")
    vehicle = factories.make_vehicle(
        db, world.coop, vendor, contract_number="R99-NET-7", lead_agency="Region 99"
    )
    db.commit()
    sign_in(client, world.a.it)

    page = _page(client.get(f"/vendors/{vendor.id}"))

    assert f'href="/catalog/vehicles/{vehicle.id}"' in page
    assert "R99-NET-7" in page and "Region 99" in page


def test_vendors_sort_by_name_whatever_the_case_across_pages(app, client, world, db):
    # byte order would put the capitals first: Banana, Dell, apple, zoom
    for name in ["zoom Video", "apple", "Dell Technologies", "Banana Computers"]:
        factories.make_vendor(db, name=name)
    db.commit()
    app.extensions["lifecycle.settings"].page_size = 3
    sign_in(client, world.a.viewer)

    first = _page(client.get("/vendors"))
    cursor = re.search(r'href="/vendors\?cursor=([^"&]+)"', first)
    assert cursor is not None
    second = _page(client.get(f"/vendors?cursor={cursor.group(1)}"))

    def names(page: str) -> list[str]:
        return re.findall(r'<th scope="row"><a href="/vendors/\d+">([^<]+)</a>', page)

    assert names(first) == ["apple", "Banana Computers", "Dell Technologies"]
    assert names(second) == ["zoom Video"]
