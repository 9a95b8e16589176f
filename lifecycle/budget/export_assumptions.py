"""The board workbook's Assumptions sheet: what the forecast was computed from, and
which naming each year uses. Pure: no database or Flask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from openpyxl.styles import Font

from lifecycle.budget.fiscal import fiscal_year_bounds
from lifecycle.budget.forecast import C2Cycle, Plan, erate_funding_year
from lifecycle.budget.xlsx import (
    DAY_FORMAT,
    FY_FORMAT,
    MONEY,
    PCT_FORMAT,
    Sheet,
    long_date,
)
from lifecycle.enums import category_label

if TYPE_CHECKING:
    from lifecycle.budget.services import Run

Runs = Sequence[tuple[str, "Run"]]
SETTINGS = (
    ("Inflation (% a year)", "compounded once per whole fiscal year ahead"),
    (
        "Maximum deferral (months)",
        "a cap never defers a refresh further, nor past its AUE date",
    ),
    (
        "License right-sizing headroom",
        "renew seats used × (1 + headroom), rounded up; off renews every seat",
    ),
)


def write_assumptions(sheet: Sheet, runs: Runs, *, district_name: str) -> None:
    """Runs: (scenario label, run), the baseline first."""
    sheet.widths([40] + [18] * 8)
    sheet.put(1, 1, "Assumptions", bold=True).font = Font(bold=True, size=14)
    row = _forecast(sheet, runs[0][1].forecast.plan, district_name, 3)
    row = _settings(sheet, runs, row + 1)
    row = _lifespans(sheet, runs, row + 1)
    row = _leases_and_caps(sheet, runs, row + 1)
    row = _items(sheet, runs[0][1].forecast.plan, row + 1)
    _erate(sheet, runs, row + 1)


def _heading(sheet: Sheet, row: int, text: str) -> int:
    sheet.put(row, 1, text).font = Font(bold=True, size=12)
    return row + 1


def _forecast(sheet: Sheet, plan: Plan, district_name: str, row: int) -> int:
    row = _heading(sheet, row, "The forecast")
    first, last = fiscal_year_bounds(plan.current_fy, plan.start_month)
    funding = erate_funding_year(plan.today)
    sheet.row(row, ("District", district_name))
    sheet.row(
        row + 1,
        ("Computed for", None, "the inventory, agreements and orders of this day"),
    )
    sheet.put(row + 1, 2, plan.today, DAY_FORMAT)
    sheet.row(
        row + 2,
        (
            "Fiscal years",
            f"FY{plan.current_fy}–FY{plan.last_fy}",
            f"{plan.years} fiscal years, each named by the calendar year in which it "
            f"ends: FY{plan.current_fy} is {long_date(first)} – {long_date(last)}. Every "
            "FY on these sheets is a fiscal year of the district.",
        ),
    )
    sheet.row(
        row + 3,
        (
            "E-Rate funding years",
            "named by the year they start",
            f"1 Jul – 30 Jun, named by the calendar year in which they start: funding "
            f"year {funding} is 1 Jul {funding} – 30 Jun {funding + 1}. Only the "
            "E-Rate cycles below use this naming.",
        ),
    )
    sheet.row(
        row + 4,
        (
            "Money",
            "US dollars",
            "each line's amount is rounded half-up to the cent once; every total is a "
            "sum of lines",
        ),
    )
    return row + 5


def _settings(sheet: Sheet, runs: Runs, row: int) -> int:
    row = _heading(sheet, row, "Settings")
    sheet.row(row, ["Setting", *(label for label, _ in runs), "Note"], bold=True)
    note = 2 + len(runs)
    for offset, (name, why) in enumerate(SETTINGS, 1):
        sheet.row(row + offset, (name,))
        sheet.put(row + offset, note, why)
    for column, (_, run) in enumerate(runs, 2):
        plan, settings = run.forecast.plan, run.forecast.settings
        inflation = settings.inflation_pct
        deferral = settings.max_deferral_months
        inflation = plan.inflation_pct if inflation is None else inflation
        deferral = plan.max_deferral_months if deferral is None else deferral
        sheet.put(row + 1, column, inflation, PCT_FORMAT)
        sheet.put(row + 2, column, deferral)
        if settings.headroom_pct is None:
            sheet.put(row + 3, column, "off")
        else:
            sheet.put(row + 3, column, settings.headroom_pct, PCT_FORMAT)
    return row + 4


def _lifespans(sheet: Sheet, runs: Runs, row: int) -> int:
    row = _heading(sheet, row, "Lifespans (months)")
    plan = runs[0][1].forecast.plan
    policy = plan.policy_lifespans
    others = runs[1:]
    categories = sorted(
        set(policy).union(*(run.forecast.settings.lifespans for _, run in runs)),
        key=category_label,
    )
    note = (
        "A device's own lifespan wins over these; without either, the replacement "
        "item's catalog lifespan applies."
    )
    if not categories:
        sheet.put(row, 1, "None set by the district's policy or a scenario. " + note)
        return row + 1
    sheet.row(
        row, ["Category", "District policy", *(label for label, _ in others)], bold=True
    )
    for category in categories:
        row += 1
        sheet.row(row, (category_label(category), policy.get(category, "—")))
        for column, (_, run) in enumerate(others, 3):
            own = run.forecast.settings.lifespans.get(category)
            sheet.put(row, column, "as policy" if own is None else own)
    sheet.put(row + 1, 1, note)
    return row + 2


def _leases_and_caps(sheet: Sheet, runs: Runs, row: int) -> int:
    row = _heading(sheet, row, "Leases instead of buying")
    leases = [
        (label, category, lease)
        for label, run in runs
        for category, lease in sorted(run.forecast.settings.leases.items())
    ]
    if not leases:
        sheet.put(row, 1, "None: every refresh is bought outright.")
        row += 1
    else:
        sheet.row(row, ("Scenario", "Category", "Years", "Rate (% a year)"), bold=True)
        for label, category, lease in leases:
            row += 1
            sheet.row(row, (label, category_label(category), lease.years))
            sheet.put(row, 4, lease.rate_pct, PCT_FORMAT)
        row += 1
        sheet.put(
            row,
            1,
            "Equal annual payments P·r / (1 − (1 + r)^−N), the first in the refresh's fiscal year.",
        )
        row += 1
    row = _heading(sheet, row + 1, "Budget caps")
    caps = [
        (label, fy, cap)
        for label, run in runs
        for fy, cap in sorted(run.forecast.settings.caps.items())
    ]
    if not caps:
        sheet.put(row, 1, "None.")
        return row + 1
    sheet.row(row, ("Scenario", "Fiscal year", "Cap"), bold=True)
    for label, fy, cap in caps:
        row += 1
        sheet.put(row, 1, label)
        sheet.put(row, 2, fy, FY_FORMAT)
        sheet.put(row, 3, cap, MONEY)
    return row + 1


def _items(sheet: Sheet, plan: Plan, row: int) -> int:
    row = _heading(sheet, row, "Catalog items priced")
    if not plan.items:
        sheet.put(row, 1, "None: refreshes are priced at the devices' purchase cost.")
        return row + 1
    headers = (
        "Item", "List price", "Tier from quantity", "Tier unit price",
        "Lifespan (months)", "AUE date", "E-Rate Category Two",
    )  # fmt: skip
    sheet.row(row, headers, bold=True)
    for item in sorted(plan.items.values(), key=lambda i: (i.name, i.id)):
        row += 1
        sheet.put(row, 1, item.name)
        sheet.put(row, 2, item.list_price, MONEY)
        if item.lifespan_months:
            sheet.put(row, 5, item.lifespan_months)
        if item.aue is not None:
            sheet.put(row, 6, item.aue, DAY_FORMAT)
        sheet.put(row, 7, "eligible" if item.c2 else "no")
        for index, (quantity, price) in enumerate(item.tiers):
            if index:
                row += 1
            sheet.put(row, 3, quantity)
            sheet.put(row, 4, price, MONEY)
    sheet.put(
        row + 1,
        1,
        "Today's prices: a later fiscal year's are inflated (Settings), at the tier the "
        "district's own quantity of the item reaches in that year.",
    )
    return row + 2


def _cycles(plan: Plan) -> list[tuple[C2Cycle, bool]]:
    """The Category Two cycles of the horizon's E-Rate funding years, and whether each
    is an assumption (past the last published cycle)."""
    if plan.erate is None:
        return []
    end = fiscal_year_bounds(plan.last_fy, plan.start_month)[1]
    found: dict[str, tuple[C2Cycle, bool]] = {}
    start = plan.first_day(plan.current_fy)
    for year in range(erate_funding_year(start), erate_funding_year(end) + 1):
        cycle = plan.erate.cycle_of(year)
        if cycle is not None:
            found.setdefault(cycle[0].name, cycle)
    return list(found.values())


def _erate(sheet: Sheet, runs: Runs, row: int) -> int:
    row = _heading(sheet, row, "E-Rate Category Two")
    plan = runs[0][1].forecast.plan
    if plan.erate is None:
        sheet.put(row, 1, "No E-Rate parameters: the forecast counts no E-Rate share.")
        return row + 1
    erate = plan.erate
    sheet.row(row, ("Enrollment (students)", erate.enrollment))
    sheet.row(row + 1, ("Category Two discount",))
    sheet.put(row + 1, 2, erate.discount_pct, PCT_FORMAT)
    row += 3
    headers = [
        "Cycle (E-Rate funding years)", "Per student", "Floor",
        "Budget (before the discount)",
        *(f"Drawn: {label}" for label, _ in runs), "Figures", "Source",
    ]  # fmt: skip
    sheet.row(row, headers, bold=True)
    drawn = [
        {use.name: use.used for use in run.forecast.erate_cycles} for _, run in runs
    ]
    for cycle, assumed in _cycles(plan):
        row += 1
        years = f"funding years {cycle.first_funding_year}–{cycle.last_funding_year}"
        sheet.put(row, 1, years)
        sheet.put(row, 2, cycle.multiplier, MONEY)
        sheet.put(row, 3, cycle.floor, MONEY)
        sheet.put(row, 4, cycle.budget(erate.enrollment), MONEY)
        for column, used in enumerate(drawn, 5):
            sheet.put(row, column, used.get(cycle.name, 0), MONEY)
        figures = "assumed: the last published cycle's" if assumed else "published"
        sheet.put(row, 5 + len(runs), figures)
        sheet.put(row, 6 + len(runs), cycle.source)
    sheet.put(
        row + 1,
        1,
        "Budget = max(per student × enrollment, floor) for the five funding years, "
        "before the discount. Eligible lines draw on it in date order; E-Rate pays the "
        "discount of what it covers, the district the rest and anything beyond it.",
    )
    return row + 2
