"""The catalog's own rules, with no database or Flask: a contract vehicle's state on a
day, and what makes a price-tier table valid (docs/rules.md#contract-vehicles-and-price-tiers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from lifecycle.bounds import INT_MAX

# A vehicle whose term ends within this many days (today included) is "expiring": long
# enough for a cooperative to run a rebid or exercise a renewal option before members
# lose the contract. The cooperative has no setting for it yet.
EXPIRING_WITHIN_DAYS = 90
# The most rows a price table takes: real ones have three to eight.
MAX_TIERS = 50
MONEY_LIMIT = Decimal("999999999999.99")  # NUMERIC(14,2)
CENT = Decimal("0.01")


class VehicleState(StrEnum):
    UPCOMING = "upcoming"  # the term has not started
    CURRENT = "current"
    EXPIRING = "expiring"  # ends within EXPIRING_WITHIN_DAYS
    EXPIRED = "expired"  # the term's last day has passed


def vehicle_state(
    term_start: date,
    term_end: date,
    today: date,
    within_days: int = EXPIRING_WITHIN_DAYS,
) -> VehicleState:
    """A vehicle's state on `today`: its term runs from term_start to term_end, both
    days included."""
    if today > term_end:
        return VehicleState.EXPIRED
    if today < term_start:
        return VehicleState.UPCOMING
    if term_end <= expiring_until(today, within_days):
        return VehicleState.EXPIRING
    return VehicleState.CURRENT


def expiring_until(today: date, within_days: int = EXPIRING_WITHIN_DAYS) -> date:
    """The last term end that counts as expiring on `today`."""
    return today + timedelta(days=within_days)


@dataclass(frozen=True)
class Tier:
    """One valid row of a price table: from min_qty units, this unit price."""

    min_qty: int
    unit_price: Decimal


def _quantity(raw: Any) -> tuple[int | None, str | None]:
    if isinstance(raw, bool) or raw is None:
        return None, "is required" if raw is None else "must be a whole number"
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not text:
            return None, "is required"
        if not text.isascii() or not text.isdigit():
            return None, "must be a whole number of units, 1 or more"
        value = int(text)
    if value < 1:
        return None, "must be 1 or more"
    if value > INT_MAX:
        return None, f"must be at most {INT_MAX:,}"
    return value, None


def _price(raw: Any) -> tuple[Decimal | None, str | None]:
    if raw is None:
        return None, "is required"
    if isinstance(raw, bool | int | float):
        # a JSON number has lost its cents before we see it (docs/rules.md#money)
        return None, 'send money as a string, e.g. "1234.50"'
    text = str(raw).strip().replace(",", "").removeprefix("$")
    if not text:
        return None, "is required"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, "must be an amount, e.g. 265.00"
    if not value.is_finite():
        return None, "must be an amount, e.g. 265.00"
    if value < 0:
        return None, "cannot be negative"
    if value > MONEY_LIMIT:
        return None, "is too large"
    if value != value.quantize(CENT):
        return None, "must have at most 2 decimals (whole cents)"
    return value.quantize(CENT), None


def check_tiers(
    rows: Sequence[Mapping[str, Any]], *, list_price: Decimal
) -> tuple[list[Tier], dict[str, str]]:
    """A submitted price table as valid tiers, or the problems, keyed by row and field
    (`tiers.0.min_qty`, `tiers.2.unit_price`) and `tiers` for the table as a whole.

    Valid means: a row from 1 unit, quantities strictly ascending, unit prices never
    rising from one row to the next and none above the list price, money to the cent.
    """
    errors: dict[str, str] = {}
    if not rows:
        return [], {"tiers": "needs at least the 1-unit row"}
    if len(rows) > MAX_TIERS:
        return [], {"tiers": f"can have at most {MAX_TIERS} rows"}
    parsed: list[tuple[int | None, Decimal | None]] = []
    for n, row in enumerate(rows):
        qty, qty_problem = _quantity(row.get("min_qty"))
        price, price_problem = _price(row.get("unit_price"))
        if qty_problem:
            errors[f"tiers.{n}.min_qty"] = qty_problem
        if price_problem:
            errors[f"tiers.{n}.unit_price"] = price_problem
        elif price is not None and price > list_price:
            errors[f"tiers.{n}.unit_price"] = (
                f"cannot be above the list price, {list_price:.2f}"
            )
        parsed.append((qty, price))
    first_qty = parsed[0][0]
    if first_qty is not None and first_qty != 1:
        errors.setdefault("tiers.0.min_qty", "must be 1: the first row is from 1 unit")
    for n in range(1, len(parsed)):
        qty, price = parsed[n]
        prev_qty, prev_price = parsed[n - 1]
        if qty is not None and prev_qty is not None and qty <= prev_qty:
            errors.setdefault(
                f"tiers.{n}.min_qty",
                f"must be more than the row above ({prev_qty:,}): quantities ascend",
            )
        if price is not None and prev_price is not None and price > prev_price:
            errors.setdefault(
                f"tiers.{n}.unit_price",
                f"cannot be above the row above ({prev_price:.2f}): "
                "a larger quantity never costs more per unit",
            )
    if errors:
        return [], dict(sorted(errors.items(), key=_reading_order))
    return [Tier(q, p) for q, p in parsed if q is not None and p is not None], {}


def _reading_order(item: tuple[str, str]) -> tuple[int, int]:
    """Problems row by row, the quantity before the price, as the table reads."""
    parts = item[0].split(".")
    if len(parts) != 3:
        return -1, 0
    return int(parts[1]), 0 if parts[2] == "min_qty" else 1


def tiers_for_editing(
    tiers: Sequence[Tier], list_price: Decimal
) -> list[dict[str, str]]:
    """The rows the editor opens with: the stored tiers, led by the 1-unit row at the
    list price when the table (loaded before the rule) has none."""
    rows = [
        {"min_qty": str(t.min_qty), "unit_price": f"{t.unit_price:.2f}"} for t in tiers
    ]
    if not tiers or tiers[0].min_qty != 1:
        rows.insert(0, {"min_qty": "1", "unit_price": f"{list_price:.2f}"})
    return rows
