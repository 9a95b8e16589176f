"""What the multi-year forecast works on and what it gives
(docs/rules.md#the-multi-year-forecast). Pure: no database or Flask.

In: a district's plan (fiscal years, inflation, catalog items, E-Rate), its refresh
cohorts, its agreements' priced terms, what is already ordered, and a scenario's
settings. Out: lines, deferrals, the shortfall and the E-Rate draw, as a Forecast;
the rules that make them are in budget/forecast.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from lifecycle.budget.fiscal import fiscal_year, fiscal_year_bounds
from lifecycle.money import to_cents

KINDS = ("refresh", "license", "contract")
MAX_YEARS = 15
ZERO = Decimal("0.00")


# ---------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Item:
    """A catalog item as the forecast prices it: list price and volume tiers."""

    id: int
    name: str
    list_price: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()  # (min_qty, unit price)
    lifespan_months: int | None = None
    aue: date | None = None  # the model's AUE date, where known
    c2: bool = False

    def unit_price(self, quantity: int) -> Decimal:
        """The price of one unit when `quantity` are bought: the highest tier reached,
        else the list price."""
        reached = [tier for tier in self.tiers if tier[0] <= quantity]
        return max(reached)[1] if reached else self.list_price


@dataclass(frozen=True, slots=True)
class Cohort:
    """Devices of one district that share everything the forecast reads of them."""

    category: str
    quantity: int
    due: date  # the stored refresh date (docs/rules.md#device-refresh)
    item_id: int | None = None  # the replacement item: the policy's, else the model
    unit_cost: Decimal = ZERO  # one device's purchase cost (the price without an item)
    school_id: int | None = None
    funding_source: str = ""
    purchase_date: date | None = None
    aue: date | None = None
    eol: date | None = None
    own_lifespan: int | None = None  # the device's own override
    model_lifespan: int | None = None  # its catalog item's default
    reason: str = "lifespan"  # why `due`: aue, eol or lifespan
    label: str = ""
    ref: str = ""  # how the pages find the devices again


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a license or contract, priced (agreements/sql.term_lines)."""

    kind: str  # license | contract
    subject_id: int
    number: int
    start: date
    price: Decimal
    committed: bool  # the district is bound to it already
    recorded: bool = False  # priced on record (today's term, or renewed ahead)
    seats: int | None = None
    seats_used: int | None = None
    price_per_seat: Decimal | None = None
    category: str = ""
    school_id: int | None = None
    funding_source: str = ""
    c2: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class Committed:
    """Money already ordered (a refresh or renewal bought through a round): spent, so
    shown as committed and never counted again as a need."""

    kind: str
    due: date
    amount: Decimal
    quantity: int = 1
    category: str = ""
    school_id: int | None = None
    funding_source: str = ""
    c2: bool = False
    label: str = ""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Lease:
    """Pay a refresh in `years` equal annual payments at `rate_pct` a year."""

    years: int
    rate_pct: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Settings:
    """A scenario's changes to the baseline; the empty settings are the baseline."""

    lifespans: Mapping[str, int] = field(default_factory=dict)  # category → months
    inflation_pct: Decimal | None = None  # None: the district's
    headroom_pct: Decimal | None = None  # license right-sizing; None: off
    leases: Mapping[str, Lease] = field(default_factory=dict)  # category → lease
    caps: Mapping[int, Decimal] = field(default_factory=dict)  # FY → cap
    max_deferral_months: int | None = None  # None: the district's


@dataclass(frozen=True, slots=True)
class C2Cycle:
    """A Category Two budget cycle, its funding years named by the year they start."""

    name: str
    first_funding_year: int
    last_funding_year: int
    multiplier: Decimal
    floor: Decimal
    source: str = ""

    def budget(self, enrollment: int) -> Decimal:
        """The five-year pre-discount budget: max(multiplier × students, floor)."""
        return max(to_cents(self.multiplier * enrollment), self.floor)


@dataclass(frozen=True, slots=True)
class Erate:
    enrollment: int
    discount_pct: Decimal
    cycles: tuple[C2Cycle, ...]

    def cycle_of(self, funding_year: int) -> tuple[C2Cycle, bool] | None:
        """The cycle of a funding year, and whether it is extrapolated (past the last
        published cycle, the last one's figures are the planning assumption)."""
        for cycle in self.cycles:
            if cycle.first_funding_year <= funding_year <= cycle.last_funding_year:
                return cycle, False
        if not self.cycles:
            return None
        last = max(self.cycles, key=lambda c: c.last_funding_year)
        if funding_year <= last.last_funding_year:
            return None  # before every published cycle
        length = last.last_funding_year - last.first_funding_year + 1
        k = (funding_year - last.first_funding_year) // length
        first = last.first_funding_year + k * length
        name = f"funding years {first}–{first + length - 1} (assumed)"
        return replace(
            last,
            name=name,
            first_funding_year=first,
            last_funding_year=first + length - 1,
        ), True


@dataclass(frozen=True, slots=True)
class Plan:
    """Who the forecast is for and from when."""

    today: date
    start_month: int = 7
    years: int = 7
    inflation_pct: Decimal = Decimal("3.00")
    max_deferral_months: int = 12
    policy_lifespans: Mapping[str, int] = field(default_factory=dict)
    items: Mapping[int, Item] = field(default_factory=dict)
    erate: Erate | None = None
    # computed once (read for every line): the current and the last fiscal year
    current_fy: int = field(init=False)
    last_fy: int = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.years <= MAX_YEARS:
            raise ValueError(f"years must be 1–{MAX_YEARS}, got {self.years}")
        current = fiscal_year(self.today, self.start_month)
        object.__setattr__(self, "current_fy", current)
        object.__setattr__(self, "last_fy", current + self.years - 1)

    @property
    def fiscal_years(self) -> list[int]:
        return [self.current_fy + k for k in range(self.years)]

    def fy_of(self, day: date) -> int:
        """The FY a cost falls in: its date's, or the current one when overdue."""
        if day < self.today:
            return self.current_fy
        # fiscal_year(day, start_month), inline: read for every line (start_month was
        # checked when the plan was made)
        start = self.start_month
        return day.year + 1 if start > 1 and day.month >= start else day.year

    def first_day(self, fy: int) -> date:
        return fiscal_year_bounds(fy, self.start_month)[0]


# ---------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True)
class Line:
    """One amount in one fiscal year: the unit the totals, exports and drill-down share."""

    kind: str  # refresh | license | contract
    fy: int
    amount: Decimal
    day: date
    category: str
    school_id: int | None
    funding_source: str
    label: str
    ref: str  # cohort:<key> | license:<id> | contract:<id>
    quantity: int = 1
    unit_price: Decimal | None = None
    committed: bool = False
    reason: str = ""  # refresh: aue | eol | lifespan | cycle
    cycle: int = 0  # refresh: 1 for the stored refresh date, 2… repeats
    term: int | None = None  # agreements: the term number
    deferred_from: int | None = None  # refresh: the FY a cap moved it out of
    payment: tuple[int, int] | None = None  # lease: payment k of n
    c2: bool = False
    erate: Decimal = ZERO  # E-Rate's share of the amount

    @property
    def net(self) -> Decimal:
        return self.amount - self.erate


@dataclass(frozen=True, slots=True)
class Deferral:
    label: str
    ref: str
    category: str
    quantity: int
    from_fy: int
    to_fy: int
    amount: Decimal  # what it costs in the year it moved to (its first payment, leased)


@dataclass(frozen=True, slots=True)
class ErateCycleUse:
    name: str
    budget: Decimal
    used: Decimal  # pre-discount, drawn by the forecast's eligible lines
    assumed: bool  # figures extrapolated from the last published cycle
    first_funding_year: int = 0
    last_funding_year: int = 0

    @property
    def left(self) -> Decimal:
        return self.budget - self.used


@dataclass(frozen=True, slots=True)
class Forecast:
    plan: Plan
    settings: Settings
    lines: tuple[Line, ...]
    deferrals: tuple[Deferral, ...] = ()
    shortfall: Mapping[int, Decimal] = field(default_factory=dict)
    erate_cycles: tuple[ErateCycleUse, ...] = ()

    @property
    def fiscal_years(self) -> list[int]:
        return self.plan.fiscal_years

    def total(self, **match: object) -> Decimal:
        return sum((line.amount for line in self.lines if _matches(line, match)), ZERO)

    def totals(self, *by: str) -> dict[tuple[object, ...], Decimal]:
        """Sums of lines grouped by Line attributes, e.g. totals("fy", "kind")."""
        sums: dict[tuple[object, ...], Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            sums[tuple(getattr(line, name) for name in by)] += line.amount
        return dict(sums)

    def by_year(self) -> dict[int, Decimal]:
        sums = {fy: ZERO for fy in self.fiscal_years}
        for line in self.lines:  # merged districts may name one more year
            sums[line.fy] = sums.get(line.fy, ZERO) + line.amount
        return sums

    @property
    def erate_share(self) -> Decimal:
        return sum((line.erate for line in self.lines), ZERO)


def _matches(line: Line, match: Mapping[str, object]) -> bool:
    return all(getattr(line, name) == value for name, value in match.items())
