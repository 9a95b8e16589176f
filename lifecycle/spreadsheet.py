"""Text a spreadsheet must show, never run (OWASP "CSV injection"). Pure.

Excel, LibreOffice and Google Sheets read a CSV cell that starts with one of these
characters as a formula; every export prefixes such text with an apostrophe, which the
spreadsheet shows as text.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text[:1] in FORMULA_START


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: enums by value, text that would run as a formula quoted;
    numbers as they are (a negative number is not a formula)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
