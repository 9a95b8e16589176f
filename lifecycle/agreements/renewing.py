"""Renew or cancel the license or contract behind a renewal obligation.

Renew (express): agreements.terms.renew, the one way of renewing — the next term joins
the term history as decided (optionally with new seats, a new price per seat or a new
cost per period), the current term stays today's, the open decision moves to the new
term's end, and this obligation is done.

Cancel / let lapse: the agreement's status becomes ``cancelled``. Its current term still
runs to its end (the record keeps the dates and says "Cancelled. This term runs to …");
nothing renews after it, the scan derives no further obligations, and every open
obligation of the agreement closes as ``lapsed``. ``cancelled`` (not ``ended``) keeps the
reason on record: ``ended`` is what a ``none`` agreement reaches by itself.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from lifecycle.agreements import terms
from lifecycle.enums import RENEWAL_KINDS, AgreementStatus, ObligationState, RenewalType
from lifecycle.models import License, Obligation, ServiceContract, TermRecord, User
from lifecycle.renewals.action_rules import (
    RenewInput,
    VersionInput,
    audit_action,
    close_others,
    finish,
    guard,
    snapshot,
    today_for,
)
from lifecycle.web.errors import Conflict, NotFound
from lifecycle.web.records import claim_version


def _agreement(session: Session, obligation: Obligation) -> License | ServiceContract:
    if obligation.kind not in RENEWAL_KINDS:
        raise Conflict("Only license and contract renewals are renewed or cancelled.")
    obj: License | ServiceContract | None = (
        session.get(License, obligation.subject_id)
        if obligation.subject_type == "license"
        else session.get(ServiceContract, obligation.subject_id)
    )
    if obj is None or obj.district_id != obligation.district_id:
        raise NotFound("The license or contract of this obligation no longer exists.")
    return obj


def _current_decision(obj: License | ServiceContract, obligation: Obligation) -> int:
    if obj.status is not AgreementStatus.ACTIVE:
        raise Conflict(f"This agreement is {obj.status.value}; nothing renews.")
    current = obj.current_term_number
    if current is None or obligation.term_number != current:
        raise Conflict(
            "This decision is about a later term the agreement is already committed "
            "to; it can be changed once that term has started."
            if current is not None and obligation.term_number > current
            else "This decision is out of date; run a scan and try again."
        )
    return current


def renew(
    session: Session,
    *,
    user: User,
    obligation: Obligation,
    data: RenewInput,
    today: date | None = None,
) -> TermRecord:
    """Renew the express agreement behind a renewal obligation (agreements.terms.renew):
    the next term is recorded as decided, and this obligation is done."""
    guard(user, obligation)
    obj = _agreement(session, obligation)
    return terms.renew(
        session,
        user=user,
        subject=obligation.subject_type,
        obj=obj,
        version=data.version,
        seats=data.seats,
        price_per_seat=data.price_per_seat,
        cost_per_period=data.cost_per_period,
        decision=obligation,
        today=today,
    )


def cancel(
    session: Session,
    *,
    user: User,
    obligation: Obligation,
    data: VersionInput,
    today: date | None = None,
) -> Obligation:
    """Tacit: cancel before the notice date. Express: let it lapse at its term end."""
    guard(user, obligation)
    obj = _agreement(session, obligation)
    claim_version(session, obj, data.version, fields=("status", "current_term_number"))
    if obj.renewal_type is RenewalType.NONE:
        raise Conflict("This agreement ends by itself; there is nothing to cancel.")
    _current_decision(obj, obligation)
    today = today or today_for(session, obligation.district_id)
    if obj.renewal_type is RenewalType.TACIT and obligation.decide_by < today:
        raise Conflict(
            f"The notice date passed on {obligation.decide_by.isoformat()}: the "
            "district is committed to the next term. Cancel before its notice date."
        )
    action = "cancel" if obj.renewal_type is RenewalType.TACIT else "let_lapse"
    obj.status = AgreementStatus.CANCELLED
    obj.decide_by = None
    before = snapshot(obligation)
    obligation.state = ObligationState.LAPSED
    closed = close_others(session, obligation, ObligationState.LAPSED)
    audit_action(
        session,
        obligation,
        action,
        before,
        extra={"agreement_status": ["active", "cancelled"]},
        summary=f"ends {obj.current_term_end}; {closed} other open obligations closed",
    )
    return finish(session, obligation)
