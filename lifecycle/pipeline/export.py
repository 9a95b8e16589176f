"""The quantity estimate for a bid, as CSV and XLSX: what the cooperative hands a vendor.
Pure: no database or Flask.

One line per catalog item (or, for needs not in the catalog, per category), kind,
vehicle and quarter: units, estimated spend and how many districts are behind it.
District names are never in it: a vendor bids on the pooled volume, and which members
need what is the cooperative's to share, not the export's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import Workbook

from lifecycle.budget.xlsx import (
    DAY_FORMAT,
    MONEY,
    WHOLE_FORMAT,
    Sheet,
    long_date,
    with_results,
)
from lifecycle.enums import category_label
from lifecycle.pipeline.pivot import UNIT_OF_KIND, ZERO, Quarter
from lifecycle.spreadsheet import csv_cell

KIND_LABELS = {
    "refresh": "Device refresh",
    "license_renewal": "License renewal",
    "contract_renewal": "Contract renewal",
}


@dataclass(frozen=True, slots=True)
class BidLine:
    quarter: Quarter
    sku: str  # "" when the need has no catalog item
    item: str
    category: str
    kind: str
    unit: str  # devices, seats, contracts
    vendor: str
    vehicle: str  # contract number
    units: int
    overdue_units: int  # of `units`, those already due before the export's day
    spend: Decimal
    districts: int


HEADER = (
    "Quarter",
    "Quarter starts",
    "Quarter ends",
    "SKU",
    "Item",
    "Category",
    "Kind",
    "Vendor",
    "Contract vehicle",
    "Unit",
    "Units",
    "Of which overdue",
    "Estimated spend",
    "Districts",
)


def _row(line: BidLine) -> list[object]:
    return [
        line.quarter.label,
        line.quarter.start.isoformat(),
        (line.quarter.end - timedelta(days=1)).isoformat(),
        line.sku,
        line.item or "(not in the catalog)",
        category_label(line.category) if line.category else "",
        KIND_LABELS.get(line.kind, line.kind),
        line.vendor,
        line.vehicle,
        line.unit,
        line.units,
        line.overdue_units,
        f"{line.spend:.2f}",
        line.districts,
    ]


def bid_csv(lines: Sequence[BidLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for line in lines:
        writer.writerow([csv_cell(v) for v in _row(line)])
    return out.getvalue()


WIDTHS = (10, 13, 13, 16, 36, 20, 18, 24, 18, 10, 10, 12, 16, 10)


def bid_workbook(
    lines: Sequence[BidLine],
    *,
    title: str,
    today: date,
    filters: Sequence[str],
) -> bytes:
    """One sheet: a title, what the estimate covers, the lines and their totals."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Quantity estimate"
    sheet = Sheet(ws)
    sheet.put(1, 1, title, bold=True)
    sheet.put(
        2,
        1,
        f"Estimated from the member districts' open needs on {long_date(today)}. "
        "Quarters are calendar quarters; the first includes needs already overdue.",
    )
    sheet.put(3, 1, "Showing: " + ("; ".join(filters) if filters else "everything"))
    head = 5
    sheet.row(head, HEADER, bold=True)
    row = head
    for line in lines:
        row += 1
        values = _row(line)
        sheet.put(row, 1, line.quarter.label)
        sheet.put(row, 2, line.quarter.start, DAY_FORMAT)
        sheet.put(row, 3, line.quarter.end - timedelta(days=1), DAY_FORMAT)
        for column in range(4, 11):
            sheet.put(row, column, str(values[column - 1]))
        sheet.put(row, 11, line.units, WHOLE_FORMAT)
        sheet.put(row, 12, line.overdue_units, WHOLE_FORMAT)
        sheet.put(row, 13, line.spend, MONEY)
        sheet.put(row, 14, line.districts, WHOLE_FORMAT)
    if lines:
        total = row + 1
        sheet.put(total, 1, "Total", bold=True)
        sheet.total(total, 13, f"M{head + 1}", f"M{row}", bold=True)
    ws.freeze_panes = f"A{head + 1}"
    sheet.widths(WIDTHS)
    sheet.landscape()
    out = io.BytesIO()
    book.save(out)
    return with_results(out.getvalue(), {"xl/worksheets/sheet1.xml": sheet.results})


def total_spend(lines: Sequence[BidLine]) -> Decimal:
    return sum((line.spend for line in lines), ZERO)


__all__ = ["UNIT_OF_KIND", "BidLine", "bid_csv", "bid_workbook"]
