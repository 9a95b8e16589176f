"""The budget exports, read back the way a spreadsheet would read them.

openpyxl calculates no formula, so `evaluate` below does what Excel does with the few
formulas the workbook writes (SUMIFS, SUM, SUBTOTAL, a difference): every figure on
Summary must come out of the Lines sheet equal to the forecast's own totals, to the
cent. Today is 2 Dec 2026 with July fiscal years: FY2027 is the current year.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import Decimal as D
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from lifecycle.budget.export_lines import BASELINE, HEADERS, KIND_LABELS
from lifecycle.budget.exports import lines_csv, workbook
from lifecycle.budget.forecast import (
    KINDS,
    C2Cycle,
    Cohort,
    Committed,
    Erate,
    Forecast,
    Item,
    Lease,
    Plan,
    Settings,
    Term,
    forecast,
)
from lifecycle.budget.inputs import Inputs
from lifecycle.budget.services import Run

TODAY = date(2026, 12, 2)
SOURCE = "FCC public notice of 2025-06-04 (test copy)"
CYCLE = C2Cycle("FY2026–FY2030", 2026, 2030, D("201.57"), D("30175.00"), SOURCE)
CHROMEBOOK = Item(
    1, "Chromebook 3110", D("300.00"), ((1, D("300.00")), (100, D("280.00"))), 48
)
SWITCH = Item(2, "48-port switch", D("2000.00"), (), 84, c2=True)
PLAN = Plan(
    today=TODAY,
    items={1: CHROMEBOOK, 2: SWITCH},
    policy_lifespans={"chromebook": 48},
    erate=Erate(100, D("80"), (CYCLE,)),
)
SCHOOLS = {1: "Lincoln Elementary"}
COHORTS = [
    Cohort("chromebook", 100, date(2027, 3, 1), 1, school_id=1, ref="early",
           label="100 Chromebooks", funding_source="Title I"),
    Cohort("chromebook", 50, date(2027, 5, 1), 1, ref="late",
           label="=HYPERLINK(\"http://evil\",\"click\")", funding_source="+cmd|calc"),
    Cohort("network_switch", 20, date(2027, 8, 1), 2, ref="switches",
           label="20 switches"),
]  # fmt: skip
TERMS = [
    Term("license", 3, 2, date(2027, 7, 1), D("2250.00"), False, seats=500,
         seats_used=400, price_per_seat=D("4.50"), category="license",
         label="@SUM(1+1) reading app"),
    Term("contract", 7, 2, date(2027, 9, 1), D("1000.00"), True, c2=True,
         category="network_switch", label="Switch support"),
]  # fmt: skip
COMMITTED = [
    Committed("refresh", date(2027, 2, 1), D("5000.00"), 10, "laptop", ref="ordered",
              label="-10 laptops on order"),
]  # fmt: skip
BASELINE_SETTINGS = Settings()
SCENARIO = Settings(
    lifespans={"chromebook": 60},
    inflation_pct=D("5.00"),
    headroom_pct=D("10"),
    leases={"network_switch": Lease(3, D("4"))},
    caps={2027: D("20000.00"), 2028: D("30000.00")},
)


def run(settings: Settings = BASELINE_SETTINGS) -> Run:
    f = forecast(PLAN, COHORTS, TERMS, COMMITTED, settings)
    return Run(f, Inputs(PLAN, COHORTS, TERMS, COMMITTED, SCHOOLS), None)


def book(baseline: Run, scenario: Run | None = None, name: str | None = None) -> bytes:
    return workbook(
        baseline,
        scenario,
        title="Technology budget FY2027–FY2033",
        scenario_name=name,
        district_name="Lake Valley ISD",
    )


def load(data: bytes, *, cached: bool = False) -> Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), data_only=cached)


# --- a spreadsheet's arithmetic, for the formulas the workbook writes ----------

REF = re.compile(r"(?:(\w+)!)?\$?([A-Z]+)\$?(\d+)")


def cells(wb: Workbook, sheet: str, ref: str) -> list[tuple[str, str]]:
    """(sheet, coordinate) of every cell of a reference or range."""
    first, _, last = ref.partition(":")
    m1 = REF.fullmatch(first)
    assert m1, ref
    name = m1.group(1) or sheet
    m2 = REF.fullmatch(last) if last else m1
    assert m2
    rows = wb[name][f"{m1.group(2)}{m1.group(3)}:{m2.group(2)}{m2.group(3)}"]
    if not isinstance(rows, tuple):
        rows = ((rows,),)
    return [(name, c.coordinate) for row in rows for c in row]  # type: ignore[union-attr]


def value(wb: Workbook, sheet: str, coordinate: str) -> Any:
    cell = wb[sheet][coordinate]
    if cell.data_type == "f":
        return evaluate(wb, sheet, str(cell.value))
    return cell.value


def money(wb: Workbook, sheet: str, coordinate: str) -> D:
    v = value(wb, sheet, coordinate)
    return D(0) if v is None else D(str(v))


def matches(cell: Any, criterion: Any) -> bool:
    """Excel's criteria, as far as the workbook uses them: "=text" is equality
    without case (~ escaping a wildcard), a number equality."""
    if isinstance(criterion, str) and criterion.startswith("="):
        text = re.sub(r"~(.)", r"\1", criterion[1:])
        return isinstance(cell, str) and cell.casefold() == text.casefold()
    if isinstance(criterion, str):
        assert not set(criterion) & set("*?~<>="), criterion
        return isinstance(cell, str) and cell.casefold() == criterion.casefold()
    return isinstance(cell, int | float) and cell == criterion


def evaluate(wb: Workbook, sheet: str, formula: str) -> D:
    body = formula.removeprefix("=")
    if m := re.fullmatch(r"SUMIFS\((.*)\)", body):
        args = next(csv.reader([m.group(1)]))  # a quoted literal may hold commas
        total, *pairs = args
        criteria = []
        for where, what in zip(pairs[::2], pairs[1::2], strict=True):
            wanted = what if what.startswith("=") else value(wb, sheet, what)
            criteria.append((cells(wb, sheet, where), wanted))
        found = D(0)
        for index, (name, coordinate) in enumerate(cells(wb, sheet, total)):
            if all(
                matches(value(wb, *where[index]), wanted) for where, wanted in criteria
            ):
                found += money(wb, name, coordinate)
        return found
    if m := re.fullmatch(r"(?:SUM|SUBTOTAL\(9,)\(?([^)]*)\)", body):
        return sum((money(wb, *c) for c in cells(wb, sheet, m.group(1))), D(0))
    if m := re.fullmatch(r"([A-Z]+\d+)-([A-Z]+\d+)", body):
        return money(wb, sheet, m.group(1)) - money(wb, sheet, m.group(2))
    raise AssertionError(f"a formula the test cannot read: {formula}")


Table = dict[str, dict[int | str, str]]


def summary_blocks(wb: Workbook) -> dict[str, Table]:
    """Summary's tables: block label → row label → FY (or "Total") → coordinate."""
    ws = wb["Summary"]
    blocks: dict[str, Table] = {}
    years: dict[int | str, str] = {}
    current: Table | None = None
    for row in ws.iter_rows(min_row=1):
        label = row[0].value
        if "Total" in [c.value for c in row[1:]]:  # a header: FY2027 … Total
            years = {c.value: c.column_letter for c in row[1:] if c.value is not None}
            current = blocks[str(label)] = {}
        elif label is None:
            current = None
        elif current is not None:
            current[str(label)] = {
                fy: f"{col}{row[0].row}" for fy, col in years.items()
            }
    return blocks


# --- the workbook ----------------------------------------------------------------


def test_the_workbook_has_its_four_sheets_and_says_who_made_it() -> None:
    wb = load(book(run(), run(SCENARIO), "Caps"))
    assert wb.sheetnames == ["Summary", "Lines", "Deferred", "Assumptions"]
    assert wb.properties.title == "Technology budget FY2027–FY2033"
    assert wb.properties.creator == "Lifecycle"
    lines = wb["Lines"]
    assert lines.freeze_panes == "A2"
    assert [c.value for c in lines[1]] == list(HEADERS)
    assert lines.auto_filter.ref == f"A1:Q{lines.max_row - 1}"


@pytest.mark.parametrize(
    "name", ["Caps", "*", "Baseline", '<5 "years", ok?', "=1+1"]
)  # names that would be SUMIFS wildcards, operators or the baseline's own label
def test_summary_sums_the_lines_to_the_forecast_totals(name: str) -> None:
    baseline, scenario = run(), run(SCENARIO)
    wb = load(book(baseline, scenario, name))
    blocks = summary_blocks(wb)
    labels = [BASELINE, "Baseline (scenario)" if name == "Baseline" else name]
    assert list(blocks)[:2] == labels
    for label, r in zip(labels, (baseline, scenario), strict=True):
        f = r.forecast
        totals = f.totals("fy", "kind")
        rows = blocks[label]
        for fy in f.fiscal_years:
            for kind in KINDS:
                want = totals.get((fy, kind), D(0))
                assert money(wb, "Summary", rows[KIND_LABELS[kind]][fy]) == want
            assert money(wb, "Summary", rows["Total"][fy]) == f.by_year()[fy]
            share = sum((ln.erate for ln in f.lines if ln.fy == fy), D(0))
            assert money(wb, "Summary", rows["E-Rate share"][fy]) == share
            net = rows["District's net (total − E-Rate)"][fy]
            assert money(wb, "Summary", net) == f.by_year()[fy] - share
        assert money(wb, "Summary", rows["Total"]["Total"]) == f.total()
        assert money(wb, "Summary", rows["E-Rate share"]["Total"]) == f.erate_share


def test_the_worked_example_on_summary() -> None:
    """Baseline FY2027: 150 Chromebooks at the 100+ tier, 280.00 (42,000.00), and the
    laptops on order (5,000.00). The scenario caps FY2027 at 20,000.00 and FY2028 at
    30,000.00. FY2028 already holds the leased switches' first payment (20 × 2,100.00
    at 4 % over 3 years: 15,134.64), the right-sized license (440 seats × 4.725 =
    2,079.00) and the support contract (1,000.00): room for 11,786.36, so 37 of the 50
    Chromebooks due last move there at 315.00 (300.00 × 1.05, below the 100 tier). The
    100 due in March cannot move (FY2029 is more than 12 months on), and the ordered
    laptops are committed: FY2027 stays at 36,640.00, 16,640.00 over its cap."""
    wb = load(book(run(), run(SCENARIO), "Caps"), cached=True)
    rows = summary_blocks(wb)
    ws = wb["Summary"]
    assert ws[rows[BASELINE]["Device refresh"][2027]].value == 47000
    assert ws[rows["Caps"]["Device refresh"][2027]].value == 36640
    assert ws[rows["Caps"]["Budget cap"][2027]].value == 20000
    shortfall = rows["Caps"]["Shortfall (over the cap after deferrals)"]
    assert (ws[shortfall[2027]].value, ws[shortfall[2028]].value) == (16640, 0)
    fy28 = ws[rows["Caps"]["Total"][2028]].value
    assert D(str(fy28)) == D("15134.64") + D("2079.00") + D("1000.00") + 37 * D(315)
    # the support contract is E-Rate eligible: 80 % of 1,000.00, and of the lease
    # payment until the 30,175.00 budget runs out
    assert D(str(ws[rows["Caps"]["E-Rate share"][2028]].value)) == D("12907.71")


def test_caps_and_shortfall_rows_show_the_scenarios_caps() -> None:
    short = Settings(caps={2027: D("1000.00")}, max_deferral_months=0)
    r = run(short)
    wb = load(book(run(), r, "Tight"))
    rows = summary_blocks(wb)["Tight"]
    assert money(wb, "Summary", rows["Budget cap"][2027]) == D("1000.00")
    shortfall = rows["Shortfall (over the cap after deferrals)"]
    assert money(wb, "Summary", shortfall[2027]) == r.forecast.shortfall[2027]
    assert r.forecast.shortfall[2027] == r.forecast.by_year()[2027] - D("1000.00")
    assert wb["Summary"][shortfall[2028]].value is None  # no cap, no shortfall
    assert "Budget cap" not in summary_blocks(wb)[BASELINE]


def test_every_cached_value_is_its_formulas_result() -> None:
    """What a viewer that does not calculate shows is what Excel would calculate."""
    data = book(run(), run(SCENARIO), "Caps")
    formulas, cached = load(data), load(data, cached=True)
    seen = 0
    for ws in formulas:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    seen += 1
                    stored = cached[ws.title][cell.coordinate].value
                    assert stored is not None, (ws.title, cell.coordinate)
                    result = evaluate(formulas, ws.title, str(cell.value))
                    assert D(str(stored)) == result, (ws.title, cell.value)
    assert seen > 100


def test_the_lines_sheet_has_a_row_per_line_and_a_totals_row_over_all() -> None:
    baseline, scenario = run(), run(SCENARIO)
    wb = load(book(baseline, scenario, "Caps"))
    ws = wb["Lines"]
    n = len(baseline.forecast.lines) + len(scenario.forecast.lines)
    last = n + 1
    assert ws.max_row == last + 1
    totals = {c.column_letter: c.value for c in ws[last + 1] if c.value is not None}
    assert totals["A"] == "Total"
    assert totals["K"] == f"=SUBTOTAL(9,K2:K{last})"
    assert totals["L"] == f"=SUBTOTAL(9,L2:L{last})"
    assert totals["M"] == f"=SUBTOTAL(9,M2:M{last})"
    both = baseline.forecast.total() + scenario.forecast.total()
    assert evaluate(wb, "Lines", totals["K"]) == both
    scenarios = [ws.cell(row=r, column=1).value for r in range(2, last + 1)]
    assert scenarios.count(BASELINE) == len(baseline.forecast.lines)


def test_a_line_row_shows_the_line() -> None:
    wb = load(book(run(SCENARIO)))
    ws = wb["Lines"]
    rows = [
        dict(zip(HEADERS, (c.value for c in r), strict=True))
        for r in ws.iter_rows(min_row=2)
    ]
    early = next(r for r in rows if r["Label"] == "100 Chromebooks")
    assert early["School"] == "Lincoln Elementary"
    assert early["Funding source"] == "Title I"
    assert (early["Quantity"], early["Unit price"]) == (100, 280)
    assert early["Committed"] == "no" and early["Reason"] == "Lifespan"
    ordered = next(r for r in rows if r["Label"] == "-10 laptops on order")
    assert (ordered["Committed"], ordered["Reason"]) == ("yes", "On order")
    leased = [r for r in rows if r["Label"] == "20 switches"]
    assert [r["Lease payment"] for r in leased] == ["1 of 3", "2 of 3", "3 of 3"]
    moved = [r for r in rows if r["Deferred from"] == 2027]
    assert moved and all(r["Fiscal year"] == 2028 for r in moved)
    cell = ws.cell(row=2, column=HEADERS.index("Amount") + 1)
    assert "$" in cell.number_format and "0.00" in cell.number_format


def test_deferred_lists_the_scenarios_deferrals_and_shortfall() -> None:
    scenario = run(SCENARIO)
    f = scenario.forecast
    assert f.deferrals  # the worked scenario defers
    wb = load(book(run(), scenario, "Caps"), cached=True)
    ws = wb["Deferred"]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    listed = [
        (*r[:5], D(str(r[5]))) for r in rows if r[0] in {d.label for d in f.deferrals}
    ]
    assert listed == [
        (d.label, "Chromebook", d.quantity, d.from_fy, d.to_fy, d.amount)
        for d in f.deferrals
    ]
    fy27 = next(r for r in rows if r[0] == 2027 and r[1] == 20000)
    assert D(str(fy27[2])) == f.by_year()[2027]
    assert D(str(fy27[3])) == f.shortfall.get(2027, D(0))


def test_deferred_says_so_when_nothing_moved() -> None:
    wb = load(book(run()))
    texts = [c.value for c in wb["Deferred"]["A"] if c.value]
    assert "Nothing was deferred: no fiscal year has a budget cap." in texts
    assert "No fiscal year has a cap, so there is no shortfall." in texts


def test_assumptions_name_the_inputs_their_source_and_the_year_naming() -> None:
    wb = load(book(run(), run(SCENARIO), "Caps"))
    ws = wb["Assumptions"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    text = " ".join(str(v) for r in rows for v in r if v is not None)
    assert SOURCE in text
    assert "named by the calendar year in which it ends: FY2027 is 1 Jul 2026" in text
    assert "funding year 2026 is 1 Jul 2026 – 30 Jun 2027" in text
    assert "funding years 2026–2030" in text
    by_name = {r[0]: r[1:] for r in rows if r[0]}
    assert by_name["Computed for"][0].date() == TODAY
    assert by_name["Inflation (% a year)"][:2] == [3, 5]
    assert by_name["Maximum deferral (months)"][:2] == [12, 12]
    assert by_name["License right-sizing headroom"][:2] == ["off", 10]
    assert by_name["Chromebook"][:2] == [48, 60]  # district policy, the scenario
    assert by_name["Chromebook 3110"][:3] == [300, 1, 300]  # list price, first tier
    assert any(r[2:4] == [100, 280] for r in rows)  # the 100+ tier
    assert by_name["Enrollment (students)"][0] == 100
    cycle = by_name["funding years 2026–2030"]
    assert cycle[:3] == [201.57, 30175, 30175]  # the floor: 100 students × 201.57 < it


def test_a_workbook_without_lines_still_opens_with_zeros() -> None:
    empty = Run(forecast(Plan(today=TODAY, years=3)), None, None)
    wb = load(book(empty))
    assert wb["Lines"]["A2"].value.startswith("No lines")
    rows = summary_blocks(wb)[BASELINE]
    assert [wb["Summary"][rows["Total"][fy]].value for fy in (2027, 2028, 2029)] == [
        "=SUM(B7:B9)", "=SUM(C7:C9)", "=SUM(D7:D9)"
    ]  # fmt: skip
    assert wb["Summary"][rows["Device refresh"][2027]].value == 0
    assert "No E-Rate parameters" in " ".join(
        str(c.value) for c in wb["Assumptions"]["A"] if c.value
    )


def test_the_same_forecast_gives_the_same_workbook() -> None:
    def parts(data: bytes) -> dict[str, bytes]:
        z = zipfile.ZipFile(io.BytesIO(data))
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}

    assert parts(book(run(), run(SCENARIO), "Caps")) == parts(
        book(run(), run(SCENARIO), "Caps")
    )


def test_text_that_looks_like_a_formula_is_written_as_text() -> None:
    data = book(run(), run(SCENARIO), "=1+1")
    wb = load(data)
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert re.match(r"=(SUMIFS|SUM|SUBTOTAL)\(|=[A-Z]+\d+-", cell.value)
    labels = {c.value: c for c in wb["Lines"]["H"]}
    evil = labels['=HYPERLINK("http://evil","click")']
    assert evil.data_type == "s" and evil.quotePrefix
    assert labels["@SUM(1+1) reading app"].data_type == "s"
    sources = {c.value: c for c in wb["Lines"]["G"]}
    assert sources["+cmd|calc"].data_type == "s"
    (heading,) = [c for c in wb["Summary"]["A"] if c.value == "=1+1"]
    assert heading.data_type == "s"


# --- CSV ---------------------------------------------------------------------------


def parse(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    assert tuple(next(reader)) == HEADERS
    return [dict(zip(HEADERS, row, strict=True)) for row in reader]


@pytest.mark.parametrize("settings", [Settings(), SCENARIO])
def test_csv_has_a_row_per_line_that_add_up_to_the_total(settings: Settings) -> None:
    r = run(settings)
    rows = parse(lines_csv(r, "Caps"))
    assert len(rows) == len(r.forecast.lines)
    assert sum((D(row["Amount"]) for row in rows), D(0)) == r.forecast.total()
    assert sum((D(row["E-Rate share"]) for row in rows), D(0)) == r.forecast.erate_share
    for row, line in zip(rows, r.forecast.lines, strict=True):
        assert re.fullmatch(r"\d+\.\d\d", row["Amount"])
        assert row["Date"] == line.day.isoformat()
        assert row["Fiscal year"] == str(line.fy)
        assert row["Scenario"] == "Caps"


def test_csv_money_is_plain_and_the_baseline_is_named() -> None:
    rows = parse(lines_csv(run()))
    early = next(row for row in rows if row["Label"] == "100 Chromebooks")
    assert (early["Unit price"], early["Amount"]) == ("280.00", "28000.00")
    assert early["School"] == "Lincoln Elementary"
    assert {row["Scenario"] for row in rows} == {BASELINE}
    contract = next(row for row in rows if row["Label"] == "Switch support")
    assert contract["Unit price"] == "" and contract["Committed"] == "yes"


def test_csv_text_never_starts_a_formula() -> None:
    rows = parse(lines_csv(run(), "=cmd"))
    labels = {row["Label"] for row in rows}
    assert '\'=HYPERLINK("http://evil","click")' in labels
    assert "'@SUM(1+1) reading app" in labels
    assert "'-10 laptops on order" in labels
    assert {row["Funding source"] for row in rows} >= {"'+cmd|calc", "Title I"}
    assert {row["Scenario"] for row in rows} == {"'=cmd"}


def test_a_cooperative_run_names_schools_by_id() -> None:
    f: Forecast = run().forecast
    rows = parse(lines_csv(Run(f, None, None)))
    assert "School #1" in {row["School"] for row in rows}
