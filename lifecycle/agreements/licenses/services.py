"""License services: the list, create/edit with derived terms, bulk actions.

What licenses share with service contracts lives in agreements/services.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.agreements import services as agreements
from lifecycle.agreements.services import agreement_filters, agreement_sorts
from lifecycle.bounds import parse_id
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.inventory.refs import require_refs
from lifecycle.models import License, LicenseCreate, LicenseUpdate, School, User, Vendor
from lifecycle.tenancy import scoped
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.listing import AnySelect, Filter, ListQuery, ListSpec, SortKey

EDITABLE = tuple(f for f in LicenseUpdate.model_fields if f != "version")
REQUIRED = (
    *("product", "seats", "seats_used", "term_start", "initial_term_months"),
    *("renewal_term_months", "renewal_type", "notice_days", "price_per_seat"),
)

# Seats used as a whole percentage of seats owned (NULL when no seats are owned).
UTILIZATION: Any = sa.case(
    (col(License.seats) > 0, col(License.seats_used) * 100 // col(License.seats)),
    else_=sa.null(),
)


def _search(q: str) -> sa.ColumnElement[bool]:
    like = f"%{q}%"
    return sa.or_(col(License.product).ilike(like), col(License.notes).ilike(like))


SPEC = ListSpec(
    filters=[
        Filter("school_id", "School", int, column=col(License.school_id)),
        *agreement_filters(License),
    ],
    sorts=[
        SortKey("product", "Product", col(License.product)),
        SortKey("seats", "Seats", col(License.seats)),
        SortKey("seats_used", "Seats used", col(License.seats_used)),
        SortKey("utilization", "Utilization", UTILIZATION, nullable=True),
        SortKey("price_per_seat", "Price per seat", col(License.price_per_seat)),
        *agreement_sorts(License),
    ],
    default_sort="product",
    id_column=col(License.id),
    search=_search,
)


def list_stmt(user: User) -> AnySelect:
    """Licenses the user may see, with school and vendor names and utilization."""
    stmt = (
        sa.select(
            License, col(School.name), col(Vendor.name), UTILIZATION.label("util")
        )
        .outerjoin(School, col(School.id) == License.school_id)
        .outerjoin(Vendor, col(Vendor.id) == License.vendor_id)
    )
    return scoped(stmt, License, user)


def row_key(query: ListQuery) -> Callable[[Any], tuple[Any, int]] | None:
    """The cursor value of a row when the list is sorted by a computed column."""
    if SPEC.sort_key(query.sort)[0].name != "utilization":
        return None
    return lambda row: (row.util, row[0].id)


def create_license(
    session: Session, *, user: User, data: LicenseCreate, today: date | None = None
) -> License:
    values = data.model_dump()
    return agreements.create(session, License, user=user, values=values, today=today)


def update_license(
    session: Session,
    *,
    user: User,
    lic: License,
    data: LicenseUpdate,
    today: date | None = None,
) -> License:
    changes = agreements.changes_of(
        session, lic, data, user=user, editable=EDITABLE, required=REQUIRED
    )
    if "catalog_item_id" in changes:
        agreements.catalog_defaults(session, changes)
    require_refs(session, lic.district_id, changes)
    validate(LicenseCreate, {**lic.model_dump(include=set(EDITABLE)), **changes})
    agreements.apply_changes(session, "license", lic, changes, today=today)
    return lic


BULK_ACTIONS = ("renewal_type", "cancel", "school")


def bulk_update(
    session: Session, *, user: User, ids: list[int], action: str, value: str | None
) -> int:
    """One change to the selected licenses of the user's district; each is audited."""
    district_id = agreements.bulk_district(user, ids, action, BULK_ACTIONS, "license")
    changes: dict[str, Any]
    if action == "cancel":
        changes = {"status": AgreementStatus.CANCELLED}
    elif action == "renewal_type":
        try:
            changes = {"renewal_type": RenewalType(value or "")}
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a renewal type"}) from exc
    else:
        try:
            changes = {"school_id": parse_id(value or "")}
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a school"}) from exc
        require_refs(session, district_id, changes)
    return agreements.apply_bulk(session, License, "license", district_id, ids, changes)
