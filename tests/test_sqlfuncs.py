"""SQL helpers of the set-based scan, on the test run's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import col

from lifecycle.enums import DeviceStatus
from lifecycle.models import Device
from lifecycle.sqlfuncs import (
    add_days,
    add_months,
    among,
    ids_in,
    ids_param,
    ids_value,
    in_ids,
)
from tests import factories


def test_among_writes_its_constants_into_the_statement_in_one_order(db):
    stmt = sa.select(col(Device.id)).where(
        among(col(Device.status), {DeviceStatus.RETIRED, DeviceStatus.LOST})
    )
    sql = str(stmt.compile(dialect=db.get_bind().dialect))
    assert "IN ('lost', 'retired')" in sql
    assert "POSTCOMPILE" not in sql


def test_among_refuses_anything_but_a_plain_constant():
    with pytest.raises(ValueError, match="plain constant"):
        among(col(Device.status), ["x') OR ('1'='1"])


def test_among_and_its_negation_select_the_right_rows(db, world):
    kept = factories.make_device(db, world.a.district, status=DeviceStatus.IN_SERVICE)
    gone = factories.make_device(db, world.a.district, status=DeviceStatus.RETIRED)
    db.commit()
    statuses = [DeviceStatus.RETIRED, DeviceStatus.LOST]

    def ids(where):
        return set(db.exec(sa.select(col(Device.id)).where(where)).scalars())

    assert ids(among(col(Device.status), statuses)) == {gone.id}
    assert ids(~among(col(Device.status), statuses)) == {kept.id}


def test_a_list_of_ids_is_one_parameter_given_now_or_at_execution(db, world):
    devices = [factories.make_device(db, world.a.district) for _ in range(3)]
    db.commit()
    wanted = [devices[0].id, devices[2].id]
    now = db.exec(sa.select(col(Device.id)).where(ids_in(db, col(Device.id), wanted)))
    assert set(now.scalars()) == set(wanted)

    later = sa.select(col(Device.id)).where(
        in_ids(db, col(Device.id), ids_param(db, "wanted"))
    )
    for given in (wanted, [], [devices[1].id]):
        rows = db.connection().execute(later, {"wanted": ids_value(db, given)})
        assert set(rows.scalars()) == set(given)


@pytest.mark.parametrize(
    ("day", "months", "days", "expected"),
    [
        (date(2026, 1, 31), 1, 0, date(2026, 2, 28)),
        (date(2026, 1, 1), 0, -1, date(2025, 12, 31)),
        (date(9999, 6, 1), 240, 0, None),  # past year 9999
        (date(9990, 1, 1), 120, -1, None),
        (date(9999, 12, 31), 0, 1, None),
        (date(1, 1, 1), 0, -730, None),  # before year 1
        (date(1, 1, 1), 0, 0, date(1, 1, 1)),
    ],
)
def test_date_arithmetic_that_leaves_the_calendar_is_null_on_every_database(
    db, day, months, days, expected
):
    stmt = sa.select(add_days(add_months(sa.literal(day, sa.Date()), months), days))

    assert db.execute(stmt).scalar_one() == expected
