"""What a license's or contract's detail page says about its terms. Pure: no DB, no Flask.

The decide-by date in one plain sentence and the term table (past terms with their
recorded prices, the current term, the terms committed, renewed or projected), from the
rules in agreements/rules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lifecycle.agreements.rules import Priced, Term, TermState, derive, term
from lifecycle.bounds import OutOfCalendar
from lifecycle.enums import AgreementStatus, RenewalType


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


def last_row(
    state: TermState,
    *,
    renewal_type: RenewalType,
    records: Mapping[int, Priced],
    ahead: int = 3,
) -> int:
    """The last term the table shows: `ahead` terms past the current or decided one
    (that would follow if renewed), and every term on record."""
    kind = RenewalType(renewal_type)
    last = state.number
    if state.status is AgreementStatus.ACTIVE:
        last = max(last, state.decision_term or last)
        if kind is not RenewalType.NONE:
            last += ahead
    if kind is RenewalType.NONE:
        last = 1
    return max(last, max(records, default=0))


def term_table(
    state: TermState,
    *,
    term_start: date,
    initial_months: int,
    renewal_months: int,
    renewal_type: RenewalType,
    records: Mapping[int, Priced],
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
    last = last_row(state, renewal_type=kind, records=records, ahead=ahead)
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
    records: Mapping[int, Priced],
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
