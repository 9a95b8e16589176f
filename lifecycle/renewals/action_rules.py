"""What the obligation actions share: who may act, their inputs, guards and audit events.

Who may act (docs/rules.md#obligation-states-and-actions): district IT on device obligations (refresh, warranty); district IT
or finance on license and contract renewals; viewers and cooperative staff read only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, col

from lifecycle import audit
from lifecycle.enums import (
    DEVICE_KINDS,
    RENEWAL_KINDS,
    ObligationKind,
    ObligationState,
    RenewalType,
    Role,
)
from lifecycle.models import District, InputModel, Obligation, User, utcnow
from lifecycle.models.base import Money
from lifecycle.scan.jobs import district_today, schedule_rescan
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.web.errors import Conflict, Forbidden, NotFound

ACTIONS = ("acknowledge", "snooze", "renew", "cancel", "replace")
MAX_SNOOZE = timedelta(days=366)
AUDIT_FIELDS = ("state", "snoozed_until", "acknowledged_at", "acknowledged_by_id")


def _money() -> Any:
    return Field(default=None, ge=0, max_digits=14, decimal_places=2)


class RenewInput(InputModel):
    """Renewing an express agreement: the subject's version and, optionally, new terms."""

    version: int
    price_per_seat: Money | None = _money()
    seats: int | None = Field(default=None, ge=0, le=10_000_000)
    cost_per_period: Money | None = _money()


class SnoozeInput(InputModel):
    until: date


class VersionInput(InputModel):
    version: int


def may_act(user: User, obligation: Obligation) -> bool:
    """Whether the user's role may act on this kind of obligation of their district."""
    role = Role(user.role)
    if user.district_id is None or user.district_id != obligation.district_id:
        return False
    if obligation.kind in DEVICE_KINDS:
        return role is Role.DISTRICT_IT
    return role in (Role.DISTRICT_IT, Role.DISTRICT_FINANCE)


def available(
    user: User,
    obligation: Obligation,
    *,
    renewal_type: RenewalType | None,
    current_term: int | None,
    today: date,
    decision_term: int | None = None,
) -> tuple[str, ...]:
    """The actions the user can take on the obligation now (the row's buttons).

    An express agreement renews at its open decision (`decision_term`: the current
    term's end, or a term renewed ahead); cancelling, of express or tacit alike, ends
    the current term's decision."""
    if not may_act(user, obligation) or obligation.state not in OPEN_STATES:
        return ()
    out: list[str] = []
    if obligation.state is not ObligationState.ACKNOWLEDGED:
        out.append("acknowledge")
    out.append("snooze")
    if obligation.kind is ObligationKind.REFRESH:
        out.append("replace")
    if obligation.kind in RENEWAL_KINDS:
        deciding = (decision_term or current_term) == obligation.term_number
        current = current_term == obligation.term_number
        decide_by_open = obligation.decide_by >= today
        if renewal_type is RenewalType.EXPRESS:
            if deciding:
                out.append("renew")
            if current:
                out.append("cancel")
        elif renewal_type is RenewalType.TACIT and current and decide_by_open:
            out.append("cancel")
    return tuple(out)


def today_for(session: Session, district_id: int) -> date:
    district = session.get(District, district_id)
    if district is None:
        raise NotFound("No such district.")
    return district_today(district)


def guard(user: User, obligation: Obligation) -> None:
    if not may_act(user, obligation):
        if Role(user.role).is_district and user.district_id != obligation.district_id:
            raise NotFound()
        who = (
            "district IT staff"
            if obligation.kind in DEVICE_KINDS
            else "district IT or finance staff"
        )
        raise Forbidden(f"Only {who} can act on this obligation.")
    if obligation.state not in OPEN_STATES:
        raise Conflict(
            f"This obligation is already {obligation.state.value.replace('_', ' ')}; "
            "there is nothing left to decide."
        )


def snapshot(obligation: Obligation) -> dict[str, Any]:
    return {name: getattr(obligation, name) for name in AUDIT_FIELDS}


def audit_action(
    session: Session,
    obligation: Obligation,
    action: str,
    before: dict[str, Any],
    *,
    extra: dict[str, list[Any]] | None = None,
    summary: str = "",
) -> None:
    changes: dict[str, Any] = {
        name: [value, getattr(obligation, name)]
        for name, value in before.items()
        if value != getattr(obligation, name)
    }
    changes.update(extra or {})
    assert obligation.id is not None
    audit.record(
        session,
        action=action,
        entity_type="obligation",
        entity_id=obligation.id,
        district_id=obligation.district_id,
        changes=changes,
        summary=summary
        or f"{obligation.kind.value} of {obligation.subject_type} "
        f"#{obligation.subject_id}, term {obligation.term_number}",
    )


def finish(session: Session, obligation: Obligation) -> Obligation:
    session.flush()
    schedule_rescan(session, obligation.district_id)
    return obligation


def close_others(
    session: Session, obligation: Obligation, state: ObligationState
) -> int:
    """Close the subject's other open obligations the way the next scan would."""
    result = session.execute(
        sa.update(Obligation)
        .where(
            col(Obligation.subject_type) == obligation.subject_type,
            col(Obligation.subject_id) == obligation.subject_id,
            col(Obligation.id) != obligation.id,
            col(Obligation.state).in_(OPEN_STATES),
        )
        .values(state=state, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
