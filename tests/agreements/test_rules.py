"""Worked examples for term boundaries, decide-by, lapse and escalation
(docs/rules.md#terms-and-renewal-dates)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from lifecycle.agreements import rules
from lifecycle.agreements.rules import (
    Priced,
    Term,
    decide_by,
    escalated_cost,
    lapsed,
    last_term_number,
    term,
    term_containing,
    term_cost,
    term_number_on,
    term_prices,
)
from lifecycle.bounds import OutOfCalendar
from lifecycle.enums import RenewalType

D = date
TACIT, EXPRESS, NONE = RenewalType.TACIT, RenewalType.EXPRESS, RenewalType.NONE

# --- terms -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "initial", "renewal", "n", "term_start", "term_end"),
    [
        # Monthly from 31 Jan: starts keep the 31st, clamped to the month's length,
        # and never drift to the 28th for good (chained addition would).
        (D(2027, 1, 31), 1, 1, 1, D(2027, 1, 31), D(2027, 2, 27)),
        (D(2027, 1, 31), 1, 1, 2, D(2027, 2, 28), D(2027, 3, 30)),
        (D(2027, 1, 31), 1, 1, 3, D(2027, 3, 31), D(2027, 4, 29)),
        (D(2027, 1, 31), 1, 1, 4, D(2027, 4, 30), D(2027, 5, 30)),
        (D(2027, 1, 31), 1, 1, 5, D(2027, 5, 31), D(2027, 6, 29)),
        (D(2027, 1, 31), 1, 1, 13, D(2028, 1, 31), D(2028, 2, 28)),
        (D(2027, 1, 31), 1, 1, 14, D(2028, 2, 29), D(2028, 3, 30)),
        # Annual from 29 Feb 2028: +12 months clamps to 28 Feb 2029.
        (D(2028, 2, 29), 12, 12, 1, D(2028, 2, 29), D(2029, 2, 27)),
        (D(2028, 2, 29), 12, 12, 2, D(2029, 2, 28), D(2030, 2, 27)),
        (D(2028, 2, 29), 12, 12, 4, D(2031, 2, 28), D(2032, 2, 28)),
        (D(2028, 2, 29), 12, 12, 5, D(2032, 2, 29), D(2033, 2, 27)),
        # A 36-month initial term, then yearly renewals.
        (D(2025, 8, 15), 36, 12, 1, D(2025, 8, 15), D(2028, 8, 14)),
        (D(2025, 8, 15), 36, 12, 2, D(2028, 8, 15), D(2029, 8, 14)),
        (D(2025, 8, 15), 36, 12, 3, D(2029, 8, 15), D(2030, 8, 14)),
        # A 3-month initial term from a month end, then yearly, across a leap day.
        (D(2025, 11, 30), 3, 12, 1, D(2025, 11, 30), D(2026, 2, 27)),
        (D(2025, 11, 30), 3, 12, 2, D(2026, 2, 28), D(2027, 2, 27)),
        (D(2025, 11, 30), 3, 12, 3, D(2027, 2, 28), D(2028, 2, 28)),
        # Plain calendar years.
        (D(2025, 1, 1), 12, 12, 1, D(2025, 1, 1), D(2025, 12, 31)),
        (D(2025, 1, 1), 12, 12, 3, D(2027, 1, 1), D(2027, 12, 31)),
    ],
)
def test_term_boundaries_come_from_the_original_start(
    start: date, initial: int, renewal: int, n: int, term_start: date, term_end: date
) -> None:
    assert term(start, initial, renewal, n) == Term(n, term_start, term_end)


def test_chained_addition_would_drift_but_terms_do_not() -> None:
    # Chaining term ends gives 31 Jan → 28 Feb → 28 Mar → 28 Apr …; we must not.
    starts = [term(D(2027, 1, 31), 1, 1, n).start for n in range(1, 6)]
    assert starts == [
        D(2027, 1, 31),
        D(2027, 2, 28),
        D(2027, 3, 31),
        D(2027, 4, 30),
        D(2027, 5, 31),
    ]


@pytest.mark.parametrize(
    ("start", "initial", "renewal"),
    [
        (D(2027, 1, 31), 1, 1),
        (D(2028, 2, 29), 12, 12),
        (D(2025, 8, 15), 36, 12),
        (D(2025, 11, 30), 3, 12),
        (D(2024, 5, 31), 1, 3),
    ],
)
def test_terms_tile_the_calendar_and_lookup_matches_a_walk(
    start: date, initial: int, renewal: int
) -> None:
    """Each term starts the day after the last ends, and every day maps to its term."""
    walk: dict[date, int] = {}
    n = 1
    while True:
        t = term(start, initial, renewal, n)
        if n > 1:
            assert t.start == term(start, initial, renewal, n - 1).end + timedelta(1)
        assert t.start <= t.end
        day = t.start
        while day <= t.end:
            walk[day] = n
            day += timedelta(1)
        if t.end > start + timedelta(days=6 * 366):
            break
        n += 1
    for day, expected in walk.items():
        assert term_number_on(start, initial, renewal, day) == expected
        assert day in term(start, initial, renewal, expected)
    assert term_number_on(start, initial, renewal, start - timedelta(1)) is None


def test_long_running_monthly_term_is_found_without_walking_from_term_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    real = rules._term_start

    def counting(start: date, initial: int, renewal: int, n: int) -> date:
        nonlocal calls
        calls += 1
        return real(start, initial, renewal, n)

    monkeypatch.setattr(rules, "_term_start", counting)
    start = D(2000, 1, 31)
    # Feb 2027 is 325 months after Jan 2000: term 326 starts 28 Feb 2027.
    assert term_containing(start, 1, 1, D(2027, 3, 15), TACIT) == Term(
        326, D(2027, 2, 28), D(2027, 3, 30)
    )
    assert calls < 10
    assert term_containing(start, 1, 1, D(2027, 3, 31), TACIT) == Term(
        327, D(2027, 3, 31), D(2027, 4, 29)
    )


@pytest.mark.parametrize(
    ("on", "renewal_type", "renewed_through", "expected"),
    [
        (D(2024, 12, 31), TACIT, 1, None),  # before the start
        (D(2025, 1, 1), TACIT, 1, Term(1, D(2025, 1, 1), D(2025, 12, 31))),
        (D(2025, 12, 31), TACIT, 1, Term(1, D(2025, 1, 1), D(2025, 12, 31))),
        (D(2026, 1, 1), TACIT, 1, Term(2, D(2026, 1, 1), D(2026, 12, 31))),
        (D(2026, 6, 1), TACIT, 1, Term(2, D(2026, 1, 1), D(2026, 12, 31))),
        (D(2027, 3, 1), TACIT, 1, Term(3, D(2027, 1, 1), D(2027, 12, 31))),
        # none: only term 1 exists.
        (D(2025, 6, 1), NONE, 1, Term(1, D(2025, 1, 1), D(2025, 12, 31))),
        (D(2026, 1, 1), NONE, 5, None),
        # express: terms after the last actively renewed one do not exist.
        (D(2025, 6, 1), EXPRESS, 1, Term(1, D(2025, 1, 1), D(2025, 12, 31))),
        (D(2026, 1, 1), EXPRESS, 1, None),
        (D(2026, 1, 1), EXPRESS, 2, Term(2, D(2026, 1, 1), D(2026, 12, 31))),
        (D(2026, 12, 31), EXPRESS, 2, Term(2, D(2026, 1, 1), D(2026, 12, 31))),
        (D(2027, 1, 1), EXPRESS, 2, None),
        (D(2025, 6, 1), EXPRESS, 3, Term(1, D(2025, 1, 1), D(2025, 12, 31))),
    ],
)
def test_current_term_is_the_existing_term_containing_the_day(
    on: date, renewal_type: RenewalType, renewed_through: int, expected: Term | None
) -> None:
    assert (
        term_containing(
            D(2025, 1, 1), 12, 12, on, renewal_type, renewed_through=renewed_through
        )
        == expected
    )


@pytest.mark.parametrize(
    ("renewal_type", "renewed_through", "expected"),
    [(TACIT, 4, None), (EXPRESS, 1, 1), (EXPRESS, 4, 4), (NONE, 4, 1)],
)
def test_last_term_number(
    renewal_type: RenewalType, renewed_through: int, expected: int | None
) -> None:
    assert last_term_number(renewal_type, renewed_through) == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: term(D(2025, 1, 1), 12, 12, 0),
        lambda: term(D(2025, 1, 1), 0, 12, 1),
        lambda: term(D(2025, 1, 1), 12, 0, 1),
        lambda: last_term_number(EXPRESS, 0),
        lambda: decide_by(D(2025, 1, 1), TACIT, -1),
    ],
)
def test_invalid_term_arguments_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- decide-by ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("term_end", "renewal_type", "notice_days", "expected"),
    [
        (D(2026, 12, 31), TACIT, 60, D(2026, 11, 1)),
        (D(2027, 12, 31), TACIT, 60, D(2027, 11, 1)),
        (D(2027, 3, 31), TACIT, 90, D(2026, 12, 31)),
        (D(2026, 12, 31), TACIT, 0, D(2026, 12, 31)),
        (D(2027, 6, 30), EXPRESS, 90, D(2027, 6, 30)),  # notice days don't apply
        (D(2027, 6, 30), NONE, 30, None),  # ends for good: nothing to decide
    ],
)
def test_decide_by(
    term_end: date, renewal_type: RenewalType, notice_days: int, expected: date | None
) -> None:
    assert decide_by(term_end, renewal_type, notice_days) == expected


@pytest.mark.parametrize(
    ("on", "term_number", "expected_decide_by"),
    [
        (D(2025, 6, 1), 1, D(2025, 11, 1)),
        (D(2026, 6, 1), 2, D(2026, 11, 1)),
        (D(2027, 3, 1), 3, D(2027, 11, 1)),
    ],
)
def test_tacit_notice_date_moves_with_the_current_term_end(
    on: date, term_number: int, expected_decide_by: date
) -> None:
    """GLPI computes the notice date from the original end (2025-11-01); we must not."""
    current = term_containing(D(2025, 1, 1), 12, 12, on, TACIT)
    assert current is not None
    assert current.number == term_number
    assert decide_by(current.end, TACIT, 60) == expected_decide_by


# --- lapse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "renewal_type", "renewed_through", "expected"),
    [
        (D(2026, 6, 30), EXPRESS, 1, False),  # last day of term 1
        (D(2026, 7, 1), EXPRESS, 1, True),  # term 1 ended, never renewed
        (D(2026, 7, 1), EXPRESS, 2, False),  # renewed into term 2
        (D(2027, 7, 1), EXPRESS, 2, True),
        (D(2024, 1, 1), EXPRESS, 1, False),  # before the start
        (D(2040, 1, 1), TACIT, 1, False),  # tacit renews, never lapses
        (D(2040, 1, 1), NONE, 1, False),  # none ends, it does not lapse
    ],
)
def test_express_term_lapses_when_its_end_passes_unrenewed(
    on: date, renewal_type: RenewalType, renewed_through: int, expected: bool
) -> None:
    assert (
        lapsed(D(2025, 7, 1), 12, 12, on, renewal_type, renewed_through=renewed_through)
        is expected
    )


# --- escalated cost ------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "pct", "ahead", "expected"),
    [
        ("1000.00", "3", 0, "1000.00"),
        ("1000.00", "3", 1, "1030.00"),
        ("1000.00", "3", 2, "1060.90"),
        ("1000.00", "3", 3, "1092.73"),  # 1092.727
        ("12500.00", "2.5", 4, "13797.66"),  # 13797.6611…
        ("0.50", "5", 1, "0.53"),  # 0.525 rounds half-up, not to even
        ("1000.00", "0", 5, "1000.00"),
        # Rounded once at the end (0.1629 → 0.16); rounding each term would
        # compound cent errors up to 0.20.
        ("0.10", "5", 10, "0.16"),
        # Far ahead: a monthly contract's open decision six terms out, forty terms.
        ("1000.00", "1", 6, "1061.52"),
        ("1000.00", "1", 12, "1126.83"),
        ("1000.00", "1", 40, "1488.86"),
    ],
)
def test_escalated_cost_compounds_at_full_precision(
    base: str, pct: str, ahead: int, expected: str
) -> None:
    result = escalated_cost(Decimal(base), Decimal(pct), ahead)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("current", "k", "expected"),
    [(2, 2, "1000.00"), (2, 3, "1030.00"), (2, 4, "1060.90")],
)
def test_term_cost_is_relative_to_the_current_term(
    current: int, k: int, expected: str
) -> None:
    assert term_cost(Decimal("1000.00"), Decimal(3), current, k) == Decimal(expected)


def test_cost_of_a_past_term_is_refused() -> None:
    with pytest.raises(ValueError):
        term_cost(Decimal("1000.00"), Decimal(3), 3, 2)
    with pytest.raises(ValueError):
        escalated_cost(Decimal("1000.00"), Decimal(3), -1)


def test_term_dates_past_the_calendar_say_so() -> None:
    with pytest.raises(OutOfCalendar):
        term(D(9990, 1, 1), 120, 12, 1)
    with pytest.raises(OutOfCalendar):
        decide_by(D(1, 1, 31), RenewalType.TACIT, 730)
    assert term(D(9989, 1, 1), 120, 12, 1).end == D(9998, 12, 31)


def test_term_prices_compound_from_the_last_final_price():
    """A term renewed ahead at a price on record is the base of the terms after it."""
    now = Priced(Decimal("1000.00"))
    prices = term_prices(
        current=1,
        now=now,
        escalator_pct=Decimal("3"),
        records={3: Priced(Decimal("1100.00"))},
        through=5,
    )
    assert [p.price for p in prices.values()] == [
        Decimal("1000.00"),
        Decimal("1030.00"),  # 1000 × 1.03
        Decimal("1100.00"),  # renewed at 1100
        Decimal("1133.00"),  # 1100 × 1.03
        Decimal("1166.99"),  # 1100 × 1.03² = 1166.99, once rounded
    ]
