"""Device services: the list, create/edit with optimistic locking, bulk actions, refresh dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import audit
from ..enums import DeviceCategory, DeviceStatus
from ..errors import Conflict, ValidationFailed
from ..listing import AnySelect, Filter, ListSpec, SortKey
from ..models import (
    CatalogItem,
    CategoryPolicy,
    ContractCoveredDevice,
    Device,
    DeviceCreate,
    DeviceUpdate,
    School,
    ServiceContract,
    User,
)
from ..records import check_version
from ..renewals.schedule import lifespan_for, refresh_due
from ..tenancy import scoped, writable_district
from .refs import require_refs

EDITABLE = tuple(f for f in DeviceUpdate.model_fields if f != "version")


def _search(q: str) -> sa.ColumnElement[bool]:
    like = f"%{q}%"
    return sa.or_(
        col(Device.asset_tag).ilike(like),
        col(Device.serial).ilike(like),
        col(Device.model).ilike(like),
        col(Device.assigned_to).ilike(like),
    )


SPEC = ListSpec(
    filters=[
        Filter("school_id", "School", int, column=col(Device.school_id)),
        Filter("category", "Category", DeviceCategory, column=col(Device.category)),
        Filter("status", "Status", DeviceStatus, column=col(Device.status)),
        Filter("vehicle_id", "Contract vehicle", int, column=col(Device.vehicle_id)),
        Filter(
            "catalog_item_id", "Catalog item", int, column=col(Device.catalog_item_id)
        ),
        Filter(
            "funding_source", "Funding source", str, column=col(Device.funding_source)
        ),
        Filter(
            "refresh_from",
            "Refresh due from",
            date,
            where=lambda v: col(Device.refresh_due) >= v,
        ),
        Filter(
            "refresh_to",
            "Refresh due until",
            date,
            where=lambda v: col(Device.refresh_due) <= v,
        ),
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
    """Devices the user may see, with the school name the list shows (one query)."""
    stmt = sa.select(Device, col(School.name)).outerjoin(
        School, col(School.id) == Device.school_id
    )
    return scoped(stmt, Device, user)


@dataclass
class RefreshInfo:
    due: date | None
    reason: str
    lifespan_months: int | None
    lifespan_source: str


def refresh_info(session: Session, device: Device) -> RefreshInfo:
    """The device's refresh date and why (DESIGN §3.2): lifespan, AUE or explicit EOL."""
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
    )


def recompute_refresh(session: Session, device: Device) -> None:
    info = refresh_info(session, device)
    device.refresh_due = info.due
    device.refresh_reason = info.reason


def _catalog_defaults(session: Session, values: dict[str, Any]) -> None:
    """A catalog link brings its vehicle (and category, when none was given)."""
    item_id = values.get("catalog_item_id")
    if not item_id:
        return
    item = session.get(CatalogItem, item_id)
    if item is None:
        return
    if values.get("vehicle_id") is None:
        values["vehicle_id"] = item.vehicle_id
    if not values.get("model"):
        values["model"] = item.name


def _unique_violation(exc: IntegrityError) -> ValidationFailed:
    text = str(exc.orig).lower()
    if "serial" in text:
        return ValidationFailed(
            {"serial": "is already used by another device in your district"}
        )
    return ValidationFailed(
        {"asset_tag": "is already used by another device in your district"}
    )


def create_device(session: Session, *, user: User, data: DeviceCreate) -> Device:
    district_id = writable_district(user)
    values = data.model_dump()
    _catalog_defaults(session, values)
    require_refs(session, district_id, values)
    device = Device(district_id=district_id, **values)
    recompute_refresh(session, device)
    session.add(device)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    return device


def update_device(
    session: Session, *, user: User, device: Device, data: DeviceUpdate
) -> Device:
    writable_district(user, device.district_id)
    check_version(device, data.version, fields=EDITABLE)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "asset_tag" in changes and not changes["asset_tag"]:
        raise ValidationFailed({"asset_tag": "is required"})
    if "catalog_item_id" in changes:
        _catalog_defaults(session, changes)
    require_refs(session, device.district_id, changes)
    merged = DeviceCreate.model_validate(
        {**device.model_dump(include=set(EDITABLE)), **changes}
    )
    del merged  # cross-field rules (dates) hold for the result
    for key, value in changes.items():
        setattr(device, key, value)
    recompute_refresh(session, device)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    return device


def delete_device(session: Session, *, user: User, device: Device) -> None:
    """Delete a device created by mistake; anything with history is retired instead."""
    writable_district(user, device.district_id)
    session.delete(device)
    session.flush()


BULK_ACTIONS = ("status", "school", "retire", "cover")


def bulk_update(
    session: Session,
    *,
    user: User,
    ids: list[int],
    action: str,
    value: str | None,
) -> int:
    """One set-based change to the selected devices of the user's district; audited per device."""
    district_id = writable_district(user)
    if not ids:
        raise ValidationFailed({"ids": "select at least one device"})
    if action not in BULK_ACTIONS:
        raise ValidationFailed({"action": "is not a bulk action"})
    mine = select(Device.id).where(
        col(Device.district_id) == district_id, col(Device.id).in_(ids)
    )
    device_ids = [int(i) for i in session.exec(mine).all() if i is not None]
    if not device_ids:
        raise ValidationFailed(
            {"ids": "none of the selected devices are in your district"}
        )
    if action == "cover":
        return _cover(session, district_id, device_ids, value)
    changes: dict[str, Any]
    if action == "retire":
        changes = {"status": DeviceStatus.RETIRED}
    elif action == "status":
        try:
            changes = {"status": DeviceStatus(value or "")}
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a status"}) from exc
    else:
        try:
            school_id = int(value or "")
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a school"}) from exc
        require_refs(session, district_id, {"school_id": school_id})
        changes = {"school_id": school_id}
    field_name, new_value = next(iter(changes.items()))
    current = sa.select(col(Device.id), col(getattr(Device, field_name)))
    before: dict[int, Any] = {
        row[0]: row[1]
        for row in session.execute(current.where(col(Device.id).in_(device_ids)))
    }
    session.execute(
        sa.update(Device)
        .where(col(Device.id).in_(device_ids))
        .values(**changes, version=Device.version + 1)
        .execution_options(synchronize_session=False)
    )
    for device_id in device_ids:
        old = before.get(device_id)
        if old != new_value:
            audit.record(
                session,
                action=f"bulk_{action}",
                entity_type="device",
                entity_id=device_id,
                district_id=district_id,
                changes={field_name: [old, new_value]},
            )
    session.expire_all()
    return len(device_ids)


def _cover(
    session: Session, district_id: int, device_ids: list[int], value: str | None
) -> int:
    try:
        contract_id = int(value or "")
    except ValueError as exc:
        raise ValidationFailed({"value": "choose a service contract"}) from exc
    contract = session.get(ServiceContract, contract_id)
    if contract is None or contract.district_id != district_id:
        raise ValidationFailed({"value": "is not a service contract of your district"})
    if contract.coverage != "devices":
        raise Conflict(
            f"“{contract.name}” covers a {contract.coverage}, not a list of devices."
        )
    covered = set(
        session.exec(
            select(ContractCoveredDevice.device_id).where(
                col(ContractCoveredDevice.contract_id) == contract_id,
                col(ContractCoveredDevice.device_id).in_(device_ids),
            )
        ).all()
    )
    new = [d for d in device_ids if d not in covered]
    if new:
        session.execute(
            sa.insert(ContractCoveredDevice),
            [
                {"contract_id": contract_id, "device_id": d, "district_id": district_id}
                for d in new
            ],
        )
        audit.record(
            session,
            action="cover_devices",
            entity_type="contract",
            entity_id=contract_id,
            district_id=district_id,
            changes={"devices_added": [None, new]},
            summary=contract.name,
        )
    return len(new)


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
