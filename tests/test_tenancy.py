"""The one scoping helper every district query goes through (docs/rules.md#tenancy-and-access)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from lifecycle.enums import Role
from lifecycle.models import Device, District, Vendor
from lifecycle.tenancy import (
    get_scoped,
    scoped,
    writable_district,
)
from lifecycle.web.errors import Forbidden, NotFound
from tests import factories


@pytest.fixture
def devices(db, world):
    a = factories.make_device(db, world.a.district)
    b = factories.make_device(db, world.b.district)
    db.commit()
    return a, b


def test_district_users_see_only_their_district(db, world, devices):
    a, _ = devices
    for user in (world.a.it, world.a.finance, world.a.viewer):
        rows = db.exec(scoped(select(Device), Device, user)).all()
        assert [d.id for d in rows] == [a.id]


def test_cooperative_staff_and_admins_read_across_districts(db, world, devices):
    for user in (world.coop_staff, world.admin):
        rows = db.exec(scoped(select(Device), Device, user)).all()
        assert {d.id for d in rows} == {d.id for d in devices}
        assert len(db.exec(scoped(select(District), District, user)).all()) == 2


def test_another_districts_record_is_not_found(db, world, devices):
    _, b = devices
    with pytest.raises(NotFound):
        get_scoped(db, Device, b.id, world.a.it)
    assert get_scoped(db, Device, b.id, world.coop_staff).id == b.id


def test_a_district_role_without_a_district_sees_nothing(db, world, devices):
    orphan = factories.make_user(db, Role.DISTRICT_IT, None)
    assert db.exec(scoped(select(Device), Device, orphan)).all() == []


def test_reference_data_is_not_scoped(db, world):
    with pytest.raises(TypeError):
        scoped(select(Vendor), Vendor, world.a.it)


def test_only_district_it_writes_inventory_and_only_its_own(world):
    assert writable_district(world.a.it) == world.a.district.id
    assert writable_district(world.a.it, world.a.district.id) == world.a.district.id
    with pytest.raises(NotFound):
        writable_district(world.a.it, world.b.district.id)
    for user in (world.a.finance, world.a.viewer, world.coop_staff, world.admin):
        with pytest.raises(Forbidden):
            writable_district(user)
