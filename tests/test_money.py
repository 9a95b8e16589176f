"""Worked examples for money: Decimal cents, rounded half-up at the end (§3.4, §3.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifecycle.money import (
    CENT,
    growth_factor,
    inflate,
    lease_payment,
    parse_money,
    split_evenly,
    to_cents,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.125"), "0.13"),  # half-up, not half-even (0.12)
        ("2.675", "2.68"),  # a float 2.675 would already be 2.67499…
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("-0.125", "-0.13"),  # half away from zero
        (5, "5.00"),
        (Decimal("1234.5"), "1234.50"),
    ],
)
def test_to_cents_rounds_half_up(value: Decimal | int | str, expected: str) -> None:
    result = to_cents(value)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


def test_cent_is_one_hundredth() -> None:
    assert Decimal(1) * CENT == Decimal("0.01")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        to_cents(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        inflate(100.0, 3, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("$1,234.50", "1234.50"),
        (" 1234 ", "1234.00"),
        ("0.99", "0.99"),
        ("$ 12", "12.00"),
        ("1,234,567.89", "1234567.89"),
        (".5", "0.50"),
        ("$0", "0.00"),
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_parse_money_accepts_typed_amounts(text: str, expected: str) -> None:
    result = parse_money(text)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-5", "negative"),
        ("-$5.00", "negative"),
        ("$-5", "negative"),
        ("$ -5", "negative"),
        ("(5.00)", "negative"),
        ("12.345", "at most 2 decimals"),
        ("0.001", "at most 2 decimals"),
        ("abc", "not an amount"),
        ("1,23", "not an amount"),
        ("12,34.5", "not an amount"),
        ("1.2.3", "not an amount"),
        ("12.", "not an amount"),
        ("1e3", "not an amount"),
        ("$", "not an amount"),
        ("5$", "not an amount"),
        ("1 234", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("1000000000000", "too large"),
    ],
)
def test_parse_money_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_money(text)


@pytest.mark.parametrize(
    ("price", "rate", "years", "expected"),
    [
        ("1000.00", "3", 0, "1000.00"),
        ("1000.00", "3", 1, "1030.00"),
        ("1000.00", "3", 3, "1092.73"),  # 1092.727
        ("850.00", "3", 5, "985.38"),  # 985.3829…
        ("0.50", "5", 1, "0.53"),  # 0.525 half-up
        ("0.10", "5", 10, "0.16"),  # rounded once: per-year rounding gives 0.20
        ("100.00", "0", 10, "100.00"),
        ("329.00", "3.25", 2, "350.73"),  # 350.7325…
    ],
)
def test_inflate_compounds_then_rounds_once(
    price: str, rate: str, years: int, expected: str
) -> None:
    assert inflate(Decimal(price), Decimal(rate), years) == Decimal(expected)


def test_growth_factor_keeps_full_precision() -> None:
    assert growth_factor(Decimal(3), 2) == Decimal("1.0609")
    assert growth_factor(Decimal("2.5"), 4) == Decimal("1.103812890625")
    with pytest.raises(ValueError):
        growth_factor(3, -1)
    with pytest.raises(ValueError):
        growth_factor(-100, 1)


@pytest.mark.parametrize(
    ("principal", "rate", "n", "expected"),
    [
        ("10000.00", "5", 4, "2820.12"),  # 500 / (1 − 1.05⁻⁴) = 2820.1183…
        ("120000.00", "4", 5, "26955.25"),  # 26955.2536…
        ("10000.00", "0", 3, "3333.33"),  # r = 0 → P/N
        ("1000.00", "10", 1, "1100.00"),  # one payment: principal plus a year's rate
        ("1000.00", "0", 1, "1000.00"),
    ],
)
def test_lease_payment(principal: str, rate: str, n: int, expected: str) -> None:
    assert lease_payment(Decimal(principal), Decimal(rate), n) == Decimal(expected)


def test_lease_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1 payment"):
        lease_payment(Decimal(1000), Decimal(5), 0)
    with pytest.raises(ValueError, match="negative"):
        lease_payment(Decimal(1000), Decimal(-1), 3)


@pytest.mark.parametrize(
    ("total", "n", "expected"),
    [
        ("100.00", 3, ["33.34", "33.33", "33.33"]),
        ("0.02", 3, ["0.01", "0.01", "0.00"]),
        ("10", 4, ["2.50", "2.50", "2.50", "2.50"]),
        ("0.05", 2, ["0.03", "0.02"]),
        ("1000.01", 1, ["1000.01"]),
        ("100.00", 7, ["14.29", "14.29", "14.29", "14.29", "14.28", "14.28", "14.28"]),
        ("-1.00", 3, ["-0.34", "-0.33", "-0.33"]),
    ],
)
def test_split_evenly_sums_exactly_to_the_total(
    total: str, n: int, expected: list[str]
) -> None:
    parts = split_evenly(Decimal(total), n)
    assert parts == [Decimal(p) for p in expected]
    assert sum(parts, Decimal(0)) == Decimal(total)


def test_split_evenly_refuses_fractions_of_a_cent_and_zero_parts() -> None:
    with pytest.raises(ValueError, match="whole cents"):
        split_evenly(Decimal("1.005"), 2)
    with pytest.raises(ValueError):
        split_evenly(Decimal("1.00"), 0)
