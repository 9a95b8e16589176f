"""Device services: the list, create/edit with optimistic locking, delete, refresh dates.

Every write leaves the stored refresh date to the one SQL rule (renewals.refresh) and
schedules a debounced lifecycle scan, so obligations and reminders follow the edit.
Bulk actions live in devices_bulk.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.enums import DeviceCategory, DeviceStatus, ObligationState
from lifecycle.inventory.refs import require_refs
from lifecycle.models import (
    DEVICE_SEARCH_TEXT,
    CatalogItem,
    CategoryPolicy,
    ContractCoveredDevice,
    Device,
    DeviceCreate,
    DeviceUpdate,
    District,
    Obligation,
    Reminder,
    School,
    ServiceContract,
    User,
)
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.scan.schedule import aue_month_end, lifespan_for, refresh_due
from lifecycle.tenancy import district_filter, scoped, writable_district
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.listing import (
    AnySelect,
    Filter,
    ListSpec,
    SortKey,
    contains,
    date_range,
)
from lifecycle.web.records import claim_version

EDITABLE = tuple(f for f in DeviceUpdate.model_fields if f != "version")
# Fields a write may not set to null; text fields read null as empty.
REQUIRED = ("asset_tag", "category", "status")
TEXT = ("model", "funding_source", "assigned_to", "notes")


# Spelt as the trigram index is (ix_devices_search_trgm), so PostgreSQL can use it.
SEARCH_TEXT = sa.literal_column(f"({DEVICE_SEARCH_TEXT})", sa.String())


def _search(q: str) -> sa.ColumnElement[bool]:
    """Asset tag, serial, model or person containing `q`, ignoring case."""
    return SEARCH_TEXT.ilike(contains(q), escape="\\")


# Devices gone from the district (lost or retired) are kept for their history; the list
# shows the others unless asked (docs/rules.md#records-and-vocabularies).
GONE = (DeviceStatus.LOST, DeviceStatus.RETIRED)
STATUS_CHOICES = ("active", "all")


def _status_is(value: str) -> sa.ColumnElement[bool]:
    if value == "all":
        return sa.true()
    if value == "active":
        return col(Device.status).not_in(GONE)
    return col(Device.status) == DeviceStatus(value)


SPEC = ListSpec(
    filters=[
        Filter("school_id", "School", int, column=col(Device.school_id)),
        Filter("category", "Category", DeviceCategory, column=col(Device.category)),
        Filter(
            "status",
            "Status",
            str,
            where=_status_is,
            choices=(*(s.value for s in DeviceStatus), *STATUS_CHOICES),
            default="active",
        ),
        Filter("vehicle_id", "Contract vehicle", int, column=col(Device.vehicle_id)),
        Filter(
            "catalog_item_id", "Catalog item", int, column=col(Device.catalog_item_id)
        ),
        Filter(
            "funding_source", "Funding source", str, column=col(Device.funding_source)
        ),
        *date_range("refresh_due", "Refresh due", col(Device.refresh_due)),
        Filter("district_id", "District", int, column=col(Device.district_id)),
    ],
    sorts=[
        SortKey("asset_tag", "Asset tag", col(Device.asset_tag)),
        SortKey("serial", "Serial", col(Device.serial), nullable=True),
        SortKey("model", "Model", col(Device.model)),
        SortKey("category", "Category", col(Device.category)),
        SortKey("status", "Status", col(Device.status)),
        SortKey("purchase_date", "Purchased", col(Device.purchase_date), nullable=True),
        SortKey("purchase_cost", "Cost", col(Device.purchase_cost), nullable=True),
        SortKey(
            "warranty_end", "Warranty end", col(Device.warranty_end), nullable=True
        ),
        SortKey("aue_date", "AUE", col(Device.aue_date), nullable=True),
        SortKey("refresh_due", "Refresh due", col(Device.refresh_due), nullable=True),
    ],
    default_sort="asset_tag",
    id_column=col(Device.id),
    search=_search,
)


def list_stmt(user: User) -> AnySelect:
    """Devices the user may see, with the school and district names the list shows.

    The names are correlated subqueries rather than joins, so the page's count runs
    over the devices table alone.
    """
    school = (
        sa.select(col(School.name))
        .where(col(School.id) == col(Device.school_id))
        .scalar_subquery()
    )
    district = (
        sa.select(col(District.name))
        .where(col(District.id) == col(Device.district_id))
        .scalar_subquery()
    )
    return scoped(sa.select(Device, school, district), Device, user)


def cross_district(user: User) -> bool:
    """Whether the user reads every district's devices (cooperative staff, admins)."""
    return district_filter(user) is None


@dataclass
class RefreshInfo:
    due: date | None
    reason: str
    lifespan_months: int | None
    lifespan_source: str
    # What lists, obligations and reminders use: the date the SQL rule last stored.
    stored_due: date | None = None

    @property
    def pending(self) -> bool:
        """The stored date lags the rule (a policy or catalog default changed since)."""
        return self.stored_due != self.due


def refresh_info(session: Session, device: Device) -> RefreshInfo:
    """The device's refresh date and why (docs/rules.md#device-refresh): lifespan, AUE or explicit EOL."""
    policy = session.exec(
        select(CategoryPolicy.lifespan_months).where(
            col(CategoryPolicy.district_id) == device.district_id,
            col(CategoryPolicy.category) == device.category,
        )
    ).first()
    catalog = (
        session.get(CatalogItem, device.catalog_item_id)
        if device.catalog_item_id
        else None
    )
    catalog_months = catalog.lifespan_months if catalog else None
    months = lifespan_for(device.lifespan_months, policy, catalog_months)
    if device.lifespan_months is not None:
        source = "this device"
    elif policy is not None:
        source = "district policy"
    elif catalog_months is not None:
        source = "catalog default"
    else:
        source = ""
    due = refresh_due(device.purchase_date, months, device.aue_date, device.eol_date)
    return RefreshInfo(
        due=due.date if due else None,
        reason=due.reason if due else "",
        lifespan_months=months,
        lifespan_source=source,
        stored_due=device.refresh_due,
    )


def _catalog_defaults(
    session: Session, values: dict[str, Any], current: Device | None = None
) -> None:
    """A catalog link brings its contract vehicle, and its name when there is no model."""
    item_id = values.get("catalog_item_id")
    item = session.get(CatalogItem, item_id) if item_id else None
    if item is None:
        return

    def empty(name: str) -> bool:
        if name in values:
            return not values[name]
        return current is None or not getattr(current, name)

    if empty("vehicle_id"):
        values["vehicle_id"] = item.vehicle_id
    if empty("model"):
        values["model"] = item.name


def _normalize(values: dict[str, Any]) -> None:
    """An AUE is a month: the device gets updates until its last day (docs/rules.md#device-refresh)."""
    aue = values.get("aue_date")
    if isinstance(aue, date):
        values["aue_date"] = aue_month_end(aue.year, aue.month)


def _check_unique(
    session: Session, district_id: int, values: dict[str, Any], device_id: int | None
) -> None:
    """Asset tags and serials are unique within a district; say which one clashes."""
    clauses = []
    tag, serial = values.get("asset_tag"), values.get("serial")
    if tag:
        clauses.append(col(Device.asset_tag) == tag)
    if serial:
        clauses.append(col(Device.serial) == serial)
    if not clauses:
        return
    stmt = select(Device.asset_tag, Device.serial).where(
        col(Device.district_id) == district_id, sa.or_(*clauses)
    )
    if device_id is not None:
        stmt = stmt.where(col(Device.id) != device_id)
    errors: dict[str, str] = {}
    taken = "is already used by another device in your district"
    for other_tag, other_serial in session.exec(stmt).all():
        if tag and other_tag == tag:
            errors["asset_tag"] = taken
        if serial and other_serial == serial:
            errors["serial"] = taken
    if errors:
        raise ValidationFailed(errors)


def _flush(session: Session) -> None:
    """Flush; a unique clash that slipped past _check_unique (a race) is still a 422."""
    try:
        session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        name = "serial" if "serial" in text else "asset_tag"
        raise ValidationFailed(
            {name: "is already used by another device in your district"}
        ) from exc


def _after_write(session: Session, device: Device, *, created: bool = False) -> None:
    """Store the refresh date by the one SQL rule and let obligations follow the edit."""
    assert device.id is not None
    before = (device.refresh_due, device.refresh_reason)
    recompute_device_refresh(session, device_ids=[device.id])
    session.refresh(device)
    after = (device.refresh_due, device.refresh_reason)
    if after != before and not created:
        # The flush hook saw the edit; the derived date moved in SQL after it.
        audit.record(
            session,
            action="update",
            entity_type="device",
            entity_id=device.id,
            district_id=device.district_id,
            changes={
                "refresh_due": [before[0], after[0]],
                "refresh_reason": [before[1], after[1]],
            },
            summary=device.asset_tag,
        )
    schedule_rescan(session, device.district_id)


def create_device(session: Session, *, user: User, data: DeviceCreate) -> Device:
    district_id = writable_district(user)
    values = data.model_dump()
    _catalog_defaults(session, values)
    _normalize(values)
    require_refs(session, district_id, values)
    _check_unique(session, district_id, values, None)
    device = Device(district_id=district_id, **values)
    session.add(device)
    _flush(session)
    _after_write(session, device, created=True)
    return device


def _changes(session: Session, device: Device, data: DeviceUpdate) -> dict[str, Any]:
    """The fields the update sends, validated as a whole device would be."""
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    missing = {k: "is required" for k in REQUIRED if k in changes and not changes[k]}
    if missing:
        raise ValidationFailed(missing)
    for key in TEXT:
        if key in changes and changes[key] is None:
            changes[key] = ""
    if "catalog_item_id" in changes:
        _catalog_defaults(session, changes, device)
    require_refs(session, device.district_id, changes)
    # Cross-field rules (dates, cost) hold for the result; stripping and blank serials
    # are normalized as on create.
    merged = validate(
        DeviceCreate, {**device.model_dump(include=set(EDITABLE)), **changes}
    )
    cleaned = {key: getattr(merged, key) for key in changes}
    _normalize(cleaned)
    return cleaned


def update_device(
    session: Session, *, user: User, device: Device, data: DeviceUpdate
) -> Device:
    writable_district(user, device.district_id)
    claim_version(session, device, data.version, fields=EDITABLE)
    changes = _changes(session, device, data)
    _check_unique(session, device.district_id, changes, device.id)
    for key, value in changes.items():
        setattr(device, key, value)
    _flush(session)
    _after_write(session, device)
    return device


def deletion_blockers(session: Session, device: Device) -> list[str]:
    """Why a device cannot be deleted: anything it has been through beyond its creation."""
    blockers: list[str] = []
    mine = sa.and_(
        col(Obligation.subject_type) == "device",
        col(Obligation.subject_id) == device.id,
    )
    acted_on = session.execute(
        sa.select(sa.func.count())
        .select_from(Obligation)
        .where(mine, col(Obligation.state) != ObligationState.UPCOMING)
    ).scalar_one()
    reminded = session.execute(
        sa.select(sa.func.count())
        .select_from(Reminder)
        .join(Obligation, col(Obligation.id) == col(Reminder.obligation_id))
        .where(mine)
    ).scalar_one()
    if acted_on or reminded:
        blockers.append("its refresh or warranty has been acted on or reminded about")
    covered = session.execute(
        sa.select(sa.func.count())
        .select_from(ContractCoveredDevice)
        .where(col(ContractCoveredDevice.device_id) == device.id)
    ).scalar_one()
    if covered:
        blockers.append("a service contract lists it")
    return blockers


def delete_device(session: Session, *, user: User, device: Device) -> None:
    """Delete a device created by mistake; anything with history is retired instead."""
    writable_district(user, device.district_id)
    blockers = deletion_blockers(session, device)
    if blockers:
        raise Conflict(
            f"{device.asset_tag} cannot be deleted because {' and '.join(blockers)}. "
            "Retire it instead: it leaves the refresh plan and keeps its history."
        )
    session.execute(
        sa.delete(Obligation).where(
            col(Obligation.subject_type) == "device",
            col(Obligation.subject_id) == device.id,
        )
    )
    district_id = device.district_id
    session.delete(device)
    session.flush()
    schedule_rescan(session, district_id)


def contracts_covering(session: Session, device: Device) -> list[ServiceContract]:
    """Service contracts that cover this device: by list, by its category or by its site."""
    by_list = select(ContractCoveredDevice.contract_id).where(
        col(ContractCoveredDevice.device_id) == device.id
    )
    conditions: list[sa.ColumnElement[bool]] = [col(ServiceContract.id).in_(by_list)]
    conditions.append(
        sa.and_(
            col(ServiceContract.coverage) == "category",
            col(ServiceContract.coverage_category) == device.category,
        )
    )
    if device.school_id is not None:
        conditions.append(
            sa.and_(
                col(ServiceContract.coverage) == "site",
                col(ServiceContract.coverage_school_id) == device.school_id,
            )
        )
    stmt = (
        select(ServiceContract)
        .where(
            col(ServiceContract.district_id) == device.district_id, sa.or_(*conditions)
        )
        .order_by(col(ServiceContract.name))
    )
    return list(session.exec(stmt).all())
