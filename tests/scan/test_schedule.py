"""Worked examples for device refresh, warranty and reminder dates (docs/rules.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lifecycle.enums import DeviceStatus
from lifecycle.scan.schedule import (
    RefreshDue,
    aue_month_end,
    due_threshold,
    lifespan_for,
    needs_refresh,
    refresh_due,
    warranty_due,
)

D = date

# --- device refresh ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("purchase", "lifespan", "aue", "eol", "expected"),
    [
        (D(2023, 8, 15), 48, None, None, RefreshDue(D(2027, 8, 15), "lifespan")),
        (D(2024, 2, 29), 12, None, None, RefreshDue(D(2025, 2, 28), "lifespan")),
        (D(2023, 8, 15), 60, D(2027, 6, 30), None, RefreshDue(D(2027, 6, 30), "aue")),
        (
            D(2023, 8, 15),
            48,
            D(2028, 6, 30),
            D(2026, 12, 31),
            RefreshDue(D(2026, 12, 31), "eol"),
        ),
        (None, 48, D(2029, 6, 30), None, RefreshDue(D(2029, 6, 30), "aue")),
        (D(2023, 8, 15), None, None, D(2030, 1, 1), RefreshDue(D(2030, 1, 1), "eol")),
        # Ties: the reason that cannot be deferred wins (aue, then eol, then lifespan).
        (
            D(2023, 6, 30),
            48,
            D(2027, 6, 30),
            D(2027, 6, 30),
            RefreshDue(D(2027, 6, 30), "aue"),
        ),
        (D(2023, 6, 30), 48, None, D(2027, 6, 30), RefreshDue(D(2027, 6, 30), "eol")),
        (D(2023, 8, 15), None, None, None, None),
        (None, None, None, None, None),
    ],
)
def test_refresh_due_is_the_earliest_rule(
    purchase: date | None,
    lifespan: int | None,
    aue: date | None,
    eol: date | None,
    expected: RefreshDue | None,
) -> None:
    assert refresh_due(purchase, lifespan, aue, eol) == expected


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2028, 2, D(2028, 2, 29)),
        (2027, 2, D(2027, 2, 28)),
        (2029, 6, D(2029, 6, 30)),
        (2027, 12, D(2027, 12, 31)),
        (9999, 12, D(9999, 12, 31)),
    ],
)
def test_aue_date_is_the_last_day_of_the_aue_month(
    year: int, month: int, expected: date
) -> None:
    assert aue_month_end(year, month) == expected


@pytest.mark.parametrize(
    ("override", "policy", "catalog", "expected"),
    [
        (36, 60, 48, 36),
        (None, 60, 48, 60),
        (None, None, 48, 48),
        (None, None, None, None),
    ],
)
def test_lifespan_is_override_then_policy_then_catalog(
    override: int | None, policy: int | None, catalog: int | None, expected: int | None
) -> None:
    assert lifespan_for(override, policy, catalog) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (DeviceStatus.IN_SERVICE, True),
        (DeviceStatus.SPARE, True),
        (DeviceStatus.IN_REPAIR, True),
        (DeviceStatus.RETIRED, False),
        (DeviceStatus.LOST, False),
        (DeviceStatus.ON_ORDER, False),
    ],
)
def test_retired_lost_and_on_order_devices_need_no_refresh(
    status: DeviceStatus, expected: bool
) -> None:
    assert needs_refresh(status) is expected
    assert (
        warranty_due(D(2027, 1, 31), status, D(2026, 12, 1)) is not None
    ) is expected


def test_warranty_due_is_the_warranty_end() -> None:
    today = D(2026, 12, 1)
    assert warranty_due(D(2027, 1, 31), DeviceStatus.IN_SERVICE, today) == D(
        2027, 1, 31
    )
    assert warranty_due(today, DeviceStatus.IN_SERVICE, today) == today
    assert warranty_due(D(2026, 11, 30), DeviceStatus.IN_SERVICE, today) is None
    assert warranty_due(None, DeviceStatus.IN_SERVICE, today) is None


# --- reminder thresholds ------------------------------------------------------

DECIDE_BY = D(2027, 6, 30)
DEFAULT = (120, 90, 60, 30, 7)


@pytest.mark.parametrize(
    ("days_before", "sent", "expected"),
    [
        (121, set(), None),  # nothing due yet
        (120, set(), 120),
        (95, set(), 120),
        (95, {120}, None),
        (90, {120}, 90),
        (25, set(), 30),  # late scan: only the most urgent, never a burst
        (25, {120, 90, 60}, 30),
        (20, {120, 90, 60, 30}, None),
        (20, {120, 90}, 30),
        (20, {30}, None),  # never fall back to a staler 60 or 90
        (7, {120, 90, 60, 30}, 7),
        (3, {7}, None),
        (0, set(), 7),  # the decide-by day is still a day to decide
        (0, {7}, None),
        (-1, set(), None),  # past decide-by: overdue is the obligation's state
        (-30, set(), None),
    ],
)
def test_due_threshold(days_before: int, sent: set[int], expected: int | None) -> None:
    today = DECIDE_BY - timedelta(days=days_before)
    assert due_threshold(DECIDE_BY, DEFAULT, today, sent) == expected


def test_threshold_order_does_not_matter() -> None:
    today = DECIDE_BY - timedelta(days=25)
    assert due_threshold(DECIDE_BY, [7, 120, 30, 90, 60], today, set()) == 30


def test_zero_day_threshold_fires_on_the_decide_by_day() -> None:
    assert due_threshold(DECIDE_BY, [30, 0], DECIDE_BY, {30}) == 0


def test_no_thresholds_means_no_reminders() -> None:
    assert due_threshold(DECIDE_BY, [], DECIDE_BY, set()) is None


def test_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError):
        due_threshold(DECIDE_BY, [30, -1], DECIDE_BY, set())


def _daily_scans(skip: range) -> list[int]:
    sent: list[int] = []
    for days_before in range(130, -6, -1):
        if days_before in skip:
            continue
        today = DECIDE_BY - timedelta(days=days_before)
        due = due_threshold(DECIDE_BY, DEFAULT, today, set(sent))
        if due is not None:
            sent.append(due)
    return sent


def test_daily_scans_send_each_threshold_once() -> None:
    assert _daily_scans(skip=range(0)) == [120, 90, 60, 30, 7]


def test_scans_after_an_outage_send_one_reminder_not_a_burst() -> None:
    # Scheduler down from 100 to 26 days before: 90 and 60 are stale, skipped.
    assert _daily_scans(skip=range(26, 101)) == [120, 30, 7]


# ---------------------------------------------------------------------------
# Dates stored before input dates were bounded


def test_a_lifespan_ending_past_the_calendar_is_no_refresh_date() -> None:
    assert refresh_due(D(9999, 6, 1), 240, None, None) is None
    assert refresh_due(D(9999, 6, 1), 240, D(9999, 12, 31), None) == RefreshDue(
        D(9999, 12, 31), "aue"
    )
