"""The budget in four numbers, for district finance's home page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from lifecycle.budget import pages, services
from lifecycle.budget.forecast import erate_funding_year
from lifecycle.models import User


@dataclass(frozen=True, slots=True)
class YearFigure:
    fy: int
    total: Decimal
    cap: Decimal | None

    @property
    def over(self) -> Decimal | None:
        if self.cap is None or self.total <= self.cap:
            return None
        return self.total - self.cap


@dataclass(frozen=True, slots=True)
class Summary:
    years: list[YearFigure]  # this fiscal year and the next
    peak: pages.Callout | None
    erate_left: Decimal | None
    erate_cycle: str | None


def budget_summary(session: Session, user: User) -> Summary | None:
    district = services.visible_district(session, user, None)
    if district is None or district.id is None:
        return None
    run = services.run_district(session, district)
    approved = services.approved_budget(session, district.id)
    by_year = run.forecast.by_year()
    years = [
        YearFigure(fy, by_year.get(fy, pages.ZERO), approved.caps.get(fy))
        for fy in run.forecast.fiscal_years[:2]
    ]
    baseline = pages.series("Baseline", run.forecast, pages.LineFilter())
    now = erate_funding_year(run.forecast.plan.today)
    current = next(
        (u for u in run.forecast.erate_cycles if u.last_funding_year >= now), None
    )
    return Summary(
        years=years,
        peak=pages.peak(baseline),
        erate_left=current.left if current else None,
        erate_cycle=current.name if current else None,
    )
