"""The budget chart: per fiscal year, one stacked bar per series (baseline, scenarios),
the cap as a line over the year → SVG geometry. Pure.

The template draws exactly these numbers and the table beside the chart shows the same
values, so the picture and the table cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lifecycle.renewals.timeline import Tick, nice_ceiling

WIDTH = 760
HEIGHT = 280
LEFT = 72  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 36  # room for the year labels
GAP = 0.3  # share of a year's slot left empty between groups
KINDS = ("refresh", "license", "contract")


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str
    value: Decimal
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    series: int  # 0 = baseline
    name: str
    total: Decimal
    segments: tuple[Segment, ...]
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class YearGroup:
    fy: int
    bars: tuple[Bar, ...]
    label_x: float
    cap: Decimal | None
    cap_y: float | None
    cap_x1: float
    cap_x2: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    baseline: float
    years: tuple[YearGroup, ...]
    ticks: tuple[Tick, ...]
    series: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return all(bar.total == 0 for g in self.years for bar in g.bars)


def _r(value: float) -> float:
    return round(value, 1)


def build(
    fiscal_years: Sequence[int],
    series: Sequence[tuple[str, Mapping[tuple[int, str], Decimal]]],
    caps: Mapping[int, Decimal] | None = None,
) -> Chart:
    """series: (name, {(fy, kind): amount}) — the baseline first."""
    caps = caps or {}
    totals = [
        sum((amounts.get((fy, k), Decimal(0)) for k in KINDS), Decimal(0))
        for _, amounts in series
        for fy in fiscal_years
    ]
    top = nice_ceiling(max([*totals, *caps.values(), Decimal(0)]))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    base = TOP + plot_height
    slot = plot_width / max(len(fiscal_years), 1)
    group_width = slot * (1 - GAP)
    bar_width = group_width / max(len(series), 1)

    def y_of(value: Decimal) -> float:
        return base - float(value / top) * plot_height

    groups = []
    for i, fy in enumerate(fiscal_years):
        x0 = LEFT + i * slot + slot * GAP / 2
        bars = []
        for s, (name, amounts) in enumerate(series):
            x = x0 + s * bar_width
            y: float = base
            segments = []
            for kind in KINDS:
                value = amounts.get((fy, kind), Decimal(0))
                height = float(value / top) * plot_height
                y -= height
                segments.append(
                    Segment(kind, value, _r(x), _r(y), _r(bar_width - 1), _r(height))
                )
            total = sum((seg.value for seg in segments), Decimal(0))
            bars.append(Bar(s, name, total, tuple(segments), _r(x), _r(bar_width - 1)))
        cap = caps.get(fy)
        groups.append(
            YearGroup(
                fy=fy,
                bars=tuple(bars),
                label_x=_r(x0 + group_width / 2),
                cap=cap,
                cap_y=_r(y_of(cap)) if cap is not None else None,
                cap_x1=_r(x0 - 2),
                cap_x2=_r(x0 + group_width + 2),
            )
        )
    ticks = tuple(Tick(top * k / 4, _r(base - plot_height * k / 4)) for k in range(5))
    return Chart(
        WIDTH, HEIGHT, LEFT, plot_width, base, tuple(groups), ticks,
        tuple(name for name, _ in series),
    )  # fmt: skip
