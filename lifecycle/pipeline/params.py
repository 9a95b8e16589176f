"""What a pipeline request asks for: quarters, grouping, sort and filters, parsed once for
the pages, the exports and the API, with a 422 that names every bad value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lifecycle.bounds import parse_id, parse_int
from lifecycle.enums import DeviceCategory
from lifecycle.pipeline.pivot import (
    DEFAULT_QUARTERS,
    DEFAULT_SORT,
    MAX_QUARTERS,
    MIN_QUARTERS,
    SORTS,
    UNIT_OF_KIND,
)
from lifecycle.web.errors import ValidationFailed

GROUPS = {
    "vendor": "Vendor",
    "vehicle": "Contract vehicle",
    "item": "Catalog item",
    "category": "Category",
}
DEFAULT_GROUP = "vendor"
KINDS = {
    "refresh": "Device refresh",
    "license_renewal": "License renewal",
    "contract_renewal": "Contract renewal",
}
assert set(KINDS) == set(UNIT_OF_KIND)
# An obligation's category: a device category, "license" for licenses, and a
# contract's coverage category or "service".
CATEGORIES = (*(c.value for c in DeviceCategory), "license", "service")
FILTERS = ("district_id", "category", "kind", "vendor_id", "vehicle_id")
NOT_FILTERS = ("quarters", "group", "sort")


@dataclass(frozen=True, slots=True)
class Query:
    quarters: int = DEFAULT_QUARTERS
    group: str = DEFAULT_GROUP
    sort: str = DEFAULT_SORT
    district_id: int | None = None
    category: str | None = None
    kind: str | None = None
    vendor_id: int | None = None
    vehicle_id: int | None = None

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) is not None for name in FILTERS)

    def params(self, *, filters: bool = True, **extra: Any) -> dict[str, Any]:
        """The query string that reproduces this view (defaults left out)."""
        out: dict[str, Any] = {}
        if self.quarters != DEFAULT_QUARTERS:
            out["quarters"] = self.quarters
        if self.group != DEFAULT_GROUP:
            out["group"] = self.group
        if self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        if filters:
            for name in FILTERS:
                value = getattr(self, name)
                if value is not None:
                    out[name] = value
        out.update(extra)
        return out


def parse(args: Mapping[str, str], *, extra: tuple[str, ...] = ()) -> Query:
    """Read the request's arguments; names outside the pipeline's (and `extra`) are a
    422, as on the API, so a misspelt filter never looks like an empty answer."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in args:
        if name not in (*FILTERS, *NOT_FILTERS, *extra):
            errors[name] = "is not a filter of the pipeline"
    raw = {name: (args.get(name) or "").strip() for name in (*FILTERS, *NOT_FILTERS)}
    if raw["quarters"]:
        try:
            values["quarters"] = parse_int(
                raw["quarters"], low=MIN_QUARTERS, high=MAX_QUARTERS
            )
        except ValueError:
            errors["quarters"] = (
                f"must be a whole number from {MIN_QUARTERS} to {MAX_QUARTERS}"
            )
    if raw["group"]:
        if raw["group"] in GROUPS:
            values["group"] = raw["group"]
        else:
            errors["group"] = "must be one of: " + ", ".join(GROUPS)
    if raw["sort"]:
        if raw["sort"] in SORTS:
            values["sort"] = raw["sort"]
        else:
            errors["sort"] = "must be one of: " + ", ".join(SORTS)
    for name in ("district_id", "vendor_id", "vehicle_id"):
        if raw[name]:
            try:
                values[name] = parse_id(raw[name])
            except ValueError:
                errors[name] = "must be a record id (a whole number from 1)"
    if raw["category"]:
        if raw["category"] in CATEGORIES:
            values["category"] = raw["category"]
        else:
            errors["category"] = "is not a category"
    if raw["kind"]:
        if raw["kind"] in KINDS:
            values["kind"] = raw["kind"]
        else:
            errors["kind"] = "must be one of: " + ", ".join(KINDS)
    if errors:
        raise ValidationFailed(errors)
    return Query(**values)
