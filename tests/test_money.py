"""Worked examples for money: Decimal cents, rounded half-up at the end (§3.4, §3.5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lifecycle.money import (
    CENT,
    growth_factor,
    inflate,
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
