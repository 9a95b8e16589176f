"""What licenses and service contracts share: list filters, delete, and the
create/update/bulk pipeline (the term bookkeeping is in agreements/terms.py).

licenses/services.py and contracts/services.py add only what differs (seats; coverage
and escalation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.agreements.terms import (
    apply,
    district_today,
    refresh_terms,
    renewed_through,
)
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.inventory.refs import require_refs
from lifecycle.models import (
    Agreement,
    CatalogItem,
    ContractCoveredDevice,
    ContractVehicle,
    License,
    Obligation,
    ServiceContract,
    TermRecord,
    User,
)
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.tenancy import scoped, writable_district
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.listing import Filter, SortKey, date_range
from lifecycle.web.records import claim_version

A = TypeVar("A", License, ServiceContract)
TEXT = ("funding_source", "notes")
# Changing these redraws the terms instead of rolling the current one forward.
TERM_RULES = (
    *("term_start", "initial_term_months", "renewal_term_months", "renewal_type"),
)


def agreement_filters(m: type[Agreement]) -> list[Filter]:
    """The filters licenses and contracts share."""
    return [
        Filter("district_id", "District", int, column=col(m.district_id)),
        Filter("vendor_id", "Vendor", int, column=col(m.vendor_id)),
        Filter("vehicle_id", "Contract vehicle", int, column=col(m.vehicle_id)),
        Filter("funding_source", "Funding source", str, column=col(m.funding_source)),
        Filter("renewal_type", "Renewal", RenewalType, column=col(m.renewal_type)),
        Filter("status", "Status", AgreementStatus, column=col(m.status)),
        *date_range("decide_by", "Decide by", col(m.decide_by)),
    ]


def agreement_sorts(m: type[Agreement]) -> list[SortKey]:
    """The sort keys licenses and contracts share."""
    return [
        SortKey("renewal_type", "Renewal", col(m.renewal_type)),
        SortKey("status", "Status", col(m.status)),
        SortKey("decide_by", "Decide by", col(m.decide_by), nullable=True),
        SortKey("current_term_end", "Ends", col(m.current_term_end), nullable=True),
    ]


def funding_sources(session: Session, user: User, model: type[Agreement]) -> list[str]:
    stmt = scoped(sa.select(col(model.funding_source)).distinct(), model, user).where(
        col(model.funding_source) != ""
    )
    return sorted(s for (s,) in session.execute(stmt).all() if s)


# --- delete, create, update, bulk ------------------------------------------------


def delete_agreement(
    session: Session, *, user: User, subject: str, obj: Agreement
) -> None:
    """Delete a record created by mistake, with its term history and obligations."""
    writable_district(user, obj.district_id)
    if isinstance(obj, ServiceContract):
        session.execute(
            sa.delete(ContractCoveredDevice).where(
                col(ContractCoveredDevice.contract_id) == obj.id
            )
        )
    for model in (TermRecord, Obligation):
        session.execute(
            sa.delete(model).where(
                col(model.subject_type) == subject, col(model.subject_id) == obj.id
            )
        )
    session.delete(obj)
    session.flush()
    schedule_rescan(session, obj.district_id)


def normalize(changes: dict[str, Any], required: tuple[str, ...]) -> None:
    """A blank required field is an error; a blank text field is empty, not NULL."""
    missing = {
        k: "is required" for k in required if k in changes and changes[k] is None
    }
    if missing:
        raise ValidationFailed(missing)
    for key in TEXT:
        if key in changes and changes[key] is None:
            changes[key] = ""


def catalog_defaults(session: Session, values: dict[str, Any]) -> None:
    """A catalog link brings its contract vehicle, and the vehicle its vendor."""
    item_id = values.get("catalog_item_id")
    item = session.get(CatalogItem, item_id) if item_id else None
    if item is not None and values.get("vehicle_id") is None:
        values["vehicle_id"] = item.vehicle_id
    vehicle_id = values.get("vehicle_id")
    vehicle = session.get(ContractVehicle, vehicle_id) if vehicle_id else None
    if vehicle is not None and values.get("vendor_id") is None:
        values["vendor_id"] = vehicle.vendor_id


def create(
    session: Session,
    model: type[A],
    *,
    user: User,
    values: dict[str, Any],
    today: date | None = None,
) -> A:
    """Add an agreement to the user's district with its terms derived."""
    district_id = writable_district(user)
    catalog_defaults(session, values)
    require_refs(session, district_id, values)
    obj = model(district_id=district_id, **values)
    apply(obj, today=today or district_today(session, district_id))
    session.add(obj)
    session.flush()
    schedule_rescan(session, district_id)
    return obj


def changes_of(
    session: Session,
    obj: Agreement,
    data: Any,
    *,
    user: User,
    editable: tuple[str, ...],
    required: tuple[str, ...],
) -> dict[str, Any]:
    """The fields an update sets, once the user may write and the version is current."""
    writable_district(user, obj.district_id)
    claim_version(session, obj, data.version, fields=editable)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"version"})
    normalize(changes, required)
    return changes


def apply_changes(
    session: Session,
    subject: str,
    obj: Agreement,
    changes: dict[str, Any],
    *,
    today: date | None = None,
    reprice: bool = True,
) -> None:
    """Set validated changes and recompute the terms (rolled forward unless redrawn)."""
    previous = obj.current_term_number
    for key, value in changes.items():
        setattr(obj, key, value)
    refresh_terms(
        session,
        subject,
        obj,
        today=today or district_today(session, obj.district_id),
        previous=None if any(k in changes for k in TERM_RULES) else previous,
        reprice=reprice,
    )
    session.flush()
    # Any field may change what is due or who is told (dates, price, thresholds, owner).
    schedule_rescan(session, obj.district_id)


def bulk_district(
    user: User, ids: list[int], action: str, actions: Sequence[str], noun: str
) -> int:
    """The district a bulk action writes in, once it names records and a known action."""
    district_id = writable_district(user)
    if not ids:
        raise ValidationFailed({"ids": f"select at least one {noun}"})
    if action not in actions:
        raise ValidationFailed({"action": "is not a bulk action"})
    return district_id


def apply_bulk(
    session: Session,
    model: type[Agreement],
    subject: str,
    district_id: int,
    ids: list[int],
    changes: dict[str, Any],
) -> int:
    """Set `changes` on the selected agreements; recompute terms if the rules change."""
    stmt: Any = select(model).where(
        col(model.district_id) == district_id, col(model.id).in_(ids)
    )
    rows: list[Agreement] = list(session.exec(stmt).all())
    if not rows:
        raise ValidationFailed({"ids": "none of the selected records are yours"})
    for row in rows:
        for key, value in changes.items():
            setattr(row, key, value)
    if any(k in changes for k in (*TERM_RULES, "status")):
        with session.no_autoflush:
            through = renewed_through(session, subject, [r.id for r in rows if r.id])
            today = district_today(session, district_id)
        for row in rows:
            apply(row, today=today, renewed_through=through.get(row.id or 0, 1))
    session.flush()
    schedule_rescan(session, district_id)
    return len(rows)
