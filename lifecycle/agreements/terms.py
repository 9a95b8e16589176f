"""The term bookkeeping licenses and service contracts share (the ORM side of
agreements/rules.py): today in the district's time zone, the recorded term history,
storing the derived term fields, rolling into terms that began, the one `renew`, and
cancelling and reinstating.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.agreements import rules
from lifecycle.agreements.rules import escalated_cost, term
from lifecycle.enums import RENEWAL_KINDS, AgreementStatus, ObligationState, RenewalType
from lifecycle.models import (
    Agreement,
    District,
    License,
    Obligation,
    ServiceContract,
    TermRecord,
    User,
)
from lifecycle.money import to_cents
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.scan.obligations import OPEN_STATES
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.records import claim_version


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


def apply(obj: Agreement, *, today: date, renewed_through: int = 1) -> rules.TermState:
    """Store the derived term fields on the agreement; a cancelled one stays so."""
    state = rules.derive(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewal_type=obj.renewal_type,
        notice_days=obj.notice_days,
        today=today,
        renewed_through=renewed_through,
        cancelled=obj.status == AgreementStatus.CANCELLED,
    )
    obj.current_term_number = state.number
    obj.current_term_start = state.start
    obj.current_term_end = state.end
    obj.decision_term_number = state.decision_term
    obj.decide_by = state.decide_by
    obj.status = state.status
    return state


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
) -> rules.TermState:
    """Recompute the stored term fields; roll a tacit agreement into terms it entered.

    When today has moved past the stored term (the nightly scan has not run yet), the
    new terms are recorded with their prices and a contract's cost escalates, exactly as
    the scan would, so neither skips nor repeats a renewal.
    """
    # One write per change: the version moves once, not at every autoflush.
    with session.no_autoflush:
        records = recorded_terms(session, subject, obj.id) if obj.id else []
    through = max((r.term_number for r in records), default=1)
    state = apply(obj, today=today, renewed_through=through)
    rolled = previous is not None and state.number > previous
    if rolled and obj.id is not None:
        assert previous is not None
        have = {r.term_number: r for r in records}
        for k in range(previous + 1, state.number + 1):
            if k in have:  # renewed ahead (express), or recorded by a scan
                if reprice:
                    enter_recorded(obj, have[k])
            elif obj.renewal_type is RenewalType.TACIT:
                if reprice and isinstance(obj, ServiceContract):
                    obj.cost_per_period = escalated_cost(
                        obj.cost_per_period, obj.escalator_pct, 1
                    )
                t = term(*lengths_of(obj), k)
                session.add(_record(subject, obj, k, t.start, t.end, None))
    return state


def enter_recorded(obj: Agreement, record: TermRecord) -> None:
    """The agreement has entered a term on record: what it costs now is that term's
    price (a contract's cost per period, a license's seats and price per seat)."""
    if isinstance(obj, ServiceContract):
        obj.cost_per_period = record.price
    elif record.seats is not None:
        obj.seats = record.seats
        if record.seats:
            obj.price_per_seat = to_cents(record.price / record.seats)


def lengths_of(obj: Agreement) -> tuple[date, int, int]:
    """Its original start, initial and renewal months: what every term is counted from."""
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


def escalator(obj: Agreement) -> Decimal:
    """The percentage each term's price grows by: a contract's escalator; a license's
    price per seat stays (seats × price per seat)."""
    return obj.escalator_pct if isinstance(obj, ServiceContract) else Decimal(0)


# What a renewal's 409 shows of the agreement as it is now.
RENEW_FIELDS = ("status", "current_term_number", "decision_term_number", "decide_by")


def renew(
    session: Session,
    *,
    user: User,
    subject: str,
    obj: Agreement,
    version: int | None,
    seats: int | None = None,
    price_per_seat: Decimal | None = None,
    cost_per_period: Decimal | None = None,
    decision: Obligation | None = None,
    today: date | None = None,
) -> TermRecord:
    """Renew an express agreement for its next term (or today's, after a lapse): the one
    way of renewing, from its page, the renewals page and the API alike. The caller
    has checked who may renew.

    The new term joins the term history as decided, with its dates, price and seats:
    a license at the given (else the last term's) seats × price per seat, a contract at
    the given cost per period, else the last term's × (1 + escalator %). The current
    term stays the one containing today and keeps its price until the new term begins;
    the open decision moves to the new term's end. The renewal obligation of the
    decision taken (`decision`, else the open one on record) is done.
    """
    claim_version(session, obj, version, fields=RENEW_FIELDS)
    if obj.renewal_type is not RenewalType.EXPRESS:
        raise Conflict(
            "Only an agreement that must be renewed (express) is renewed by hand; "
            "a tacit one renews by itself unless cancelled, one with no renewal ends."
        )
    if obj.status is AgreementStatus.CANCELLED:
        raise Conflict("This agreement is cancelled; reinstate it first.")
    if decision is not None and decision.term_number != obj.decision_term_number:
        raise Conflict("This decision is out of date; run a scan and try again.")
    _only_its_own(obj, seats=seats, price_per_seat=price_per_seat, cost=cost_per_period)
    today = today or district_today(session, obj.district_id)
    assert obj.id is not None
    with session.no_autoflush:
        records = {r.term_number: r for r in recorded_terms(session, subject, obj.id)}
    through = max(records, default=1)
    new = rules.renewal_target(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewed_through=through,
        today=today,
    )
    priced = _new_term_price(
        obj,
        records,
        new.number,
        seats=seats,
        price_per_seat=price_per_seat,
        cost=cost_per_period,
    )
    record = _record(subject, obj, new.number, new.start, new.end, user.id)
    record.price, record.seats = priced.price, priced.seats
    session.add(record)
    state = apply(obj, today=today, renewed_through=new.number)
    if state.number == new.number:  # resumed after a lapse: the new term is today's
        enter_recorded(obj, record)
    span = f"{new.start.isoformat()} – {new.end.isoformat()}"
    changes: dict[str, Any] = {"renewed_through": [through, new.number]}
    changes["price"] = [None, str(priced.price)]
    audit.record(
        session,
        action="renew",
        entity_type=subject,
        entity_id=obj.id,
        district_id=obj.district_id,
        changes=changes,
        summary=f"term {new.number}: {span}",
    )
    decision = decision or _open_decision(session, subject, obj.id, through)
    if decision is not None:
        _decided(session, decision, changes, f"renewed for term {new.number}: {span}")
    session.flush()
    schedule_rescan(session, obj.district_id)
    return record


def _only_its_own(
    obj: Agreement,
    *,
    seats: int | None,
    price_per_seat: Decimal | None,
    cost: Decimal | None,
) -> None:
    """A license renews with seats and a price per seat, a contract with a cost."""
    if isinstance(obj, License) and cost is not None:
        raise ValidationFailed({"cost_per_period": "applies to contracts only"})
    if isinstance(obj, ServiceContract) and (
        seats is not None or price_per_seat is not None
    ):
        field = "price_per_seat" if price_per_seat is not None else "seats"
        raise ValidationFailed({field: "applies to licenses only"})


def _new_term_price(
    obj: Agreement,
    records: dict[int, TermRecord],
    number: int,
    *,
    seats: int | None,
    price_per_seat: Decimal | None,
    cost: Decimal | None,
) -> rules.Priced:
    """What the renewed term costs: as given, else as the rules price it from the term
    before it (rules.term_prices)."""
    current = min(obj.current_term_number or 1, number - 1)
    now_seats = obj.seats if isinstance(obj, License) else None
    chain = rules.term_prices(
        current=current,
        now=rules.Priced(current_price(obj), now_seats),
        escalator_pct=escalator(obj),
        records={k: rules.Priced(r.price, r.seats) for k, r in records.items()},
        through=number,
    )
    if isinstance(obj, ServiceContract):
        return rules.Priced(chain[number].price if cost is None else to_cents(cost))
    if seats is None and price_per_seat is None:
        return chain[number]
    before = chain[number - 1]
    count = before.seats if seats is None else seats
    unit = price_per_seat
    if unit is None:
        unit = (
            to_cents(before.price / before.seats)
            if before.seats
            else obj.price_per_seat
        )
    return rules.Priced(to_cents((count or 0) * unit), count)


def _open_decision(
    session: Session, subject: str, ident: int, term_number: int
) -> Obligation | None:
    """The open renewal obligation about this term of the agreement, if any."""
    stmt = select(Obligation).where(
        col(Obligation.subject_type) == subject,
        col(Obligation.subject_id) == ident,
        col(Obligation.kind).in_(RENEWAL_KINDS),
        col(Obligation.term_number) == term_number,
        col(Obligation.state).in_(OPEN_STATES),
    )
    return session.exec(stmt).first()


def _decided(
    session: Session, obligation: Obligation, changes: dict[str, Any], summary: str
) -> None:
    """The renewal obligation is done: someone took its decision."""
    assert obligation.id is not None
    before = obligation.state
    obligation.state = ObligationState.DONE
    audit.record(
        session,
        action="renew",
        entity_type="obligation",
        entity_id=obligation.id,
        district_id=obligation.district_id,
        changes={"state": [before.value, ObligationState.DONE.value], **changes},
        summary=summary,
    )


def renew_by_hand(
    session: Session, *, user: User, subject: str, obj: Agreement, version: int | None
) -> TermRecord:
    """Renew from the agreement's own page: district IT staff only."""
    writable_district(user, obj.district_id)
    return renew(session, user=user, subject=subject, obj=obj, version=version)


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
    claim_version(session, obj, version)
    obj.status = AgreementStatus.CANCELLED if cancelled else AgreementStatus.ACTIVE
    refresh_terms(session, subject, obj, today=district_today(session, obj.district_id))
    session.flush()
    schedule_rescan(session, obj.district_id)
