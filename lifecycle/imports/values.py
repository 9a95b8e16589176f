"""One cell of an imported file as one of our values. Pure.

Each parser takes a cell as the file holds it (text from a CSV; text, a number or a
date from an XLSX) and returns the value or raises ValueError with the message a
person reads next to the row ("is not a real date").
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from lifecycle.bounds import EARLIEST, LATEST
from lifecycle.enums import DeviceCategory, DeviceStatus, RenewalType
from lifecycle.imports.reading import Cell

# Excel counts days from 1899-12-30 (its 1900 leap-year bug folded in).
EXCEL_EPOCH = date(1899, 12, 30)
# The serial numbers of the dates we accept (lifecycle/bounds.py: 1980 … 2200); a
# number outside them is a count or a typing mistake, not a date.
EXCEL_SERIALS = range((EARLIEST - EXCEL_EPOCH).days, (LATEST - EXCEL_EPOCH).days + 1)
DATE_FORMS = "YYYY-MM-DD, MM/DD/YYYY or an Excel date"

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?")
_SERIAL = re.compile(r"\d{5,6}(?:\.\d+)?")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_CURRENCY = re.compile(r"^(?:USD|US\$|\$|€|£)|(?:USD|\$)$", re.IGNORECASE)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious ".0", dates in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 1e15:
        return str(int(cell))
    if isinstance(cell, datetime):
        return (
            cell.date().isoformat() if cell.time() == datetime.min.time() else str(cell)
        )
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell).strip()


def _real(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"is not a real date ({year:04d}-{month:02d}-{day:02d})"
        ) from None


def _from_serial(serial: float) -> date:
    if int(serial) not in EXCEL_SERIALS:
        raise ValueError(f"must be a date ({DATE_FORMS})")
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(cell: Cell, *, month_end: bool = False) -> date | None:
    """A date in ISO (2026-08-31, also with a time), US (08/31/2026) or Excel-serial
    form; with `month_end`, a month alone (2029-06) means its last day (an AUE month)."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool):
        raise ValueError(f"must be a date ({DATE_FORMS})")
    if isinstance(cell, int | float):
        return _from_serial(cell)
    raw = cell.strip()
    if not raw:
        return None
    if match := _ISO.fullmatch(raw):
        return _real(*(int(g) for g in match.groups()))
    if match := _US.fullmatch(raw):
        month, day, year = (int(g) for g in match.groups())
        return _real(year, month, day)
    if month_end and (match := _ISO_MONTH.fullmatch(raw)):
        year, month = (int(g) for g in match.groups())
        if not 1 <= month <= 12:
            raise ValueError(f"is not a real month ({raw})")
        following = date(year + month // 12, month % 12 + 1, 1)
        return following - timedelta(days=1)
    if _SERIAL.fullmatch(raw):
        return _from_serial(float(raw))
    raise ValueError(f"must be a date ({DATE_FORMS})")


def parse_money(cell: Cell) -> Decimal | None:
    """An amount: "$1,234.50", "1234.5", "(12.00)" (negative) or a spreadsheet number.
    An exponent ("1e308") is refused: no price is written that way."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise ValueError("must be an amount like 1234.50")
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        # repr is the shortest text that reads back as the same float: 19.99, not
        # 19.989999999999998436805981327779591083526611328125
        amount = Decimal(repr(cell))
        if not amount.is_finite():
            raise ValueError("must be an amount like 1234.50")
        return amount
    raw = text(cell).replace("\u00a0", " ").strip()
    if not raw:
        return None
    negative = raw.startswith("(") and raw.endswith(")")
    raw = raw.strip("()").strip()
    if raw.startswith("-"):
        negative, raw = True, raw[1:].strip()
    raw = _CURRENCY.sub("", raw).strip()
    if raw.startswith("-"):  # "$-12.00"
        negative, raw = True, raw[1:].strip()
    raw = raw.replace(" ", "")
    if "," in raw:
        if not _THOUSANDS.fullmatch(raw):
            raise ValueError("must be an amount like 1234.50")
        raw = raw.replace(",", "")
    if not _AMOUNT.fullmatch(raw):
        raise ValueError("must be an amount like 1234.50")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be an amount like 1234.50") from None
    return -amount if negative else amount


def parse_whole(cell: Cell) -> int | None:
    """A count or a number of months: "24", 24, 24.0, "1,000"."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        raise ValueError("must be a whole number")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not cell.is_integer():
            raise ValueError("must be a whole number")
        return int(cell)
    raw = text(cell).replace(",", "")
    if not raw:
        return None
    # Snipe-IT writes a warranty as "36 months"
    raw = re.sub(r"\s*months?$", "", raw, flags=re.IGNORECASE)
    if not re.fullmatch(r"[+-]?[0-9]{1,12}", raw, re.ASCII):
        raise ValueError("must be a whole number")
    return int(raw)


def _word(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", value.lower())


def _table(pairs: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_word(alias): ours for ours, aliases in pairs.items() for alias in aliases}


# What other systems call a device's state, by our status (Snipe-IT's default status
# labels, Google Admin's device states, words people type).
STATUS_WORDS = _table(
    {
        DeviceStatus.IN_SERVICE: (
            "in service", "deployed", "active", "provisioned", "in use", "assigned",
            "checked out",
        ),
        DeviceStatus.SPARE: (
            "spare", "ready to deploy", "deployable", "available", "in stock",
            "inventory", "disabled", "inactive",
        ),
        DeviceStatus.IN_REPAIR: (
            "in repair", "repair", "broken", "out for repair", "out for diagnostics",
            "damaged", "undeployable",
        ),
        DeviceStatus.LOST: ("lost", "stolen", "lost/stolen", "missing"),
        DeviceStatus.RETIRED: (
            "retired", "archived", "deprovisioned", "disposed", "recycled",
            "decommissioned", "surplus",
        ),
        DeviceStatus.ON_ORDER: ("on order", "ordered", "pending", "pre-provisioned"),
    }
)  # fmt: skip

CATEGORY_WORDS = _table(
    {
        DeviceCategory.CHROMEBOOK: ("chromebook", "chromebooks", "chrome os", "chromeos"),
        DeviceCategory.LAPTOP: ("laptop", "laptops", "notebook", "notebooks", "macbook"),
        DeviceCategory.DESKTOP: ("desktop", "desktops", "pc", "workstation", "imac"),
        DeviceCategory.TABLET: ("tablet", "tablets", "ipad", "ipads"),
        DeviceCategory.INTERACTIVE_DISPLAY: (
            "interactive display", "interactive displays", "interactive panel",
            "smart board", "smartboard", "interactive flat panel", "ifp",
        ),
        DeviceCategory.PROJECTOR: ("projector", "projectors"),
        DeviceCategory.DOCUMENT_CAMERA: (
            "document camera", "document cameras", "doc cam", "doc camera",
        ),
        DeviceCategory.PRINTER: ("printer", "printers", "copier", "mfp"),
        DeviceCategory.NETWORK_SWITCH: ("network switch", "switch", "switches"),
        DeviceCategory.WIRELESS_AP: (
            "wireless ap", "access point", "access points", "wap", "wifi ap",
        ),
        DeviceCategory.FIREWALL: ("firewall", "firewalls"),
        DeviceCategory.SERVER: ("server", "servers"),
        DeviceCategory.UPS: ("ups", "battery backup", "uninterruptible power supply"),
        DeviceCategory.PHONE: ("phone", "phones", "voip phone", "ip phone"),
        DeviceCategory.OTHER: ("other", "misc", "miscellaneous", "accessory"),
    }
)  # fmt: skip

RENEWAL_WORDS = _table(
    {
        RenewalType.TACIT: ("tacit", "auto", "auto-renew", "automatic", "evergreen"),
        RenewalType.EXPRESS: ("express", "manual", "must renew", "renew"),
        RenewalType.NONE: ("none", "no", "ends", "fixed term", "no renewal"),
    }
)  # fmt: skip


def _closed(cell: Cell, words: dict[str, str], what: str) -> str | None:
    raw = text(cell)
    if not raw:
        return None
    found = words.get(_word(raw))
    if found is None:
        raise ValueError(f"{raw!r} is not a {what} we know")
    return found


def parse_status(cell: Cell) -> DeviceStatus | None:
    found = _closed(cell, STATUS_WORDS, "device status")
    return None if found is None else DeviceStatus(found)


def parse_category(cell: Cell) -> DeviceCategory | None:
    found = _closed(cell, CATEGORY_WORDS, "device category")
    return None if found is None else DeviceCategory(found)


def parse_renewal(cell: Cell) -> RenewalType | None:
    found = _closed(cell, RENEWAL_WORDS, "kind of renewal")
    return None if found is None else RenewalType(found)


def parse_flag(cell: Cell) -> bool | None:
    raw = _word(text(cell))
    if not raw:
        return None
    if raw in ("yes", "y", "true", "1", "x"):
        return True
    if raw in ("no", "n", "false", "0"):
        return False
    raise ValueError("must be yes or no")


def school_names(cell: Cell) -> list[str]:
    """The names a school cell may mean, most specific first: an org unit path
    ("/Students/Lincoln Elementary") names each of its parts, the deepest first."""
    raw = text(cell)
    if not raw:
        return []
    if raw.startswith("/"):
        return [part.strip() for part in reversed(raw.split("/")) if part.strip()]
    return [raw]


def name_key(name: str) -> str:
    """How a school, vendor or model name is compared: case, spaces and punctuation
    do not matter."""
    return _word(name)
