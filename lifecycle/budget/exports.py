"""The budget's exports: the board workbook (XLSX) and a forecast's lines as CSV.

Pure: forecast runs in, bytes or text out; no Flask or database (the budget's views
serve them). A run's inputs name its schools; a cooperative run has none, so its lines
name schools by id.

The workbook's figures are formulas over its Lines sheet (SUMIFS by scenario, fiscal
year and kind), so Summary and Lines agree by construction. openpyxl calculates no
formula, so each formula's result is also stored as its cached value: mail previews and
Quick Look show cached values without calculating, and Excel and LibreOffice calculate
every formula again on opening (the workbook asks them to).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from lifecycle.budget.export_assumptions import write_assumptions
from lifecycle.budget.export_lines import (
    BASELINE,
    COLUMNS,
    HEADERS,
    KIND_LABELS,
    TEXT,
    LinesTable,
    line_values,
    scenario_label,
    school_names,
    write_lines,
)
from lifecycle.budget.fiscal import fiscal_year_bounds
from lifecycle.budget.forecast import KINDS
from lifecycle.budget.xlsx import (
    FY_FORMAT,
    MONEY,
    ZERO,
    CellValue,
    Sheet,
    long_date,
    with_results,
)
from lifecycle.enums import category_label
from lifecycle.money import to_cents
from lifecycle.spreadsheet import csv_cell

if TYPE_CHECKING:
    from lifecycle.budget.services import Run


def lines_csv(run: Run, scenario_name: str | None = None) -> str:
    """The run's lines as CSV with a header: the Lines sheet's columns, money as plain
    1234.50, dates as ISO; scenario_name None means the baseline."""
    label = BASELINE if scenario_name is None else scenario_label(scenario_name)
    schools = school_names(run)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for line in run.forecast.lines:
        values = line_values(line, label, schools)
        writer.writerow(
            [_csv_text(v, c.holds) for v, c in zip(values, COLUMNS, strict=True)]
        )
    return buffer.getvalue()


def _csv_text(value: CellValue, holds: str) -> object:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(to_cents(value), "f")
    if isinstance(value, date):
        return value.isoformat()
    return csv_cell(value) if holds == TEXT else value


def workbook(
    baseline: Run,
    scenario: Run | None,
    *,
    title: str,
    scenario_name: str | None,
    district_name: str,
) -> bytes:
    """The board workbook: Summary, Lines, Deferred and Assumptions sheets (XLSX)."""
    runs = [(BASELINE, baseline)]
    if scenario is not None:
        runs.append((scenario_label(scenario_name), scenario))
    book = Workbook()
    assert book.active is not None
    sheets = [Sheet(book.active)] + [Sheet(book.create_sheet()) for _ in range(3)]
    for sheet, name in zip(
        sheets, ("Summary", "Lines", "Deferred", "Assumptions"), strict=True
    ):
        sheet.ws.title = name
    summary, lines, deferred, assumptions = sheets
    table = write_lines(lines, runs)
    _write_summary(summary, table, runs, title=title, district_name=district_name)
    _write_deferred(deferred, table, *runs[-1])
    write_assumptions(assumptions, runs, district_name=district_name)
    book.properties.title = title
    book.properties.subject = district_name
    book.properties.creator = book.properties.lastModifiedBy = "Lifecycle"
    buffer = io.BytesIO()
    book.save(buffer)
    return with_results(
        buffer.getvalue(),
        {f"xl/worksheets/sheet{i}.xml": s.results for i, s in enumerate(sheets, 1)},
    )


def _fiscal_years(runs: Sequence[tuple[str, Run]]) -> list[int]:
    years = set(runs[0][1].forecast.fiscal_years)
    for _, run in runs:  # a cooperative's members may name one more year
        years |= {line.fy for line in run.forecast.lines}
    return sorted(years)


def _write_summary(
    sheet: Sheet,
    table: LinesTable,
    runs: Sequence[tuple[str, Run]],
    *,
    title: str,
    district_name: str,
) -> None:
    plan = runs[0][1].forecast.plan
    years = _fiscal_years(runs)
    first, last = fiscal_year_bounds(plan.current_fy, plan.start_month)
    sheet.put(1, 1, title, bold=True).font = Font(bold=True, size=14)
    sheet.put(2, 1, district_name)
    sheet.put(
        3,
        1,
        f"Computed for {long_date(plan.today)}. Fiscal years are named by the year "
        f"they end: FY{plan.current_fy} is {long_date(first)} – {long_date(last)}. "
        "US dollars.",
    )
    sheet.put(
        4,
        1,
        "Every amount is a sum of the Lines sheet; see Assumptions for the inputs.",
    )
    sheet.widths([34] + [15] * (len(years) + 1))
    sheet.landscape()
    top = 6
    blocks: list[tuple[int, int]] = []
    for label, run in runs:
        top, rows = _summary_block(sheet, table, label, run, years, top)
        blocks.append(rows)
        top += 1
    if len(blocks) == 2:
        _difference(sheet, years, top, blocks[0], blocks[1])


def _year_header(sheet: Sheet, row: int, name: str, years: Sequence[int]) -> None:
    sheet.put(row, 1, name, bold=True)
    for index, fy in enumerate(years, 2):
        sheet.put(row, index, fy, FY_FORMAT, bold=True)
    total = sheet.put(row, 2 + len(years), "Total", bold=True)
    total.alignment = Alignment(horizontal="right")


def _summary_block(
    sheet: Sheet,
    table: LinesTable,
    label: str,
    run: Run,
    years: Sequence[int],
    head: int,
) -> tuple[int, tuple[int, int]]:
    """One run's fiscal year × kind table; returns the next free row and the rows of
    its total and its net."""
    last_year = get_column_letter(1 + len(years))
    total_column = 2 + len(years)

    def row_of_sums(row: int, name: str, header: str, kind: str | None) -> None:
        sheet.put(row, 1, name, bold=kind is None and header == "Amount")
        for index, fy in enumerate(years, 2):
            fy_cell = f"{get_column_letter(index)}${head}"
            by_kind = None if kind is None else (f"$A{row}", kind)
            text, result = table.sumifs(header, label, (fy_cell, fy), by_kind)
            sheet.formula(row, index, text, result)
        sheet.total(row, total_column, f"B{row}", f"{last_year}{row}")

    _year_header(sheet, head, label, years)
    row = head
    for kind in KINDS:
        row += 1
        row_of_sums(row, KIND_LABELS[kind], "Amount", kind)
    total = row + 1
    sheet.put(total, 1, "Total", bold=True)
    for index in range(2, total_column + 1):
        letter = get_column_letter(index)
        sheet.total(total, index, f"{letter}{head + 1}", f"{letter}{row}", bold=True)
    row_of_sums(total + 1, "E-Rate share", "E-Rate share", None)
    row_of_sums(total + 2, "District's net (total − E-Rate)", "Net", None)
    row = total + 2
    forecast = run.forecast
    if forecast.settings.caps or forecast.shortfall:
        cap, short = row + 1, row + 2
        sheet.put(cap, 1, "Budget cap")
        sheet.put(short, 1, "Shortfall (over the cap after deferrals)")
        for index, fy in enumerate(years, 2):
            if fy in forecast.settings.caps:
                sheet.put(cap, index, forecast.settings.caps[fy], MONEY)
            if fy in forecast.settings.caps or fy in forecast.shortfall:
                sheet.put(short, index, forecast.shortfall.get(fy, ZERO), MONEY)
        sheet.total(short, total_column, f"B{short}", f"{last_year}{short}")
        row = short
    return row + 1, (total, total + 2)


def _difference(
    sheet: Sheet,
    years: Sequence[int],
    head: int,
    baseline: tuple[int, int],
    scenario: tuple[int, int],
) -> None:
    _year_header(sheet, head, "Change from the baseline", years)
    names = ("Total", "District's net")
    for offset, (name, base, other) in enumerate(
        zip(names, baseline, scenario, strict=True), 1
    ):
        sheet.put(head + offset, 1, name)
        for index in range(2, 3 + len(years)):
            letter = get_column_letter(index)
            result = sheet.values[f"{letter}{other}"] - sheet.values[f"{letter}{base}"]
            text = f"{letter}{other}-{letter}{base}"
            sheet.formula(head + offset, index, text, result)


def _write_deferred(sheet: Sheet, table: LinesTable, label: str, run: Run) -> None:
    forecast = run.forecast
    caps = forecast.settings.caps
    sheet.widths([44, 18, 10, 14, 14, 16])
    sheet.put(1, 1, f"Refreshes a budget cap deferred: {label}", bold=True)
    sheet.put(
        2,
        1,
        "Fiscal years are named by the year they end. Amount: what the devices cost "
        "in the year they moved to (a lease's first payment).",
    )
    row = 4
    if forecast.deferrals:
        sheet.row(
            row, ("Label", "Category", "Quantity", "From", "To", "Amount"), bold=True
        )
        for d in forecast.deferrals:
            row += 1
            sheet.row(row, (d.label, category_label(d.category), d.quantity))
            sheet.put(row, 4, d.from_fy, FY_FORMAT)
            sheet.put(row, 5, d.to_fy, FY_FORMAT)
            sheet.put(row, 6, d.amount, MONEY)
    elif caps:
        sheet.put(
            row,
            1,
            "Nothing was deferred: every capped year fits its cap, or nothing in it "
            "could move (see the shortfall below).",
        )
    else:
        sheet.put(row, 1, "Nothing was deferred: no fiscal year has a budget cap.")
    row += 2
    sheet.put(row, 1, "Shortfall: what the caps could not fit", bold=True)
    if not caps:
        sheet.put(row + 1, 1, "No fiscal year has a cap, so there is no shortfall.")
        return
    row += 1
    sheet.row(
        row, ("Fiscal year", "Cap", "Total after deferrals", "Shortfall"), bold=True
    )
    for fy in sorted(caps):
        row += 1
        sheet.put(row, 1, fy, FY_FORMAT)
        sheet.put(row, 2, caps[fy], MONEY)
        text, result = table.sumifs("Amount", label, (f"$A{row}", fy))
        sheet.formula(row, 3, text, result)
        sheet.put(row, 4, forecast.shortfall.get(fy, ZERO), MONEY)


__all__ = ["lines_csv", "workbook"]
