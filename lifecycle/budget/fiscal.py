"""A district's fiscal years (docs/rules.md#fiscal-years). Pure: no database or Flask.

A fiscal year is named by the calendar year in which it ENDS (start month 7: FY2027 =
1 Jul 2026 – 30 Jun 2027). E-Rate names its funding years by the year they START; that
convention arrives with the E-Rate budget, which is its only user.
"""

from __future__ import annotations

from datetime import date, timedelta


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"start_month must be 1–12, got {start_month}")


def fiscal_year(d: date, start_month: int) -> int:
    """The fiscal year containing d, named by the calendar year in which it ends."""
    _check_month(start_month)
    # With a January start the year ends in the same calendar year it starts.
    if start_month > 1 and d.month >= start_month:
        return d.year + 1
    return d.year


def fiscal_year_bounds(fy: int, start_month: int) -> tuple[date, date]:
    """First and last day of fiscal year fy (named by the year it ends)."""
    _check_month(start_month)
    start_year = fy if start_month == 1 else fy - 1
    first = date(start_year, start_month, 1)
    after = date(start_year + 1, start_month, 1)
    return first, after - timedelta(days=1)
