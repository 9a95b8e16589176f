"""Volume tier pricing and a round's settlement (docs/rules.md#pooled-purchase-rounds).

Pure: plain values in, plain values out; no database or Flask imports. The rule is
the forecast's (`budget.forecast.Item.unit_price`): the price of one unit when `q`
are bought is the price of the highest tier whose minimum `q` reaches, else the list
price. A round's settlement applies it twice per district: at the pooled quantity
(what everyone pays) and at the district's own quantity (what it would pay alone).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from lifecycle.money import to_cents

K = TypeVar("K", bound=Hashable)
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Tier:
    """From `min_qty` units on, each unit costs `unit_price`."""

    min_qty: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class PriceTable:
    """A catalog item's list price, volume tiers (ascending) and minimum order."""

    list_price: Decimal
    tiers: tuple[Tier, ...] = ()
    min_order_qty: int = 1

    @classmethod
    def of(
        cls,
        list_price: Decimal | str,
        tiers: Iterable[tuple[int, Decimal | str]] = (),
        min_order_qty: int = 1,
    ) -> PriceTable:
        """A table from plain pairs, tiers sorted by quantity."""
        ordered = sorted((int(q), Decimal(p)) for q, p in tiers)
        return cls(
            Decimal(list_price),
            tuple(Tier(q, p) for q, p in ordered),
            int(min_order_qty),
        )

    def problems(self) -> list[str]:
        """What makes the table unusable for pooling; empty when it is sound."""
        found: list[str] = []
        if self.list_price < 0:
            found.append("The list price cannot be negative.")
        if self.min_order_qty < 0:
            found.append("The minimum order quantity cannot be negative.")
        last_qty, last_price = 0, self.list_price
        for tier in self.tiers:
            if tier.min_qty < 1:
                found.append(f"A tier starts at {tier.min_qty}: tiers start at 1.")
            if tier.min_qty == last_qty:
                found.append(f"Two tiers start at {tier.min_qty}.")
            if tier.unit_price > last_price:
                found.append(
                    f"The tier from {tier.min_qty} costs more ({tier.unit_price})"
                    f" than the one below it ({last_price})."
                )
            last_qty, last_price = tier.min_qty, tier.unit_price
        return found

    def tier_at(self, quantity: int) -> Tier | None:
        """The highest tier `quantity` reaches; None means the list price applies."""
        reached = None
        for tier in self.tiers:
            if tier.min_qty > quantity:
                break
            reached = tier
        return reached

    def unit_price(self, quantity: int) -> Decimal:
        """What one unit costs when `quantity` units are bought together."""
        tier = self.tier_at(quantity)
        return self.list_price if tier is None else tier.unit_price

    def next_tier(self, quantity: int) -> Tier | None:
        """The next tier up that lowers the price, if any."""
        now = self.unit_price(quantity)
        for tier in self.tiers:
            if tier.min_qty > quantity and tier.unit_price < now:
                return tier
        return None

    def units_to_next(self, quantity: int) -> int | None:
        """How many more units reach the next, cheaper tier (None: none is left)."""
        nxt = self.next_tier(quantity)
        return None if nxt is None else nxt.min_qty - quantity

    def meets_minimum(self, quantity: int) -> bool:
        """Whether a pooled quantity is orderable: something, and at least the MOQ."""
        return quantity > 0 and quantity >= self.min_order_qty

    def units_to_minimum(self, quantity: int) -> int:
        """How many more units the pool needs before the item can be ordered at all."""
        if self.meets_minimum(quantity):
            return 0
        return max(self.min_order_qty, 1) - quantity


def cost(unit_price: Decimal, quantity: int) -> Decimal:
    """A line's amount, rounded half-up at the cent once (it is final)."""
    return to_cents(unit_price * quantity)


@dataclass(frozen=True, slots=True)
class Line(Generic[K]):
    """One district's line of a settled item: what it pays and what it saved."""

    key: K
    quantity: int
    unit_price: Decimal  # the pooled tier's price (every participant pays it)
    alone_price: Decimal  # what its own quantity would have reached
    amount: Decimal
    at_list: Decimal
    alone: Decimal

    @property
    def saved_vs_list(self) -> Decimal:
        return self.at_list - self.amount

    @property
    def saved_vs_alone(self) -> Decimal:
        return self.alone - self.amount


@dataclass(frozen=True, slots=True)
class Settlement(Generic[K]):
    """An item settled at close: the pooled tier, or cancelled below its minimum."""

    pooled_qty: int
    tier: Tier | None
    unit_price: Decimal
    cancelled: bool
    lines: tuple[Line[K], ...]

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def saved_vs_list(self) -> Decimal:
        return sum((line.saved_vs_list for line in self.lines), ZERO)

    @property
    def saved_vs_alone(self) -> Decimal:
        return sum((line.saved_vs_alone for line in self.lines), ZERO)


def price_line(
    table: PriceTable, key: K, quantity: int, pooled_price: Decimal
) -> Line[K]:
    """One participant's line at the pooled price, with what list and alone cost."""
    alone_price = table.unit_price(quantity)
    return Line(
        key=key,
        quantity=quantity,
        unit_price=pooled_price,
        alone_price=alone_price,
        amount=cost(pooled_price, quantity),
        at_list=cost(table.list_price, quantity),
        alone=cost(alone_price, quantity),
    )


def settle(table: PriceTable, quantities: Mapping[K, int]) -> Settlement[K]:
    """Price every participant's committed quantity at the pooled tier.

    Quantities of 0 ("not this time") take no line. Below the minimum order quantity
    the item is cancelled: no line is bought, nothing is paid or saved.
    """
    bought = {k: q for k, q in quantities.items() if q > 0}
    if any(q < 0 for q in quantities.values()):
        raise ValueError("a committed quantity cannot be negative")
    pooled = sum(bought.values())
    price = table.unit_price(pooled)
    if not table.meets_minimum(pooled):
        return Settlement(pooled, table.tier_at(pooled), price, True, ())
    lines = tuple(price_line(table, k, q, price) for k, q in bought.items())
    return Settlement(pooled, table.tier_at(pooled), price, False, lines)
