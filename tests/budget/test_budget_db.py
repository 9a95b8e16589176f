"""The forecast read from a real database after a real scan (SQLite and PostgreSQL).

The pure rules are pinned in test_forecast.py; these check what the forecast reads:
cohorts, priced terms, obligation states, and tenancy.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.budget import services
from lifecycle.budget.forecast import Settings
from lifecycle.budget.inputs import load, load_many
from lifecycle.enums import (
    AgreementStatus,
    ObligationKind,
    ObligationState,
)
from lifecycle.models import Obligation
from lifecycle.web.errors import NotFound
from tests.factories import World

TODAY = date(2026, 12, 2)  # FY2027 for a July start


def _run(db: Session, world: World, **kw: object) -> services.Run:
    return services.run_district(db, world.a.district, today=TODAY, **kw)  # type: ignore[arg-type]


def test_first_refresh_cycle_costs_what_the_obligations_say(
    db: Session, stocked: World
) -> None:
    """Bought March 2023 + 48 months = March 2027 (FY2027): 120 at the 100-unit tier."""
    run = _run(db, stocked)
    stored = dict(
        db.execute(
            sa.select(
                col(Obligation.fiscal_year), sa.func.sum(col(Obligation.estimated_cost))
            )
            .where(
                col(Obligation.district_id) == stocked.a.district.id,
                col(Obligation.kind) == ObligationKind.REFRESH,
            )
            .group_by(col(Obligation.fiscal_year))
        ).all()
    )
    first = run.forecast.totals("fy", "cycle")
    assert stored == {2027: D("33600.00")}
    assert first[(2027, 1)] == D("33600.00")  # 120 × 280.00
    # and back 48 months after March 2027: FY2031, at 280.00 × 1.03^4 = 315.14
    assert first[(2031, 2)] == D("37816.80")
    assert {ln.school_id for ln in run.forecast.lines if ln.kind == "refresh"} == {
        stocked.a.school.id
    }


def test_every_agreement_term_in_the_horizon(db: Session, stocked: World) -> None:
    run = _run(db, stocked, years=3)
    terms = [
        (ln.kind, ln.fy, ln.term, ln.amount, ln.committed)
        for ln in run.forecast.lines
        if ln.kind != "refresh"
    ]
    assert terms == [
        # the license's current term started Aug 2026: this FY, at its price on record
        ("license", 2027, 1, D("2000.00"), True),
        # the contract renews each 1 January: 10,000 × 1.03 (term 2), × 1.03² (term 3)
        ("contract", 2027, 2, D("10300.00"), True),
        ("license", 2028, 2, D("2060.00"), False),  # 2,000.00 × 1.03 inflation
        ("contract", 2028, 3, D("10609.00"), False),
        ("license", 2029, 3, D("2121.80"), False),
        ("contract", 2029, 4, D("10927.27"), False),
    ]


def test_right_sizing_renews_seats_in_use_plus_headroom(
    db: Session, stocked: World
) -> None:
    run = _run(db, stocked, years=2, settings=Settings(headroom_pct=D("10")))
    (renewal,) = [
        ln for ln in run.forecast.lines if ln.kind == "license" and ln.fy == 2028
    ]
    assert (renewal.quantity, renewal.amount) == (
        462,
        D("1903.44"),
    )  # 462 × 4.00 × 1.03


def test_ordered_refreshes_are_committed_and_done_ones_are_gone(
    db: Session, stocked: World
) -> None:
    obligations = db.execute(
        sa.select(Obligation).where(
            col(Obligation.district_id) == stocked.a.district.id,
            col(Obligation.kind) == ObligationKind.REFRESH,
        ).order_by(col(Obligation.id))
    ).scalars().all()  # fmt: skip
    for ob in obligations[:20]:
        ob.state = ObligationState.ORDERED
    for ob in obligations[20:30]:
        ob.state = ObligationState.DONE
    db.commit()
    run = _run(db, stocked, years=1)
    refresh = [ln for ln in run.forecast.lines if ln.kind == "refresh"]
    assert sum(ln.quantity for ln in refresh if ln.committed) == 20
    assert sum(ln.quantity for ln in refresh if not ln.committed) == 90
    # the ordered ones keep the amount the order was estimated at
    assert sum(ln.amount for ln in refresh if ln.committed) == sum(
        ob.estimated_cost for ob in obligations[:20]
    )


def test_a_lapsed_agreement_has_no_further_terms(db: Session, stocked: World) -> None:
    from lifecycle.models import License

    lic = db.exec(
        select(License).where(col(License.district_id) == stocked.a.district.id)
    ).one()
    lic.status = AgreementStatus.LAPSED
    db.commit()
    run = _run(db, stocked, years=3)
    assert [ln.term for ln in run.forecast.lines if ln.kind == "license"] == [1]


def test_the_cooperative_adds_up_its_districts(db: Session, stocked: World) -> None:
    coop = services.run_cooperative(db, stocked.coop_staff, years=3, today=TODAY)
    parts = [
        services.run_district(db, d, years=3, today=TODAY).forecast.total()
        for d in (stocked.a.district, stocked.b.district)
    ]
    assert coop.forecast.total() == sum(parts) > 0


def test_a_district_user_sees_only_their_district(db: Session, stocked: World) -> None:
    finance = stocked.a.finance
    assert services.visible_district(db, finance, None) == stocked.a.district
    with pytest.raises(NotFound):
        services.visible_district(db, finance, stocked.b.district.id)
    assert services.visible_district(db, stocked.coop_staff, None) is None
    assert (
        services.visible_district(db, stocked.coop_staff, stocked.b.district.id)
        == stocked.b.district
    )


@pytest.mark.parametrize("chunk", [1, 100])
def test_the_cooperative_run_is_its_districts_runs_condensed(
    db: Session, stocked: World, chunk: int
) -> None:
    """One set of queries for many districts (inputs.load_many), condensed lines: the
    same money as each district's own run in every grouping the pages show."""
    coop = services.run_cooperative(
        db, stocked.coop_staff, years=10, today=TODAY, chunk=chunk
    )
    runs = [
        services.run_district(db, d, years=10, today=TODAY)
        for d in (stocked.a.district, stocked.b.district)
    ]
    keys = ("fy", "kind", "category", "school_id", "funding_source", "committed")
    parts: dict[tuple[object, ...], D] = {}
    for run in runs:
        for key, amount in run.forecast.totals(*keys).items():
            parts[key] = parts.get(key, D(0)) + amount
    assert coop.forecast.totals(*keys) == parts
    assert coop.forecast.erate_share == sum(r.forecast.erate_share for r in runs)
    agreements = [ln for r in runs for ln in r.forecast.lines if ln.kind != "refresh"]
    assert [ln for ln in coop.forecast.lines if ln.kind != "refresh"] == agreements


def test_inputs_read_together_are_each_districts_own(
    db: Session, stocked: World
) -> None:
    districts = [stocked.a.district, stocked.b.district]
    together = list(load_many(db, districts, today=lambda _d: TODAY, years=7))
    for district, inputs in zip(districts, together, strict=True):
        alone = load(db, district, today=TODAY, years=7)
        assert inputs.cohorts == alone.cohorts
        assert inputs.terms == alone.terms
        assert inputs.committed == alone.committed
        assert inputs.schools == alone.schools
        assert inputs.plan.policy_lifespans == alone.plan.policy_lifespans
    assert together[0].cohorts and together[0].terms


def test_the_editor_lists_what_the_cohorts_hold_without_a_forecast(
    db: Session, stocked: World
) -> None:
    district = stocked.a.district
    facts = services.editor_facts(db, district, today=TODAY)
    inputs = load(db, district, today=TODAY, years=services.DEFAULT_YEARS)
    counts: dict[str, int] = {}
    for c in inputs.cohorts:
        counts[c.category] = counts.get(c.category, 0) + c.quantity
    assert [(cat.value, n, life) for cat, n, life in facts.categories] == [
        ("chromebook", 120, 48)
    ]
    assert counts == {"chromebook": 120}
    assert facts.fiscal_years == inputs.plan.fiscal_years
