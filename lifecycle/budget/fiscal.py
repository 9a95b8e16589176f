"""Fiscal years and E-Rate funding years (docs/rules.md#fiscal-years). Pure: no database or Flask.

Two naming conventions exist and both are needed:
- a district's fiscal year is named by the calendar year in which it ENDS
  (start month 7: FY2027 = 1 Jul 2026 – 30 Jun 2027);
- an E-Rate funding year is named by the year in which it STARTS
  (E-Rate FY2026 = 1 Jul 2026 – 30 Jun 2027).
"""

from __future__ import annotations

from datetime import date, timedelta

ERATE_START_MONTH = 7


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


def erate_funding_year(d: date) -> int:
    """The E-Rate funding year containing d, named by the year in which it starts."""
    return d.year if d.month >= ERATE_START_MONTH else d.year - 1


def erate_funding_year_bounds(funding_year: int) -> tuple[date, date]:
    """First and last day of an E-Rate funding year: 1 Jul – 30 Jun of the next year."""
    return date(funding_year, 7, 1), date(funding_year + 1, 6, 30)


def fiscal_years_ahead(today: date, d: date, start_month: int) -> int:
    """Whole fiscal years from today's FY to d's FY; 0 for past dates (overdue)."""
    return max(0, fiscal_year(d, start_month) - fiscal_year(today, start_month))


def cost_fiscal_year(due: date, today: date, start_month: int) -> int:
    """The FY a cost falls in: its due date's, or the current FY if overdue."""
    return fiscal_year(max(due, today), start_month)
