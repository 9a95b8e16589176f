"""Worked examples for the stored term fields of licenses and contracts (§3.1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lifecycle.agreements.rules import Priced, derive
from lifecycle.agreements.term_table import explain, term_table, view
from lifecycle.agreements.terms import apply
from lifecycle.enums import AgreementStatus, RenewalType

D = date
d = date.fromisoformat
TACIT, EXPRESS, NONE = RenewalType.TACIT, RenewalType.EXPRESS, RenewalType.NONE
ACTIVE, LAPSED, ENDED = (
    AgreementStatus.ACTIVE,
    AgreementStatus.LAPSED,
    AgreementStatus.ENDED,
)
# (original start, initial months, renewal months)
MONTHLY = ("2027-01-31", 1, 1)  # terms start 31 Jan, 28 Feb, 31 Mar, 30 Apr…
LEAP = ("2028-02-29", 12, 12)  # term 1 ends 27 Feb 2029, term 2 starts 28 Feb 2029
YEARLY = ("2025-01-01", 12, 12)
JULY = ("2025-07-01", 12, 12)
LONG_FIRST = ("2025-08-15", 36, 12)


@pytest.mark.parametrize(
    ("rules", "kind", "notice", "renewed", "today", "expected"),
    [
        pytest.param(MONTHLY, TACIT, 0, 1, "2027-03-15",
                     (2, "2027-02-28", "2027-03-30", "2027-03-30", ACTIVE),
                     id="monthly from 31 Jan, in term 2"),
        pytest.param(MONTHLY, TACIT, 10, 1, "2027-03-15",
                     (2, "2027-02-28", "2027-03-30", "2027-03-20", ACTIVE),
                     id="monthly, notice date still open"),
        # After 20 Mar the district is committed to term 3: its notice date matters.
        pytest.param(MONTHLY, TACIT, 10, 1, "2027-03-25",
                     (2, "2027-02-28", "2027-03-30", "2027-04-19", ACTIVE),
                     id="monthly, notice passed: next term's notice date"),
        # Notice longer than a term: terms 2 and 3 are both committed; on the day
        # itself (15 Mar = 29 Apr − 45 days) the decision is still open.
        pytest.param(MONTHLY, TACIT, 45, 1, "2027-03-15",
                     (2, "2027-02-28", "2027-03-30", "2027-03-15", ACTIVE),
                     id="monthly, notice longer than a term"),
        pytest.param(MONTHLY, EXPRESS, 0, 3, "2027-04-10",
                     (3, "2027-03-31", "2027-04-29", "2027-04-29", ACTIVE),
                     id="monthly express, renewed through term 3"),
        pytest.param(MONTHLY, EXPRESS, 0, 3, "2027-04-30",
                     (3, "2027-03-31", "2027-04-29", None, LAPSED),
                     id="monthly express, lapsed after term 3"),
        pytest.param(LEAP, TACIT, 30, 1, "2028-01-01",
                     (1, "2028-02-29", "2029-02-27", "2029-01-28", ACTIVE),
                     id="29 Feb start, before the start: term 1"),
        pytest.param(LEAP, TACIT, 30, 1, "2029-01-10",
                     (1, "2028-02-29", "2029-02-27", "2029-01-28", ACTIVE),
                     id="29 Feb start, notice open"),
        pytest.param(LEAP, TACIT, 30, 1, "2029-02-01",
                     (1, "2028-02-29", "2029-02-27", "2030-01-28", ACTIVE),
                     id="29 Feb start, notice passed"),
        pytest.param(LEAP, TACIT, 30, 1, "2029-02-28",
                     (2, "2029-02-28", "2030-02-27", "2030-01-28", ACTIVE),
                     id="29 Feb start, renewed into term 2"),
        pytest.param(LEAP, EXPRESS, 30, 1, "2029-02-27",
                     (1, "2028-02-29", "2029-02-27", "2029-02-27", ACTIVE),
                     id="29 Feb start express, last day"),
        pytest.param(LEAP, EXPRESS, 30, 1, "2029-02-28",
                     (1, "2028-02-29", "2029-02-27", None, LAPSED),
                     id="29 Feb start express, lapsed"),
        pytest.param(LEAP, NONE, 30, 1, "2028-06-01",
                     (1, "2028-02-29", "2029-02-27", None, ACTIVE),
                     id="no renewal, in term 1"),
        pytest.param(LEAP, NONE, 30, 5, "2029-03-01",
                     (1, "2028-02-29", "2029-02-27", None, ENDED),
                     id="no renewal, ended"),
        # A tacit contract after two renewals: the notice date moved with each term
        # end (GLPI would still say 1 Nov 2025, from the original end).
        pytest.param(YEARLY, TACIT, 60, 1, "2027-03-01",
                     (3, "2027-01-01", "2027-12-31", "2027-11-01", ACTIVE),
                     id="tacit after two renewals"),
        pytest.param(YEARLY, TACIT, 60, 1, "2027-11-02",
                     (3, "2027-01-01", "2027-12-31", "2028-11-01", ACTIVE),
                     id="tacit after two renewals, committed to term 4"),
        # An express license renewed once (term 2 on record), then not again.
        pytest.param(JULY, EXPRESS, 0, 2, "2027-07-01",
                     (2, "2026-07-01", "2027-06-30", None, LAPSED),
                     id="express license lapsed after one renewal"),
        pytest.param(JULY, EXPRESS, 0, 3, "2027-02-01",
                     (2, "2026-07-01", "2027-06-30", "2028-06-30", ACTIVE),
                     id="express renewed early: decide by the renewed term's end"),
        pytest.param(LONG_FIRST, TACIT, 90, 1, "2028-09-01",
                     (2, "2028-08-15", "2029-08-14", "2029-05-16", ACTIVE),
                     id="36-month first term, then yearly"),
    ],
)  # fmt: skip
def test_derived_term_fields(rules, kind, notice, renewed, today, expected):
    start, initial, renewal = rules
    state = derive(
        term_start=d(start),
        initial_months=initial,
        renewal_months=renewal,
        renewal_type=kind,
        notice_days=notice,
        today=d(today),
        renewed_through=renewed,
    )

    number, first, last, decide, status = expected
    assert (state.number, state.start, state.end) == (number, d(first), d(last))
    assert state.decide_by == (d(decide) if decide else None)
    assert state.status is status


def _derive(kind, notice, today, renewed=1, *, cancelled=False):
    return derive(
        term_start=D(2025, 1, 1),
        initial_months=12,
        renewal_months=12,
        renewal_type=kind,
        notice_days=notice,
        today=today,
        renewed_through=renewed,
        cancelled=cancelled,
    )


def test_a_cancelled_agreement_keeps_its_term_and_has_nothing_to_decide():
    state = _derive(TACIT, 60, D(2025, 6, 1), cancelled=True)

    assert (state.number, state.end, state.decide_by, state.status) == (
        1,
        D(2025, 12, 31),
        None,
        AgreementStatus.CANCELLED,
    )


def test_negative_notice_is_refused():
    with pytest.raises(ValueError, match="notice_days"):
        _derive(TACIT, -1, D(2025, 6, 1))


class _Agreement:
    def __init__(self, **kw):
        self.status = AgreementStatus.ACTIVE
        self.current_term_number = self.current_term_start = None
        self.current_term_end = self.decide_by = None
        self.__dict__.update(kw)


def test_apply_stores_the_fields_and_keeps_a_cancellation():
    lic = _Agreement(
        term_start=D(2025, 7, 1),
        initial_term_months=12,
        renewal_term_months=12,
        renewal_type=EXPRESS,
        notice_days=0,
    )
    apply(lic, today=D(2026, 8, 1), renewed_through=2)
    assert (lic.current_term_number, lic.current_term_start) == (2, D(2026, 7, 1))
    assert (lic.current_term_end, lic.decide_by) == (D(2027, 6, 30), D(2027, 6, 30))
    assert lic.status is ACTIVE

    lic.status = AgreementStatus.CANCELLED
    apply(lic, today=D(2026, 8, 1), renewed_through=2)
    assert (lic.decide_by, lic.status) == (None, AgreementStatus.CANCELLED)


RULES = {
    "term_start": D(2025, 1, 1),
    "initial_months": 12,
    "renewal_months": 12,
}


@pytest.mark.parametrize(
    ("kind", "notice", "today", "renewed", "text"),
    [
        (TACIT, 60, D(2025, 6, 1), 1,
         "Auto-renews on Jan 1, 2026 unless cancelled by Nov 1, 2025 "
         "(60 days' notice)."),
        (TACIT, 60, D(2025, 12, 1), 1,
         "The notice date for this term has passed, so the district is committed "
         "through Dec 31, 2026. Auto-renews on Jan 1, 2027 unless cancelled by "
         "Nov 1, 2026 (60 days' notice)."),
        (EXPRESS, 0, D(2025, 6, 1), 1, "Lapses on Dec 31, 2025 unless renewed."),
        (EXPRESS, 0, D(2025, 6, 1), 2,
         "Lapses on Dec 31, 2026 unless renewed. Already renewed through term 2."),
        (EXPRESS, 0, D(2026, 1, 1), 1,
         "Lapsed on Dec 31, 2025: term 1 was the last one renewed. "
         "It produces no further reminders."),
        (NONE, 0, D(2025, 6, 1), 1,
         "Ends for good on Dec 31, 2025; there is nothing to renew."),
        (NONE, 0, D(2026, 6, 1), 1, "Ended on Dec 31, 2025; it does not renew."),
    ],
)  # fmt: skip
def test_the_decide_by_is_explained_in_plain_words(kind, notice, today, renewed, text):
    state = _derive(kind, notice, today, renewed)

    assert explain(state, **RULES, renewal_type=kind, notice_days=notice) == text


def _escalated(k: int) -> Decimal:
    return (Decimal("10609.00") * Decimal("1.03") ** (k - 3)).quantize(Decimal("0.01"))


def test_term_table_shows_recorded_prices_and_projects_three_escalated_terms():
    state = _derive(TACIT, 60, D(2027, 3, 1))
    records = {
        2: Priced(Decimal("10300.00"), None),
        3: Priced(Decimal("10609.00"), None),
    }

    rows = term_table(
        state, **RULES, renewal_type=TACIT, records=records, price_of=_escalated
    )

    assert [(r.number, r.state, r.price, r.recorded) for r in rows] == [
        (1, "past", None, False),
        (2, "past", Decimal("10300.00"), True),
        (3, "current", Decimal("10609.00"), True),
        (4, "projected", Decimal("10927.27"), False),
        (5, "projected", Decimal("11255.09"), False),
        (6, "projected", Decimal("11592.74"), False),
    ]
    assert (rows[3].start, rows[3].end) == (D(2028, 1, 1), D(2028, 12, 31))


def _flat(k: int) -> Decimal:
    return Decimal(100)


def test_term_table_marks_committed_and_renewed_terms():
    committed = term_table(
        _derive(TACIT, 60, D(2025, 12, 1)),
        **RULES,
        renewal_type=TACIT,
        records={},
        price_of=_flat,
        ahead=1,
    )
    renewed = term_table(
        _derive(EXPRESS, 0, D(2025, 6, 1), renewed=2),
        **RULES,
        renewal_type=EXPRESS,
        records={2: Priced(Decimal(90), 40)},
        price_of=_flat,
        ahead=0,
    )
    lapsed = term_table(
        _derive(EXPRESS, 0, D(2026, 6, 1)),
        **RULES,
        renewal_type=EXPRESS,
        records={},
        price_of=_flat,
    )

    assert [(r.number, r.state) for r in committed] == [
        (1, "current"),
        (2, "committed"),
        (3, "projected"),
    ]
    assert [(r.number, r.state, r.price, r.seats) for r in renewed] == [
        (1, "current", Decimal(100), None),
        (2, "renewed", Decimal(90), 40),
    ]
    assert [(r.number, r.state) for r in lapsed] == [(1, "current")]


def test_a_term_start_whose_terms_leave_the_calendar_shows_no_terms_but_says_why():
    shown = view(
        term_start=date(9990, 1, 1),
        initial_months=120,
        renewal_months=12,
        renewal_type=RenewalType.TACIT,
        notice_days=60,
        today=date(2026, 6, 1),
        records={},
        cancelled=False,
        price_of=lambda state, k: Decimal("0"),
    )

    assert (shown.state, shown.rows) == (None, [])
    assert "outside the calendar" in shown.explanation
