"""Term, decide-by, refresh and reminder dates (docs/rules.md). Pure: no DB, no Flask.

Conventions, pinned by tests/renewals/test_schedule.py:
- Every term boundary is computed from the ORIGINAL start date; one term end is never
  chained onto the last, so monthly terms from 31 Jan start on 31 Jan, 28 Feb, 31 Mar…
- `none` ends for good: it has only term 1 and no decide-by date (nothing to decide).
- `express` lapses unless renewed: only the terms up to `renewed_through` exist.
- `tacit` renews indefinitely; its decide-by is the CURRENT term's end − notice days.
- Threshold reminders count down to the decide-by date and stop after it; being
  overdue is the obligation's state, not another reminder.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from dateutil.relativedelta import relativedelta

from lifecycle.bounds import OutOfCalendar
from lifecycle.enums import NO_REFRESH_STATUSES, DeviceStatus, RenewalType
from lifecycle.money import Amount, inflate

ONE_DAY = timedelta(days=1)


def months_after(day: date, months: int) -> date:
    """day + months, clamped to the month's end; OutOfCalendar past year 9999."""
    try:
        return day + relativedelta(months=months)
    except (ValueError, OverflowError) as exc:
        raise OutOfCalendar(f"{day} + {months} months") from exc


def days_after(day: date, days: int) -> date:
    """day + days (days may be negative); OutOfCalendar outside years 1–9999."""
    try:
        return day + timedelta(days=days)
    except OverflowError as exc:
        raise OutOfCalendar(f"{day} + {days} days") from exc


# ---------------------------------------------------------------------------
# Terms (§3.1)


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a license or contract: its 1-based number and inclusive dates."""

    number: int
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _check_lengths(initial_months: int, renewal_months: int) -> None:
    if initial_months < 1 or renewal_months < 1:
        raise ValueError(
            "term lengths must be at least 1 month, got "
            f"initial={initial_months} renewal={renewal_months}"
        )


def _months_before_term(n: int, initial_months: int, renewal_months: int) -> int:
    """Months from the original start to the first day of term n."""
    if n == 1:
        return 0
    return initial_months + (n - 2) * renewal_months


def _term_start(start: date, initial: int, renewal: int, n: int) -> date:
    return months_after(start, _months_before_term(n, initial, renewal))


def _term_end(start: date, initial: int, renewal: int, n: int) -> date:
    return days_after(_term_start(start, initial, renewal, n + 1), -1)


def term(start: date, initial_months: int, renewal_months: int, n: int) -> Term:
    """Term n (n ≥ 1): ends start + (initial + (n−1)·renewal) months − 1 day."""
    _check_lengths(initial_months, renewal_months)
    if n < 1:
        raise ValueError(f"term numbers start at 1, got {n}")
    return Term(
        number=n,
        start=_term_start(start, initial_months, renewal_months, n),
        end=_term_end(start, initial_months, renewal_months, n),
    )


def last_term_number(renewal_type: RenewalType, renewed_through: int = 1) -> int | None:
    """The last term that exists: none → 1, express → renewed_through, tacit → None."""
    if renewed_through < 1:
        raise ValueError(f"term 1 always exists; renewed_through={renewed_through}")
    kind = RenewalType(renewal_type)
    if kind is RenewalType.TACIT:
        return None
    if kind is RenewalType.EXPRESS:
        return renewed_through
    return 1


def term_number_on(
    start: date, initial_months: int, renewal_months: int, on: date
) -> int | None:
    """The term number containing `on` if it renewed forever; None before the start."""
    _check_lengths(initial_months, renewal_months)
    if on < start:
        return None
    # Estimate from whole calendar months, then correct by a step or two: long-running
    # monthly terms never loop from term 1.
    months = (on.year - start.year) * 12 + (on.month - start.month)
    n = (
        1
        if months < initial_months
        else 2 + (months - initial_months) // renewal_months
    )
    while n > 1 and on < _term_start(start, initial_months, renewal_months, n):
        n -= 1
    while on > _term_end(start, initial_months, renewal_months, n):
        n += 1
    return n


def term_containing(
    start: date,
    initial_months: int,
    renewal_months: int,
    on: date,
    renewal_type: RenewalType,
    *,
    renewed_through: int = 1,
) -> Term | None:
    """The current term on `on`; None before the start or after the last existing term.

    `renewed_through` is the highest term number that exists for an express
    agreement (term 1 always does); tacit renews forever and none has term 1 only.
    """
    last = last_term_number(renewal_type, renewed_through)
    n = term_number_on(start, initial_months, renewal_months, on)
    if n is None or (last is not None and n > last):
        return None
    return term(start, initial_months, renewal_months, n)


def decide_by(
    term_end: date, renewal_type: RenewalType, notice_days: int
) -> date | None:
    """The last day to decide about the term ending on term_end.

    tacit: term end − notice days (after it the district is committed to another term);
    express: the term end itself (it lapses unless renewed by then);
    none: None — the agreement ends for good, there is nothing to decide.
    """
    if notice_days < 0:
        raise ValueError(f"notice_days must be 0 or more, got {notice_days}")
    kind = RenewalType(renewal_type)
    if kind is RenewalType.TACIT:
        return days_after(term_end, -notice_days)
    if kind is RenewalType.EXPRESS:
        return term_end
    return None


def lapsed(
    start: date,
    initial_months: int,
    renewal_months: int,
    on: date,
    renewal_type: RenewalType,
    *,
    renewed_through: int = 1,
) -> bool:
    """Whether an express agreement's last renewed term ended before `on`.

    A lapsed agreement produces no further obligations. Only express agreements
    lapse: tacit ones renew and `none` ones simply end.
    """
    if RenewalType(renewal_type) is not RenewalType.EXPRESS:
        return False
    last = last_term_number(renewal_type, renewed_through) or renewed_through
    return on > term(start, initial_months, renewal_months, last).end


def escalated_cost(
    base_cost: Amount, escalator_pct: Amount, terms_ahead: int
) -> Decimal:
    """The cost of the term `terms_ahead` after the one priced at base_cost.

    Each later term costs the one before × (1 + escalator %), compounded at full
    precision and rounded half-up to the cent once, at the end (§3.1, §3.4).
    """
    if terms_ahead < 0:
        raise ValueError(f"terms_ahead must be 0 or more, got {terms_ahead}")
    return inflate(base_cost, escalator_pct, terms_ahead)


def term_cost(
    current_cost: Amount, escalator_pct: Amount, current_term: int, k: int
) -> Decimal:
    """The cost of term k, given the current term's number and its cost_per_period."""
    if k < current_term:
        raise ValueError(f"term {k} is before the current term {current_term}")
    return escalated_cost(current_cost, escalator_pct, k - current_term)


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
