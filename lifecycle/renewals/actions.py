"""Acting on one obligation: acknowledge, snooze, renew, cancel / let lapse, mark replaced.

Each action changes the obligation (and, for renew / cancel / replace, its subject) at
once, writes an audit event with the fields before and after, and schedules a debounced
rescan so everything derived (the next term's obligation, forecasts) catches up. Who may
act and the shared guards are in action_rules; renew and cancel in renewing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from lifecycle.agreements.renewing import cancel, renew
from lifecycle.enums import DeviceStatus, ObligationKind, ObligationState
from lifecycle.models import Device, Obligation, User, utcnow
from lifecycle.renewals.action_rules import (
    ACTIONS,
    MAX_SNOOZE,
    RenewInput,
    SnoozeInput,
    VersionInput,
    audit_action,
    available,
    close_others,
    finish,
    guard,
    may_act,
    snapshot,
    today_for,
)
from lifecycle.web.errors import Conflict, NotFound, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.records import claim_version

# The input each action takes: its form's fields (acknowledging takes none).
INPUTS: dict[str, type[BaseModel] | None] = {
    "acknowledge": None,
    "snooze": SnoozeInput,
    "renew": RenewInput,
    "cancel": VersionInput,
    "replace": VersionInput,
}

__all__ = [
    "ACTIONS", "INPUTS", "MAX_SNOOZE", "RenewInput", "SnoozeInput", "VersionInput", "acknowledge",
    "available", "cancel", "mark_replaced", "may_act", "renew", "run", "snooze",
]  # fmt: skip


def acknowledge(session: Session, *, user: User, obligation: Obligation) -> Obligation:
    """Stop the reminders for this term: someone has seen it and owns the decision."""
    guard(user, obligation)
    if obligation.state is ObligationState.ACKNOWLEDGED:
        return obligation  # idempotent: the first acknowledgement stands
    before = snapshot(obligation)
    obligation.state = ObligationState.ACKNOWLEDGED
    obligation.acknowledged_at = utcnow()
    obligation.acknowledged_by_id = user.id
    obligation.snoozed_until = None
    audit_action(session, obligation, "acknowledge", before)
    return finish(session, obligation)


def snooze(
    session: Session,
    *,
    user: User,
    obligation: Obligation,
    until: date | None,
    today: date | None = None,
) -> Obligation:
    """No reminders until `until` (after today, at most a year ahead); the scan wakes it."""
    guard(user, obligation)
    today = today or today_for(session, obligation.district_id)
    if until is None:
        raise ValidationFailed({"until": "is required"})
    if until <= today:
        raise ValidationFailed({"until": "must be a date after today"})
    if until > today + MAX_SNOOZE:
        raise ValidationFailed({"until": "can be at most a year from today"})
    before = snapshot(obligation)
    obligation.state = ObligationState.SNOOZED
    obligation.snoozed_until = until
    audit_action(session, obligation, "snooze", before)
    return finish(session, obligation)


def mark_replaced(
    session: Session, *, user: User, obligation: Obligation, data: VersionInput
) -> Obligation:
    """The device was refreshed: retire it; its refresh is done, its warranty moot."""
    guard(user, obligation)
    if obligation.kind is not ObligationKind.REFRESH:
        raise Conflict("Only a device refresh is marked as replaced.")
    device = session.get(Device, obligation.subject_id)
    if device is None or device.district_id != obligation.district_id:
        raise NotFound("The device of this obligation no longer exists.")
    claim_version(session, device, data.version, fields=("status",))
    old_status = device.status
    device.status = DeviceStatus.RETIRED
    before = snapshot(obligation)
    obligation.state = ObligationState.DONE
    close_others(session, obligation, ObligationState.RETIRED)
    audit_action(
        session,
        obligation,
        "mark_replaced",
        before,
        extra={"device_status": [old_status.value, DeviceStatus.RETIRED.value]},
        summary=f"device {device.asset_tag} replaced and retired",
    )
    return finish(session, obligation)


def run(
    session: Session,
    *,
    user: User,
    obligation: Obligation,
    action: str,
    values: dict[str, Any],
) -> Obligation:
    """Validate the input of one action and run it (the views and the API share it)."""
    common: dict[str, Any] = {"user": user, "obligation": obligation}
    if action == "acknowledge":
        return acknowledge(session, **common)
    if action == "snooze":
        return snooze(session, until=validate(SnoozeInput, values).until, **common)
    if action == "renew":
        renew(session, data=validate(RenewInput, values), **common)
        return obligation
    if action in ("cancel", "replace"):
        service = cancel if action == "cancel" else mark_replaced
        return service(session, data=validate(VersionInput, values), **common)
    raise NotFound("No such action.")
