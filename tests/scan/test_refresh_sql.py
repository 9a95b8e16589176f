"""The set-based refresh computation agrees with the pure rule on every database."""

from __future__ import annotations

from datetime import date

import pytest

from lifecycle.enums import DeviceCategory
from lifecycle.models import CategoryPolicy, Device
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.scan.schedule import refresh_due
from tests import factories

CASES = [
    # purchase, device lifespan, aue, eol, expected due, reason
    (date(2023, 1, 31), 1, None, None, date(2023, 2, 28), "lifespan"),
    (date(2024, 1, 31), 1, None, None, date(2024, 2, 29), "lifespan"),
    (date(2028, 2, 29), 12, None, None, date(2029, 2, 28), "lifespan"),
    (date(2023, 7, 15), 48, date(2026, 6, 30), None, date(2026, 6, 30), "aue"),
    (
        date(2023, 7, 15),
        48,
        date(2030, 6, 30),
        date(2025, 1, 1),
        date(2025, 1, 1),
        "eol",
    ),
    (
        date(2022, 6, 30),
        48,
        date(2026, 6, 30),
        None,
        date(2026, 6, 30),
        "aue",
    ),  # tie: AUE wins
    (None, 48, None, None, None, ""),
    (None, None, date(2027, 6, 30), None, date(2027, 6, 30), "aue"),
]


@pytest.mark.parametrize(("bought", "months", "aue", "eol", "due", "reason"), CASES)
def test_sql_refresh_matches_the_rule(db, world, bought, months, aue, eol, due, reason):
    device = factories.make_device(
        db,
        world.a.district,
        purchase_date=bought,
        lifespan_months=months,
        aue_date=aue,
        eol_date=eol,
    )
    db.commit()
    recompute_device_refresh(db, district_id=world.a.district.id)
    db.commit()
    db.refresh(device)
    assert device.refresh_due == due
    assert device.refresh_reason == reason
    pure = refresh_due(bought, months, aue, eol)
    assert (pure.date if pure else None) == due


def test_policy_then_catalog_supply_the_lifespan(db, world):
    vendor = factories.make_vendor(db)
    vehicle = factories.make_vehicle(db, world.coop, vendor)
    item = factories.make_catalog_item(db, vehicle, lifespan_months=60)
    by_catalog = factories.make_device(
        db,
        world.a.district,
        category=DeviceCategory.LAPTOP,
        catalog_item_id=item.id,
        purchase_date=date(2024, 7, 1),
        lifespan_months=None,
    )
    by_policy = factories.make_device(
        db,
        world.a.district,
        category=DeviceCategory.CHROMEBOOK,
        catalog_item_id=item.id,
        purchase_date=date(2024, 7, 1),
        lifespan_months=None,
    )
    other_district = factories.make_device(
        db,
        world.b.district,
        category=DeviceCategory.CHROMEBOOK,
        purchase_date=date(2024, 7, 1),
        lifespan_months=None,
    )
    db.add(
        CategoryPolicy(
            district_id=world.a.district.id,
            category=DeviceCategory.CHROMEBOOK,
            lifespan_months=36,
        )
    )
    db.commit()
    changed = recompute_device_refresh(db)
    db.commit()
    for d in (by_catalog, by_policy, other_district):
        db.refresh(d)
    assert by_catalog.refresh_due == date(2029, 7, 1)
    assert by_policy.refresh_due == date(2027, 7, 1)
    assert other_district.refresh_due is None
    assert changed >= 2
    assert recompute_device_refresh(db) == 0  # running again changes nothing


def test_only_the_named_scope_is_touched(db, world):
    a = factories.make_device(db, world.a.district, lifespan_months=12)
    b = factories.make_device(db, world.b.district, lifespan_months=12)
    db.commit()
    recompute_device_refresh(db, district_id=world.a.district.id)
    db.commit()
    db.refresh(a)
    db.refresh(b)
    assert a.refresh_due is not None and b.refresh_due is None
    assert isinstance(db.get(Device, a.id), Device)
