"""The board workbook's Lines sheet: one row per forecast line, the columns the CSV
export shares, and the SUMIFS the other sheets sum it with. Pure: no database or Flask."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from openpyxl.utils import get_column_letter

from lifecycle.budget.forecast import Line
from lifecycle.budget.xlsx import (
    DAY_FORMAT,
    FY_FORMAT,
    MONEY,
    WHOLE_FORMAT,
    ZERO,
    CellValue,
    Sheet,
)
from lifecycle.enums import category_label

if TYPE_CHECKING:
    from lifecycle.budget.services import Run

BASELINE = "Baseline"
KIND_LABELS = {
    "refresh": "Device refresh",
    "license": "License",
    "contract": "Service contract",
}
REASONS = {
    "aue": "AUE date",
    "eol": "End of life",
    "lifespan": "Lifespan",
    "cycle": "Next cycle",
    "ordered": "On order",
}

# What a column holds decides its cell format and its CSV text.
TEXT, WHOLE, FY, DAY, AMOUNT = "text", "whole", "fy", "day", "amount"
FORMATS = {FY: FY_FORMAT, DAY: DAY_FORMAT, AMOUNT: MONEY, WHOLE: WHOLE_FORMAT}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    holds: str
    width: int


COLUMNS = (
    Column("Scenario", TEXT, 16),
    Column("Fiscal year", FY, 11),
    Column("Date", DAY, 11),
    Column("Kind", TEXT, 16),
    Column("Category", TEXT, 18),
    Column("School", TEXT, 24),
    Column("Funding source", TEXT, 16),
    Column("Label", TEXT, 44),
    Column("Quantity", WHOLE, 9),
    Column("Unit price", AMOUNT, 13),
    Column("Amount", AMOUNT, 15),
    Column("E-Rate share", AMOUNT, 14),
    Column("Net", AMOUNT, 15),
    Column("Committed", TEXT, 11),
    Column("Reason", TEXT, 12),
    Column("Deferred from", FY, 13),
    Column("Lease payment", TEXT, 13),
)
HEADERS = tuple(c.header for c in COLUMNS)


def column_of(header: str) -> int:
    """The 1-based column of a Lines header."""
    return HEADERS.index(header) + 1


def letter_of(header: str) -> str:
    return get_column_letter(column_of(header))


def scenario_label(name: str | None) -> str:
    """The scenario's name on the Lines sheet, never one SUMIFS would read as the
    baseline's (it compares text without case)."""
    name = (name or "").strip() or "Scenario"
    return f"{name} (scenario)" if name.casefold() == BASELINE.casefold() else name


def school_names(run: Run) -> Mapping[int, str]:
    return run.inputs.schools if run.inputs is not None else {}


def line_values(
    line: Line, scenario: str, schools: Mapping[int, str]
) -> tuple[CellValue, ...]:
    """One line as the Lines sheet and the CSV show it, in COLUMNS order."""
    school = ""
    if line.school_id is not None:
        school = schools.get(line.school_id, f"School #{line.school_id}")
    payment = f"{line.payment[0]} of {line.payment[1]}" if line.payment else ""
    return (
        scenario,
        line.fy,
        line.day,
        KIND_LABELS.get(line.kind, line.kind),
        category_label(line.category) if line.category else "",
        school,
        line.funding_source,
        line.label,
        line.quantity,
        line.unit_price,
        line.amount,
        line.erate,
        line.net,
        "yes" if line.committed else "no",
        REASONS.get(line.reason, line.reason),
        line.deferred_from,
        payment,
    )


@dataclass(frozen=True, slots=True)
class LinesTable:
    """Where the Lines sheet put each run's lines, for the formulas that sum them."""

    rows: Sequence[tuple[str, Line]]  # (scenario label, line) from row 2 down
    last: int  # the last line's row

    def range(self, header: str) -> str:
        letter = letter_of(header)
        return f"Lines!${letter}$2:${letter}${self.last}"

    def sumifs(
        self,
        header: str,
        scenario: str,
        fy: tuple[str, int],
        kind: tuple[str, str] | None = None,
    ) -> tuple[str | None, Decimal]:
        """SUMIFS of a money column by scenario, fiscal year (a cell holding it) and
        kind, with its result; (None, 0.00) when there are no lines to sum."""
        attr = {"Amount": "amount", "E-Rate share": "erate", "Net": "net"}[header]
        result = sum(
            (
                getattr(line, attr)
                for label, line in self.rows
                if label == scenario
                and line.fy == fy[1]
                and (kind is None or line.kind == kind[1])
            ),
            ZERO,
        )
        if not self.rows:
            return None, result
        criteria = [
            (self.range("Scenario"), _text_criterion(scenario)),
            (self.range("Fiscal year"), fy[0]),
        ]
        if kind is not None:
            criteria.append((self.range("Kind"), kind[0]))
        pairs = ",".join(f"{where},{what}" for where, what in criteria)
        return f"SUMIFS({self.range(header)},{pairs})", result


def _text_criterion(text: str) -> str:
    """A SUMIFS criterion matching exactly this text: "=" so no leading < > = is an
    operator, ~ before the wildcards * ? ~, quotes doubled inside the literal."""
    escaped = re.sub(r"([~*?])", r"~\1", text)
    return '"=' + escaped.replace('"', '""') + '"'


def write_lines(sheet: Sheet, runs: Sequence[tuple[str, Run]]) -> LinesTable:
    ws = sheet.ws
    for index, column in enumerate(COLUMNS, 1):
        sheet.put(1, index, column.header, bold=True)
    sheet.widths(c.width for c in COLUMNS)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    sheet.landscape()
    rows: list[tuple[str, Line]] = []
    for label, run in runs:
        schools = school_names(run)
        for line in run.forecast.lines:
            values = line_values(line, label, schools)
            for index, (value, column) in enumerate(
                zip(values, COLUMNS, strict=True), 1
            ):
                sheet.put(len(rows) + 2, index, value, FORMATS.get(column.holds))
            rows.append((label, line))
    last = len(rows) + 1
    if not rows:
        sheet.put(2, 1, "No lines: nothing costs money in these fiscal years.")
        return LinesTable(rows, last)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{last}"
    total = last + 1
    sheet.put(total, 1, "Total", bold=True)
    if len(runs) > 1:
        sheet.put(total, column_of("Label"), "of the rows shown (filter by Scenario)")
    for header in ("Amount", "E-Rate share", "Net"):
        letter = letter_of(header)
        result = sum((sheet.values[f"{letter}{r}"] for r in range(2, total)), ZERO)
        sheet.formula(
            total,
            column_of(header),
            f"SUBTOTAL(9,{letter}2:{letter}{last})",
            result,
            bold=True,
        )
    return LinesTable(rows, last)
