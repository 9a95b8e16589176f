"""The tier rule and a round's settlement, with worked examples (docs/rules.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.rounds.tiers import PriceTable, Tier, cost, settle

D = Decimal
# The issue's example: tiers 1 → 520.00, 250 → 495.00, 1000 → 470.00, MOQ 50.
LAPTOP = PriceTable.of(
    "520.00", [(1, "520.00"), (250, "495.00"), (1000, "470.00")], min_order_qty=50
)
# A table whose first tier starts above 1: list price below it.
DISPLAY = PriceTable.of("3000.00", [(10, "2800.00"), (50, "2650.00")])


@pytest.mark.parametrize(
    ("table", "qty", "price", "tier_min", "to_next", "next_price"),
    [
        (LAPTOP, 0, "520.00", None, 250, "495.00"),
        (LAPTOP, 1, "520.00", 1, 249, "495.00"),
        (LAPTOP, 249, "520.00", 1, 1, "495.00"),
        (LAPTOP, 250, "495.00", 250, 750, "470.00"),
        (LAPTOP, 999, "495.00", 250, 1, "470.00"),
        (LAPTOP, 1000, "470.00", 1000, None, None),
        (LAPTOP, 1050, "470.00", 1000, None, None),
        (DISPLAY, 1, "3000.00", None, 9, "2800.00"),
        (DISPLAY, 9, "3000.00", None, 1, "2800.00"),
        (DISPLAY, 10, "2800.00", 10, 40, "2650.00"),
        (DISPLAY, 70, "2650.00", 50, None, None),
        (PriceTable.of("12.00"), 5000, "12.00", None, None, None),
    ],
)
def test_unit_price_tier_and_the_next_step(
    table: PriceTable,
    qty: int,
    price: str,
    tier_min: int | None,
    to_next: int | None,
    next_price: str | None,
) -> None:
    assert table.unit_price(qty) == D(price)
    tier = table.tier_at(qty)
    assert (tier.min_qty if tier else None) == tier_min
    assert table.units_to_next(qty) == to_next
    nxt = table.next_tier(qty)
    assert (str(nxt.unit_price) if nxt else None) == next_price


def test_a_tier_at_the_list_price_is_no_step_down() -> None:
    # 1 → 520.00 equals the list price: from 0 the next cheaper tier is 250, not 1
    assert LAPTOP.next_tier(0) == Tier(250, D("495.00"))


@pytest.mark.parametrize(
    ("qty", "meets", "short"),
    [(0, False, 50), (49, False, 1), (50, True, 0), (1050, True, 0)],
)
def test_minimum_order_quantity(qty: int, meets: bool, short: int) -> None:
    assert LAPTOP.meets_minimum(qty) is meets
    assert LAPTOP.units_to_minimum(qty) == short


def test_nothing_committed_is_never_an_order_even_without_a_minimum() -> None:
    free = PriceTable.of("5.00", min_order_qty=0)
    assert not free.meets_minimum(0)
    assert free.meets_minimum(1)


def test_the_issue_example_settles_at_470_and_saves_30000_vs_alone() -> None:
    result = settle(LAPTOP, {"A": 600, "B": 300, "C": 150})
    assert result.pooled_qty == 1050
    assert result.unit_price == D("470.00")
    assert result.tier == Tier(1000, D("470.00"))
    assert not result.cancelled
    by = {line.key: line for line in result.lines}
    assert [by[k].alone_price for k in "ABC"] == [D("495.00"), D("495.00"), D("520.00")]
    assert [by[k].saved_vs_alone for k in "ABC"] == [
        D("15000.00"),
        D("7500.00"),
        D("7500.00"),
    ]
    assert result.saved_vs_alone == D("30000.00")
    assert result.amount == D("493500.00")
    assert result.saved_vs_list == D("52500.00")  # 1,050 × 50.00


def test_below_the_minimum_the_item_is_cancelled_and_nothing_is_paid() -> None:
    result = settle(LAPTOP, {"A": 30, "B": 19})
    assert result.cancelled
    assert result.pooled_qty == 49
    assert result.lines == ()
    assert result.amount == D("0.00")
    assert result.saved_vs_alone == D("0.00")


def test_a_zero_commitment_takes_no_line() -> None:
    result = settle(LAPTOP, {"A": 600, "B": 0})
    assert [line.key for line in result.lines] == ["A"]


def test_a_negative_commitment_is_refused() -> None:
    with pytest.raises(ValueError):
        settle(LAPTOP, {"A": -1})


def test_line_amounts_round_half_up_once() -> None:
    assert cost(D("0.125"), 1) == D("0.13")
    assert cost(D("33.335"), 3) == D("100.01")


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (PriceTable.of("10", [(1, "9"), (5, "9.5")]), "costs more"),
        (PriceTable.of("10", [(1, "11")]), "costs more"),
        (PriceTable(D("10"), (Tier(0, D("9")),)), "start at 1"),
        (PriceTable(D("10"), (Tier(5, D("9")), Tier(5, D("8")))), "Two tiers"),
        (PriceTable.of("10", min_order_qty=-1), "minimum order"),
    ],
)
def test_unsound_tables_are_named(table: PriceTable, problem: str) -> None:
    assert any(problem in p for p in table.problems())


def test_a_sound_table_has_no_problems() -> None:
    assert LAPTOP.problems() == []
    assert DISPLAY.problems() == []


cents = st.integers(min_value=1, max_value=1_000_000).map(lambda c: D(c) / 100)


@st.composite
def tables(draw: st.DrawFn) -> PriceTable:
    """Sound tables: ascending quantities, each price at most the one below it."""
    list_price = draw(cents)
    price = list_price
    tiers = []
    for start in sorted(draw(st.sets(st.integers(1, 5000), max_size=6))):
        cut = draw(st.integers(0, int(price * 100))) / D(100)
        price = price - cut
        tiers.append(Tier(start, price))
    return PriceTable(list_price, tuple(tiers), draw(st.integers(0, 300)))


@given(tables(), st.integers(0, 10_000), st.integers(0, 10_000))
def test_price_never_increases_with_quantity(table: PriceTable, a: int, b: int) -> None:
    assert table.problems() == []
    low, high = sorted((a, b))
    assert table.unit_price(high) <= table.unit_price(low)


@given(tables(), st.integers(0, 10_000))
def test_the_next_tier_is_cheaper_and_further(table: PriceTable, qty: int) -> None:
    nxt = table.next_tier(qty)
    if nxt is not None:
        assert nxt.min_qty > qty
        assert nxt.unit_price < table.unit_price(qty)
        assert table.unit_price(nxt.min_qty) <= nxt.unit_price


@given(tables(), st.lists(st.integers(0, 3000), max_size=12))
def test_pooling_never_costs_anyone_more_than_alone(
    table: PriceTable, quantities: list[int]
) -> None:
    result = settle(table, dict(enumerate(quantities)))
    assert result.saved_vs_alone >= 0
    assert result.saved_vs_list >= 0
    for line in result.lines:
        assert line.saved_vs_alone >= 0
        assert line.unit_price <= line.alone_price
    if not result.cancelled:
        assert sum(line.quantity for line in result.lines) == result.pooled_qty
        assert result.amount == sum(
            (cost(result.unit_price, line.quantity) for line in result.lines),
            D("0.00"),
        )
