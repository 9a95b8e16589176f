"""Budget plans and scenarios; the forecast itself is computed, never typed in."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from lifecycle.models.base import Money, Timestamps, Versioned, money_field


class BudgetPlan(Versioned, Timestamps, table=True):
    """A district's planning horizon and deferral rules for the multi-year forecast."""

    __tablename__: ClassVar[str] = "budget_plans"
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", unique=True, index=True)
    years: int = Field(default=7, ge=1, le=15)


class BudgetCap(SQLModel, table=True):
    """A cap on one fiscal year's total spend in a budget plan."""

    __tablename__: ClassVar[str] = "budget_caps"
    __table_args__ = (sa.UniqueConstraint("plan_id", "fiscal_year"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="budget_plans.id", index=True, ondelete="CASCADE")
    district_id: int = Field(foreign_key="districts.id", index=True)
    fiscal_year: int
    cap: Money = money_field()


class Scenario(Versioned, Timestamps, table=True):
    """A named what-if next to the baseline: lifespans, inflation, right-sizing, leases, caps."""

    __tablename__: ClassVar[str] = "scenarios"
    __table_args__ = (sa.UniqueConstraint("district_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    name: str = Field(max_length=120)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", index=True)
