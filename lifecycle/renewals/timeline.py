"""The renewals timeline: month-by-month totals per kind → SVG bar geometry. Pure.

Input is what one aggregate query returns (month, kind → amount); output is every
number the template draws: one group per month with its stacked segments (in a fixed
kind order, bottom up), the value axis with "nice" ticks, and the same values for the
data table beside the chart, so the picture and the table cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WIDTH = 760
HEIGHT = 260
LEFT = 64  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 40  # room for the month labels
GAP = 0.25  # share of a month's slot left empty between bars


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_index(month: date) -> int:
    """Months since year 0: the key the aggregate query groups by."""
    return month.year * 12 + month.month - 1


def from_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above value (1 for nothing to show)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for _ in range(2):
        for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)):
            candidate = step.scaleb(exponent)
            if candidate >= value:
                return candidate
        exponent += 1
    return Decimal(10).scaleb(exponent)  # not reached: 10^(k+1) > value


def _round(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class MonthBar:
    month: date
    x: float  # left edge of the bar
    width: float
    label_x: float  # centre, for the month label
    values: dict[str, Decimal]  # every kind, zeros included (the table's row)
    total: Decimal
    segments: tuple[Segment, ...]  # the non-zero values, stacked bottom up

    @property
    def key(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def show_label(self) -> bool:
        """Label every third month and every January, so 24 labels do not collide."""
        return self.month.month in (1, 4, 7, 10)


@dataclass(frozen=True, slots=True)
class Tick:
    value: Decimal
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_width: float
    plot_height: float
    baseline: float
    kinds: tuple[str, ...]
    months: tuple[MonthBar, ...]
    ticks: tuple[Tick, ...]
    scale_max: Decimal
    totals: dict[str, Decimal]  # per kind over all months (the table's footer)
    grand_total: Decimal

    @property
    def empty(self) -> bool:
        return self.grand_total == 0


def build(
    first_month: date,
    values: Mapping[tuple[date, str], Decimal | int],
    kinds: Sequence[str],
    *,
    months: int = 24,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Lay out `months` bars from first_month; values outside that window are ignored."""
    first = month_start(first_month)
    plot_w = float(width - LEFT - RIGHT)
    plot_h = float(height - TOP - BOTTOM)
    baseline = float(TOP) + plot_h
    slot = plot_w / months
    bar_w = _round(slot * (1 - GAP))
    rows: list[tuple[date, dict[str, Decimal]]] = []
    for i in range(months):
        month = add_months(first, i)
        row = {k: Decimal(values.get((month, k), 0)) for k in kinds}
        rows.append((month, row))
    peak = max((sum(row.values(), Decimal(0)) for _, row in rows), default=Decimal(0))
    scale = nice_ceiling(peak)
    per_unit = plot_h / float(scale)
    bars: list[MonthBar] = []
    for i, (month, row) in enumerate(rows):
        x = _round(LEFT + i * slot + slot * GAP / 2)
        top = baseline
        segments: list[Segment] = []
        for kind in kinds:
            amount = row[kind]
            if amount <= 0:
                continue
            h = float(amount) * per_unit
            top -= h
            segments.append(Segment(kind, amount, x, _round(top), bar_w, _round(h)))
        bars.append(
            MonthBar(
                month=month,
                x=x,
                width=bar_w,
                label_x=_round(LEFT + (i + 0.5) * slot),
                values=row,
                total=sum(row.values(), Decimal(0)),
                segments=tuple(segments),
            )
        )
    ticks = tuple(
        Tick(scale * Decimal(k) / 4, _round(baseline - plot_h * k / 4))
        for k in range(5)
    )
    totals = {k: sum((row[k] for _, row in rows), Decimal(0)) for k in kinds}
    return Chart(
        width=width,
        height=height,
        left=LEFT,
        top=TOP,
        plot_width=plot_w,
        plot_height=plot_h,
        baseline=baseline,
        kinds=tuple(kinds),
        months=tuple(bars),
        ticks=ticks,
        scale_max=scale,
        totals=totals,
        grand_total=sum(totals.values(), Decimal(0)),
    )
