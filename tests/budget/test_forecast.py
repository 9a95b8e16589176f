"""The forecast's rules with worked examples (docs/rules.md#the-multi-year-forecast).

Plain values in, plain values out: every amount below was worked by hand first.
Today is 2 Dec 2026 and fiscal years start in July, so the current year is FY2027
and a 7-year horizon runs FY2027–FY2033.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.budget.forecast import (
    C2Cycle,
    Cohort,
    Committed,
    Erate,
    Item,
    Lease,
    Plan,
    Settings,
    Term,
    condensed,
    erate_funding_year,
    forecast,
    lease_payment,
    right_sized_seats,
)

TODAY = date(2026, 12, 2)
CHROMEBOOK = Item(
    1, "Chromebook 3110", D("300.00"), ((1, D("300.00")), (100, D("280.00"))), 48
)
SWITCH = Item(2, "48-port switch", D("2000.00"), (), 84, c2=True)
CYCLE = C2Cycle("FY2026–FY2030", 2026, 2030, D("201.57"), D("30175.00"))


def plan(**kw: object) -> Plan:
    base: dict[str, object] = {
        "today": TODAY,
        "items": {1: CHROMEBOOK, 2: SWITCH},
        "policy_lifespans": {"chromebook": 48},
    }
    base.update(kw)
    return Plan(**base)  # type: ignore[arg-type]


def cohort(qty: int = 100, due: date = date(2027, 6, 30), **kw: object) -> Cohort:
    fields: dict[str, object] = {
        "category": "chromebook",
        "quantity": qty,
        "due": due,
        "item_id": 1,
        "ref": f"cohort:{qty}:{due}",
        "label": f"{qty} Chromebooks",
    }
    fields.update(kw)
    return Cohort(**fields)  # type: ignore[arg-type]


# --- the formulas ------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "rate", "years", "payment"),
    [
        ("48000.00", "4", 3, "17296.73"),  # the example
        ("48000.00", "0", 3, "16000.00"),  # r = 0: P / N
        ("10000.00", "0", 3, "3333.33"),
        ("1000.00", "5", 1, "1050.00"),  # one payment: P (1 + r)
        ("90000.00", "3.5", 4, "24502.60"),
    ],
)
def test_lease_payment(principal: str, rate: str, years: int, payment: str) -> None:
    assert lease_payment(D(principal), D(rate), years) == D(payment)


def test_a_lease_of_no_years_is_refused() -> None:
    with pytest.raises(ValueError, match="1 year or more"):
        lease_payment(D("100"), D("0"), 0)


@pytest.mark.parametrize(
    ("used", "headroom", "seats"),
    [(200, "10", "220"), (333, "7.5", "358"), (0, "10", "0"), (101, "0", "101")],
)
def test_right_sizing_rounds_up(used: int, headroom: str, seats: str) -> None:
    assert right_sized_seats(used, D(headroom)) == int(seats)


@pytest.mark.parametrize(
    ("enrollment", "budget"),
    [(2500, "503925.00"), (100, "30175.00"), (149, "30175.00"), (150, "30235.50")],
)
def test_c2_budget_is_the_multiplier_or_the_floor(enrollment: int, budget: str) -> None:
    assert CYCLE.budget(enrollment) == D(budget)


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2026, 7, 1), 2026), (date(2027, 6, 30), 2026), (date(2027, 7, 1), 2027)],
)
def test_erate_funding_years_are_named_by_the_year_they_start(
    day: date, year: int
) -> None:
    assert erate_funding_year(day) == year


def test_the_tier_reached_and_below_every_tier() -> None:
    assert CHROMEBOOK.unit_price(99) == D("300.00")
    assert CHROMEBOOK.unit_price(100) == D("280.00")
    assert Item(3, "x", D("10.00")).unit_price(5) == D("10.00")


def test_horizon_is_1_to_15_years() -> None:
    assert plan(years=15).fiscal_years[-1] == 2041
    with pytest.raises(ValueError):
        plan(years=16)
    with pytest.raises(ValueError):
        plan(years=0)


# --- refresh -------------------------------------------------------------------


def test_refresh_repeats_after_the_replacements_lifespan() -> None:
    """100 Chromebooks due 30 Jun 2027 (FY2027) at the 100-unit tier, 280.00; back 48
    months later, 30 Jun 2031 (FY2031), at 280.00 × 1.03^4 = 315.14 (each)."""
    f = forecast(plan(), [cohort()])
    lines = [(ln.fy, ln.cycle, ln.quantity, ln.unit_price, ln.amount) for ln in f.lines]
    assert lines == [
        (2027, 1, 100, D("280.00"), D("28000.00")),
        (2031, 2, 100, D("315.14"), D("31514.00")),
    ]


def test_overdue_refresh_costs_this_year_and_repeats_from_today() -> None:
    f = forecast(plan(), [cohort(due=date(2025, 3, 31))])
    assert [(ln.fy, ln.day) for ln in f.lines] == [
        (2027, TODAY),
        (2031, date(2030, 12, 2)),  # today + 48 months: FY2031
    ]


def test_the_replacements_aue_caps_its_cycle() -> None:
    """The replacement model's AUE (June 2029) comes before today + 48 months."""
    items = {1: Item(1, "CB", D("300.00"), (), 48, aue=date(2029, 6, 30))}
    f = forecast(plan(items=items), [cohort(due=date(2026, 1, 1))])
    assert [(ln.fy, ln.reason) for ln in f.lines] == [
        (2027, "lifespan"),
        (2029, "aue"),
        (2033, "cycle"),  # AUE 2029 is past: the next model's lifespan
    ]


def test_no_lifespan_anywhere_means_no_repeat() -> None:
    items = {5: Item(5, "projector", D("700.00"))}
    f = forecast(
        plan(items=items, policy_lifespans={}),
        [cohort(category="projector", item_id=5)],
    )
    assert [ln.fy for ln in f.lines] == [2027]


def test_without_an_item_the_original_cost_is_the_price() -> None:
    f = forecast(plan(), [cohort(qty=3, item_id=None, unit_cost=D("512.40"))])
    first, second = f.lines
    assert first.amount == D("1537.20")
    # FY2031: 512.40 × 1.03^4 = 576.71 (each)
    assert (second.unit_price, second.amount) == (D("576.71"), D("1730.13"))


def test_tiers_count_the_whole_years_quantity_of_an_item() -> None:
    """60 + 40 due in the same FY reach the 100 tier together."""
    f = forecast(plan(years=1), [cohort(60), cohort(40, date(2027, 5, 1))])
    assert {ln.unit_price for ln in f.lines} == {D("280.00")}
    alone = forecast(plan(years=1), [cohort(60)])
    assert alone.lines[0].unit_price == D("300.00")


def test_inflation_compounds_by_whole_fiscal_years_ahead() -> None:
    """Due FY2029: two years ahead, 300.00 × 1.03² = 318.27."""
    f = forecast(plan(years=3), [cohort(1, date(2028, 9, 1))])
    assert f.lines[0].unit_price == D("318.27")
    s = forecast(plan(years=3), [cohort(1, date(2028, 9, 1))], settings=Settings(
        inflation_pct=D("5")
    ))  # fmt: skip
    assert s.lines[0].unit_price == D("330.75")  # 300 × 1.05²


def test_a_scenario_lifespan_moves_the_refresh() -> None:
    """Bought 15 Jul 2022: 48 months → 15 Jul 2026 (overdue, FY2027); 60 months →
    15 Jul 2027 (FY2028); never past AUE (30 Jun 2028 caps a 72-month cycle)."""
    c = cohort(
        10, date(2026, 7, 15), purchase_date=date(2022, 7, 15), aue=date(2028, 6, 30)
    )
    five = forecast(plan(), [c], settings=Settings(lifespans={"chromebook": 60}))
    assert (five.lines[0].fy, five.lines[0].day) == (2028, date(2027, 7, 15))
    six = forecast(plan(), [c], settings=Settings(lifespans={"chromebook": 72}))
    assert (six.lines[0].day, six.lines[0].reason) == (date(2028, 6, 30), "aue")
    # and the 60-month scenario repeats on 60 months: 15 Jul 2032, FY2033
    assert [ln.fy for ln in five.lines] == [2028, 2033]


def test_a_devices_own_lifespan_wins_over_the_scenario() -> None:
    c = cohort(1, date(2027, 1, 15), purchase_date=date(2023, 1, 15), own_lifespan=48)
    f = forecast(plan(), [c], settings=Settings(lifespans={"chromebook": 60}))
    assert f.lines[0].day == date(2027, 1, 15)


# --- lease ---------------------------------------------------------------------


def test_lease_instead_of_buy_spreads_the_cost_from_the_refresh_year() -> None:
    """FY2027: 100 × 280.00 = 28,000.00 over 3 years at 4 %: 10,089.76 a year."""
    f = forecast(
        plan(years=4),
        [cohort()],
        settings=Settings(leases={"chromebook": Lease(3, D("4"))}),
    )
    assert [(ln.fy, ln.amount, ln.payment) for ln in f.lines] == [
        (2027, D("10089.76"), (1, 3)),
        (2028, D("10089.76"), (2, 3)),
        (2029, D("10089.76"), (3, 3)),
    ]


def test_lease_payments_past_the_horizon_are_not_lines() -> None:
    f = forecast(
        plan(years=2), [cohort()], settings=Settings(leases={"chromebook": Lease(3)})
    )
    assert [ln.amount for ln in f.lines] == [D("9333.33"), D("9333.33")]


# --- caps ----------------------------------------------------------------------


def test_a_cap_defers_latest_due_first_into_the_next_year_with_room() -> None:
    """FY2027 holds 150 Chromebooks at 280.00 = 42,000.00 against a cap of 20,000.00.
    The 50 due last (May 2027) move first: all 50 to FY2028 at 280.00 × 1.03 = 288.40
    (FY2028's 50 alone are at list, 300.00 × 1.03 = 309.00). Then 29 of the 100 due in
    March: 8,000.00 / 280.00 rounded up. FY2027 ends at 71 × 280.00 = 19,880.00."""
    early = cohort(100, date(2027, 3, 1), ref="early")
    late = cohort(50, date(2027, 5, 1), ref="late")
    f = forecast(
        plan(years=3, max_deferral_months=24),
        [early, late],
        settings=Settings(caps={2027: D("20000.00")}),
    )
    moved = [(d.ref, d.quantity, d.from_fy, d.to_fy) for d in f.deferrals]
    assert moved == [("late", 50, 2027, 2028), ("early", 29, 2027, 2028)]
    assert f.by_year()[2027] == D("19880.00")
    fy28 = [ln for ln in f.lines if ln.fy == 2028]
    assert {ln.unit_price for ln in fy28} == {D("309.00")}  # 79 < 100: list price
    assert sum(ln.quantity for ln in fy28) == 79
    assert all(ln.deferred_from == 2027 for ln in fy28)
    assert f.shortfall == {}


def test_a_deferrals_amount_is_its_price_in_the_year_it_moved_to() -> None:
    """Both cohorts leave FY2027 for FY2028: 150 there reach the 100 tier, 288.40 each,
    though the first 50 moved looked like list-price units (309.00) when they moved."""
    early = cohort(100, date(2027, 3, 1), ref="early")
    late = cohort(50, date(2027, 5, 1), ref="late")
    f = forecast(
        plan(years=3, max_deferral_months=24),
        [early, late],
        settings=Settings(caps={2027: D("0")}),
    )
    assert [(d.ref, d.amount) for d in f.deferrals] == [
        ("late", D("14420.00")),
        ("early", D("28840.00")),
    ]
    assert sum(d.amount for d in f.deferrals) == f.by_year()[2028]


def test_a_cap_never_defers_past_aue_and_reports_the_shortfall() -> None:
    at_aue = cohort(100, date(2027, 6, 30), aue=date(2027, 6, 30), reason="aue")
    f = forecast(plan(years=3), [at_aue], settings=Settings(caps={2027: D("20000")}))
    assert f.deferrals == ()
    assert f.shortfall == {2027: D("8000.00")}


def test_a_cap_never_defers_beyond_the_maximum_deferral() -> None:
    c = cohort(100, date(2027, 3, 1))
    caps = {2027: D("0"), 2028: D("0")}
    none = forecast(plan(max_deferral_months=3), [c], settings=Settings(caps=caps))
    assert none.deferrals == () and none.shortfall == {2027: D("28000.00")}
    # 24 months allowed, but FY2028 has no room either: FY2029 (1 Jul 2028) is 16 months on
    two = forecast(plan(max_deferral_months=24), [c], settings=Settings(caps=caps))
    assert [(d.quantity, d.to_fy) for d in two.deferrals] == [(100, 2029)]
    assert two.shortfall == {}


def test_a_year_with_room_for_some_takes_only_those() -> None:
    """FY2028 has room for 10,000.00: 32 of the 100 at 309.00 (the rest stay short)."""
    c = cohort(100, date(2027, 3, 1))
    caps = {2027: D("0"), 2028: D("10000.00")}
    f = forecast(plan(max_deferral_months=6), [c], settings=Settings(caps=caps))
    assert [(d.quantity, d.to_fy) for d in f.deferrals] == [(32, 2028)]
    assert f.by_year()[2028] == D("9888.00")
    assert f.shortfall == {2027: D("19040.00")}  # 68 × 280.00


def test_committed_spend_is_never_deferred() -> None:
    ordered = Committed("refresh", date(2027, 2, 1), D("50000.00"), 100, "chromebook")
    f = forecast(
        plan(years=2), committed=[ordered], settings=Settings(caps={2027: D("1")})
    )
    assert [(ln.fy, ln.amount, ln.committed) for ln in f.lines] == [
        (2027, D("50000.00"), True)
    ]
    assert f.shortfall == {2027: D("49999.00")}


# --- licenses and contracts ------------------------------------------------------


def term(n: int, start: date, price: str, **kw: object) -> Term:
    fields: dict[str, object] = {
        "kind": "contract", "subject_id": 7, "number": n, "start": start,
        "price": D(price), "committed": False,
    }  # fmt: skip
    fields.update(kw)
    return Term(**fields)  # type: ignore[arg-type]


def test_terms_cost_in_the_fiscal_year_they_start() -> None:
    """A monthly subscription: each term is a line, twelve a year; terms that started
    before this fiscal year were paid then."""
    monthly = [
        term(k, date(2026, 6 + k, 1) if k <= 6 else date(2027, k - 6, 1), "100.00")
        for k in range(0, 13)
    ]
    f = forecast(plan(years=2), terms=monthly)
    assert [ln.fy for ln in f.lines] == [2027] * 12  # June 2026 is FY2026
    assert f.by_year() == {2027: D("1200.00"), 2028: D("0.00")}


def test_contract_terms_keep_their_escalated_price() -> None:
    """A contract's price is its escalator's (agreements/sql.term_lines), not inflated."""
    f = forecast(plan(), terms=[term(3, date(2028, 8, 1), "10609.00")])
    assert f.lines[0].amount == D("10609.00")


def test_license_terms_not_on_record_are_inflated() -> None:
    """500 seats × 4.00 = 2,000.00 for a term starting Aug 2028 (FY2029): × 1.03²."""
    open_term = term(
        3, date(2028, 8, 1), "2000.00", kind="license", seats=500,
        price_per_seat=D("4.00"),
    )  # fmt: skip
    recorded = term(2, date(2027, 8, 1), "2000.00", kind="license", recorded=True)
    f = forecast(plan(), terms=[recorded, open_term])
    assert [ln.amount for ln in f.lines] == [D("2000.00"), D("2121.80")]


def test_right_sizing_renews_seats_used_plus_headroom() -> None:
    """420 seats used + 10 % = 462 seats × 4.00 = 1,848.00 × 1.03² = 1,960.54; a committed term
    keeps its seats."""
    lic = term(
        3, date(2028, 8, 1), "2000.00", kind="license", seats=500, seats_used=420,
        price_per_seat=D("4.00"),
    )  # fmt: skip
    committed = term(
        2, date(2027, 8, 1), "2000.00", kind="license", seats=500, seats_used=420,
        price_per_seat=D("4.00"), committed=True, recorded=True,
    )  # fmt: skip
    f = forecast(
        plan(), terms=[committed, lic], settings=Settings(headroom_pct=D("10"))
    )
    assert [(ln.quantity, ln.amount) for ln in f.lines] == [
        (500, D("2000.00")),
        (462, D("1960.54")),
    ]


# --- E-Rate --------------------------------------------------------------------


def test_erate_pays_its_discount_of_what_the_budget_covers() -> None:
    """Enrollment 100: the floor, 30,175.00. A 40,000.00 switch refresh in Aug 2027
    (E-Rate FY2027) draws all of it: E-Rate pays 80 % of 30,175.00 = 24,140.00; the
    district 15,860.00. A later eligible line finds nothing left."""
    erate = Erate(100, D("80"), (CYCLE,))
    switches = cohort(20, date(2027, 8, 1), category="network_switch", item_id=2)
    more = term(2, date(2028, 9, 1), "1000.00", c2=True)
    f = forecast(plan(erate=erate), [switches], terms=[more])
    first = f.lines[0]
    assert (first.amount, first.erate, first.net) == (
        D("41200.00"),  # 20 × 2,000.00 × 1.03
        D("24140.00"),
        D("17060.00"),
    )
    assert f.erate_cycles[0].used == D("30175.00") and f.erate_cycles[0].left == 0
    assert [ln.erate for ln in f.lines if ln.kind == "contract"] == [D("0.00")]


def test_erate_draws_in_date_order_and_ignores_ineligible_lines() -> None:
    erate = Erate(2500, D("40"), (CYCLE,))
    lines = [
        term(2, date(2028, 9, 1), "500000.00", c2=True, subject_id=1),
        term(2, date(2027, 9, 1), "10000.00", c2=True, subject_id=2),
        term(2, date(2027, 8, 1), "99999.00", c2=False, subject_id=3),
    ]
    f = forecast(plan(erate=erate), terms=lines)
    share = {ln.ref: ln.erate for ln in f.lines}
    assert share == {
        "contract:2": D("4000.00"),  # first: all of it covered
        "contract:1": D("197570.00"),  # 493,925.00 left × 40 %
        "contract:3": D("0.00"),
    }
    assert f.erate_share == D("201570.00")


def test_erate_after_the_published_cycles_is_an_assumption() -> None:
    erate = Erate(100, D("50"), (CYCLE,))
    f = forecast(
        plan(years=7, erate=erate),
        terms=[term(2, date(2031, 8, 1), "1000.00", c2=True)],
    )
    (use,) = f.erate_cycles
    assert (use.name, use.assumed) == ("funding years 2031–2035 (assumed)", True)


# --- the sums ------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=100_000, places=2)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2034, 12, 31))
categories = st.sampled_from(["chromebook", "laptop", "network_switch"])


@st.composite
def cohorts(draw: st.DrawFn) -> Cohort:
    return cohort(
        draw(st.integers(1, 400)),
        draw(days),
        category=draw(categories),
        item_id=draw(st.sampled_from([1, 2, None])),
        unit_cost=draw(amounts),
        school_id=draw(st.sampled_from([None, 1, 2])),
        funding_source=draw(st.sampled_from(["", "Title I", "E-Rate"])),
        aue=draw(st.none() | days),
        ref=f"c{draw(st.integers(0, 10**6))}",
    )


@st.composite
def terms(draw: st.DrawFn) -> Term:
    return term(
        draw(st.integers(1, 30)),
        draw(days),
        str(draw(amounts)),
        kind=draw(st.sampled_from(["license", "contract"])),
        committed=draw(st.booleans()),
        c2=draw(st.booleans()),
        category=draw(categories),
    )


scenario = st.builds(
    Settings,
    lifespans=st.dictionaries(categories, st.integers(12, 96), max_size=2),
    inflation_pct=st.none() | st.decimals(0, 10, places=2),
    leases=st.dictionaries(
        categories,
        st.builds(Lease, st.integers(1, 5), st.decimals(0, 9, places=2)),
        max_size=1,
    ),
    caps=st.dictionaries(st.integers(2027, 2033), amounts, max_size=4),
    max_deferral_months=st.none() | st.integers(0, 36),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(cohorts(), max_size=8),
    st.lists(terms(), max_size=8),
    scenario,
    st.integers(0, 3000),
)
def test_lines_agree_with_every_total_to_the_cent(
    cs: list[Cohort], ts: list[Term], s: Settings, enrollment: int
) -> None:
    erate = Erate(enrollment, D("60"), (CYCLE,))
    f = forecast(plan(erate=erate), cs, ts, settings=s)
    grand = f.total()
    for by in [("fy",), ("fy", "kind"), ("category",), ("school_id", "funding_source")]:
        assert sum(f.totals(*by).values(), D(0)) == grand
    assert sum(f.by_year().values(), D(0)) == grand
    for line in f.lines:
        assert line.amount == line.amount.quantize(D("0.01"))
        assert D(0) <= line.erate <= line.amount
        assert line.fy in f.fiscal_years
    # a capped year is at or under its cap, or its shortfall says by how much
    for fy, cap in s.caps.items():
        assert f.by_year()[fy] - cap == f.shortfall.get(fy, D(0)) or (
            f.by_year()[fy] <= cap and fy not in f.shortfall
        )
    # E-Rate never draws more than the budget
    for use in f.erate_cycles:
        assert D(0) <= use.used <= use.budget


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2150, 12, 31)),
    st.integers(0, 400),
)
def test_add_months_is_relativedeltas(day: date, months: int) -> None:
    from dateutil.relativedelta import relativedelta

    from lifecycle.budget.forecast import add_months

    assert add_months(day, months) == day + relativedelta(months=months)


GROUPINGS = [
    ("fy",),
    ("fy", "kind"),
    ("fy", "kind", "category", "school_id", "funding_source"),
    ("fy", "committed", "c2"),
    ("fy", "reason", "cycle", "deferred_from", "payment"),
]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(cohorts(), max_size=8),
    st.lists(terms(), max_size=8),
    scenario,
    st.integers(0, 3000),
)
def test_condensed_lines_keep_every_total(
    cs: list[Cohort], ts: list[Term], s: Settings, enrollment: int
) -> None:
    """The cooperative keeps its districts' lines condensed: refreshes added up, the
    same sums in every grouping the pages show, agreement lines untouched."""
    erate = Erate(enrollment, D("60"), (CYCLE,))
    lines = forecast(plan(erate=erate), cs, ts, settings=s).lines
    short = condensed(lines)
    assert len(short) <= len(lines)
    assert [ln for ln in short if ln.kind != "refresh"] == [
        ln for ln in lines if ln.kind != "refresh"
    ]
    for by in GROUPINGS:
        for field in ("amount", "erate", "quantity"):
            full: dict[tuple[object, ...], object] = {}
            for ln in lines:
                key = tuple(
                    getattr(ln, n) if n != "cycle" else ln.cycle > 1 for n in by
                )
                full[key] = full.get(key, 0) + getattr(ln, field)
            kept: dict[tuple[object, ...], object] = {}
            for ln in short:
                key = tuple(
                    getattr(ln, n) if n != "cycle" else ln.cycle > 1 for n in by
                )
                kept[key] = kept.get(key, 0) + getattr(ln, field)
            assert kept == full, (by, field)


def test_condensed_adds_up_refreshes_of_the_same_month() -> None:
    two = [
        cohort(10, date(2027, 3, 1), ref="a"),
        cohort(5, date(2027, 3, 1), ref="b", purchase_date=date(2022, 3, 9)),
    ]
    lines = forecast(plan(), two).lines
    firsts = [ln for ln in lines if ln.cycle == 1]
    assert len(firsts) == 2
    (merged_line,) = [ln for ln in condensed(lines) if ln.cycle == 1]
    assert merged_line.quantity == 15
    assert merged_line.amount == sum(ln.amount for ln in firsts)
    assert merged_line.day == date(2027, 3, 1)
