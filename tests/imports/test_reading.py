"""Reading CSV and XLSX files: delimiters, encodings, row numbers, merged headers."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.imports.reading import (
    LATIN1_WARNING,
    UnreadableFile,
    read_table,
    sniff_delimiter,
)

from .files import csv_bytes, merged_header_xlsx, xlsx_bytes


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_delimiter_is_sniffed(delimiter: str) -> None:
    data = csv_bytes(
        ["Asset Tag", "Model"], [["A-1", "Dell 3120"]], delimiter=delimiter
    )
    table = read_table(data, "x.csv")
    assert table.headers == ["Asset Tag", "Model"]
    assert list(table.rows) == [(2, ["A-1", "Dell 3120"])]


def test_a_bom_is_dropped_and_latin1_is_read_with_a_warning() -> None:
    table = read_table(csv_bytes(["Asset Tag"], [["Café"]], bom=True))
    assert table.headers == ["Asset Tag"] and not table.warnings
    assert list(table.rows) == [(2, ["Café"])]
    latin = read_table(csv_bytes(["Asset Tag"], [["Café"]], encoding="latin-1"))
    assert latin.warnings == [LATIN1_WARNING]
    assert list(latin.rows) == [(2, ["Café"])]


def test_row_numbers_are_the_files_and_blank_rows_count_but_are_skipped() -> None:
    data = b"\n\nTag,Model\nA-1,x\n,\n\nA-2,y\n  ,  \n"
    table = read_table(data)
    assert table.header_rows == 3
    assert list(table.rows) == [(4, ["A-1", "x"]), (7, ["A-2", "y"])]


def test_a_short_row_is_padded_and_quoted_newlines_are_one_row() -> None:
    table = read_table(b'Tag,Model,Notes\nA-1\nA-2,x,"two\nlines"\nA-3,y,z\n')
    rows = list(table.rows)
    assert rows[0] == (2, ["A-1", None, None])
    assert rows[1] == (3, ["A-2", "x", "two\nlines"])
    assert rows[2][1] == ["A-3", "y", "z"]


def test_empty_and_binary_files_are_refused() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        read_table(b"\n \n")
    with pytest.raises(UnreadableFile, match="binary"):
        read_table(b"\x00\x01\x02")
    with pytest.raises(UnreadableFile, match="not an Excel"):
        read_table(b"Tag\nA", "inventory.xlsx")
    with pytest.raises(UnreadableFile):
        read_table(b"PK\x03\x04 not really a zip", "x.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnreadableFile, match="not an Excel"):
        read_table(out.getvalue(), "x.xlsx")


def test_xlsx_merged_header_cells_and_blank_trailing_rows() -> None:
    data = merged_header_xlsx(
        [
            ["A-1", datetime(2024, 8, 15), 349.5, "Chromebook"],
            ["A-2", 45519, "$1,000", "Laptop"],
        ]
    )
    table = read_table(data, "inventory.xlsx")
    assert table.headers == ["Asset Tag", "Purchase Date", "Purchase Cost", "Category"]
    assert table.header_rows == 2
    rows = list(table.rows)
    assert [n for n, _ in rows] == [3, 4]
    assert rows[0][1] == ["A-1", datetime(2024, 8, 15), 349.5, "Chromebook"]
    assert rows[1][1] == ["A-2", 45519, "$1,000", "Laptop"]


def test_xlsx_with_a_cosmetic_merge_keeps_its_first_data_row() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Asset Tag", "Notes", None])
    sheet.merge_cells("B1:C1")
    sheet.append(["A-1", "first", None])
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "x.xlsx")
    assert table.headers == ["Asset Tag", "Notes", "Notes"]
    assert list(table.rows) == [(2, ["A-1", "first", None])]


def test_plain_xlsx() -> None:
    table = read_table(xlsx_bytes(["Tag", "Seats"], [["A", 3], [None, None]]))
    assert table.headers == ["Tag", "Seats"]
    assert list(table.rows) == [(2, ["A", 3])]


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=12,
)


# the machine is shared: generation may be slow, never the property
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=8))
def test_any_csv_we_write_reads_back_cell_for_cell(rows: list[list[str]]) -> None:
    data = csv_bytes(["a", "b", "c"], rows)
    table = read_table(data)
    kept = [r for r in rows if any(c.strip() for c in r)]
    assert [r for _, r in table.rows] == kept


@given(st.sampled_from([",", ";", "\t", "|"]), st.integers(2, 6))
def test_the_sniffer_finds_the_delimiter_of_a_plain_header(d: str, n: int) -> None:
    header = d.join(f"col{i}" for i in range(n))
    body = d.join(f"v{i}" for i in range(n))
    assert sniff_delimiter(f"{header}\n{body}\n") == d
