"""Renew or cancel the license or contract behind a renewal obligation.

Renew (express): record the next term in the term history (optionally with new seats, a
new price per seat or a new cost per period) and move the agreement's current term on;
the scan then closes this decision and derives the one at the end of the new term.

Cancel / let lapse: the agreement's status becomes ``cancelled``. Its current term still
runs to its end (the record keeps the dates and says "Cancelled. This term runs to …");
nothing renews after it, the scan derives no further obligations, and every open
obligation of the agreement closes as ``lapsed``. ``cancelled`` (not ``ended``) keeps the
reason on record: ``ended`` is what a ``none`` agreement reaches by itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from lifecycle.agreements.rules import escalated_cost, term, term_number_on
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
from lifecycle.web.errors import Conflict, NotFound, ValidationFailed
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
    """Renew an express agreement: record the new term, move its current term on.

    The new term's price is recorded in the term history: a license at its (optionally
    new) seats × price per seat, a contract at the new cost per period or, when none is
    given, the current one × (1 + escalator %). The scan then derives the decision at the
    end of the new term and closes this one.
    """
    guard(user, obligation)
    obj = _agreement(session, obligation)
    claim_version(session, obj, data.version, fields=("status", "current_term_number"))
    if obj.renewal_type is not RenewalType.EXPRESS:
        raise Conflict(
            "Only an agreement that must be renewed (express) is renewed by hand; "
            "a tacit one renews by itself unless cancelled."
        )
    current = _current_decision(obj, obligation)
    today = today or today_for(session, obligation.district_id)
    lengths = (obj.term_start, obj.initial_term_months, obj.renewal_term_months)
    target = max(current + 1, term_number_on(*lengths, today) or 1)
    new_term = term(*lengths, target)
    before_subject: dict[str, list[Any]] = {"current_term_number": [current, target]}
    seats: int | None = None
    if isinstance(obj, License):
        if data.cost_per_period is not None:
            raise ValidationFailed({"cost_per_period": "applies to contracts only"})
        if data.seats is not None:
            before_subject["seats"] = [obj.seats, data.seats]
            obj.seats = data.seats
        if data.price_per_seat is not None:
            before_subject["price_per_seat"] = [obj.price_per_seat, data.price_per_seat]
            obj.price_per_seat = data.price_per_seat
        price = obj.seats * obj.price_per_seat
        seats = obj.seats
    else:
        if data.price_per_seat is not None or data.seats is not None:
            field = "price_per_seat" if data.price_per_seat is not None else "seats"
            raise ValidationFailed({field: "applies to licenses only"})
        new_cost = (
            data.cost_per_period
            if data.cost_per_period is not None
            else escalated_cost(
                obj.cost_per_period, obj.escalator_pct, target - current
            )
        )
        before_subject["cost_per_period"] = [obj.cost_per_period, new_cost]
        obj.cost_per_period = new_cost
        price = new_cost
    record = session.exec(
        select(TermRecord).where(
            col(TermRecord.subject_type) == obligation.subject_type,
            col(TermRecord.subject_id) == obligation.subject_id,
            col(TermRecord.term_number) == target,
        )
    ).first()
    if record is None:
        record = TermRecord(
            district_id=obj.district_id,
            subject_type=obligation.subject_type,
            subject_id=obligation.subject_id,
            term_number=target,
            start=new_term.start,
            end=new_term.end,
        )
        session.add(record)
    record.price = price
    record.seats = seats
    record.recorded_by_id = user.id
    obj.current_term_number = target
    obj.current_term_start = new_term.start
    obj.current_term_end = new_term.end
    obj.decide_by = new_term.end
    before = snapshot(obligation)
    obligation.state = ObligationState.DONE
    audit_action(
        session,
        obligation,
        "renew",
        before,
        extra=before_subject,
        summary=f"renewed for term {target}: {new_term.start} – {new_term.end}",
    )
    finish(session, obligation)
    return record


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
