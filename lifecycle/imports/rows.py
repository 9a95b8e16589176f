"""One mapped row of an import as the values a record will hold, or why it is refused.

The values go through the same input models the forms and the API use (DeviceCreate,
LicenseCreate, ServiceContractCreate), so an imported row obeys every rule a typed one
does. What needs the district's data (which school, vendor or catalog item a name
means) is left as names for the job to resolve in one query per chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ValidationError

from lifecycle.enums import ContractKind, DeviceCategory, ImportKind
from lifecycle.imports import values as v
from lifecycle.imports.fields import FIELDS, KEYS
from lifecycle.imports.reading import Cell
from lifecycle.models import DeviceCreate, LicenseCreate, ServiceContractCreate
from lifecycle.refdata import aue_date as reference_aue
from lifecycle.web.errors import field_errors

CONTRACT_KIND_WORDS = {
    v.name_key(w): kind
    for kind, words in {
        ContractKind.MAINTENANCE: ("maintenance", "hardware maintenance"),
        ContractKind.SUPPORT: ("support", "software support", "technical support"),
        ContractKind.WARRANTY_EXTENSION: (
            "warranty extension", "extended warranty", "warranty",
        ),
        ContractKind.MANAGED_SERVICE: ("managed service", "managed services", "msp"),
    }.items()
    for w in words
}  # fmt: skip


def _contract_kind(cell: Cell) -> ContractKind | None:
    raw = v.text(cell)
    if not raw:
        return None
    found = CONTRACT_KIND_WORDS.get(v.name_key(raw))
    if found is None:
        raise ValueError(f"{raw!r} is not a kind of contract we know")
    return found


def _plain(cell: Cell) -> str | None:
    return v.text(cell) or None


# How each field's cell is read; a field not named here is text.
PARSERS: dict[str, Callable[[Cell], Any]] = {
    "category": v.parse_category,
    "status": v.parse_status,
    "purchase_date": v.parse_date,
    "warranty_end": v.parse_date,
    "eol_date": v.parse_date,
    "aue_date": lambda cell: v.parse_date(cell, month_end=True),
    "term_start": v.parse_date,
    "term_end": v.parse_date,
    "purchase_cost": v.parse_money,
    "price_per_seat": v.parse_money,
    "total_cost": v.parse_money,
    "cost_per_period": v.parse_money,
    "warranty_months": v.parse_whole,
    "lifespan_months": v.parse_whole,
    "seats": v.parse_whole,
    "seats_used": v.parse_whole,
    "initial_term_months": v.parse_whole,
    "renewal_term_months": v.parse_whole,
    "notice_days": v.parse_whole,
    "renewal_type": v.parse_renewal,
    "kind": _contract_kind,
    "erate_c2_eligible": v.parse_flag,
    "school": v.school_names,
}
# Fields read from the file that no model holds: resolved or combined here.
HELPERS = {"school", "vendor", "warranty_months", "term_end", "total_cost"}
MODELS: dict[ImportKind, type[BaseModel]] = {
    ImportKind.DEVICES: DeviceCreate,
    ImportKind.LICENSES: LicenseCreate,
    ImportKind.CONTRACTS: ServiceContractCreate,
}
# Where a model's complaint about a derived field points in the file.
SOURCES = {
    "warranty_end": ("warranty_end", "warranty_months"),
    "initial_term_months": ("initial_term_months", "term_end"),
    "price_per_seat": ("price_per_seat", "total_cost"),
    "school_id": ("school",),
    "coverage_school_id": ("school",),
}


@dataclass
class Prepared:
    """A row that passed validation: the model's values, and the names to resolve."""

    number: int
    values: dict[str, Any]
    key: tuple[str, ...]
    school: list[str] = field(default_factory=list)
    vendor: str = ""
    aue_from_reference: bool = False


@dataclass
class Rejected:
    """A refused row: its number in the file, the file's column and what is wrong."""

    number: int
    column: str
    message: str


@dataclass(frozen=True)
class Plan:
    """How an import reads rows: the kind, the key, the mapping and per-field defaults
    (a category for a file without one)."""

    kind: ImportKind
    key: str
    mapping: dict[str, int]
    headers: list[str]
    defaults: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> str:
        index = self.mapping.get(name)
        if index is None or index >= len(self.headers):
            label = next((f.label for f in FIELDS[self.kind] if f.name == name), name)
            return label
        return self.headers[index] or f"column {index + 1}"


def key_of(plan: Plan, row: list[Cell]) -> tuple[str, ...] | None:
    """The row's upsert key as the file writes it, or None when a part is blank."""
    parts = []
    for name in KEYS[plan.kind][plan.key]:
        index = plan.mapping.get(name)
        cell = row[index] if index is not None and index < len(row) else None
        if name == "term_start":
            try:
                when = v.parse_date(cell)
            except ValueError:
                return None
            text = when.isoformat() if when else ""
        else:
            text = v.text(cell)
        if not text:
            return None
        parts.append(text)
    return tuple(parts)


def _months_between(start: date, end: date) -> int:
    """A term's length from its first and last day: 2025-07-01 … 2026-06-30 is 12."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if start + relativedelta(months=months) <= end:
        months += 1
    return max(months, 1)


def prepare(plan: Plan, number: int, row: list[Cell]) -> Prepared | Rejected:
    raw: dict[str, Any] = {}
    for name, index in plan.mapping.items():
        cell = row[index] if index < len(row) else None
        parser = PARSERS.get(name, _plain)
        try:
            value = parser(cell)
        except ValueError as exc:
            return Rejected(number, plan.column(name), str(exc))
        if value is not None and value != []:
            raw[name] = value
    for name, default in plan.defaults.items():
        if name not in raw and default:
            try:
                raw[name] = PARSERS.get(name, _plain)(default)
            except ValueError as exc:
                return Rejected(number, plan.column(name), str(exc))
    key = key_of(plan, row)
    if key is None:
        names = KEYS[plan.kind][plan.key]
        return Rejected(
            number, plan.column(names[0]), "is the import's key and is empty"
        )
    school = raw.pop("school", [])
    vendor = raw.pop("vendor", "")
    from_reference = _derive(plan.kind, raw)
    model = MODELS[plan.kind]
    data = {k: val for k, val in raw.items() if k not in HELPERS}
    try:
        checked = model.model_validate(data)
    except ValidationError as exc:
        name, message = next(iter(field_errors(exc).items()))
        sources = [s for s in SOURCES.get(name, (name,)) if s in plan.mapping]
        column = plan.column(sources[0] if sources else name)
        return Rejected(number, column, message)
    values = {name: getattr(checked, name) for name in data}
    return Prepared(number, values, key, school, vendor, from_reference)


def _derive(kind: ImportKind, raw: dict[str, Any]) -> bool:
    """Fill the fields a file gives another way; True when the AUE date came from the
    package's reference list."""
    months = raw.pop("warranty_months", None)
    if kind is ImportKind.DEVICES:
        if months and "warranty_end" not in raw and raw.get("purchase_date"):
            raw["warranty_end"] = raw["purchase_date"] + relativedelta(months=months)
        chromebook = raw.get("category") is DeviceCategory.CHROMEBOOK
        if "aue_date" not in raw and chromebook and raw.get("model"):
            found = reference_aue(raw["model"])
            if found is not None:
                raw["aue_date"] = found
                return True
        return False
    end = raw.pop("term_end", None)
    start = raw.get("term_start")
    if end is not None and start is not None and "initial_term_months" not in raw:
        if end < start:
            raw["initial_term_months"] = 0  # the model says it must be at least 1
        else:
            raw["initial_term_months"] = _months_between(start, end)
    total = raw.pop("total_cost", None)
    if kind is ImportKind.LICENSES and total is not None:
        seats = raw.get("seats")
        if "price_per_seat" not in raw and isinstance(seats, int) and seats > 0:
            raw["price_per_seat"] = (total / seats).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
    return False
