"""Bulk actions on the selected devices: one set-based change, audited per device."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.bounds import parse_id
from lifecycle.enums import CoverageType, DeviceStatus
from lifecycle.inventory.refs import require_refs
from lifecycle.models import ContractCoveredDevice, Device, ServiceContract, User
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import Conflict, ValidationFailed

BULK_ACTIONS = ("status", "school", "retire", "cover")


def bulk_update(
    session: Session,
    *,
    user: User,
    ids: list[int],
    action: str,
    value: str | None,
) -> int:
    """Change the selected devices of the user's district; other ids are ignored.

    Returns how many devices changed (or were newly covered, for "cover").
    """
    district_id = writable_district(user)
    if not ids:
        raise ValidationFailed({"ids": "select at least one device"})
    if action not in BULK_ACTIONS:
        raise ValidationFailed({"action": "is not a bulk action"})
    changes = _changes(session, district_id, action, value)
    mine = select(Device.id).where(
        col(Device.district_id) == district_id, col(Device.id).in_(ids)
    )
    device_ids = [int(i) for i in session.exec(mine).all() if i is not None]
    if not device_ids:
        raise ValidationFailed(
            {"ids": "none of the selected devices are in your district"}
        )
    if action == "cover":
        changed = _cover(session, district_id, device_ids, value)
    else:
        changed = _set(session, district_id, device_ids, action, changes)
    if changed:
        schedule_rescan(session, district_id)
    return changed


def _changes(
    session: Session, district_id: int, action: str, value: str | None
) -> dict[str, Any]:
    if action == "retire":
        return {"status": DeviceStatus.RETIRED}
    if action == "status":
        try:
            return {"status": DeviceStatus(value or "")}
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a status"}) from exc
    if action == "school":
        try:
            school_id = parse_id(value or "")
        except ValueError as exc:
            raise ValidationFailed({"value": "choose a school"}) from exc
        require_refs(session, district_id, {"school_id": school_id})
        return {"school_id": school_id}
    return {}


def _set(
    session: Session,
    district_id: int,
    device_ids: list[int],
    action: str,
    changes: dict[str, Any],
) -> int:
    """One UPDATE of the devices whose value differs; an audit event for each."""
    field_name, new_value = next(iter(changes.items()))
    column = col(getattr(Device, field_name))
    before: dict[int, Any] = {
        int(row[0]): row[1]
        for row in session.execute(
            sa.select(col(Device.id), column).where(
                col(Device.id).in_(device_ids),
                column.is_distinct_from(new_value),
            )
        )
    }
    if not before:
        return 0
    session.execute(
        sa.update(Device)
        .where(col(Device.id).in_(list(before)))
        .values(**changes, version=Device.version + 1)
        .execution_options(synchronize_session=False)
    )
    for device_id, old in before.items():
        audit.record(
            session,
            action=f"bulk_{action}",
            entity_type="device",
            entity_id=device_id,
            district_id=district_id,
            changes={field_name: [old, new_value]},
        )
    session.expire_all()
    return len(before)


def _cover(
    session: Session, district_id: int, device_ids: list[int], value: str | None
) -> int:
    try:
        contract_id = parse_id(value or "")
    except ValueError as exc:
        raise ValidationFailed({"value": "choose a service contract"}) from exc
    contract = session.get(ServiceContract, contract_id)
    if contract is None or contract.district_id != district_id:
        raise ValidationFailed({"value": "is not a service contract of your district"})
    if contract.coverage != CoverageType.DEVICES:
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
