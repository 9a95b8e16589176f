"""What the product accepts as a whole number, a date or a text, wherever it comes
from: URLs, forms, filters, JSON bodies and cursors (docs/rules.md#accepted-input).

Ids, versions and counts are INTEGER columns (32 bits on PostgreSQL): a larger number
names no row, and binding one fails in the driver (SQLite refuses anything past 64
bits). Digits are ASCII only: `str.isdigit()` accepts '²' and `int()` reads '٣' and
'1_000'. Dates outside 1980-01-01 … 2200-12-31 are typing mistakes (9999, 0202), and
the term and refresh arithmetic from them would leave the calendar.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
EARLIEST = date(1980, 1, 1)
LATEST = date(2200, 12, 31)
OUTSIDE_WINDOW = f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
# Money is NUMERIC(14, 2): at most 12 digits before the point; 10**12 fits no column.
MONEY_DIGITS = 12
MAX_AMOUNT = Decimal(10) ** MONEY_DIGITS
NOT_WHOLE = "must be a whole number"
NOT_A_DATE = "must be a date (YYYY-MM-DD)"

_WHOLE = re.compile(r"[+-]?[0-9]{1,20}", re.ASCII)


def out_of_range(value: int, *, low: int = INT_MIN, high: int = INT_MAX) -> str | None:
    """What is wrong with a whole number outside [low, high], or None."""
    if value < low:
        return f"must be at least {low}"
    if value > high:
        return f"must be at most {high}"
    return None


def unstorable_text(text: str) -> str | None:
    """What makes a text impossible to store or compare, or None: PostgreSQL text
    holds no NUL character, and a lone surrogate (JSON "\\ud800") is no UTF-8."""
    if "\x00" in text:
        return "must not contain a NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "is not valid text"
    return None


def parse_int(raw: str, *, low: int = INT_MIN, high: int = INT_MAX) -> int:
    """A whole number in ASCII digits within [low, high]; ValueError says what is wrong."""
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        raise ValueError(NOT_WHOLE)
    value = int(text)
    problem = out_of_range(value, low=low, high=high)
    if problem:
        raise ValueError(problem)
    return value


def parse_id(raw: str) -> int:
    """A record id as a form or cursor gives it: a whole number from 1."""
    return parse_int(raw, low=1)


def is_id(value: Any) -> bool:
    """Whether a decoded JSON value can be a record id (a bool is not a number here)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and out_of_range(value, low=1) is None
    )


def out_of_window(day: date) -> str | None:
    """What is wrong with a date outside the accepted window, or None."""
    return None if EARLIEST <= day <= LATEST else OUTSIDE_WINDOW


def parse_amount(raw: str) -> Decimal:
    """An amount a money column can hold, from text: finite and under MAX_AMOUNT."""
    try:
        amount = Decimal(raw)
    except ArithmeticError as exc:
        raise ValueError("must be an amount, e.g. 1234.50") from exc
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError("must be an amount, e.g. 1234.50")
    return amount


def parse_day(raw: str) -> date:
    """An ISO date (YYYY-MM-DD) inside the window; ValueError says what is wrong."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValueError(NOT_A_DATE) from exc
    problem = out_of_window(day)
    if problem:
        raise ValueError(problem)
    return day


class OutOfCalendar(ValueError):
    """Date arithmetic left the calendar (years 1–9999), from a row stored with a
    far-off date before input dates were bounded. Pages show such a row without its
    derived dates; an action that needs them answers 422 saying so."""

    message = (
        "The dates of this record lead outside the calendar; correct its dates "
        f"(between {EARLIEST.isoformat()} and {LATEST.isoformat()}) first."
    )


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
