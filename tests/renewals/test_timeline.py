"""The timeline geometry (pure): months, stacking, scale and the table's numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lifecycle.renewals import timeline

KINDS = ("refresh", "warranty", "license_renewal", "contract_renewal")


@pytest.mark.parametrize(
    ("value", "nice"),
    [
        ("0", "1"),
        ("0.4", "0.5"),
        ("1", "1"),
        ("3", "5"),
        ("7", "10"),
        ("10", "10"),
        ("11", "20"),
        ("21", "25"),
        ("1234.50", "2000"),
        ("2500", "2500"),
        ("999999", "1000000"),
    ],
)
def test_nice_ceiling(value, nice):
    assert timeline.nice_ceiling(Decimal(value)) == Decimal(nice)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 11, 1), 0, date(2026, 11, 1)),
        (date(2026, 11, 1), 2, date(2027, 1, 1)),
        (date(2026, 12, 1), 13, date(2028, 1, 1)),
        (date(2027, 1, 1), -1, date(2026, 12, 1)),
    ],
)
def test_add_months(start, n, expected):
    assert timeline.add_months(start, n) == expected
    index = timeline.month_index(expected)
    assert timeline.from_index(index) == expected


def test_24_months_from_the_first_of_the_start_month():
    chart = timeline.build(date(2026, 11, 26), {}, KINDS)
    assert len(chart.months) == 24
    assert chart.months[0].month == date(2026, 11, 1)
    assert chart.months[-1].month == date(2028, 10, 1)
    assert chart.empty and chart.scale_max == 1
    assert all(not m.segments for m in chart.months)
    assert [m.key for m in chart.months[:3]] == ["2026-11", "2026-12", "2027-01"]


def test_bars_stack_in_kind_order_and_scale_to_a_nice_maximum():
    values = {
        (date(2027, 1, 1), "refresh"): Decimal("600.00"),
        (date(2027, 1, 1), "license_renewal"): Decimal("400.00"),
        (date(2027, 3, 1), "contract_renewal"): Decimal("1500.00"),
        (date(2030, 1, 1), "refresh"): Decimal("99999.00"),  # outside: ignored
    }
    chart = timeline.build(date(2026, 11, 1), values, KINDS, height=240)
    assert chart.scale_max == Decimal(2000)
    jan = chart.months[2]
    assert jan.total == Decimal("1000.00")
    assert jan.values == {
        "refresh": Decimal("600.00"),
        "warranty": Decimal(0),
        "license_renewal": Decimal("400.00"),
        "contract_renewal": Decimal(0),
    }
    bottom, top = jan.segments
    assert (bottom.kind, top.kind) == ("refresh", "license_renewal")
    assert bottom.y + bottom.height == pytest.approx(chart.baseline, abs=0.1)
    assert top.y + top.height == pytest.approx(bottom.y, abs=0.1)
    # heights are proportional: 1000 of 2000 fills half the plot
    assert bottom.height + top.height == pytest.approx(chart.plot_height / 2, abs=0.2)
    assert chart.totals["contract_renewal"] == Decimal("1500.00")
    assert chart.grand_total == Decimal("2500.00")
    assert [t.value for t in chart.ticks] == [0, 500, 1000, 1500, 2000]
    assert chart.ticks[0].y == chart.baseline and chart.ticks[-1].y == chart.top


def test_counts_work_as_well_as_money():
    values = {(date(2026, 12, 1), "warranty"): 3, (date(2026, 12, 1), "refresh"): 4}
    chart = timeline.build(date(2026, 12, 15), values, KINDS)
    assert chart.months[0].total == 7
    assert chart.scale_max == 10


def test_bars_do_not_overlap_and_stay_inside_the_plot():
    values = {
        (timeline.add_months(date(2026, 1, 1), i), "refresh"): i + 1 for i in range(24)
    }
    chart = timeline.build(date(2026, 1, 1), values, KINDS)
    for left, right in zip(chart.months, chart.months[1:], strict=False):
        assert left.x + left.width < right.x
    last = chart.months[-1]
    assert chart.left <= chart.months[0].x
    assert last.x + last.width <= chart.left + chart.plot_width
    tallest = max(chart.months, key=lambda m: m.total)
    assert tallest.segments[0].y >= chart.top


def test_labels_every_quarter():
    chart = timeline.build(date(2026, 11, 1), {}, KINDS)
    labelled = [m.month.month for m in chart.months if m.show_label]
    assert set(labelled) == {1, 4, 7, 10}
