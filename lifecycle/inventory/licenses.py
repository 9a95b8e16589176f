"""License services: list, create/edit with derived terms, renew, cancel, bulk actions.

The term bookkeeping licenses and service contracts share (today in the district's time
zone, the term history, renewals) lives here too; contracts.py reuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, select

from .. import audit
from ..enums import AgreementStatus, RenewalType
from ..errors import Conflict, ValidationFailed
from ..forms import validate
from ..listing import AnySelect, Filter, ListQuery, ListSpec, SortKey
from ..models import (
    CatalogItem,
    ContractCoveredDevice,
    ContractVehicle,
    District,
    License,
    LicenseCreate,
    LicenseUpdate,
    Obligation,
    School,
    ServiceContract,
    TermRecord,
    User,
    Vendor,
)
from ..records import check_version
from ..renewals.schedule import escalated_cost, term, term_cost
from ..tenancy import scoped, writable_district
from . import terms
from .refs import require_refs

Agreement = License | ServiceContract
EDITABLE = tuple(f for f in LicenseUpdate.model_fields if f != "version")
REQUIRED = (
    *("product", "seats", "seats_used", "term_start", "initial_term_months"),
    *("renewal_term_months", "renewal_type", "notice_days", "price_per_seat"),
)
TEXT = ("funding_source", "notes")
# Changing these redraws the terms instead of rolling the current one forward.
TERM_RULES = (
    *("term_start", "initial_term_months", "renewal_term_months", "renewal_type"),
)

# Seats used as a whole percentage of seats owned (NULL when no seats are owned).
UTILIZATION: Any = sa.case(
    (col(License.seats) > 0, col(License.seats_used) * 100 // col(License.seats)),
    else_=sa.null(),
)


def _search(q: str) -> sa.ColumnElement[bool]:
    like = f"%{q}%"
    return sa.or_(col(License.product).ilike(like), col(License.notes).ilike(like))


def agreement_filters(m: type[Agreement]) -> list[Filter]:
    """The filters licenses and contracts share."""
    decide_by = col(m.decide_by)
    return [
        Filter("vendor_id", "Vendor", int, column=col(m.vendor_id)),
        Filter("vehicle_id", "Contract vehicle", int, column=col(m.vehicle_id)),
        Filter("funding_source", "Funding source", str, column=col(m.funding_source)),
        Filter("renewal_type", "Renewal", RenewalType, column=col(m.renewal_type)),
        Filter("status", "Status", AgreementStatus, column=col(m.status)),
        Filter("decide_from", "Decide by from", date, where=lambda v: decide_by >= v),
        Filter("decide_to", "Decide by until", date, where=lambda v: decide_by <= v),
    ]


def agreement_sorts(m: type[Agreement]) -> list[SortKey]:
    """The sort keys licenses and contracts share."""
    return [
        SortKey("renewal_type", "Renewal", col(m.renewal_type)),
        SortKey("status", "Status", col(m.status)),
        SortKey("decide_by", "Decide by", col(m.decide_by), nullable=True),
        SortKey("current_term_end", "Ends", col(m.current_term_end), nullable=True),
    ]


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


def funding_sources(session: Session, user: User, model: type[Agreement]) -> list[str]:
    stmt = scoped(sa.select(col(model.funding_source)).distinct(), model, user).where(
        col(model.funding_source) != ""
    )
    return sorted(s for (s,) in session.execute(stmt).all() if s)


# --- shared term bookkeeping (licenses and contracts) -------------------------


def district_today(session: Session, district_id: int) -> date:
    """Today in the district's time zone: a term ends at the district's midnight."""
    with session.no_autoflush:
        district = session.get(District, district_id)
    try:
        zone = ZoneInfo(district.timezone if district else "America/Chicago")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("America/Chicago")
    return datetime.now(zone).date()


def renewed_through(session: Session, subject: str, ids: list[int]) -> dict[int, int]:
    """The highest term on record per agreement (term 1 always exists), in one query."""
    if not ids:
        return {}
    stmt = (
        sa.select(col(TermRecord.subject_id), sa.func.max(col(TermRecord.term_number)))
        .where(
            col(TermRecord.subject_type) == subject,
            col(TermRecord.subject_id).in_(ids),
        )
        .group_by(col(TermRecord.subject_id))
    )
    found = {int(i): int(n) for i, n in session.execute(stmt).all()}
    return {i: max(found.get(i, 1), 1) for i in ids}


def recorded_terms(session: Session, subject: str, ident: int) -> list[TermRecord]:
    stmt = (
        select(TermRecord)
        .where(
            col(TermRecord.subject_type) == subject,
            col(TermRecord.subject_id) == ident,
        )
        .order_by(col(TermRecord.term_number))
    )
    return list(session.exec(stmt).all())


def current_price(obj: Agreement) -> Decimal:
    if isinstance(obj, License):
        return obj.seats * obj.price_per_seat
    return obj.cost_per_period


def refresh_terms(
    session: Session,
    subject: str,
    obj: Agreement,
    *,
    today: date,
    previous: int | None = None,
    reprice: bool = True,
) -> terms.TermState:
    """Recompute the stored term fields; roll a tacit agreement into terms it entered.

    When today has moved past the stored term (the nightly scan has not run yet), the
    new terms are recorded with their prices and a contract's cost escalates, exactly as
    the scan would, so neither skips nor repeats a renewal.
    """
    # One write per change: the version moves once, not at every autoflush.
    with session.no_autoflush:
        records = recorded_terms(session, subject, obj.id) if obj.id else []
    through = max((r.term_number for r in records), default=1)
    state = terms.apply(obj, today=today, renewed_through=through)
    rolled = previous is not None and state.number > previous
    if rolled and obj.renewal_type is RenewalType.TACIT and obj.id is not None:
        assert previous is not None
        have = {r.term_number: r for r in records}
        for k in range(previous + 1, state.number + 1):
            if reprice and isinstance(obj, ServiceContract):
                obj.cost_per_period = (
                    have[k].price
                    if k in have
                    else escalated_cost(obj.cost_per_period, obj.escalator_pct, 1)
                )
            if k not in have:
                t = term(*_rules(obj), k)
                session.add(_record(subject, obj, k, t.start, t.end, None))
    return state


def _rules(obj: Agreement) -> tuple[date, int, int]:
    return obj.term_start, obj.initial_term_months, obj.renewal_term_months


def _record(
    subject: str, obj: Agreement, k: int, start: date, end: date, user_id: int | None
) -> TermRecord:
    assert obj.id is not None
    return TermRecord(
        district_id=obj.district_id,
        subject_type=subject,
        subject_id=obj.id,
        term_number=k,
        start=start,
        end=end,
        price=current_price(obj),
        seats=obj.seats if isinstance(obj, License) else None,
        recorded_by_id=user_id,
    )


def renew(
    session: Session, *, user: User, subject: str, obj: Agreement, version: int | None
) -> int:
    """Record that an express agreement was renewed for its next term (or today's)."""
    writable_district(user, obj.district_id)
    check_version(obj, version)
    if obj.renewal_type is not RenewalType.EXPRESS:
        raise Conflict(
            "Only an agreement that must be renewed (express) is renewed by hand; "
            "a tacit one renews by itself and one with no renewal ends."
        )
    if obj.status is AgreementStatus.CANCELLED:
        raise Conflict("This agreement is cancelled; reinstate it first.")
    today = district_today(session, obj.district_id)
    assert obj.id is not None
    through = renewed_through(session, subject, [obj.id])[obj.id]
    t = terms.renewal_target(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewed_through=through,
        today=today,
    )
    target = t.number
    record = _record(subject, obj, target, t.start, t.end, user.id)
    if isinstance(obj, ServiceContract):
        current = obj.current_term_number or 1
        record.price = term_cost(
            obj.cost_per_period, obj.escalator_pct, current, target
        )
    session.add(record)
    session.flush()
    terms.apply(obj, today=today, renewed_through=target)
    audit.record(
        session,
        action="renew",
        entity_type=subject,
        entity_id=obj.id,
        district_id=obj.district_id,
        changes={"renewed_through": [through, target]},
        summary=f"term {target}: {t.start.isoformat()} – {t.end.isoformat()}",
    )
    session.flush()
    return target


def set_cancelled(
    session: Session,
    *,
    user: User,
    subject: str,
    obj: Agreement,
    version: int | None,
    cancelled: bool,
) -> None:
    """Cancel (keeps the record and its history, stops reminders) or reinstate."""
    writable_district(user, obj.district_id)
    check_version(obj, version)
    obj.status = AgreementStatus.CANCELLED if cancelled else AgreementStatus.ACTIVE
    refresh_terms(session, subject, obj, today=district_today(session, obj.district_id))
    session.flush()


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


# --- licenses -------------------------------------------------------------------


def create_license(
    session: Session, *, user: User, data: LicenseCreate, today: date | None = None
) -> License:
    district_id = writable_district(user)
    values = data.model_dump()
    catalog_defaults(session, values)
    require_refs(session, district_id, values)
    lic = License(district_id=district_id, **values)
    terms.apply(lic, today=today or district_today(session, district_id))
    session.add(lic)
    session.flush()
    return lic


def update_license(
    session: Session,
    *,
    user: User,
    lic: License,
    data: LicenseUpdate,
    today: date | None = None,
) -> License:
    writable_district(user, lic.district_id)
    check_version(lic, data.version, fields=EDITABLE)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    normalize(changes, REQUIRED)
    if "catalog_item_id" in changes:
        catalog_defaults(session, changes)
    require_refs(session, lic.district_id, changes)
    validate(LicenseCreate, {**lic.model_dump(include=set(EDITABLE)), **changes})
    previous = lic.current_term_number
    for key, value in changes.items():
        setattr(lic, key, value)
    refresh_terms(
        session,
        "license",
        lic,
        today=today or district_today(session, lic.district_id),
        previous=None if any(k in changes for k in TERM_RULES) else previous,
    )
    session.flush()
    return lic


BULK_ACTIONS = ("renewal_type", "cancel", "school")


def bulk_update(
    session: Session, *, user: User, ids: list[int], action: str, value: str | None
) -> int:
    """One change to the selected licenses of the user's district; each is audited."""
    district_id = writable_district(user)
    if not ids:
        raise ValidationFailed({"ids": "select at least one license"})
    if action not in BULK_ACTIONS:
        raise ValidationFailed({"action": "is not a bulk action"})
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
            changes = {"school_id": int(value or "")}
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a school"}) from exc
        require_refs(session, district_id, changes)
    return apply_bulk(session, License, "license", district_id, ids, changes)


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
            terms.apply(row, today=today, renewed_through=through.get(row.id or 0, 1))
    session.flush()
    return len(rows)


def term_view(session: Session, subject: str, obj: Agreement) -> terms.TermView:
    """Today's term state, its plain explanation and the term history table."""
    assert obj.id is not None
    records = recorded_terms(session, subject, obj.id)

    def price_of(state: terms.TermState, k: int) -> Decimal:
        if isinstance(obj, ServiceContract):
            base = min(obj.current_term_number or state.number, state.number)
            return term_cost(obj.cost_per_period, obj.escalator_pct, base, k)
        return current_price(obj)

    return terms.view(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewal_type=obj.renewal_type,
        notice_days=obj.notice_days,
        today=district_today(session, obj.district_id),
        records={r.term_number: terms.Recorded(r.price, r.seats) for r in records},
        cancelled=obj.status is AgreementStatus.CANCELLED,
        price_of=price_of,
    )
