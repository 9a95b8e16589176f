"""The budget's services: scenarios (saved, versioned, audited) and forecast runs.

A scenario's settings are validated here, for the pages and the API alike; the
forecast itself is computed on every request from the inventory, never stored
(docs/rules.md#the-multi-year-forecast).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from lifecycle.budget import forecast as fc
from lifecycle.budget.inputs import (
    Inputs,
    load,
    load_many,
    policy_lifespans,
    refresh_counts,
)
from lifecycle.enums import DeviceCategory, Role
from lifecycle.models import BudgetCap, BudgetPlan, District, Scenario, User
from lifecycle.models.base import InputModel, Money
from lifecycle.scan.jobs import district_today
from lifecycle.tenancy import district_filter, get_scoped, scoped
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.records import claim_version

DEFAULT_YEARS = 7
CENT = Decimal("0.01")
WRITERS = (Role.DISTRICT_FINANCE, Role.DISTRICT_IT)
FY_RANGE = (2000, 2100)


# ---------------------------------------------------------------------------
# Settings


class LeaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: int = Field(ge=1, le=10)
    rate_pct: Decimal = Field(default=Decimal("0"), ge=0, le=25, decimal_places=2)

    @field_validator("rate_pct")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return value.quantize(CENT)


def _check_cap_years(value: dict[int, Decimal]) -> dict[int, Decimal]:
    for fy in value:
        if not FY_RANGE[0] <= fy <= FY_RANGE[1]:
            raise ValueError(f"FY{fy} is not a fiscal year a plan can cap")
    return value


Months = Annotated[int, Field(ge=1, le=240)]
Cap = Annotated[Money, Field(ge=0, max_digits=14, decimal_places=2)]


class ScenarioSettings(BaseModel):
    """What a scenario changes (every field optional: the empty settings are the
    baseline). Shared by the scenario editor and the API."""

    model_config = ConfigDict(extra="forbid")
    lifespans: dict[DeviceCategory, Months] = Field(default_factory=dict)
    inflation_pct: Decimal | None = Field(default=None, ge=-10, le=25, decimal_places=2)
    headroom_pct: Decimal | None = Field(default=None, ge=0, le=200, decimal_places=2)
    leases: dict[DeviceCategory, LeaseIn] = Field(default_factory=dict)
    caps: dict[int, Cap] = Field(default_factory=dict)
    max_deferral_months: int | None = Field(default=None, ge=0, le=60)

    @field_validator("caps")
    @classmethod
    def _cap_years(cls, value: dict[int, Decimal]) -> dict[int, Decimal]:
        return {fy: cap.quantize(CENT) for fy, cap in _check_cap_years(value).items()}

    @field_validator("inflation_pct", "headroom_pct")
    @classmethod
    def _cents_of_a_percent(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(CENT)

    def to_settings(self) -> fc.Settings:
        return fc.Settings(
            lifespans={c.value: m for c, m in self.lifespans.items()},
            inflation_pct=self.inflation_pct,
            headroom_pct=self.headroom_pct,
            leases={
                c.value: fc.Lease(lease.years, lease.rate_pct)
                for c, lease in self.leases.items()
            },
            caps=dict(self.caps),
            max_deferral_months=self.max_deferral_months,
        )

    def stored(self) -> dict[str, Any]:
        """The JSON a scenario row keeps (and the API shows)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return {k: v for k, v in data.items() if v not in ({}, None)}


class ScenarioCreate(InputModel):
    model_config = {"extra": "forbid"}  # a SQLModel config (a typed dict)
    district_id: int | None = None
    name: str = Field(min_length=1, max_length=120)
    settings: ScenarioSettings = Field(default_factory=ScenarioSettings)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is required")
        return value


class ScenarioUpdate(InputModel):
    model_config = {"extra": "forbid"}  # a SQLModel config (a typed dict)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    settings: ScenarioSettings | None = None
    version: int


class ScenarioRead(BaseModel):
    id: int
    district_id: int
    name: str
    settings: ScenarioSettings
    version: int
    created_at: datetime
    updated_at: datetime


def parse_settings(data: dict[str, Any]) -> ScenarioSettings:
    """Settings from a JSON object, or a 422 naming each field (settings.caps.2028…)."""
    try:
        return validate(ScenarioSettings, data)
    except ValidationFailed as exc:
        raise ValidationFailed(
            {f"settings.{k}": v for k, v in exc.fields.items()}
        ) from exc


def settings_of(scenario: Scenario | None) -> fc.Settings:
    if scenario is None:
        return fc.Settings()
    return validate(ScenarioSettings, dict(scenario.settings)).to_settings()


def parse_years(raw: str | int | None) -> int:
    if raw in (None, ""):
        return DEFAULT_YEARS
    try:
        years = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(
            {"years": "must be a whole number of years, 1–15"}
        ) from None
    if not 1 <= years <= fc.MAX_YEARS:
        raise ValidationFailed({"years": f"must be between 1 and {fc.MAX_YEARS}"})
    return years


# ---------------------------------------------------------------------------
# Who sees and changes what


def can_write(user: User, district_id: int) -> bool:
    return Role(user.role) in WRITERS and user.district_id == district_id


def visible_district(
    session: Session, user: User, district_id: int | None
) -> District | None:
    """The district a budget is for: a district user's own (naming another is a 404),
    or the one cooperative staff name; None means the whole cooperative."""
    own = district_filter(user)
    if own is not None:
        if district_id is not None and district_id != own:
            raise NotFound()
        return get_scoped(session, District, own, user)
    if district_id is None:
        return None
    return get_scoped(session, District, district_id, user)


def list_scenarios(session: Session, district_id: int, user: User) -> list[Scenario]:
    stmt = scoped(
        select(Scenario).where(col(Scenario.district_id) == district_id), Scenario, user
    ).order_by(col(Scenario.name), col(Scenario.id))
    return list(session.exec(stmt))


def get_scenario(session: Session, scenario_id: int, user: User) -> Scenario:
    return get_scoped(session, Scenario, scenario_id, user)


def _writable(user: User, district_id: int | None) -> int:
    """The district whose scenarios `user` may change (403 for any other, or none)."""
    if district_id is None or not can_write(user, district_id):
        raise Forbidden(
            "Only the district's finance and IT staff can change its scenarios."
        )
    return district_id


def _name_for(session: Session, district_id: int, name: str, own_id: int | None) -> str:
    """The name a scenario is saved under: trimmed, given, and no other scenario's of
    the district (case aside)."""
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "is required"})
    clash = session.exec(
        select(Scenario.id).where(
            col(Scenario.district_id) == district_id,
            sa.func.lower(col(Scenario.name)) == name.lower(),
            col(Scenario.id) != (own_id or 0),
        )
    ).first()
    if clash is not None:
        raise ValidationFailed(
            {"name": "is already used by another scenario of this district"}
        )
    return name


def _saved(session: Session, scenario: Scenario) -> Scenario:
    session.add(scenario)
    session.flush()
    return scenario


def create_scenario(session: Session, user: User, data: ScenarioCreate) -> Scenario:
    district_id = user.district_id if data.district_id is None else data.district_id
    visible_district(session, user, district_id)  # another district's: 404, not 403
    district_id = _writable(user, district_id)
    scenario = Scenario(
        district_id=district_id,
        name=_name_for(session, district_id, data.name, None),
        settings=data.settings.stored(),
        created_by_id=user.id,
    )
    return _saved(session, scenario)


def update_scenario(
    session: Session, user: User, scenario: Scenario, data: ScenarioUpdate
) -> Scenario:
    _writable(user, scenario.district_id)
    claim_version(session, scenario, data.version, fields=("name", "settings"))
    if data.name is not None:
        scenario.name = _name_for(session, scenario.district_id, data.name, scenario.id)
    if data.settings is not None:
        scenario.settings = data.settings.stored()
    return _saved(session, scenario)


def delete_scenario(
    session: Session, user: User, scenario: Scenario, version: int
) -> None:
    _writable(user, scenario.district_id)
    claim_version(session, scenario, version, fields=("name", "settings"))
    session.delete(scenario)
    session.flush()


# ---------------------------------------------------------------------------
# Forecast runs


@dataclass(frozen=True, slots=True)
class Run:
    """A forecast with what it was computed from, for pages and exports."""

    forecast: fc.Forecast
    inputs: Inputs | None  # None for the cooperative (merged from every district)
    district: District | None


@dataclass(frozen=True, slots=True)
class EditorFacts:
    """What the scenario editor lists, without a forecast: devices to refresh and the
    policy's lifespan per category, and the fiscal years a cap can name."""

    categories: list[tuple[DeviceCategory, int, int | None]]
    fiscal_years: list[int]


def editor_facts(
    session: Session, district: District, *, today: date | None = None
) -> EditorFacts:
    assert district.id is not None
    session.flush()
    counts = refresh_counts(session, district.id)
    policies = policy_lifespans(session, district.id)
    plan = fc.Plan(
        today=today or district_today(district),
        start_month=district.fy_start_month,
        years=DEFAULT_YEARS,
    )
    return EditorFacts(
        [
            (cat, counts.get(cat.value, 0), policies.get(cat.value))
            for cat in DeviceCategory
            if cat.value in counts or cat.value in policies
        ],
        plan.fiscal_years,
    )


_pause_lock = threading.Lock()
_pause = {"depth": 0, "was_on": 0}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off while a forecast runs: a run builds hundreds of
    thousands of small objects and no cycles worth finding, and each collection on
    the way walks all of them (a third of a big district's time). What is garbage
    when it ends is collected by the next collection as usual. Nested and concurrent
    runs share one pause; the last one out turns the collector back on (if it was)."""
    with _pause_lock:
        if _pause["depth"] == 0:
            _pause["was_on"] = int(gc.isenabled())
            gc.disable()
        _pause["depth"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause["depth"] -= 1
            if _pause["depth"] == 0 and _pause["was_on"]:
                gc.enable()


def run_district(
    session: Session,
    district: District,
    *,
    years: int = DEFAULT_YEARS,
    settings: fc.Settings | None = None,
    today: date | None = None,
) -> Run:
    day = today or district_today(district)
    with collector_paused():
        inputs = load(session, district, today=day, years=years)
        result = fc.forecast(
            inputs.plan,
            inputs.cohorts,
            inputs.terms,
            inputs.committed,
            settings or fc.Settings(),
        )
    return Run(result, inputs, district)


def rerun(run: Run, settings: fc.Settings) -> Run:
    """The same district's inputs under other settings (no second read of the inventory)."""
    assert run.inputs is not None, "a district's run"
    inputs = run.inputs
    with collector_paused():
        result = fc.forecast(
            inputs.plan, inputs.cohorts, inputs.terms, inputs.committed, settings
        )
    return Run(result, inputs, run.district)


COOPERATIVE_CHUNK = 100  # districts read together (bounds what is held at once)


def run_cooperative(
    session: Session,
    user: User,
    *,
    years: int = DEFAULT_YEARS,
    today: date | None = None,
    chunk: int = COOPERATIVE_CHUNK,
) -> Run:
    """Every member district's baseline, added up (cooperative staff and admins).

    The districts' inputs are read together, a chunk of districts per set of queries
    (inputs.load_many), each district's pure forecast runs on its own inputs, and only
    its condensed lines are kept (forecast.condensed: the same totals in every
    grouping the pages show)."""
    districts = list(
        session.exec(
            scoped(select(District), District, user).order_by(col(District.id))
        )
    )
    if not districts:
        plan = fc.Plan(today=today or datetime.now(UTC).date(), years=years)
        return Run(fc.Forecast(plan, fc.Settings(), ()), None, None)
    parts: list[fc.Forecast] = []
    with collector_paused():
        for start in range(0, len(districts), chunk):
            for inputs in load_many(
                session,
                districts[start : start + chunk],
                today=lambda d: today or district_today(d),
                years=years,
            ):
                result = fc.forecast(
                    inputs.plan, inputs.cohorts, inputs.terms, inputs.committed
                )
                parts.append(replace(result, lines=tuple(fc.condensed(result.lines))))
                del inputs, result
        # The cooperative's calendar is the first district's; each district's lines
        # keep their own fiscal years (members' fiscal years almost always agree).
        merged = fc.merged(parts, parts[0].plan, fc.Settings())
    return Run(merged, None, None)


# ---------------------------------------------------------------------------
# The district's approved budget per fiscal year (its plan's caps)


@dataclass(frozen=True, slots=True)
class ApprovedBudget:
    """What the board approved per fiscal year: the baseline is compared against it,
    and a new scenario starts with these caps."""

    caps: dict[int, Decimal]
    version: int | None  # the plan's; None before the first save


def approved_budget(session: Session, district_id: int) -> ApprovedBudget:
    plan = session.exec(
        select(BudgetPlan).where(col(BudgetPlan.district_id) == district_id)
    ).first()
    if plan is None:
        return ApprovedBudget({}, None)
    caps = session.exec(
        select(BudgetCap).where(col(BudgetCap.plan_id) == plan.id)
    ).all()
    return ApprovedBudget({c.fiscal_year: Decimal(c.cap) for c in caps}, plan.version)


class ApprovedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caps: dict[int, Cap] = Field(default_factory=dict)
    version: int | None = None

    @field_validator("caps")
    @classmethod
    def _cap_years(cls, value: dict[int, Decimal]) -> dict[int, Decimal]:
        return _check_cap_years(value)


def save_approved_budget(
    session: Session, user: User, district: District, data: ApprovedIn
) -> ApprovedBudget:
    """Replace the district's approved amounts per year (409 on a stale version)."""
    assert district.id is not None
    _writable(user, district.id)
    plan = session.exec(
        select(BudgetPlan).where(col(BudgetPlan.district_id) == district.id)
    ).first()
    if plan is None:
        if data.version is not None:
            raise Conflict(
                "Someone else changed the approved budget after you opened it. "
                "Review the current values and make your change again."
            )
        plan = BudgetPlan(district_id=district.id)
        session.add(plan)
        session.flush()
        created = True
    else:
        claim_version(session, plan, data.version, fields=())
        created = False
    assert plan.id is not None
    existing = {
        c.fiscal_year: c
        for c in session.exec(
            select(BudgetCap).where(col(BudgetCap.plan_id) == plan.id)
        )
    }
    removed = [cap for fy, cap in existing.items() if fy not in data.caps]
    for cap in removed:
        session.delete(cap)
    changed = bool(removed)
    for fy, amount in data.caps.items():
        if fy not in existing:
            session.add(
                BudgetCap(
                    plan_id=plan.id, district_id=district.id, fiscal_year=fy, cap=amount
                )
            )
            changed = True
        elif Decimal(existing[fy].cap) != amount:
            existing[fy].cap = amount
            session.add(existing[fy])
            changed = True
    if changed and not created:
        plan.version += 1  # the caps are the plan's: changing them moves its version
        session.add(plan)
    session.flush()
    return approved_budget(session, district.id)
