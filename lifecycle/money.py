"""Money in Decimal with cents, rounded half-up only at the end (docs/rules.md#money).

Pure: no database or Flask imports. Floats are refused everywhere, because a float
amount has already lost cents before we see it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TypeAlias

CENT = Decimal("0.01")

# Wide enough that (1 + r)^N over decades of terms keeps every cent exact.
_PRECISION = 60

Amount: TypeAlias = Decimal | int | str


def _wide() -> Context:
    return Context(prec=_PRECISION, rounding=ROUND_HALF_UP)


def _dec(value: Amount, what: str = "amount") -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, int or str, never a float")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"{what}: not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{what}: must be a finite number, got {value!r}")
    return result


_WIDE = _wide()


def to_cents(value: Amount) -> Decimal:
    """Round an amount half-up to the cent: 0.125 → 0.13, 2.675 → 2.68."""
    if isinstance(value, Decimal) and value.is_finite():  # the common case, fast
        return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)
    with localcontext(_wide()):
        return _dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def growth_factor(rate_pct: Amount, periods: int) -> Decimal:
    """(1 + rate_pct/100)^periods at full precision: compounding without rounding."""
    if periods < 0:
        raise ValueError(f"periods must be 0 or more, got {periods}")
    with localcontext(_wide()):
        rate = _dec(rate_pct, "rate_pct") / 100
        if rate <= -1:
            raise ValueError(f"rate_pct must be above -100, got {rate_pct}")
        return (1 + rate) ** periods


def inflate(price: Amount, rate_pct: Amount, years: int) -> Decimal:
    """price × (1 + rate_pct/100)^years, rounded half-up to the cent at the end."""
    with localcontext(_wide()):
        return to_cents(_dec(price, "price") * growth_factor(rate_pct, years))
