"""Reading an uploaded CSV or XLSX file as a header and numbered rows. Pure.

A row's number is the spreadsheet's: the first line (or sheet row) is 1, so the header
is row 1 and an error message's "row 7" is the row a person sees in Excel. Blank rows
are skipped but still counted. Cells come as the file holds them: text from a CSV;
text, numbers, dates or None from an XLSX.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, TypeAlias

Cell: TypeAlias = str | int | float | date | datetime | None

CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
LATIN1_WARNING = (
    "The file is not UTF-8; it was read as Latin-1 (Windows Western). "
    "Check accented letters in the preview."
)


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX this importer can read; the message says why."""


@dataclass
class Table:
    """A file's header (one name per column) and its rows, read once, lazily."""

    headers: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    warnings: list[str] = field(default_factory=list)
    header_rows: int = 1


def file_kind(filename: str, head: bytes) -> str:
    """ "xlsx" or "csv": an XLSX is a zip (whatever its name), a CSV is anything else."""
    if head[:4] == b"PK\x03\x04":
        return "xlsx"
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("The file is named .xlsx but is not an Excel workbook.")
    return "csv"


def read_table(data: bytes, filename: str = "") -> Table:
    """The header and rows of a CSV or XLSX file held in memory."""
    if file_kind(filename, data[:4]) == "xlsx":
        return read_xlsx(io.BytesIO(data))
    return read_csv(data)


# --- CSV ---------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, list[str]]:
    """The text of a CSV: UTF-8 (a BOM is dropped), else Latin-1 with a warning."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise UnreadableFile(
            "The file holds binary data; upload a CSV or an XLSX workbook."
        )
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        # cp1252 is what Excel on Windows writes as "CSV"; its bytes 0x80–0x9F are
        # letters and signs there (€, ’), control characters in strict Latin-1.
        try:
            return data.decode("cp1252"), [LATIN1_WARNING]
        except UnicodeDecodeError:
            return data.decode("latin-1"), [LATIN1_WARNING]


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: , ; tab or |, by the header line's count first."""
    lines = [line for line in sample.splitlines() if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), CSV_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_csv(data: bytes) -> Table:
    text, warnings = decode(data)
    delimiter = sniff_delimiter(text[:SNIFF_BYTES])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = ((n, list[Cell](row)) for n, row in enumerate(reader, start=1))
    for number, row in numbered:
        if _blank(row):
            continue
        headers = [str(c).strip() for c in row]
        return Table(headers, _data_rows(numbered, len(headers)), warnings, number)
    raise UnreadableFile("The file is empty: no header row was found.")


def _blank(row: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def _data_rows(
    rows: Iterator[tuple[int, list[Cell]]], width: int
) -> Iterator[tuple[int, list[Cell]]]:
    for number, row in rows:
        if _blank(row):
            continue
        if len(row) < width:
            row = row + [None] * (width - len(row))
        yield number, row


# --- XLSX --------------------------------------------------------------------

_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


@dataclass(frozen=True)
class Merge:
    min_col: int
    min_row: int
    max_col: int
    max_row: int


def _parse_ref(ref: str) -> tuple[int, int]:
    match = _REF.fullmatch(ref.replace("$", ""))
    if not match:
        raise UnreadableFile(f"The workbook has a bad cell reference {ref!r}.")
    return _column(match.group(1)), int(match.group(2))


def merged_ranges(archive: zipfile.ZipFile, sheet_path: str) -> list[Merge]:
    """The merged cells of a sheet, read by streaming its XML (openpyxl's read-only
    mode does not report them)."""
    from openpyxl.xml.functions import iterparse

    merges: list[Merge] = []
    with archive.open(sheet_path) as stream:
        for _, element in iterparse(stream):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                first, _, last = element.get("ref", "").partition(":")
                min_col, min_row = _parse_ref(first)
                max_col, max_row = _parse_ref(last or first)
                merges.append(Merge(min_col, min_row, max_col, max_row))
            elif tag == "row":
                element.clear()  # keep memory flat over a large sheet
    return merges


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    """The XML part of the workbook's first sheet (the one openpyxl opens first)."""
    from openpyxl.xml.functions import iterparse

    names = archive.namelist()
    rels = "xl/_rels/workbook.xml.rels"
    if "xl/workbook.xml" not in names or rels not in names:
        raise UnreadableFile("The file is a zip but not an Excel workbook.")
    first_id = None
    with archive.open("xl/workbook.xml") as stream:
        for _, element in iterparse(stream):
            if element.tag.rsplit("}", 1)[-1] == "sheet":
                first_id = next(
                    (v for k, v in element.attrib.items() if k.endswith("}id")), None
                )
                break
    with archive.open(rels) as stream:
        for _, element in iterparse(stream):
            if element.get("Id") == first_id:
                target = element.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise UnreadableFile("The workbook has no sheet.")


def read_xlsx(stream: IO[bytes]) -> Table:
    """The first sheet of a workbook, streamed (openpyxl read-only, values only).

    A header may span two rows where cells are merged (a "Purchase" group over "Date"
    and "Cost" reads as "Purchase Date" and "Purchase Cost"); a merged header cell names
    every column it covers.
    """
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(stream)
        merges = merged_ranges(archive, _first_sheet_path(archive))
        stream.seek(0)
        book = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UnreadableFile(f"The workbook cannot be read ({exc}).") from exc
    sheet = book.worksheets[0]
    numbered: Iterator[tuple[int, list[Cell]]] = (
        (n, [_xlsx_cell(c) for c in row])
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)
    )
    for number, first in numbered:
        if _blank(first):
            continue
        header_rows = [first]
        last_row = max([m.max_row for m in merges if m.min_row == number] + [number])
        for _ in range(last_row - number):
            header_rows.append(next(numbered, (0, []))[1])
        grouped = [
            m
            for m in merges
            if m.min_row == m.max_row == number and m.max_col > m.min_col
        ]
        if grouped and last_row == number:
            after = next(numbered, None)
            if after is not None and _sub_header(after[1], grouped, merges, number):
                header_rows.append(after[1])
                last_row += 1
            elif after is not None:
                numbered = itertools.chain([after], numbered)
        headers = _merged_headers(header_rows, number, merges)
        return Table(headers, _data_rows(numbered, len(headers)), [], last_row)
    raise UnreadableFile("The workbook's first sheet is empty.")


def _sub_header(
    row: list[Cell], grouped: list[Merge], merges: list[Merge], first: int
) -> bool:
    """Whether the row under a header with merged groups names the groups' columns:
    text under every group, nothing elsewhere but cells merged down from the header."""
    under = {c for m in grouped for c in range(m.min_col, m.max_col + 1)}
    down = {
        c
        for m in merges
        if m.min_row == first and m.max_row > first
        for c in range(m.min_col, m.max_col + 1)
    }
    for c, value in enumerate(row, start=1):
        text = _text(value)
        if c in under:
            if not text or not isinstance(value, str):
                return False
        elif text and c not in down:
            return False
    return all(c <= len(row) and _text(row[c - 1]) for c in under)


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | date):
        return value
    return str(value)


def _merged_headers(
    rows: list[list[Cell]], first: int, merges: list[Merge]
) -> list[str]:
    width = max(len(r) for r in rows)
    grid = [[_text(r[i]) if i < len(r) else "" for i in range(width)] for r in rows]
    last = first + len(rows) - 1
    for m in merges:
        if m.max_row < first or m.min_row > last:
            continue
        top = grid[m.min_row - first][m.min_col - 1] if m.min_row >= first else ""
        for r in range(max(m.min_row, first), min(m.max_row, last) + 1):
            for c in range(m.min_col, min(m.max_col, width) + 1):
                grid[r - first][c - 1] = top
    headers = []
    for c in range(width):
        parts: list[str] = []
        for r in range(len(rows)):
            if grid[r][c] and grid[r][c] not in parts:
                parts.append(grid[r][c])
        headers.append(" ".join(parts))
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _text(value: Cell) -> str:
    return "" if value is None else str(value).strip()
