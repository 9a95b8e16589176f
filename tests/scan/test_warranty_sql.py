"""The set-based warranty obligations agree with the pure rule on every database.

Parity (docs/rules.md#warranty-ends): for each worked case the scan's SQL
(scan/obligations.py) derives an open warranty obligation iff
`schedule.warranty_due` gives a date, and its due date and decide-by are that date.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from lifecycle.enums import DeviceStatus, ObligationKind
from lifecycle.models import Obligation
from lifecycle.scan.engine import scan_district
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.scan.schedule import warranty_due
from tests import factories

TODAY = date(2026, 11, 26)
ENDS = {
    "none": None,
    "later": date(2027, 1, 31),
    "today": TODAY,
    "yesterday": TODAY - timedelta(days=1),
}
IN_USE = (DeviceStatus.IN_SERVICE, DeviceStatus.SPARE, DeviceStatus.IN_REPAIR)


def cases() -> list[object]:
    params: list[object] = []
    for status in DeviceStatus:
        for name, end in ENDS.items():
            params.append(pytest.param(status, end, id=f"{status.value}-{name}"))
    return params


def scan(db, world):
    scan_district(db, district_id=world.a.district.id, today=TODAY)
    db.commit()


def open_warranty(db, device):
    """The device's open warranty obligations as (due date, decide-by)."""
    db.expire_all()
    rows = db.exec(
        select(Obligation).where(
            col(Obligation.subject_type) == "device",
            col(Obligation.subject_id) == device.id,
            col(Obligation.kind) == ObligationKind.WARRANTY,
            col(Obligation.state).in_(OPEN_STATES),
        )
    ).all()
    return [(o.due_date, o.decide_by) for o in rows]


def expected(end, status):
    due = warranty_due(end, status, TODAY)
    return [] if due is None else [(due, due)]


@pytest.mark.parametrize(("status", "end"), cases())
def test_a_scan_derives_the_warranty_obligation_the_rule_gives(db, world, status, end):
    device = factories.make_device(
        db, world.a.district, status=status, warranty_end=end
    )
    db.commit()
    scan(db, world)
    assert open_warranty(db, device) == expected(end, status)


@pytest.mark.parametrize(("status", "end"), cases())
def test_a_rescan_after_a_change_agrees_with_the_rule(db, world, status, end):
    """A device in service with a warranty to 30 Jun 2027 was scanned; then its status
    and warranty end became the case's: the rescan updates or closes the obligation."""
    device = factories.make_device(
        db,
        world.a.district,
        status=DeviceStatus.IN_SERVICE,
        warranty_end=date(2027, 6, 30),
    )
    db.commit()
    scan(db, world)
    assert open_warranty(db, device) == [(date(2027, 6, 30), date(2027, 6, 30))]
    device.status = status
    device.warranty_end = end
    db.commit()
    scan(db, world)
    assert open_warranty(db, device) == expected(end, status)


def test_all_cases_in_one_district_in_one_scan(db, world):
    """The same cases side by side: one statement derives them all at once."""
    devices = [
        (
            factories.make_device(
                db, world.a.district, status=status, warranty_end=end
            ),
            status,
            end,
        )
        for status in DeviceStatus
        for end in ENDS.values()
    ]
    db.commit()
    scan(db, world)
    for device, status, end in devices:
        assert open_warranty(db, device) == expected(end, status), (status, end)


@pytest.mark.parametrize("status", IN_USE, ids=lambda s: s.value)
def test_an_ended_warranty_has_no_open_obligation(db, world, status):
    """A warranty that ended yesterday gives no obligation, nor leaves one open when its
    end is corrected to that day."""
    fresh = factories.make_device(
        db, world.a.district, status=status, warranty_end=ENDS["yesterday"]
    )
    corrected = factories.make_device(
        db, world.a.district, status=status, warranty_end=date(2027, 6, 30)
    )
    db.commit()
    scan(db, world)
    corrected.warranty_end = ENDS["yesterday"]
    db.commit()
    scan(db, world)
    assert open_warranty(db, fresh) == []
    assert open_warranty(db, corrected) == []
