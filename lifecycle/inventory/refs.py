"""Checks that a record's references (school, catalog item, vehicle, vendor) are usable."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lifecycle.models import CatalogItem, ContractVehicle, School, Vendor
from lifecycle.web.errors import ValidationFailed


def check_refs(
    session: Session, district_id: int, values: dict[str, Any]
) -> dict[str, str]:
    """Field errors for references that point nowhere or into another district."""
    errors: dict[str, str] = {}
    school_fields = ("school_id", "coverage_school_id")
    for name in school_fields:
        school_id = values.get(name)
        if school_id is not None:
            school = session.get(School, school_id)
            if school is None or school.district_id != district_id:
                errors[name] = "is not a school of your district"
    refs: list[tuple[str, type[Any], str]] = [
        ("catalog_item_id", CatalogItem, "is not a cooperative catalog item"),
        ("vehicle_id", ContractVehicle, "is not a cooperative contract vehicle"),
        ("vendor_id", Vendor, "is not a known vendor"),
    ]
    for name, model, message in refs:
        ident = values.get(name)
        if ident is not None and session.get(model, ident) is None:
            errors[name] = message
    return errors


def require_refs(session: Session, district_id: int, values: dict[str, Any]) -> None:
    errors = check_refs(session, district_id, values)
    if errors:
        raise ValidationFailed(errors)
