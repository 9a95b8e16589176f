"""The term bookkeeping licenses and service contracts share: today in the district's
time zone, the recorded term history, rolling tacit terms forward, renewing by hand,
cancelling and reinstating, and the term view of a detail page.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.agreements import rules
from lifecycle.agreements.rules import escalated_cost, term, term_cost
from lifecycle.agreements.sql import term_lines
from lifecycle.agreements.term_table import TermView, last_row, view
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.models import (
    Agreement,
    District,
    License,
    ServiceContract,
    TermRecord,
    User,
)
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import Conflict
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


def term_view(session: Session, subject: str, obj: Agreement) -> TermView:
    """Today's term state, its plain explanation and the term history table.

    The current and later terms are priced by the set-based term lines a forecast
    reads (sql.term_lines), so the page shows the numbers the budget uses.
    """
    assert obj.id is not None
    records = {
        r.term_number: rules.Priced(r.price, r.seats)
        for r in recorded_terms(session, subject, obj.id)
    }
    priced: dict[int, Decimal] = {}

    def price_of(state: rules.TermState, k: int) -> Decimal:
        if not priced:  # once, when the table first asks
            priced.update(_term_prices(session, subject, obj, state, records))
        return priced[k]

    return view(
        term_start=obj.term_start,
        initial_months=obj.initial_term_months,
        renewal_months=obj.renewal_term_months,
        renewal_type=obj.renewal_type,
        notice_days=obj.notice_days,
        today=district_today(session, obj.district_id),
        records=records,
        cancelled=obj.status is AgreementStatus.CANCELLED,
        price_of=price_of,
    )


def _term_prices(
    session: Session,
    subject: str,
    obj: Agreement,
    state: rules.TermState,
    records: dict[int, rules.Priced],
) -> dict[int, Decimal]:
    """The prices of the terms the table shows from today's on, from the term lines;
    the rules price any the stored fields do not reach yet (a row not scanned since
    it was loaded, or since its term ended)."""
    assert obj.id is not None
    last = last_row(state, renewal_type=obj.renewal_type, records=records)
    lines = term_lines(
        session,
        district_id=obj.district_id,
        until=term(*_rules(obj), last).start,
        subject_type=subject,
        ids=[obj.id],
    )
    current = min(obj.current_term_number or state.number, state.number)
    prices = {
        k: p.price
        for k, p in rules.term_prices(
            current=current,
            now=rules.Priced(current_price(obj)),
            escalator_pct=escalator(obj),
            records=records,
            through=max(last, current),
        ).items()
    }
    return prices | {line.number: line.price for line in lines}


def escalator(obj: Agreement) -> Decimal:
    """The percentage each term's price grows by: a contract's escalator; a license's
    price per seat stays (seats × price per seat)."""
    return obj.escalator_pct if isinstance(obj, ServiceContract) else Decimal(0)


def renew(
    session: Session, *, user: User, subject: str, obj: Agreement, version: int | None
) -> int:
    """Record that an express agreement was renewed for its next term (or today's)."""
    writable_district(user, obj.district_id)
    claim_version(session, obj, version)
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
    t = rules.renewal_target(
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
    apply(obj, today=today, renewed_through=target)
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
    schedule_rescan(session, obj.district_id)
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
    claim_version(session, obj, version)
    obj.status = AgreementStatus.CANCELLED if cancelled else AgreementStatus.ACTIVE
    refresh_terms(session, subject, obj, today=district_today(session, obj.district_id))
    session.flush()
    schedule_rescan(session, obj.district_id)
