"""A round's results as CSV and XLSX: one row per settled line, then the total.

Coop staff get every district's lines with the district's name; a district gets its
own lines only (the same `closing.results` the page shows)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from lifecycle.rounds.closing import Results
from lifecycle.spreadsheet import csv_cell

MONEY_COLUMNS = ("Unit price", "Alone price", "Amount", "At list", "Saved vs list",
                 "Saved vs alone")  # fmt: skip


def header(with_names: bool) -> list[str]:
    return [*(["District"] if with_names else []), "Item", "SKU", "Quantity",
            *MONEY_COLUMNS]  # fmt: skip


def rows(results: Results, with_names: bool) -> list[list[Any]]:
    """The lines, then a total row; money as Decimal, quantities as int."""
    out: list[list[Any]] = []
    for r in results.lines:
        line = r.line
        out.append(
            [
                *([r.district_name] if with_names else []),
                r.item.name,
                r.item.sku,
                line.quantity,
                line.unit_price,
                line.alone_price,
                line.amount,
                line.at_list,
                line.saved_vs_list,
                line.saved_vs_alone,
            ]
        )
    t = results.total
    blanks = [""] * (2 if with_names else 1)
    out.append(["Total", *blanks, sum(r.line.quantity for r in results.lines), "", "",
                t.amount, t.at_list, t.saved_vs_list, t.saved_vs_alone])  # fmt: skip
    return out


def to_csv(results: Results, with_names: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(with_names))
    for row in rows(results, with_names):
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def to_xlsx(results: Results, with_names: bool) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Results"
    sheet.append(header(with_names))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_money = len(header(with_names)) - len(MONEY_COLUMNS) + 1
    for row in rows(results, with_names):
        sheet.append([csv_cell(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row][first_money - 1 :]:
            cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
