"""Money in Decimal with cents, rounded half-up only at the end (docs/rules.md#money).

Pure: no database or Flask imports. Floats are refused everywhere, because a float
amount has already lost cents before we see it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import TypeAlias

CENT = Decimal("0.01")
# NUMERIC(14,2): at most 12 digits before the decimal point.
MAX_AMOUNT = Decimal("999999999999.99")

# Wide enough that (1 + r)^N over decades of terms keeps every cent exact.
_PRECISION = 60

_AMOUNT = re.compile(
    r"""
    \$?\s*
    (?P<whole>\d{1,3}(?:,\d{3})+|\d+)?   # 1234 or 1,234 (grouped by threes)
    (?:\.(?P<frac>\d+))?                 # .5 or .50
    """,
    re.VERBOSE,
)

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


def to_cents(value: Amount) -> Decimal:
    """Round an amount half-up to the cent: 0.125 → 0.13, 2.675 → 2.68."""
    with localcontext(_wide()):
        return _dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(text: str) -> Decimal:
    """Parse a typed or imported amount such as "1234.5", "$1,234.50" or " 1234 "."""
    raw = text.strip()
    if not raw:
        raise ValueError("amount is empty: enter an amount like 1234.50")
    bare = raw.replace("$", "").replace(" ", "")
    if bare.startswith("-") or (bare.startswith("(") and bare.endswith(")")):
        raise ValueError(f"amount must not be negative: {raw!r}")
    match = _AMOUNT.fullmatch(raw)
    if match is None or (match["whole"] is None and match["frac"] is None):
        raise ValueError(f"not an amount: {raw!r} (enter an amount like 1234.50)")
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise ValueError(f"amount can have at most 2 decimals (cents): {raw!r}")
    whole = (match["whole"] or "0").replace(",", "")
    amount = Decimal(f"{whole}.{frac or '0'}").quantize(CENT)
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount is too large: {raw!r}")
    return amount


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


def lease_payment(principal: Amount, rate_pct: Amount, n: int) -> Decimal:
    """One of n equal annual payments on P: P·r / (1 − (1+r)^−n); r = 0 → P/n."""
    if n < 1:
        raise ValueError(f"a lease needs at least 1 payment, got {n}")
    with localcontext(_wide()):
        p = _dec(principal, "principal")
        r = _dec(rate_pct, "rate_pct") / 100
        if r < 0:
            raise ValueError(f"rate_pct must not be negative, got {rate_pct}")
        if r == 0:
            return to_cents(p / n)
        return to_cents(p * r / (1 - (1 + r) ** -n))


def split_evenly(total: Amount, n: int) -> list[Decimal]:
    """Split a cent amount into n parts that sum exactly to it; spare cents go first."""
    if n < 1:
        raise ValueError(f"cannot split into {n} parts")
    amount = _dec(total, "total")
    if amount != amount.quantize(CENT):
        raise ValueError(f"total must be whole cents, got {total}")
    cents = int(amount * 100)
    sign = -1 if cents < 0 else 1
    share, spare = divmod(abs(cents), n)
    parts = [share + 1] * spare + [share] * (n - spare)
    return [(Decimal(sign * part) / 100).quantize(CENT) for part in parts]
