"""The multi-year forecast (docs/rules.md#the-multi-year-forecast). Pure: no database or Flask.

In: a district's refresh cohorts (devices that share every field the forecast reads),
the priced terms of its licenses and contracts, what is already ordered, and a
scenario's settings. Out: one line per thing that costs money in a fiscal year, the
refreshes a budget cap deferred, the shortfall left, and the E-Rate Category Two draw.
Every total is a sum of lines, so the lines agree with the totals to the cent in any
grouping.

Refresh repeats: a cohort refreshed in its due year comes back after the replacement's
lifespan (the scenario's for the category, else the district policy's, else the
replacement item's catalog default), or at the replacement's AUE date when that is known
and earlier, for as long as it falls inside the horizon.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lifecycle.budget.model import (
    KINDS,
    MAX_YEARS,
    ZERO,
    C2Cycle,
    Cohort,
    Committed,
    Deferral,
    Erate,
    ErateCycleUse,
    Forecast,
    Item,
    Lease,
    Line,
    Plan,
    Settings,
    Term,
)
from lifecycle.budget.rules import (
    add_months,
    erate_funding_year,
    lease_payment,
    right_sized_seats,
)
from lifecycle.money import CENT, growth_factor, to_cents

BASELINE = Settings()  # the empty settings: no scenario

# ---------------------------------------------------------------------------
# The forecast


@dataclass(slots=True, eq=False)
class _Buy:
    """One refresh purchase of a cohort (or part of one) in one cycle."""

    cohort: Cohort
    key: int  # the cohort's position, for a stable order
    cycle: int
    due: date
    quantity: int
    fy: int
    reason: str
    aue: date | None  # the date it may not be deferred past
    deferred_from: int | None = None
    origin: date | None = None  # the date it was due before any deferral
    unit: Decimal = ZERO  # unit price in fy, set when fy is priced


class _Run:
    def __init__(self, plan: Plan, settings: Settings) -> None:
        self.plan = plan
        self.settings = settings
        inflation = settings.inflation_pct
        self.inflation = plan.inflation_pct if inflation is None else inflation
        deferral = settings.max_deferral_months
        self.max_deferral = plan.max_deferral_months if deferral is None else deferral
        self.factors = {
            fy: growth_factor(self.inflation, max(0, fy - plan.current_fy))
            for fy in range(plan.current_fy, plan.last_fy + MAX_YEARS + 1)
        }
        # per cohort (by its position): the replacement's lifespan and item
        self.lives: dict[int, tuple[int | None, Item | None]] = {}

    # -- refresh

    def first_due(self, cohort: Cohort) -> tuple[date, str]:
        """The cohort's refresh date under the scenario's lifespan for its category."""
        scenario = self.settings.lifespans.get(cohort.category)
        if scenario is None or cohort.purchase_date is None or cohort.own_lifespan:
            return cohort.due, cohort.reason
        by_life = add_months(cohort.purchase_date, scenario)
        candidates = [(by_life, "lifespan")]
        if cohort.aue is not None:
            candidates.append((cohort.aue, "aue"))
        if cohort.eol is not None:
            candidates.append((cohort.eol, "eol"))
        return min(candidates, key=lambda c: c[0])

    def replacement_life(self, cohort: Cohort) -> int | None:
        item = self.plan.items.get(cohort.item_id) if cohort.item_id else None
        for months in (
            self.settings.lifespans.get(cohort.category),
            self.plan.policy_lifespans.get(cohort.category),
            item.lifespan_months if item else None,
            cohort.model_lifespan,
        ):
            if months:
                return months
        return None

    def next_buy(self, buy: _Buy) -> _Buy | None:
        """The cycle after `buy`, if it falls inside the horizon."""
        found = self.lives.get(buy.key)
        if found is None:
            cohort = buy.cohort
            item = self.plan.items.get(cohort.item_id) if cohort.item_id else None
            found = self.lives[buy.key] = (self.replacement_life(cohort), item)
        life, item = found
        if life is None:
            return None
        bought = max(buy.due, self.plan.today)
        due, reason = add_months(bought, life), "cycle"
        aue = item.aue if item and item.aue and item.aue > bought else None
        if aue is not None and aue < due:
            due, reason = aue, "aue"
        fy = self.plan.fy_of(due)
        if fy > self.plan.last_fy:
            return None
        return _Buy(
            buy.cohort, buy.key, buy.cycle + 1, due, buy.quantity, fy, reason, aue
        )

    def unit_prices(self, buys: Sequence[_Buy], fy: int) -> dict[int | None, Decimal]:
        """Planning prices of the year's items at the tier the district alone reaches."""
        counts: dict[int, int] = defaultdict(int)
        for buy in buys:
            if buy.cohort.item_id is not None:
                counts[buy.cohort.item_id] += buy.quantity
        prices: dict[int | None, Decimal] = {}
        for item_id, count in counts.items():
            item = self.plan.items.get(item_id)
            if item is not None:
                prices[item_id] = item.unit_price(count)
        return prices

    def unit_in(
        self, buy: _Buy, fy: int, prices: Mapping[int | None, Decimal]
    ) -> Decimal:
        base = prices.get(buy.cohort.item_id)
        if base is None:
            base = buy.cohort.unit_cost
        return to_cents(base * self.factors[fy])

    def lease_of(self, buy: _Buy) -> Lease | None:
        return self.settings.leases.get(buy.cohort.category)

    def first_amount(self, buy: _Buy, unit: Decimal, quantity: int) -> Decimal:
        """What `quantity` units of the buy cost in its own year (a first payment, leased)."""
        cost = unit * quantity
        lease = self.lease_of(buy)
        return (
            cost if lease is None else lease_payment(cost, lease.rate_pct, lease.years)
        )

    def refresh_lines(self, buy: _Buy) -> list[Line]:
        cohort = buy.cohort
        cost = buy.unit * buy.quantity
        item = self.plan.items.get(cohort.item_id) if cohort.item_id else None
        lease = self.lease_of(buy)
        first = self.day_of(buy)
        payments: list[tuple[int, Decimal, date, tuple[int, int] | None]]
        if lease is None:
            payments = [(buy.fy, cost, first, None)]
        else:
            payment = lease_payment(cost, lease.rate_pct, lease.years)
            payments = [
                (buy.fy + k, payment, add_months(first, 12 * k), (k + 1, lease.years))
                for k in range(lease.years)
                if buy.fy + k <= self.plan.last_fy
            ]
        return [
            Line(
                kind="refresh",
                fy=fy,
                amount=amount,
                day=day,
                category=cohort.category,
                school_id=cohort.school_id,
                funding_source=cohort.funding_source,
                label=cohort.label,
                ref=cohort.ref,
                quantity=buy.quantity,
                unit_price=buy.unit,
                reason=buy.reason,
                cycle=buy.cycle,
                deferred_from=buy.deferred_from,
                payment=paid,
                c2=bool(item and item.c2),
            )
            for fy, amount, day, paid in payments
        ]

    def day_of(self, buy: _Buy) -> date:
        return max(buy.due, self.plan.today)

    def defer_limit(self, buy: _Buy) -> date:
        """The last day a buy may move to: its AUE date, and the plan's deferral limit."""
        limit = add_months(buy.origin or self.day_of(buy), self.max_deferral)
        if buy.aue is not None:
            limit = min(limit, buy.aue)
        return limit


def _term_lines(run: _Run, terms: Iterable[Term]) -> list[Line]:
    plan, settings = run.plan, run.settings
    first_day = plan.first_day(plan.current_fy)
    lines = []
    for t in terms:
        if t.start < first_day:
            continue  # paid in an earlier fiscal year
        fy = plan.fy_of(t.start)  # its own year: no earlier than the current one
        if fy > plan.last_fy:
            continue
        amount, seats, unit = t.price, t.seats, None
        if t.kind == "license":
            per_seat = t.price_per_seat
            if (
                settings.headroom_pct is not None
                and not t.committed
                and t.seats_used is not None
                and per_seat is not None
            ):
                seats = right_sized_seats(t.seats_used, settings.headroom_pct)
                amount = seats * per_seat
            if not t.recorded:
                amount = to_cents(amount * run.factors[fy])
        lines.append(
            Line(
                kind=t.kind,
                fy=fy,
                amount=to_cents(amount),
                day=t.start,
                category=t.category,
                school_id=t.school_id,
                funding_source=t.funding_source,
                label=t.label,
                ref=f"{t.kind}:{t.subject_id}",
                quantity=seats or 1,
                unit_price=unit,
                committed=t.committed,
                term=t.number,
                c2=t.c2,
            )
        )
    return lines


def _committed_lines(plan: Plan, committed: Iterable[Committed]) -> list[Line]:
    lines = []
    for c in committed:
        fy = plan.fy_of(c.due)
        if fy > plan.last_fy:
            continue
        lines.append(
            Line(
                kind=c.kind,
                fy=fy,
                amount=to_cents(c.amount),
                day=max(c.due, plan.today),
                category=c.category,
                school_id=c.school_id,
                funding_source=c.funding_source,
                label=c.label,
                ref=c.ref,
                quantity=c.quantity,
                committed=True,
                c2=c.c2,
                reason="ordered",
            )
        )
    return lines


def forecast(
    plan: Plan,
    cohorts: Sequence[Cohort] = (),
    terms: Iterable[Term] = (),
    committed: Iterable[Committed] = (),
    settings: Settings = BASELINE,
) -> Forecast:
    """The forecast of one district over the plan's fiscal years (docs/rules.md#the-multi-year-forecast).

    Years are worked in order. A year's refreshes are priced at the tier the year's
    quantity of each item reaches, then, if the year's total is over its cap, refreshes
    move out latest-due first — as many devices as the excess needs, into the first
    later year with room for them, never past their AUE date or the plan's maximum
    deferral — and are priced again there. What stays is final, and its next cycle is
    scheduled. Whatever a cap could not move out is the year's shortfall.
    """
    run = _Run(plan, settings)
    fixed = _term_lines(run, terms) + _committed_lines(plan, committed)
    fixed_by_year: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in fixed:
        fixed_by_year[line.fy] += line.amount

    pending: dict[int, list[_Buy]] = defaultdict(list)
    for key, cohort in enumerate(cohorts):
        if cohort.quantity <= 0:
            continue
        due, reason = run.first_due(cohort)
        fy = plan.fy_of(due)
        if fy <= plan.last_fy:
            pending[fy].append(
                _Buy(cohort, key, 1, due, cohort.quantity, fy, reason, cohort.aue)
            )

    refresh: list[Line] = []
    carried: dict[int, Decimal] = defaultdict(lambda: ZERO)  # later lease payments
    # each with the part that moved: its amount is known once its new year is priced
    deferrals: list[tuple[Deferral, _Buy]] = []
    shortfall: dict[int, Decimal] = {}
    for fy in plan.fiscal_years:
        buys = pending.pop(fy, [])
        prices = run.unit_prices(buys, fy)
        for buy in buys:
            buy.unit = run.unit_in(buy, fy, prices)
        cap = settings.caps.get(fy)
        if cap is not None:
            buys = _fit_cap(
                run, fy, cap, buys, pending, fixed_by_year, carried, deferrals
            )
            total = (
                fixed_by_year[fy]
                + carried[fy]
                + sum((run.first_amount(b, b.unit, b.quantity) for b in buys), ZERO)
            )
            if total > cap:
                shortfall[fy] = total - cap
        for buy in sorted(buys, key=lambda b: (b.due, b.key)):
            lines = run.refresh_lines(buy)
            refresh.extend(lines)
            for line in lines[1:]:
                carried[line.fy] += line.amount
            after = run.next_buy(buy)
            if after is not None:
                pending[after.fy].append(after)

    order = {kind: k for k, kind in enumerate(KINDS)}
    lines = sorted(
        refresh + fixed, key=lambda ln: (ln.fy, order[ln.kind], ln.day, ln.ref)
    )
    erate_cycles: tuple[ErateCycleUse, ...] = ()
    if plan.erate is not None:
        lines, erate_cycles = _draw_erate(plan.erate, lines)
    moved = tuple(
        replace(d, amount=run.first_amount(part, part.unit, d.quantity))
        if part.unit
        else d
        for d, part in deferrals
    )
    return Forecast(plan, settings, tuple(lines), moved, shortfall, erate_cycles)


def _fit_cap(
    run: _Run,
    fy: int,
    cap: Decimal,
    buys: list[_Buy],
    pending: dict[int, list[_Buy]],
    fixed_by_year: Mapping[int, Decimal],
    carried: Mapping[int, Decimal],
    deferrals: list[tuple[Deferral, _Buy]],
) -> list[_Buy]:
    """Move refreshes out of fy, latest-due first, until its total fits its cap or
    nothing more can move; returns what stays.

    One pass: a refresh that cannot move now cannot move later in the pass either,
    since every move only fills the later years."""
    plan, settings = run.plan, run.settings
    total = fixed_by_year[fy] + carried[fy]
    total += sum((run.first_amount(b, b.unit, b.quantity) for b in buys), ZERO)
    if total <= cap:
        return buys
    later = range(fy + 1, plan.last_fy + 1)
    # what each later year holds so far: item counts (for its tiers) and, where it has
    # a cap, its estimated total (for its room)
    counts: dict[int, dict[int | None, int]] = {}
    held: dict[int, Decimal] = {}
    for year in later:
        counts[year] = defaultdict(int)
        for b in pending.get(year, []):
            counts[year][b.cohort.item_id] += b.quantity
        if year in settings.caps:
            prices = run.unit_prices(pending.get(year, []), year)
            held[year] = (
                fixed_by_year[year]
                + carried[year]
                + sum(
                    (
                        run.first_amount(b, run.unit_in(b, year, prices), b.quantity)
                        for b in pending.get(year, [])
                    ),
                    ZERO,
                )
            )
    for buy in sorted(buys, key=lambda b: (b.due, b.key), reverse=True):
        if total <= cap:
            break
        excess = total - cap
        limit = run.defer_limit(buy)
        per_unit_here = run.first_amount(buy, buy.unit, 1)
        moved = None
        for year in later:
            start = plan.first_day(year)
            if start > limit:
                break
            want = min(buy.quantity, _units_for(excess, per_unit_here))
            unit_there = _unit_at(run, buy, year, counts[year], want)
            if year in held:
                room = settings.caps[year] - held[year]
                # fewer units may reach a lower tier: shrink until the price holds
                while want > 0:
                    per_unit_there = run.first_amount(buy, unit_there, 1)
                    fits = int(room // per_unit_there) if per_unit_there > 0 else want
                    if fits >= want:
                        break
                    want = max(fits, 0)
                    unit_there = _unit_at(run, buy, year, counts[year], want)
            if want > 0:
                moved = (year, start, want, unit_there)
                break
        if moved is None:
            continue
        year, start, quantity, unit_there = moved
        part = _Buy(
            buy.cohort, buy.key, buy.cycle, start, quantity, year, buy.reason, buy.aue,
            deferred_from=buy.deferred_from or fy, origin=buy.origin or run.day_of(buy),
        )  # fmt: skip
        pending[year].append(part)
        counts[year][buy.cohort.item_id] += quantity
        there = run.first_amount(part, unit_there, quantity)
        if year in held:
            held[year] += there
        deferrals.append(
            (
                Deferral(
                    label=buy.cohort.label,
                    ref=buy.cohort.ref,
                    category=buy.cohort.category,
                    quantity=quantity,
                    from_fy=fy,
                    to_fy=year,
                    amount=there,
                ),
                part,
            )
        )
        before = run.first_amount(buy, buy.unit, buy.quantity)
        buy.quantity -= quantity
        total -= before - run.first_amount(buy, buy.unit, buy.quantity)
    return [b for b in buys if b.quantity > 0]


def _unit_at(
    run: _Run, buy: _Buy, year: int, counts: Mapping[int | None, int], quantity: int
) -> Decimal:
    """The unit price `quantity` more units of buy's item would have in `year`."""
    item = run.plan.items.get(buy.cohort.item_id) if buy.cohort.item_id else None
    if item is None:
        base = buy.cohort.unit_cost
    else:
        base = item.unit_price(counts.get(buy.cohort.item_id, 0) + quantity)
    return to_cents(base * run.factors[year])


def _units_for(excess: Decimal, per_unit: Decimal) -> int:
    """How many units of per_unit it takes to cover excess."""
    if per_unit <= 0:
        return 0
    return math.ceil(excess / per_unit)


def _draw_erate(
    erate: Erate, lines: list[Line]
) -> tuple[list[Line], tuple[ErateCycleUse, ...]]:
    """Eligible lines draw on their cycle's pre-discount budget in date order; of what
    the budget covers E-Rate pays the discount %, the district the rest and the excess."""
    pct = Decimal(erate.discount_pct) / 100
    uses: dict[str, ErateCycleUse] = {}
    left: dict[str, Decimal] = {}
    shares: dict[int, Decimal] = {}
    order = sorted(
        (i for i, line in enumerate(lines) if line.c2 and line.amount > 0),
        key=lambda i: (lines[i].day, i),
    )
    for i in order:
        line = lines[i]
        found = erate.cycle_of(erate_funding_year(line.day))
        if found is None:
            continue
        cycle, assumed = found
        if cycle.name not in uses:
            budget = cycle.budget(erate.enrollment)
            uses[cycle.name] = ErateCycleUse(
                cycle.name, budget, ZERO, assumed,
                cycle.first_funding_year, cycle.last_funding_year,
            )  # fmt: skip
            left[cycle.name] = budget
        covered = min(line.amount, left[cycle.name])
        if covered <= 0:
            continue
        left[cycle.name] -= covered
        use = uses[cycle.name]
        uses[cycle.name] = replace(use, used=use.used + covered)
        shares[i] = (covered * pct).quantize(CENT, rounding=ROUND_HALF_UP)
    drawn = [
        replace(line, erate=shares[i]) if i in shares else line
        for i, line in enumerate(lines)
    ]
    return drawn, tuple(sorted(uses.values(), key=lambda u: u.first_funding_year))


@dataclass(slots=True, eq=False)
class _Sum:
    """Refresh lines being added up into one (condensed)."""

    first: Line
    amount: Decimal
    quantity: int
    erate: Decimal
    count: int = 1

    def line(self) -> Line:
        if self.count == 1:
            return self.first
        return replace(
            self.first,
            amount=self.amount,
            quantity=self.quantity,
            erate=self.erate,
            day=self.first.day.replace(day=1),
            unit_price=None,
        )


def condensed(lines: Iterable[Line]) -> list[Line]:
    """Refresh lines added up by what every page groups them by — kind, fiscal year,
    category, school, funding source, reason, month, first or later cycle, deferral,
    lease payment, committed, E-Rate eligibility — so a cooperative's forecast need not
    hold one line per cohort and cycle of every district; agreement lines unchanged.

    Every total the pages, the drill-down and the API show is the same to the cent: a
    sum over condensed lines is the sum over the lines they replace."""
    out: list[Line | _Sum] = []
    sums: dict[tuple[object, ...], _Sum] = {}
    for line in lines:
        if line.kind != "refresh":
            out.append(line)
            continue
        day = line.day
        key = (
            line.fy, line.category, line.school_id, line.funding_source, line.reason,
            day.year, day.month, line.cycle > 1, line.deferred_from, line.payment,
            line.committed, line.c2,
        )  # fmt: skip
        found = sums.get(key)
        if found is None:
            found = sums[key] = _Sum(line, line.amount, line.quantity, line.erate)
            out.append(found)
        else:
            found.amount += line.amount
            found.quantity += line.quantity
            found.erate += line.erate
            found.count += 1
    return [entry if isinstance(entry, Line) else entry.line() for entry in out]


def merged(forecasts: Sequence[Forecast], plan: Plan, settings: Settings) -> Forecast:
    """Several districts' forecasts as one (the cooperative's)."""
    return Forecast(
        plan,
        settings,
        tuple(line for f in forecasts for line in f.lines),
        tuple(d for f in forecasts for d in f.deferrals),
        {
            fy: sum((f.shortfall.get(fy, ZERO) for f in forecasts), ZERO)
            for fy in plan.fiscal_years
            if any(fy in f.shortfall for f in forecasts)
        },
        (),
    )


__all__ = [
    "KINDS", "MAX_YEARS", "C2Cycle", "Cohort", "Committed", "Deferral", "Erate",
    "ErateCycleUse", "Forecast", "Item", "Lease", "Line", "Plan", "Settings", "Term",
    "add_months", "condensed", "erate_funding_year", "forecast", "lease_payment", "merged",
    "right_sized_seats",
]  # fmt: skip
