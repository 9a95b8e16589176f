"""Writing the budget workbook's cells (openpyxl). Pure: no database or Flask.

Text is always written as text, never as a formula, whatever it starts with. Formulas
are written with their results, which `with_results` stores as the cells' cached values:
openpyxl calculates no formula, and viewers that do not calculate either (mail
previews, Quick Look) would show them empty.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from lifecycle.spreadsheet import looks_like_formula

MONEY = '"$"#,##0.00;[Red]-"$"#,##0.00'
FY_FORMAT = '"FY"0'
DAY_FORMAT = "yyyy-mm-dd"
PCT_FORMAT = '0.00"%"'  # a percent stored as its number: 3.00 shows 3.00%
WHOLE_FORMAT = "#,##0"
ZERO = Decimal("0.00")

CellValue = str | int | Decimal | date | None


def long_date(day: date) -> str:
    """1 Jul 2026: a date no reader takes for another."""
    return f"{day.day} {day:%b %Y}"


class Sheet:
    """A worksheet and the values of its numeric cells, formulas' results included."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.values: dict[str, Decimal] = {}
        self.results: dict[str, Decimal] = {}  # formula cells' cached values

    def put(
        self,
        row: int,
        column: int,
        value: CellValue,
        number_format: str | None = None,
        *,
        bold: bool = False,
    ) -> Cell:
        """A value; text is always text, never a formula, whatever it starts with."""
        cell = self.ws.cell(row=row, column=column)
        assert isinstance(cell, Cell), "the budget sheets merge no cells"
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell.data_type = "s"  # openpyxl takes "=…" for a formula, "#N/A" an error
            if looks_like_formula(value):
                cell.quotePrefix = True  # and it stays text when someone edits it
        else:
            cell.value = value
            if isinstance(value, Decimal | int) and not isinstance(value, bool):
                self.values[cell.coordinate] = Decimal(value)
        if number_format is not None:
            cell.number_format = number_format
        if bold:
            cell.font = Font(bold=True)
        return cell

    def row(self, row: int, values: Iterable[CellValue], *, bold: bool = False) -> None:
        """Values from column A on; None leaves a cell empty."""
        for column, value in enumerate(values, 1):
            if value is not None:
                self.put(row, column, value, bold=bold)

    def formula(
        self,
        row: int,
        column: int,
        text: str | None,
        result: Decimal,
        number_format: str = MONEY,
        *,
        bold: bool = False,
    ) -> Cell:
        """A formula (without its "=") with its result; text None writes the result."""
        if text is None:
            return self.put(row, column, result, number_format, bold=bold)
        cell = self.put(row, column, None, number_format, bold=bold)
        cell.value = "=" + text
        self.values[cell.coordinate] = self.results[cell.coordinate] = result
        return cell

    def total(
        self, row: int, column: int, first: str, last: str, *, bold: bool = False
    ) -> Cell:
        """=SUM(first:last) over cells of this sheet."""
        cells = self.ws[f"{first}:{last}"]
        refs = [cell.coordinate for line in cells for cell in line]
        result = sum((self.values.get(ref, ZERO) for ref in refs), ZERO)
        return self.formula(row, column, f"SUM({first}:{last})", result, bold=bold)

    def widths(self, widths: Iterable[int]) -> None:
        for index, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width

    def landscape(self) -> None:
        """Printed landscape, as wide as one page."""
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        setup = self.ws.sheet_properties.pageSetUpPr
        if setup is not None:
            setup.fitToPage = True


# A formula cell as openpyxl writes it: <c r="B7" s="3"><f>SUM(B2:B6)</f><v /></c>
_FORMULA_CELL = re.compile(
    rb'(<c r="([A-Z]+[0-9]+)"[^>]*><f>[^<]*</f>)(?:<v ?/>|<v></v>)'
)


def with_results(data: bytes, results: Mapping[str, Mapping[str, Decimal]]) -> bytes:
    """The XLSX `data` with each formula's result stored as its cached value;
    `results` maps a worksheet's part name (xl/worksheets/sheet1.xml) to its cells'."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            values = results.get(info.filename)
            if values:
                body = _FORMULA_CELL.sub(_filler(values), body)
            target.writestr(info, body)
    return out.getvalue()


def _filler(values: Mapping[str, Decimal]) -> Callable[[re.Match[bytes]], bytes]:
    def fill(match: re.Match[bytes]) -> bytes:
        value = values.get(match.group(2).decode())
        if value is None:
            return match.group(0)
        return match.group(1) + b"<v>" + format(value, "f").encode() + b"</v>"

    return fill
