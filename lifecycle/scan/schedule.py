"""Device refresh, warranty and reminder dates (docs/rules.md). Pure: no DB, no Flask.

Conventions, pinned by tests/scan/test_schedule.py:
- A device is refreshed at the earliest of purchase + lifespan, its AUE date and its
  explicit end-of-life date.
- Threshold reminders count down to the decide-by date and stop after it; being
  overdue is the obligation's state, not another reminder.

The term rules of licenses and contracts (term boundaries, decide-by, escalation) are
in agreements/rules.py.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from lifecycle.bounds import OutOfCalendar, months_after
from lifecycle.enums import NO_REFRESH_STATUSES, DeviceStatus

ONE_DAY = timedelta(days=1)


# ---------------------------------------------------------------------------
# Device refresh and warranty (§3.2)

RefreshReason = Literal["aue", "eol", "lifespan"]
# On a tie the reason that cannot be deferred wins: AUE, then EOL, then lifespan.
_REASON_RANK: dict[RefreshReason, int] = {"aue": 0, "eol": 1, "lifespan": 2}


@dataclass(frozen=True, slots=True)
class RefreshDue:
    """When a device must be refreshed and which rule set that date."""

    date: datetime.date
    reason: RefreshReason


def aue_month_end(year: int, month: int) -> date:
    """The AUE date for an AUE month: the last day of that month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def lifespan_for(
    device_override: int | None,
    district_policy: int | None,
    catalog_default: int | None,
) -> int | None:
    """Lifespan in months: the device override, else district policy, else catalog."""
    for months in (device_override, district_policy, catalog_default):
        if months is not None:
            return months
    return None


def refresh_due(
    purchase_date: date | None,
    lifespan_months: int | None,
    aue_date: date | None,
    eol_date: date | None,
) -> RefreshDue | None:
    """The earliest of purchase + lifespan, the AUE date and the explicit EOL date.

    A lifespan ending past the calendar (a far-off purchase date stored before dates
    were bounded) is no candidate, as in SQL, where the date is NULL."""
    candidates: list[RefreshDue] = []
    if aue_date is not None:
        candidates.append(RefreshDue(aue_date, "aue"))
    if eol_date is not None:
        candidates.append(RefreshDue(eol_date, "eol"))
    if purchase_date is not None and lifespan_months is not None:
        if lifespan_months < 1:
            raise ValueError(
                f"lifespan must be at least 1 month, got {lifespan_months}"
            )
        try:
            end_of_life = months_after(purchase_date, lifespan_months)
        except OutOfCalendar:
            pass
        else:
            candidates.append(RefreshDue(end_of_life, "lifespan"))
    if not candidates:
        return None
    return min(candidates, key=lambda due: (due.date, _REASON_RANK[due.reason]))


def needs_refresh(status: DeviceStatus) -> bool:
    """Whether a device in this status has refresh (and warranty) obligations."""
    return DeviceStatus(status) not in NO_REFRESH_STATUSES


def warranty_due(
    warranty_end: date | None, status: DeviceStatus, today: date
) -> date | None:
    """The warranty obligation's due date: the warranty end, for a device in use whose
    warranty ends today or later (an ended warranty is nothing left to decide)."""
    if warranty_end is None or warranty_end < today or not needs_refresh(status):
        return None
    return warranty_end


# ---------------------------------------------------------------------------
# Reminder thresholds (§3.3)


def due_threshold(
    decide_by: date,
    thresholds: Iterable[int],
    today: date,
    already_sent: Collection[int],
) -> int | None:
    """The one threshold reminder to send today, if any.

    A threshold t (days before decide_by) is due once today ≥ decide_by − t. Only
    the most urgent due threshold is ever a candidate, so a late scan sends one
    reminder, never a burst; if that one was already sent, nothing is (no falling
    back to a staler one).
    After the decide-by date no threshold is due.
    """
    limits = list(thresholds)
    if any(t < 0 for t in limits):
        raise ValueError(f"thresholds are days before decide-by, got {limits}")
    if today > decide_by:
        return None
    days_left = (decide_by - today).days
    due = [t for t in limits if t >= days_left]
    if not due:
        return None
    most_urgent = min(due)
    return None if most_urgent in already_sent else most_urgent
