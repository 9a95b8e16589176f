"""Stored term fields of licenses and contracts (docs/rules.md#terms-and-renewal-dates). Pure: no DB, no Flask.

`derive` turns an agreement's term rules and today's date into what we store for lists,
filters and reminders: the current term (number, start, end), the decide-by date and the
status. Term dates come from `renewals.schedule`, always from the ORIGINAL start.

- Before the term start the current term is term 1.
- tacit (renews unless cancelled): the current term is the one containing today. Its
  decide-by is the term end − notice days; once that date has passed, the district is
  committed to the next term, so the decision that is still open is the NEXT term's:
  next term end − notice days (and so on, when the notice is longer than a term). The
  notice date moves with every renewal; it is never computed from the original end.
- express (lapses unless renewed): only terms up to `renewed_through` exist (term 1
  always does). While today is inside them the decide-by is the end of the last renewed
  term (renewing early moves it); past that, the agreement has lapsed: the current term
  stays the last renewed one and there is nothing left to decide.
- none (ends for good): term 1 only, no decide-by; past it the agreement has ended.
- A cancelled agreement keeps its term dates but has nothing to decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from lifecycle.bounds import OutOfCalendar
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.scan.schedule import Term, days_after, term, term_number_on

# Notice is at most 730 days and a term at least a month: ~25 steps at worst.
_MAX_STEPS = 1000


@dataclass(frozen=True, slots=True)
class TermState:
    """The stored, derived fields of an agreement on a given day."""

    number: int
    start: date
    end: date
    decide_by: date | None
    status: AgreementStatus
    # The term whose end the decide-by date is about: the current term, a later one a
    # tacit agreement is already committed to, or the last one an express one renewed.
    decision_term: int | None


def derive(
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewal_type: RenewalType,
    notice_days: int,
    today: date,
    renewed_through: int = 1,
    cancelled: bool = False,
) -> TermState:
    """Current term, decide-by and status of an agreement on `today` (see above)."""
    if notice_days < 0:
        raise ValueError(f"notice_days must be 0 or more, got {notice_days}")
    kind = RenewalType(renewal_type)
    renewed_through = max(renewed_through, 1)
    n = term_number_on(term_start, initial_months, renewal_months, today) or 1

    def nth(k: int) -> Term:
        return term(term_start, initial_months, renewal_months, k)

    status = AgreementStatus.ACTIVE
    decide: date | None = None
    decision: int | None = None
    if kind is RenewalType.TACIT:
        current = nth(n)
        decision = n
        decide = days_after(current.end, -notice_days)
        while decide < today and decision - n < _MAX_STEPS:
            decision += 1
            decide = days_after(nth(decision).end, -notice_days)
    elif kind is RenewalType.EXPRESS:
        if n > renewed_through:
            current = nth(renewed_through)
            status = AgreementStatus.LAPSED
        else:
            current = nth(n)
            decision = renewed_through
            decide = nth(renewed_through).end
    else:
        current = nth(1)
        if n > 1:
            status = AgreementStatus.ENDED
    if cancelled:
        status, decide, decision = AgreementStatus.CANCELLED, None, None
    return TermState(
        number=current.number,
        start=current.start,
        end=current.end,
        decide_by=decide,
        status=status,
        decision_term=decision,
    )


class Agreement(Protocol):
    """What `apply` reads and writes: a License or a ServiceContract."""

    term_start: date
    initial_term_months: int
    renewal_term_months: int
    renewal_type: RenewalType
    notice_days: int
    status: AgreementStatus
    current_term_number: int | None
    current_term_start: date | None
    current_term_end: date | None
    decide_by: date | None


def apply(obj: Agreement, *, today: date, renewed_through: int = 1) -> TermState:
    """Store the derived term fields on the agreement; a cancelled one stays so."""
    state = derive(
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


def _d(day: date) -> str:
    return day.strftime("%b %-d, %Y")


def explain(
    state: TermState,
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewal_type: RenewalType,
    notice_days: int,
) -> str:
    """The decide-by date in one plain sentence, as the detail page shows it."""

    def nth(k: int) -> Term:
        return term(term_start, initial_months, renewal_months, k)

    kind = RenewalType(renewal_type)
    if state.status is AgreementStatus.CANCELLED:
        return f"Cancelled. This term runs to {_d(state.end)}; nothing to decide."
    if state.status is AgreementStatus.LAPSED:
        return (
            f"Lapsed on {_d(state.end)}: term {state.number} was the last one renewed. "
            "It produces no further reminders."
        )
    if state.status is AgreementStatus.ENDED:
        return f"Ended on {_d(state.end)}; it does not renew."
    if kind is RenewalType.NONE or state.decide_by is None:
        return f"Ends for good on {_d(state.end)}; there is nothing to renew."
    decision = state.decision_term or state.number
    if kind is RenewalType.EXPRESS:
        text = f"Lapses on {_d(nth(decision).end)} unless renewed."
        if decision > state.number:
            text += f" Already renewed through term {decision}."
        return text
    renews_on = nth(decision + 1).start
    days = f"{notice_days} days' notice" if notice_days else "no notice period"
    text = (
        f"Auto-renews on {_d(renews_on)} unless cancelled by "
        f"{_d(state.decide_by)} ({days})."
    )
    if decision > state.number:
        text = (
            f"The notice date for this term has passed, so the district is committed "
            f"through {_d(nth(decision).end)}. " + text
        )
    return text


@dataclass(frozen=True, slots=True)
class TermRow:
    """One line of the term history table."""

    number: int
    start: date
    end: date
    state: str  # past | current | committed | renewed | projected
    price: Decimal | None
    seats: int | None
    recorded: bool


@dataclass(frozen=True, slots=True)
class Recorded:
    price: Decimal
    seats: int | None


def term_table(
    state: TermState,
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewal_type: RenewalType,
    records: Mapping[int, Recorded],
    price_of: Callable[[int], Decimal],
    ahead: int = 3,
    max_past: int = 12,
) -> list[TermRow]:
    """Past terms (recorded price where known), the current term and projections.

    `price_of(k)` prices the current and later terms (a contract escalates, a license
    costs seats × price per seat); a past term shows its recorded price, if any.
    """
    kind = RenewalType(renewal_type)
    active = state.status is AgreementStatus.ACTIVE
    last = state.number
    if active and state.decision_term is not None:
        last = max(last, state.decision_term)
    if active and kind is RenewalType.TACIT:
        last += ahead
    elif active and kind is RenewalType.EXPRESS:
        last += ahead  # terms that would follow if renewed
    if kind is RenewalType.NONE:
        last = 1
    last = max(last, max(records, default=0))
    rows: list[TermRow] = []
    for k in range(max(1, state.number - max_past + 1), last + 1):
        t = term(term_start, initial_months, renewal_months, k)
        rec = records.get(k)
        if k < state.number:
            label = "past"
        elif k == state.number:
            label = "current"
        elif active and state.decision_term is not None and k <= state.decision_term:
            label = "renewed" if kind is RenewalType.EXPRESS else "committed"
        elif rec is not None:
            label = "renewed"
        else:
            label = "projected"
        price: Decimal | None
        if rec is not None:
            price = rec.price
        elif k >= state.number:
            price = price_of(k)
        else:
            price = None
        rows.append(
            TermRow(
                number=k,
                start=t.start,
                end=t.end,
                state=label,
                price=price,
                seats=rec.seats if rec else None,
                recorded=rec is not None,
            )
        )
    return rows


def renewal_target(
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewed_through: int,
    today: date,
) -> Term:
    """The term an express renewal recorded today covers: the next one, or today's.

    Renewing after a lapse resumes in the term containing today; the terms skipped
    in between were not covered.
    """
    now = term_number_on(term_start, initial_months, renewal_months, today) or 1
    target = max(renewed_through + 1, now)
    return term(term_start, initial_months, renewal_months, target)


@dataclass(frozen=True, slots=True)
class TermView:
    """What a detail page shows about the terms: today's state, in words, as a table.

    No state (and no rows) when the term dates leave the calendar: the page says so
    instead of failing."""

    state: TermState | None
    explanation: str
    rows: list[TermRow]


def view(
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewal_type: RenewalType,
    notice_days: int,
    today: date,
    records: Mapping[int, Recorded],
    cancelled: bool,
    price_of: Callable[[TermState, int], Decimal],
    ahead: int = 3,
) -> TermView:
    """Today's state from the term history, in words and as a table."""
    rules: dict[str, Any] = {
        "term_start": term_start,
        "initial_months": initial_months,
        "renewal_months": renewal_months,
        "renewal_type": renewal_type,
    }
    try:
        state = derive(
            **rules,
            notice_days=notice_days,
            today=today,
            renewed_through=max(records, default=1),
            cancelled=cancelled,
        )
        rows = term_table(
            state,
            **rules,
            records=records,
            price_of=lambda k: price_of(state, k),
            ahead=ahead,
        )
        explanation = explain(state, **rules, notice_days=notice_days)
    except OutOfCalendar:
        return TermView(None, OutOfCalendar.message, [])
    return TermView(state, explanation, rows)
