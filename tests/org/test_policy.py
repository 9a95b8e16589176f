"""The district policy page: lifespans move refresh dates at once; settings checked."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from lifecycle.enums import DeviceCategory, ItemKind
from lifecycle.models import AuditEvent, CategoryPolicy, Device, District
from lifecycle.org.policy.services import parse_thresholds
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.web.errors import ValidationFailed
from lifecycle.work.queue import get_queue, get_redis
from tests import factories
from tests.api.conftest import fresh, sign_in
from tests.conftest import htmx


def _page(response) -> str:
    return response.get_data(as_text=True)


def _form(db, district, **changes):
    """The policy form as the browser sends it: what is stored, with `changes`."""
    d = fresh(db).get(District, district.id)
    data = {
        "version": str(d.version),
        "reminder_thresholds": ", ".join(str(t) for t in d.reminder_thresholds),
        "fy_start_month": str(d.fy_start_month),
        "inflation_pct": str(d.inflation_pct),
        "erate_c2_discount_pct": str(d.erate_c2_discount_pct),
        "max_deferral_months": str(d.max_deferral_months),
    }
    for p in db.exec(
        select(CategoryPolicy).where(CategoryPolicy.district_id == district.id)
    ).all():
        if p.lifespan_months:
            data[f"lifespan_{p.category.value}"] = str(p.lifespan_months)
        if p.replacement_item_id:
            data[f"replacement_{p.category.value}"] = str(p.replacement_item_id)
    data.update(changes)
    return data


@pytest.fixture
def chromebooks(db, world):
    """Two Chromebooks bought 15 Jul 2023 at 48 months (catalog default), one laptop."""
    vendor = factories.make_vendor(db, name="Lenovo")
    vehicle = factories.make_vehicle(db, world.coop, vendor)
    item = factories.make_catalog_item(db, vehicle, lifespan_months=48)
    devices = [
        factories.make_device(db, world.a.district, catalog_item_id=item.id)
        for _ in range(2)
    ]
    laptop = factories.make_device(
        db,
        world.a.district,
        category=DeviceCategory.LAPTOP,
        catalog_item_id=item.id,
    )
    other = factories.make_device(db, world.b.district, catalog_item_id=item.id)
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    return {"item": item, "devices": devices, "laptop": laptop, "other": other}


def _rescans(app) -> list[str]:
    registry = get_queue("default", get_redis(app)).scheduled_job_registry
    return [j for j in registry.get_job_ids() if j.startswith("rescan-")]


def test_a_new_lifespan_moves_refresh_dates_in_the_same_save(
    app, client, world, db, chromebooks
):
    device = chromebooks["devices"][0]
    assert fresh(db).get(Device, device.id).refresh_due == date(2027, 7, 15)
    sign_in(client, world.a.it)

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(db, world.a.district, lifespan_chromebook="60"),
    )

    assert response.status_code == 303
    assert fresh(db).get(Device, device.id).refresh_due == date(2028, 7, 15)
    # the laptop and the other district's Chromebook keep their dates
    assert db.get(Device, chromebooks["laptop"].id).refresh_due == date(2027, 7, 15)
    assert db.get(Device, chromebooks["other"].id).refresh_due == date(2027, 7, 15)
    page = _page(client.get(response.headers["Location"]))
    assert "2 devices have a new refresh date (Chromebook)" in page
    devices = _page(client.get("/devices?sort=asset_tag"))
    assert "Jul 15, 2028" in devices
    # the obligations follow in a rescan queued after the commit
    assert [r.split("-")[1] for r in _rescans(app)] == [str(world.a.district.id)]


def test_two_categories_change_in_one_save(client, world, db, chromebooks):
    sign_in(client, world.a.it)
    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(
            db, world.a.district, lifespan_chromebook="60", lifespan_laptop="36"
        ),
    )
    assert response.status_code == 303
    dates = {
        d.id: fresh(db).get(Device, d.id).refresh_due
        for d in (*chromebooks["devices"], chromebooks["laptop"], chromebooks["other"])
    }
    assert [dates[d.id] for d in chromebooks["devices"]] == [date(2028, 7, 15)] * 2
    assert dates[chromebooks["laptop"].id] == date(2026, 7, 15)
    assert dates[chromebooks["other"].id] == date(2027, 7, 15)
    page = _page(client.get(response.headers["Location"]))
    assert "3 devices have a new refresh date" in page


def test_clearing_a_lifespan_falls_back_to_the_catalog_default(
    client, world, db, chromebooks
):
    db.add(
        CategoryPolicy(
            district_id=world.a.district.id,
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=36,
        )
    )
    db.commit()
    recompute_device_refresh(db)
    db.commit()
    sign_in(client, world.a.it)

    form = _form(db, world.a.district)
    form.pop("lifespan_chromebook")
    response = client.post(
        f"/districts/{world.a.district.id}/policy", data=form, headers=htmx()
    )

    assert response.status_code == 204 and "HX-Redirect" in response.headers
    device = fresh(db).get(Device, chromebooks["devices"][0].id)
    assert device.refresh_due == date(2027, 7, 15)
    assert db.exec(select(CategoryPolicy)).all() == []
    event = db.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "category_policy")
    ).all()[-1]
    assert event.action == "delete" and event.district_id == world.a.district.id


def test_settings_are_saved_audited_and_shown(client, world, db):
    sign_in(client, world.a.it)

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(
            db,
            world.a.district,
            reminder_thresholds="30, 180,7",
            fy_start_month="9",
            inflation_pct="2.5",
            erate_c2_discount_pct="80",
            max_deferral_months="6",
        ),
    )

    assert response.status_code == 303
    d = fresh(db).get(District, world.a.district.id)
    assert d.reminder_thresholds == [180, 30, 7]
    assert (d.fy_start_month, d.max_deferral_months) == (9, 6)
    assert (d.inflation_pct, d.erate_c2_discount_pct) == (Decimal("2.5"), Decimal(80))
    page = _page(client.get("/policy"))
    assert "Saved the policy of Alpha ISD." in page
    assert 'value="180, 30, 7"' in page
    assert "fy start month" in page  # the history panel names the change


def test_the_fiscal_year_example_is_shown(client, world, db):
    sign_in(client, world.a.finance)

    page = _page(client.get("/policy"))

    example = page.split('data-testid="fy-example"')[1].split("</p>")[0]
    assert "with July, FY2027 = 1 Jul 2026 – 30 Jun 2027" in example
    fy = re.search(
        r"FY(\d{4}) = 1 Jul (\d{4}) – 30 Jun (\d{4})", example.split("current")[1]
    )
    assert fy and int(fy.group(1)) == int(fy.group(3)) == int(fy.group(2)) + 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("120, ninety", "must be whole days separated by commas"),
        ("120, 800", "must be between 0 and 730 days"),
        ("-1", "must be between 0 and 730 days"),
        ("60, 30, 60", "lists 60 twice; give each day once"),
        (" , ", "give at least one threshold"),
    ],
)
def test_bad_thresholds_are_a_422_with_a_message(client, world, db, raw, message):
    sign_in(client, world.a.it)

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(db, world.a.district, reminder_thresholds=raw),
        headers=htmx(),
    )

    assert response.status_code == 422
    page = _page(response)
    assert "<html" not in page and 'id="policy-form"' in page
    assert "HX-Request" in response.headers["Vary"]
    assert message in page and f'value="{raw}"' in page
    assert fresh(db).get(District, world.a.district.id).version == 1


def test_every_bad_field_is_named_at_once(client, world, db):
    sign_in(client, world.a.it)
    license_item = factories.make_catalog_item(
        db,
        factories.make_vehicle(db, world.coop, factories.make_vendor(db)),
        kind=ItemKind.LICENSE,
        category=None,
    )
    db.commit()

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(
            db,
            world.a.district,
            lifespan_laptop="0",
            lifespan_tablet="four",
            replacement_chromebook=str(license_item.id),
            inflation_pct="3.125",
            erate_c2_discount_pct="120",
            fy_start_month="13",
            max_deferral_months="",
        ),
    )

    assert response.status_code == 422
    page = _page(response)
    for text in [
        "Laptop lifespan (months) must be between 1 and 240 months",
        "Tablet lifespan (months) must be a whole number of months",
        "Chromebook replacement item is not a device in the cooperative catalog",
        "Inflation can have at most 2 decimals",
        "E-Rate Category Two discount must be at most 100",
        "Fiscal year start month must be at most 12",
        "Longest deferral is required",
    ]:
        assert text in page, text
    assert 'aria-invalid="true" aria-describedby="e-lifespan_laptop"' in page


def test_a_replacement_item_is_saved_and_moves_the_version(
    app, client, world, db, chromebooks
):
    sign_in(client, world.a.it)
    item = chromebooks["item"]
    page = _page(client.get("/policy"))
    assert f'<option value="{item.id}">Chromebook 11 ({item.sku})</option>' in page

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(db, world.a.district, replacement_chromebook=str(item.id)),
    )

    assert response.status_code == 303
    policy = fresh(db).exec(select(CategoryPolicy)).one()
    assert (policy.category, policy.replacement_item_id) == ("chromebook", item.id)
    assert policy.lifespan_months is None
    # a category change alone still moves the page's version on
    assert db.get(District, world.a.district.id).version == 2
    assert "No device needed" not in _page(client.get("/policy"))
    assert _rescans(app)  # obligations price refreshes with the replacement item


def test_a_stale_form_is_a_409_with_the_current_values(client, world, db):
    sign_in(client, world.a.it)
    opened = _form(db, world.a.district)
    first = client.post(
        f"/districts/{world.a.district.id}/policy",
        data={**opened, "lifespan_chromebook": "60"},
    )
    assert first.status_code == 303

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data={**opened, "inflation_pct": "5"},
        headers=htmx(),
    )

    assert response.status_code == 409
    page = _page(response)
    assert "<html" not in page and 'data-testid="conflict"' in page
    conflict = page.split('data-testid="conflict"')[1].split("</div>")[0]
    assert "Chromebook lifespan (months): <strong>60</strong>" in conflict
    assert "Inflation: <strong>3.00</strong>" in conflict
    assert 'name="inflation_pct" type="number" value="5"' in page
    assert 'name="version" value="2"' in page
    assert fresh(db).get(District, world.a.district.id).inflation_pct == Decimal("3")


@pytest.mark.parametrize("who", ["a.finance", "a.viewer", "coop_staff", "admin"])
def test_other_roles_read_the_policy_but_cannot_change_it(client, world, db, who):
    user = world
    for part in who.split("."):
        user = getattr(user, part)
    sign_in(client, user)
    url = f"/districts/{world.a.district.id}/policy"

    page = _page(client.get(url))
    response = client.post(
        url, data=_form(db, world.a.district, max_deferral_months="1")
    )

    assert "Alpha ISD: refresh and planning policy" in page
    assert 'name="max_deferral_months"' not in page and "Save policy" not in page
    assert "12 months" in page
    assert response.status_code == 403
    assert fresh(db).get(District, world.a.district.id).max_deferral_months == 12
    if who == "admin":
        assert f'href="/admin/districts/{world.a.district.id}"' in page


def test_cooperative_readers_choose_a_district(client, world):
    sign_in(client, world.coop_staff)

    page = _page(client.get("/policy"))

    assert f'href="/districts/{world.a.district.id}/policy"' in page
    assert f'href="/districts/{world.b.district.id}/policy"' in page


def test_another_districts_policy_is_not_found(client, world, db):
    sign_in(client, world.a.it)
    url = f"/districts/{world.b.district.id}/policy"

    for headers in ({}, htmx()):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and "Bravo" not in _page(response)
    post = client.post(url, data=_form(db, world.b.district, inflation_pct="9"))
    assert post.status_code == 404
    assert fresh(db).get(District, world.b.district.id).inflation_pct == Decimal("3")


def test_the_page_as_a_fragment_is_the_form_only(client, world):
    sign_in(client, world.a.it)

    full = client.get("/policy")
    fragment = client.get("/policy", headers=htmx())

    assert "<html" in _page(full) and "History" in _page(full)
    body = _page(fragment)
    assert "<html" not in body and body.lstrip().startswith('<section id="policy-form"')
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize(
    ("raw", "days"),
    [("120, 90, 60, 30, 7", [120, 90, 60, 30, 7]), ("7;0;730", [730, 7, 0])],
)
def test_thresholds_parse_to_distinct_days_newest_first(raw, days):
    assert parse_thresholds(raw) == days
    with pytest.raises(ValidationFailed):
        parse_thresholds("7, 7")


def test_saving_an_unchanged_form_changes_nothing(app, client, world, db):
    sign_in(client, world.a.it)

    response = client.post(
        f"/districts/{world.a.district.id}/policy", data=_form(db, world.a.district)
    )

    assert response.status_code == 303
    assert fresh(db).get(District, world.a.district.id).version == 1
    assert _rescans(app) == []
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "update")).all() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": "²"}, "Version is missing; reload the page"),
        ({"version": "99999999999999999999"}, "Version is missing; reload the page"),
        ({"replacement_chromebook": "²"}, "choose an item from the list"),
        (
            {"replacement_laptop": "99999999999999999999"},
            "choose an item from the list",
        ),
        ({"lifespan_tablet": "²"}, "must be a whole number of months"),
        ({"lifespan_tablet": "٣٦"}, "must be a whole number of months"),
        ({"reminder_thresholds": "90, ³⁰"}, "must be whole days separated by commas"),
        ({"fy_start_month": "٧"}, "Fiscal year start month must be a whole number"),
    ],
)
def test_non_ascii_digits_and_huge_ids_are_a_422_not_a_crash(
    client, world, db, changes, message
):
    sign_in(client, world.a.it)

    response = client.post(
        f"/districts/{world.a.district.id}/policy",
        data=_form(db, world.a.district, **changes),
    )

    assert response.status_code == 422
    assert message in _page(response)
    assert fresh(db).get(District, world.a.district.id).version == 1
    assert fresh(db).exec(select(CategoryPolicy)).all() == []
