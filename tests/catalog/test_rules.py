"""The catalog's pure rules: a vehicle's state on a day, and a valid price table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lifecycle.catalog.rules import (
    EXPIRING_WITHIN_DAYS,
    Tier,
    VehicleState,
    check_tiers,
    tiers_for_editing,
    vehicle_state,
)

START, END = date(2024, 7, 1), date(2026, 6, 30)


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (date(2024, 6, 30), VehicleState.UPCOMING),  # the day before the term
        (date(2024, 7, 1), VehicleState.CURRENT),  # its first day
        (date(2026, 3, 31), VehicleState.CURRENT),  # 91 days to the end: not yet
        (date(2026, 4, 1), VehicleState.EXPIRING),  # 90 days to the end
        (date(2026, 5, 31), VehicleState.EXPIRING),  # "expires next month"
        (date(2026, 6, 30), VehicleState.EXPIRING),  # the last day is in the term
        (date(2026, 7, 1), VehicleState.EXPIRED),
    ],
)
def test_vehicle_state_on_a_day(today, state):
    assert EXPIRING_WITHIN_DAYS == 90
    assert vehicle_state(START, END, today) is state


def test_the_window_is_a_parameter():
    assert vehicle_state(START, END, date(2026, 6, 1), 20) is VehicleState.CURRENT
    assert vehicle_state(START, END, date(2026, 6, 10), 20) is VehicleState.EXPIRING


def test_a_short_vehicle_is_expiring_from_its_first_day():
    assert vehicle_state(date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 1)) is (
        VehicleState.EXPIRING
    )


LIST = Decimal("520.00")


def rows(*pairs):
    return [{"min_qty": q, "unit_price": p} for q, p in pairs]


def test_a_valid_table_in_order():
    tiers, errors = check_tiers(
        rows(("1", "520.00"), ("250", "495"), ("1000", "470.5")), list_price=LIST
    )
    assert errors == {}
    assert tiers == [
        Tier(1, Decimal("520.00")),
        Tier(250, Decimal("495.00")),
        Tier(1000, Decimal("470.50")),
    ]


def test_equal_prices_on_consecutive_rows_are_allowed():
    _tiers, errors = check_tiers(rows(("1", "10"), ("5", "10")), list_price=LIST)
    assert errors == {}


def test_json_integers_for_quantities_are_accepted():
    tiers, errors = check_tiers(rows((1, "9.00"), (10, "8.00")), list_price=LIST)
    assert errors == {} and [t.min_qty for t in tiers] == [1, 10]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ([], {"tiers": "needs at least the 1-unit row"}),
        (
            rows(("10", "500.00")),
            {"tiers.0.min_qty": "must be 1: the first row is from 1 unit"},
        ),
        (
            rows(("1", "520.00"), ("250", "495.00"), ("250", "480.00")),
            {
                "tiers.2.min_qty": "must be more than the row above (250): quantities ascend"
            },
        ),
        (
            rows(("1", "520.00"), ("500", "495.00"), ("250", "480.00")),
            {
                "tiers.2.min_qty": "must be more than the row above (500): quantities ascend"
            },
        ),
        (
            rows(("1", "520.00"), ("250", "495.00"), ("1000", "499.00")),
            {
                "tiers.2.unit_price": "cannot be above the row above (495.00): "
                "a larger quantity never costs more per unit"
            },
        ),
        (
            rows(("1", "530.00")),
            {"tiers.0.unit_price": "cannot be above the list price, 520.00"},
        ),
        (
            rows(("1", "519.999")),
            {"tiers.0.unit_price": "must have at most 2 decimals (whole cents)"},
        ),
        (rows(("1", "-1")), {"tiers.0.unit_price": "cannot be negative"}),
        (rows(("1", "ten")), {"tiers.0.unit_price": "must be an amount, e.g. 265.00"}),
        (rows(("1", "NaN")), {"tiers.0.unit_price": "must be an amount, e.g. 265.00"}),
        (
            rows(("1", 520.0)),
            {"tiers.0.unit_price": 'send money as a string, e.g. "1234.50"'},
        ),
        (rows(("1", "")), {"tiers.0.unit_price": "is required"}),
        (rows(("", "520")), {"tiers.0.min_qty": "is required"}),
        (
            rows(("1.5", "520")),
            {"tiers.0.min_qty": "must be a whole number of units, 1 or more"},
        ),
        (rows(("0", "520")), {"tiers.0.min_qty": "must be 1 or more"}),
        (rows((True, "520")), {"tiers.0.min_qty": "must be a whole number"}),
        (
            rows(("1", "520"), ("3000000000", "500")),
            {"tiers.1.min_qty": "must be at most 2,147,483,647"},
        ),
        (
            # every bad row is named, not only the first
            rows(("1", "520.00"), ("x", "500"), ("100", "600")),
            {
                "tiers.1.min_qty": "must be a whole number of units, 1 or more",
                "tiers.2.unit_price": "cannot be above the list price, 520.00",
            },
        ),
    ],
)
def test_an_invalid_table_names_each_row_and_field(table, expected):
    tiers, errors = check_tiers(table, list_price=LIST)
    assert tiers == []
    assert errors == expected


def test_too_many_rows():
    table = rows(*((str(n + 1), "1.00") for n in range(51)))
    assert check_tiers(table, list_price=LIST)[1] == {
        "tiers": "can have at most 50 rows"
    }


def test_money_may_be_typed_with_a_dollar_sign_and_commas():
    tiers, errors = check_tiers(rows(("1", "$1,250.00")), list_price=Decimal("2000"))
    assert errors == {} and tiers[0].unit_price == Decimal("1250.00")


def test_the_editor_opens_with_a_1_unit_row_at_list_when_the_table_lacks_it():
    assert tiers_for_editing([Tier(100, Decimal("299"))], Decimal("329")) == [
        {"min_qty": "1", "unit_price": "329.00"},
        {"min_qty": "100", "unit_price": "299.00"},
    ]
    assert tiers_for_editing([Tier(1, Decimal("9"))], Decimal("10")) == [
        {"min_qty": "1", "unit_price": "9.00"}
    ]


def test_problems_are_listed_as_the_table_reads():
    _tiers, errors = check_tiers(
        rows(("1", "520"), ("2000", "500"), ("1500", "9.999")), list_price=LIST
    )
    assert list(errors) == ["tiers.2.min_qty", "tiers.2.unit_price"]
