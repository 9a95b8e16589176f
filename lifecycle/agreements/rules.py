"""The term rules of licenses and service contracts (docs/rules.md#terms-and-renewal-dates).
Pure: no DB, no Flask.

The one home of these rules: the ORM bookkeeping (agreements/terms.py) applies them to
one record, the scan's set-based SQL (agreements/sql.py, advance.py, decisions.py) to
every record of a district, and tests/agreements/test_rules_sql.py holds the two to the
same worked cases.

- Every term boundary is computed from the ORIGINAL start date; one term end is never
  chained onto the last, so monthly terms from 31 Jan start on 31 Jan, 28 Feb, 31 Mar…
- Before the term start the current term is term 1.
- tacit (renews unless cancelled): the current term is the one containing today. Its
  decide-by is the term end − notice days; once that date has passed, the district is
  committed to the next term, so the decision that is still open is the NEXT term's:
  next term end − notice days (and so on, when the notice is longer than a term). The
  notice date moves with every renewal; it is never computed from the original end.
- express (lapses unless renewed): only terms up to `renewed_through` exist (term 1
  always does). While today is inside them the decide-by is the end of the last renewed
  term (renewing early moves it, never the current term); past that, the agreement has
  lapsed: the current term stays the last renewed one and there is nothing to decide.
- none (ends for good): term 1 only, no decide-by; past it the agreement has ended.
- A cancelled agreement keeps its term dates but has nothing to decide.
- Prices: the current term costs what the agreement says today (a contract's
  cost_per_period, a license's seats × price per seat). Each later term costs the one
  before × (1 + escalator %): a projection compounds from the last final price (today's,
  or a term renewed ahead at a price on record) at full precision and rounds once; a
  term that actually renews is recorded at the previous price × (1 + escalator %),
  rounded, so the history compounds from rounded prices (the scan's catch-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lifecycle.bounds import days_after, months_after
from lifecycle.enums import AgreementStatus, RenewalType
from lifecycle.money import Amount, inflate, to_cents

# Notice is at most 730 days and a term at least a month: ~25 steps at worst.
_MAX_STEPS = 1000


# ---------------------------------------------------------------------------
# Term boundaries


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a license or contract: its 1-based number and inclusive dates."""

    number: int
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _check_lengths(initial_months: int, renewal_months: int) -> None:
    if initial_months < 1 or renewal_months < 1:
        raise ValueError(
            "term lengths must be at least 1 month, got "
            f"initial={initial_months} renewal={renewal_months}"
        )


def _months_before_term(n: int, initial_months: int, renewal_months: int) -> int:
    """Months from the original start to the first day of term n."""
    if n == 1:
        return 0
    return initial_months + (n - 2) * renewal_months


def _term_start(start: date, initial: int, renewal: int, n: int) -> date:
    return months_after(start, _months_before_term(n, initial, renewal))


def _term_end(start: date, initial: int, renewal: int, n: int) -> date:
    return days_after(_term_start(start, initial, renewal, n + 1), -1)


def term(start: date, initial_months: int, renewal_months: int, n: int) -> Term:
    """Term n (n ≥ 1): ends start + (initial + (n−1)·renewal) months − 1 day."""
    _check_lengths(initial_months, renewal_months)
    if n < 1:
        raise ValueError(f"term numbers start at 1, got {n}")
    return Term(
        number=n,
        start=_term_start(start, initial_months, renewal_months, n),
        end=_term_end(start, initial_months, renewal_months, n),
    )


def last_term_number(renewal_type: RenewalType, renewed_through: int = 1) -> int | None:
    """The last term that exists: none → 1, express → renewed_through, tacit → None."""
    if renewed_through < 1:
        raise ValueError(f"term 1 always exists; renewed_through={renewed_through}")
    kind = RenewalType(renewal_type)
    if kind is RenewalType.TACIT:
        return None
    if kind is RenewalType.EXPRESS:
        return renewed_through
    return 1


def term_number_on(
    start: date, initial_months: int, renewal_months: int, on: date
) -> int | None:
    """The term number containing `on` if it renewed forever; None before the start."""
    _check_lengths(initial_months, renewal_months)
    if on < start:
        return None
    # Estimate from whole calendar months, then correct by a step or two: long-running
    # monthly terms never loop from term 1.
    months = (on.year - start.year) * 12 + (on.month - start.month)
    n = (
        1
        if months < initial_months
        else 2 + (months - initial_months) // renewal_months
    )
    while n > 1 and on < _term_start(start, initial_months, renewal_months, n):
        n -= 1
    while on > _term_end(start, initial_months, renewal_months, n):
        n += 1
    return n


def term_containing(
    start: date,
    initial_months: int,
    renewal_months: int,
    on: date,
    renewal_type: RenewalType,
    *,
    renewed_through: int = 1,
) -> Term | None:
    """The current term on `on`; None before the start or after the last existing term.

    `renewed_through` is the highest term number that exists for an express
    agreement (term 1 always does); tacit renews forever and none has term 1 only.
    """
    last = last_term_number(renewal_type, renewed_through)
    n = term_number_on(start, initial_months, renewal_months, on)
    if n is None or (last is not None and n > last):
        return None
    return term(start, initial_months, renewal_months, n)


# ---------------------------------------------------------------------------
# Decide-by and lapse


def decide_by(
    term_end: date, renewal_type: RenewalType, notice_days: int
) -> date | None:
    """The last day to decide about the term ending on term_end.

    tacit: term end − notice days (after it the district is committed to another term);
    express: the term end itself (it lapses unless renewed by then);
    none: None — the agreement ends for good, there is nothing to decide.
    """
    if notice_days < 0:
        raise ValueError(f"notice_days must be 0 or more, got {notice_days}")
    kind = RenewalType(renewal_type)
    if kind is RenewalType.TACIT:
        return days_after(term_end, -notice_days)
    if kind is RenewalType.EXPRESS:
        return term_end
    return None


def lapsed(
    start: date,
    initial_months: int,
    renewal_months: int,
    on: date,
    renewal_type: RenewalType,
    *,
    renewed_through: int = 1,
) -> bool:
    """Whether an express agreement's last renewed term ended before `on`.

    A lapsed agreement produces no further obligations. Only express agreements
    lapse: tacit ones renew and `none` ones simply end.
    """
    if RenewalType(renewal_type) is not RenewalType.EXPRESS:
        return False
    last = last_term_number(renewal_type, renewed_through) or renewed_through
    return on > term(start, initial_months, renewal_months, last).end


# ---------------------------------------------------------------------------
# Prices


def escalated_cost(
    base_cost: Amount, escalator_pct: Amount, terms_ahead: int
) -> Decimal:
    """The cost of the term `terms_ahead` after the one priced at base_cost.

    Each later term costs the one before × (1 + escalator %), compounded at full
    precision and rounded half-up to the cent once, at the end: a projection is one
    amount (docs/rules.md#contract-prices-and-the-term-history).
    """
    if terms_ahead < 0:
        raise ValueError(f"terms_ahead must be 0 or more, got {terms_ahead}")
    return inflate(base_cost, escalator_pct, terms_ahead)


def term_cost(
    current_cost: Amount, escalator_pct: Amount, current_term: int, k: int
) -> Decimal:
    """The cost of term k, given the current term's number and its cost_per_period."""
    if k < current_term:
        raise ValueError(f"term {k} is before the current term {current_term}")
    return escalated_cost(current_cost, escalator_pct, k - current_term)


@dataclass(frozen=True, slots=True)
class Priced:
    """What a term costs and, for a license, how many seats it is for."""

    price: Decimal
    seats: int | None = None


def term_prices(
    *,
    current: int,
    now: Priced,
    escalator_pct: Amount,
    records: Mapping[int, Priced],
    through: int,
) -> dict[int, Priced]:
    """The price of every term from the current one through `through`.

    The current term costs `now`; a later term its record when it is on record
    (renewed ahead), else the last of those final prices (the record before it, or
    `now`) compounded over the terms since, for the same seats. A license has no
    escalator (0): its price stays seats × price per seat.
    """
    prices = {current: Priced(to_cents(now.price), now.seats)}
    base, since = prices[current], current
    for k in range(current + 1, through + 1):
        record = records.get(k)
        if record is not None:
            prices[k], base, since = record, record, k
        else:
            price = escalated_cost(base.price, escalator_pct, k - since)
            prices[k] = Priced(price, base.seats)
    return prices


# ---------------------------------------------------------------------------
# The stored, derived state of an agreement


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
    lengths = (term_start, initial_months, renewal_months)
    n = term_number_on(*lengths, today) or 1

    def nth(k: int) -> Term:
        return term(*lengths, k)

    status = AgreementStatus.ACTIVE
    decide: date | None = None
    decision: int | None = None
    if kind is RenewalType.TACIT:
        current = nth(n)
        decision = n
        decide = decide_by(current.end, kind, notice_days)
        while decide is not None and decide < today and decision - n < _MAX_STEPS:
            decision += 1
            decide = decide_by(nth(decision).end, kind, notice_days)
    elif kind is RenewalType.EXPRESS:
        if lapsed(*lengths, today, kind, renewed_through=renewed_through):
            current = nth(renewed_through)
            status = AgreementStatus.LAPSED
        else:
            current = nth(n)
            decision = renewed_through
            decide = decide_by(nth(decision).end, kind, notice_days)
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
