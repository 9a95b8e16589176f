"""The forecast's small rules: month arithmetic, lease payments, right-sizing and
E-Rate's naming of funding years (docs/rules.md#the-multi-year-forecast). Pure: no
database or Flask.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import ROUND_CEILING, Decimal, localcontext

from lifecycle.money import growth_factor, to_cents

# ---------------------------------------------------------------------------
# Rules


def add_months(day: date, months: int) -> date:
    """day + months, the day of month clamped to the month's length (as relativedelta)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day <= 28:  # every month has the day
        return date(year, month, day.day)
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def lease_payment(principal: Decimal, rate_pct: Decimal, years: int) -> Decimal:
    """One of `years` equal annual payments for principal at rate_pct a year, to the cent:
    P·r / (1 − (1+r)^−N); with r = 0, P/N (48,000.00 at 4 % over 3 years: 17,296.73)."""
    if years < 1:
        raise ValueError(f"a lease runs 1 year or more, got {years}")
    with localcontext() as ctx:
        ctx.prec = 60
        r = Decimal(rate_pct) / 100
        if r == 0:
            return to_cents(principal / years)
        return to_cents(principal * r / (1 - 1 / growth_factor(rate_pct, years)))


def right_sized_seats(seats_used: int, headroom_pct: Decimal) -> int:
    """Seats to renew: seats used × (1 + headroom), rounded up (200 used, 10 % → 220)."""
    exact = Decimal(seats_used) * (1 + Decimal(headroom_pct) / 100)
    return int(exact.to_integral_value(rounding=ROUND_CEILING))


def erate_funding_year(day: date) -> int:
    """E-Rate names a funding year by the year it starts (1 July)."""
    return day.year if day.month >= 7 else day.year - 1
