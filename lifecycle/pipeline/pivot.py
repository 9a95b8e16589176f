"""The pipeline's arithmetic: calendar quarters, and the aggregate rows the query
returns folded into a table of groups × quarters. Pure.

A quarter is a calendar quarter (Q1 = January–March), the same for every member
district whatever its fiscal year, so districts' needs add up in the same columns.
Needs already overdue count in the first quarter shown (the current one): they still
have to be bought, as the budget counts them in the current fiscal year.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

MIN_QUARTERS = 4
MAX_QUARTERS = 8
DEFAULT_QUARTERS = 4
ZERO = Decimal("0.00")

# What one unit of each kind of need is: a refresh replaces one device, a license
# renews its seats, a contract renews as one contract.
UNIT_OF_KIND = {
    "refresh": "devices",
    "license_renewal": "seats",
    "contract_renewal": "contracts",
}
UNIT_NAMES = ("devices", "seats", "contracts")


@dataclass(frozen=True, slots=True)
class Quarter:
    year: int
    number: int  # 1–4

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """The first day after the quarter."""
        return self.next().start

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year}"

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def quarters_from(today: date, count: int) -> list[Quarter]:
    """The current quarter and the ones after it, `count` in all."""
    out = [quarter_of(today)]
    while len(out) < count:
        out.append(out[-1].next())
    return out


def quarter_index(due: date, quarters: Sequence[Quarter]) -> int | None:
    """The column a need due on `due` falls in: overdue ones in the first; None when
    after the last quarter shown."""
    for i, q in enumerate(quarters):
        if due < q.end:
            return i
    return None


@dataclass(slots=True)
class Amount:
    """Units by what they count (devices, seats, contracts) and estimated spend."""

    units: dict[str, int] = field(default_factory=dict)
    spend: Decimal = ZERO
    districts: int = 0  # how many districts are behind it (set from the query)

    def add(self, unit: str, quantity: int, spend: Decimal) -> None:
        self.units[unit] = self.units.get(unit, 0) + quantity
        self.spend += spend

    @property
    def total_units(self) -> int:
        return sum(self.units.values())

    @property
    def unit_text(self) -> str:
        """120 devices · 40 seats: units of different things are never added up."""
        parts = [
            f"{self.units[u]:,} {u if self.units[u] != 1 else u[:-1]}"
            for u in UNIT_NAMES
            if self.units.get(u)
        ]
        return " · ".join(parts) or "—"

    @property
    def empty(self) -> bool:
        return not self.total_units and not self.spend


@dataclass(frozen=True, slots=True)
class Fact:
    """One row of the aggregate query: a group's need of one kind in one quarter."""

    key: str  # the group's value as text ("" when the need has none)
    quarter: int
    kind: str
    overdue: bool
    quantity: int
    spend: Decimal


@dataclass(slots=True)
class Row:
    key: str
    label: str
    cells: list[Amount]
    total: Amount

    @property
    def sort_name(self) -> str:
        return self.label.casefold()


@dataclass(slots=True)
class Table:
    quarters: list[Quarter]
    rows: list[Row]
    columns: list[Amount]  # each quarter's total
    total: Amount
    overdue: Amount  # of the first quarter, what was already due before today

    @property
    def empty(self) -> bool:
        return not self.rows


SORTS = ("spend", "-spend", "units", "-units", "name", "-name")
DEFAULT_SORT = "-spend"


def build(
    quarters: Sequence[Quarter],
    facts: Iterable[Fact],
    labels: dict[str, str],
    *,
    districts: dict[tuple[str | None, int | None], int] | None = None,
    sort: str = DEFAULT_SORT,
) -> Table:
    """Fold the facts into rows (one per group) of one cell per quarter.

    `districts` maps (group key or None, quarter or None) to how many districts are
    behind that cell, row total (quarter None), column total (key None) or all."""
    n = len(quarters)
    by_key: dict[str, Row] = {}
    columns = [Amount() for _ in range(n)]
    total, overdue = Amount(), Amount()
    for f in facts:
        if not 0 <= f.quarter < n or f.kind not in UNIT_OF_KIND:
            continue
        unit = UNIT_OF_KIND[f.kind]
        row = by_key.get(f.key)
        if row is None:
            row = by_key[f.key] = Row(
                f.key, labels.get(f.key, f.key), [Amount() for _ in range(n)], Amount()
            )
        for amount in (row.cells[f.quarter], row.total, columns[f.quarter], total):
            amount.add(unit, f.quantity, f.spend)
        if f.overdue:
            overdue.add(unit, f.quantity, f.spend)
    counts = districts or {}
    for row in by_key.values():
        row.total.districts = counts.get((row.key, None), 0)
        for i, cell in enumerate(row.cells):
            cell.districts = counts.get((row.key, i), 0)
    for i, column in enumerate(columns):
        column.districts = counts.get((None, i), 0)
    total.districts = counts.get((None, None), 0)
    return Table(
        list(quarters), sort_rows(list(by_key.values()), sort), columns, total, overdue
    )


def sort_rows(rows: list[Row], sort: str) -> list[Row]:
    """Rows by spend, units or name; ties by name, so the order is stable."""
    descending = sort.startswith("-")
    field_name = sort.lstrip("-")
    rows = sorted(rows, key=lambda r: (r.sort_name, r.key))
    if field_name == "name":
        return list(reversed(rows)) if descending else rows
    if field_name == "units":
        return sorted(rows, key=lambda r: r.total.total_units, reverse=descending)
    return sorted(rows, key=lambda r: r.total.spend, reverse=descending)
