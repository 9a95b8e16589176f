"""The pipeline chart: estimated spend per quarter, one stacked bar per quarter with a
segment per group (the biggest few, the rest as "Everything else") → SVG geometry. Pure.

The axis and its ticks are the renewals timeline's (`nice_ceiling`, `Tick`); the table
beside the chart holds the same numbers, so the picture and the table cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lifecycle.pipeline.pivot import ZERO, Table
from lifecycle.renewals.timeline import Tick, nice_ceiling

WIDTH = 760
HEIGHT = 260
LEFT = 64  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 36  # room for the quarter labels
GAP = 0.35  # share of a quarter's slot left empty between bars
SHOWN = 5  # groups drawn on their own; the rest are one segment
OTHER = "Everything else"


def _r(value: float) -> float:
    return round(value, 1)


@dataclass(frozen=True, slots=True)
class Series:
    index: int  # the colour (0..SHOWN; SHOWN is "everything else")
    label: str


@dataclass(frozen=True, slots=True)
class Segment:
    series: int
    label: str
    value: Decimal
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    total: Decimal
    x: float
    width: float
    label_x: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    series: tuple[Series, ...]

    @property
    def empty(self) -> bool:
        return all(bar.total == 0 for bar in self.bars)


def build(table: Table) -> Chart:
    """Bars of the table's spend; the groups with the most spend get their own colour."""
    biggest = sorted(table.rows, key=lambda r: (-r.total.spend, r.sort_name, r.key))
    own = biggest[:SHOWN]
    rest = biggest[SHOWN:]
    series = [Series(i, row.label) for i, row in enumerate(own)]
    if rest:
        series.append(Series(SHOWN, OTHER))
    top = nice_ceiling(max([c.spend for c in table.columns] + [ZERO]))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    base = float(TOP + plot_height)
    slot = plot_width / max(len(table.quarters), 1)
    bar_width = slot * (1 - GAP)
    bars = []
    for q, quarter in enumerate(table.quarters):
        values = [(i, row.label, row.cells[q].spend) for i, row in enumerate(own)]
        if rest:
            values.append((SHOWN, OTHER, sum((r.cells[q].spend for r in rest), ZERO)))
        y = base
        segments = []
        for index, label, value in values:
            if value <= 0:
                continue
            height = float(value / top) * plot_height
            y -= height
            segments.append(Segment(index, label, value, _r(y), _r(height)))
        x = LEFT + q * slot + slot * GAP / 2
        bars.append(
            Bar(
                quarter.label,
                table.columns[q].spend,
                _r(x),
                _r(bar_width),
                _r(x + bar_width / 2),
                tuple(segments),
            )
        )
    ticks = tuple(Tick(top * k / 4, _r(base - plot_height * k / 4)) for k in range(5))
    return Chart(
        WIDTH, HEIGHT, LEFT, plot_width, base, tuple(bars), ticks, tuple(series)
    )
