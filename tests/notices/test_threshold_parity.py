"""The set-based reminders agree with the pure threshold rule on every database.

Parity (docs/rules.md#reminders): each worked case runs through the real scan and
`send_due_reminders` (notices/reminders.py), and the threshold recorded that day is
`schedule.due_threshold(decide_by, thresholds, today, already_sent)`, or nothing when
the rule gives None. What was already sent is sent the real way too: by scans on the
days those thresholds fell due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.enums import RenewalType
from lifecycle.models import Obligation
from lifecycle.scan.schedule import due_threshold
from tests import factories
from tests.notices.conftest import reminder_rows, scan_and_remind

DEFAULT = (120, 90, 60, 30, 7)


@dataclass(frozen=True)
class Subject:
    """One agreement whose term-1 decision counts down to `decide_by`, and where its
    thresholds are set: the district's list, or the agreement's own."""

    kind: str
    decide_by: date
    own_thresholds: bool

    def make(self, db, world, thresholds: Sequence[int]) -> tuple[str, int]:
        own = list(thresholds) if self.own_thresholds else None
        if not self.own_thresholds:
            world.a.district.reminder_thresholds = list(thresholds)
        if self.kind == "license":
            # express, yearly from 1 Jan 2026: decide by the term end, 31 Dec 2026
            made = factories.make_license(
                db,
                world.a.district,
                term_start=date(2026, 1, 1),
                renewal_type=RenewalType.EXPRESS,
                price_per_seat=Decimal("4.50"),
                reminder_thresholds=own,
            )
        else:
            # tacit, yearly from 1 Jan 2026, 60 days' notice: decide by 1 Nov 2026
            made = factories.make_contract(
                db,
                world.a.district,
                term_start=date(2026, 1, 1),
                renewal_type=RenewalType.TACIT,
                notice_days=60,
                reminder_thresholds=own,
            )
        db.commit()
        assert made.id is not None
        return self.kind, made.id


SUBJECTS = [
    pytest.param(Subject("license", date(2026, 12, 31), False), id="license-district"),
    pytest.param(Subject("contract", date(2026, 11, 1), True), id="contract-own"),
]

CASES = [
    # thresholds, days before decide-by (negative: after it), already sent
    pytest.param(DEFAULT, 121, (), id="before-the-first-threshold"),
    pytest.param(DEFAULT, 120, (), id="the-first-threshold-day"),
    pytest.param(DEFAULT, 95, (), id="between-thresholds"),
    pytest.param(DEFAULT, 95, (120,), id="between-thresholds-already-sent"),
    pytest.param(DEFAULT, 90, (120,), id="the-next-threshold-day"),
    pytest.param(DEFAULT, 25, (), id="late-scan-only-the-most-urgent"),
    pytest.param(DEFAULT, 25, (120,), id="late-scan-after-an-outage"),
    pytest.param(DEFAULT, 25, (120, 90, 60), id="late-scan-missed-nothing"),
    pytest.param(DEFAULT, 20, (120, 90, 60, 30), id="most-urgent-already-sent"),
    pytest.param(DEFAULT, 20, (120, 90), id="most-urgent-not-yet-sent"),
    pytest.param(DEFAULT, 20, (30,), id="no-falling-back-to-a-staler-one"),
    pytest.param(DEFAULT, 7, (120, 90, 60, 30), id="the-last-threshold-day"),
    pytest.param(DEFAULT, 3, (7,), id="the-last-one-already-sent"),
    pytest.param(DEFAULT, 0, (), id="the-decide-by-day"),
    pytest.param(DEFAULT, 0, (30,), id="the-decide-by-day-after-30"),
    pytest.param(DEFAULT, 0, (7,), id="the-decide-by-day-already-sent"),
    pytest.param(DEFAULT, -1, (), id="the-day-after-decide-by"),
    pytest.param(DEFAULT, -1, (30,), id="the-day-after-decide-by-after-30"),
    pytest.param(DEFAULT, -30, (), id="long-after-decide-by"),
    pytest.param((30, 0), 0, (30,), id="a-zero-day-threshold-on-the-decide-by-day"),
    pytest.param((30, 0), 0, (30, 0), id="a-zero-day-threshold-already-sent"),
    pytest.param((30, 0), -1, (30,), id="a-zero-day-threshold-the-day-after"),
    pytest.param((45, 10), 50, (), id="own-list-before-it"),
    pytest.param((45, 10), 44, (), id="own-list-first"),
    pytest.param((45, 10), 9, (45,), id="own-list-second"),
    pytest.param((7, 120, 30), 25, (), id="unsorted-list"),
    pytest.param((14,), 14, (), id="one-threshold"),
    pytest.param((14,), 1, (14,), id="one-threshold-already-sent"),
]


def obligation_id(db, subject: tuple[str, int]) -> int:
    db.expire_all()
    subject_type, subject_id = subject
    found = db.exec(
        select(Obligation.id).where(
            col(Obligation.subject_type) == subject_type,
            col(Obligation.subject_id) == subject_id,
            col(Obligation.term_number) == 1,
        )
    ).one()
    return int(found)


def derive(db, world, subject: Subject, thresholds: Sequence[int]) -> int:
    """The agreement, scanned 200 days before its decide-by (before any threshold):
    its term-1 obligation's id. (Scanned first after an express agreement's decide-by,
    it would have lapsed with no obligation at all.)"""
    made = subject.make(db, world, thresholds)
    assert remind_on(db, world, subject.decide_by - timedelta(days=200)) == []
    return obligation_id(db, made)


def remind_on(db, world, day: date) -> list[tuple[int, int, int]]:
    """Scan and remind on `day`: the (obligation, term, threshold) rows it recorded."""
    before = len(reminder_rows(db))
    run = scan_and_remind(db, world.a.district.id, day)
    rows = reminder_rows(db)[before:]
    assert run.sent == len(rows)
    return rows


def recorded(ob_id: int, threshold: int | None) -> list[tuple[int, int, int]]:
    return [] if threshold is None else [(ob_id, 1, threshold)]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize(("thresholds", "days_before", "sent"), CASES)
def test_the_threshold_recorded_is_the_rules(
    db, world, subject, thresholds, days_before, sent
):
    decide_by = subject.decide_by
    today = decide_by - timedelta(days=days_before)
    ob_id = derive(db, world, subject, thresholds)
    # Send what was already sent the real way: a scan on each of those days, when
    # that threshold is the most urgent one due (and the rule agrees it is).
    already: list[int] = []
    for t in sorted(sent, reverse=True):
        day = decide_by - timedelta(days=t)
        assert day <= today, "a case sends nothing before its own day"
        rows = remind_on(db, world, day)
        assert due_threshold(decide_by, thresholds, day, already) == t
        assert rows == recorded(ob_id, t)
        already.append(t)

    rows = remind_on(db, world, today)
    assert rows == recorded(ob_id, due_threshold(decide_by, thresholds, today, sent))


def _walk(db, world, subject: Subject, thresholds, down: range) -> list[int]:
    """A scan a day from 130 days before decide-by to 5 after, but for the days
    `down`; each day the SQL records what the rule gives. The thresholds sent."""
    ob_id = derive(db, world, subject, thresholds)
    sent: list[int] = []
    for days_before in range(130, -6, -1):
        if days_before in down:
            continue
        today = subject.decide_by - timedelta(days=days_before)
        rows = remind_on(db, world, today)
        due = due_threshold(subject.decide_by, thresholds, today, sent)
        assert rows == recorded(ob_id, due), today
        if due is not None:
            sent.append(due)
    return sent


@pytest.mark.parametrize("subject", SUBJECTS)
def test_day_by_day_each_threshold_once(db, world, subject):
    assert _walk(db, world, subject, DEFAULT, down=range(0)) == [120, 90, 60, 30, 7]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_day_by_day_through_an_outage(db, world, subject):
    # the scheduler is down from 100 to 26 days before: 90 and 60 are never sent
    sent = _walk(db, world, subject, DEFAULT, down=range(26, 101))
    assert sent == [120, 30, 7]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_day_by_day_with_a_zero_day_threshold(db, world, subject):
    # down from 40 days before until the decide-by day: 30 is missed, 0 is not
    sent = _walk(db, world, subject, (45, 30, 0), down=range(1, 41))
    assert sent == [45, 0]
