"""Worked examples for fiscal years and E-Rate funding years (docs/rules.md#fiscal-years)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lifecycle.budget.fiscal import (
    fiscal_year,
    fiscal_year_bounds,
)

D = date


@pytest.mark.parametrize(
    ("d", "start_month", "expected"),
    [
        # July: FY2027 = 1 Jul 2026 – 30 Jun 2027 (named by the year it ends).
        (D(2026, 6, 30), 7, 2026),
        (D(2026, 7, 1), 7, 2027),
        (D(2026, 12, 31), 7, 2027),
        (D(2027, 1, 1), 7, 2027),
        (D(2027, 6, 30), 7, 2027),
        (D(2027, 7, 1), 7, 2028),
        # September: FY2027 = 1 Sep 2026 – 31 Aug 2027.
        (D(2026, 8, 31), 9, 2026),
        (D(2026, 9, 1), 9, 2027),
        (D(2027, 8, 31), 9, 2027),
        (D(2027, 9, 1), 9, 2028),
        # October (like the US federal year): FY2027 = 1 Oct 2026 – 30 Sep 2027.
        (D(2026, 9, 30), 10, 2026),
        (D(2026, 10, 1), 10, 2027),
        (D(2027, 9, 30), 10, 2027),
        (D(2027, 10, 1), 10, 2028),
        # January: the fiscal year is the calendar year.
        (D(2026, 12, 31), 1, 2026),
        (D(2027, 1, 1), 1, 2027),
        (D(2027, 12, 31), 1, 2027),
        # March: FY2028 = 1 Mar 2027 – 29 Feb 2028 (a leap day closes the year).
        (D(2028, 2, 29), 3, 2028),
        (D(2028, 3, 1), 3, 2029),
    ],
)
def test_fiscal_year_is_named_by_the_year_it_ends(
    d: date, start_month: int, expected: int
) -> None:
    assert fiscal_year(d, start_month) == expected


@pytest.mark.parametrize(
    ("fy", "start_month", "first", "last"),
    [
        (2027, 7, D(2026, 7, 1), D(2027, 6, 30)),
        (2027, 9, D(2026, 9, 1), D(2027, 8, 31)),
        (2027, 10, D(2026, 10, 1), D(2027, 9, 30)),
        (2027, 1, D(2027, 1, 1), D(2027, 12, 31)),
        (2028, 3, D(2027, 3, 1), D(2028, 2, 29)),
        (2027, 3, D(2026, 3, 1), D(2027, 2, 28)),
    ],
)
def test_fiscal_year_bounds(fy: int, start_month: int, first: date, last: date) -> None:
    assert fiscal_year_bounds(fy, start_month) == (first, last)


@pytest.mark.parametrize("start_month", range(1, 13))
def test_every_day_lies_within_the_bounds_of_its_fiscal_year(start_month: int) -> None:
    day = D(2026, 1, 1)
    while day < D(2029, 1, 1):
        first, last = fiscal_year_bounds(fiscal_year(day, start_month), start_month)
        assert first <= day <= last
        assert first.day == 1 and first.month == start_month
        day += timedelta(days=1)


@pytest.mark.parametrize("start_month", [0, 13])
def test_invalid_start_month_is_refused(start_month: int) -> None:
    with pytest.raises(ValueError, match="start_month"):
        fiscal_year(D(2026, 7, 1), start_month)
    with pytest.raises(ValueError, match="start_month"):
        fiscal_year_bounds(2027, start_month)
