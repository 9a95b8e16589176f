"""Files the import tests build themselves: Snipe-IT- and Google Admin-shaped exports,
an XLSX with merged header cells and blank trailing rows, a file of bad rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

SNIPE_ASSETS = [
    "Asset Name", "Asset Tag", "Serial Number", "Model Name", "Model No.", "Category",
    "Manufacturer", "Company", "Location", "Status", "Supplier", "Order Number",
    "Purchase Date", "Purchase Cost", "Warranty", "EOL Date", "Asset Notes",
    "Checked Out To: Username",
]  # fmt: skip
GAM_DEVICES = [
    "deviceId", "annotatedAssetId", "annotatedLocation", "annotatedUser", "lastSync",
    "notes", "serialNumber", "status", "model", "orgUnitPath", "autoUpdateThrough",
    "macAddress", "orderNumber",
]  # fmt: skip


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ",",
    encoding: str = "utf-8", bom: bool = False,
) -> bytes:  # fmt: skip
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def snipe_assets(n: int = 3, *, school: str = "Lincoln Elementary") -> bytes:
    rows = [
        [
            f"Cart {i}",
            f"LHS-{i:04d}",
            f"SN{i:06d}",
            "Latitude 3140",
            "3140",
            "Laptops",
            "Dell",
            "District",
            school,
            "Deployed",
            "CDW",
            f"PO-{i}",
            "08/15/2024",
            "$1,049.00",
            "36",
            "",
            "",
            f"student{i}",
        ]
        for i in range(1, n + 1)
    ]
    return csv_bytes(SNIPE_ASSETS, rows)


def gam_devices(n: int = 3, *, school: str = "Lincoln Elementary") -> bytes:
    rows = [
        [
            f"dev-{i}",
            f"CB-{i:04d}",
            "",
            f"kid{i}@example.org",
            "2026-11-30T10:00:00Z",
            "",
            f"GAM{i:06d}",
            "ACTIVE",
            "Lenovo 100e Chromebook Gen 3",
            f"/Students/{school}",
            "" if i % 2 else "2031-06-30",
            "",
            "",
        ]
        for i in range(1, n + 1)
    ]
    return csv_bytes(GAM_DEVICES, rows)


def merged_header_xlsx(rows: Sequence[Sequence[Any]], *, blank_tail: int = 5) -> bytes:
    """Two header rows: Asset Tag and Category merged down, Purchase over Date and Cost."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Asset Tag", "Purchase", None, "Category"])
    sheet.append([None, "Date", "Cost", None])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:D2")
    for row in rows:
        sheet.append(list(row))
    for i in range(blank_tail):
        sheet.cell(row=3 + len(rows) + i, column=1, value=None)
        sheet.cell(row=3 + len(rows) + i, column=4, value="")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BAD_HEADER = ["Asset Tag", "Category", "Status", "Purchase Date", "Purchase Cost",
              "Location", "Notes"]  # fmt: skip
# (row in the file, what is wrong with it, the column the error names)
BAD_ROWS = [
    (["BAD-1", "Laptop", "Vaporized", "", "", "", ""], "Status"),
    (["BAD-2", "Laptop", "Deployed", "2026-02-30", "", "", ""], "Purchase Date"),
    (["BAD-3", "Laptop", "Deployed", "", "1e308", "", ""], "Purchase Cost"),
    (["GOOD-1", "Laptop", "Deployed", "", "", "", ""], None),
    (["GOOD-1", "Laptop", "Spare", "", "", "", ""], "Asset Tag"),
    (["BAD-5", "Laptop", "Deployed", "", "", "Hogwarts", ""], "Location"),
    (["BAD-6", "Laptop", "Deployed", "", "", "", "x" * 5000], "Notes"),
]


def bad_rows_csv() -> bytes:
    return csv_bytes(BAD_HEADER, [row for row, _ in BAD_ROWS])
