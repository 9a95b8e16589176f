"""The budget API (docs/architecture.md#the-json-api): the multi-year forecast and scenarios.

The forecast is computed on every request from the inventory by the services the budget
pages use (lifecycle/budget/services.py), never stored. Scenarios are a district's saved
what-ifs: versioned, audited, validated by the same models as the scenario editor.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from lifecycle.api.frame import (
    QueryParam,
    body_as,
    filters,
    one,
    operation,
    page,
    stale,
)
from lifecycle.auth import get_user
from lifecycle.budget import forecast as fc
from lifecycle.budget import services
from lifecycle.budget.services import ScenarioCreate, ScenarioRead, ScenarioUpdate
from lifecycle.db import get_session
from lifecycle.models import District, Scenario
from lifecycle.models.base import Money, Percent
from lifecycle.tenancy import scoped
from lifecycle.web.errors import Conflict, ValidationFailed

FISCAL_YEAR_NAMING = "named by the calendar year in which it ends"
ERATE_NAMING = "E-Rate funding years are named by the year they start"
GROUPS = ("kind", "category", "school_id", "funding_source")

# --- the forecast ------------------------------------------------------------


class TotalRead(BaseModel):
    """One fiscal year's amount for one combination of the group_by dimensions; only
    the dimensions asked for are present."""

    fiscal_year: int
    kind: str = Field(default="", description="refresh | license | contract")
    category: str = Field(
        default="",
        description="a refresh's device category; license for licenses; a "
        "contract's coverage category, else service",
    )
    school_id: int | None = Field(
        default=None,
        description="the school of the devices or license, or the one a contract "
        "covers; null for district-wide",
    )
    funding_source: str = Field(default="", description='as recorded; "" for none')
    amount: Money


class YearRead(BaseModel):
    fiscal_year: int
    amount: Money = Field(description="the sum of the year's lines")
    cap: Money | None = Field(description="the scenario's cap on the year, if any")
    shortfall: Money | None = Field(
        description="how far the year stays over its cap after deferring what could "
        "be deferred; null when within it or uncapped"
    )


class DeferralRead(BaseModel):
    """Refreshes a cap moved into a later fiscal year."""

    label: str
    ref: str = Field(
        description="the devices: devices:<category>:<school_id>:<funding_source>:"
        "<refresh due>"
    )
    category: str
    quantity: int
    from_fiscal_year: int
    to_fiscal_year: int
    amount: Money = Field(
        description="what they cost in the year they moved to (the first payment, "
        "when leased)"
    )


class ErateCycleRead(BaseModel):
    name: str = Field(description="the cycle's funding years, e.g. FY2026–FY2030")
    budget: Money = Field(description="the five-year pre-discount budget")
    used: Money = Field(description="drawn by the forecast's eligible lines")
    left: Money
    assumed: bool = Field(
        description="past the last published cycle: its figures are assumed"
    )


class ErateRead(BaseModel):
    """E-Rate Category Two: of the eligible costs the cycle's budget covers, E-Rate
    pays the district's discount; the district pays the rest."""

    naming: str = Field(description=ERATE_NAMING)
    discount_pct: Percent
    share: Money = Field(description="what E-Rate pays of the forecast's lines")
    district_net: Money = Field(description="lines_total less E-Rate's share")
    cycles: list[ErateCycleRead] = Field(
        description="the cycles the forecast draws on (none without eligible costs)"
    )


class ForecastRead(BaseModel):
    """The multi-year forecast: every amount is a sum of its lines, to the cent."""

    district_id: int | None = Field(
        description="null: the whole cooperative (every member district's baseline)"
    )
    scenario_id: int | None = Field(description="null: the baseline")
    as_of: date = Field(description="the day it is computed from (the district's)")
    years: list[int] = Field(description="the fiscal years forecast, in order")
    fiscal_year_naming: str = Field(
        description=f"a fiscal year is {FISCAL_YEAR_NAMING}"
    )
    group_by: list[str]
    totals: list[TotalRead] = Field(
        description="by fiscal year and the group_by dimensions; combinations with "
        "nothing to pay are left out"
    )
    by_year: list[YearRead]
    deferrals: list[DeferralRead]
    erate: ErateRead | None = Field(
        description="one district's; null for the cooperative"
    )
    lines_total: Money = Field(description="the sum of every line of the forecast")


FORECAST_QUERY = [
    QueryParam(
        "district_id",
        int,
        "the district (default: yours); cooperative staff and admins name any member "
        "district, or none for the whole cooperative. Another district's: 404",
        names_record=True,
    ),
    QueryParam(
        "years",
        int,
        f"how many fiscal years from the current one, 1–{fc.MAX_YEARS} "
        f"(default {services.DEFAULT_YEARS})",
    ),
    QueryParam(
        "scenario_id",
        int,
        "apply a scenario of the district (default: the baseline). One you cannot see "
        "is a 404; one of another district than district_id, or with no district "
        "(the cooperative's forecast is the baseline), a 422",
        names_record=True,
    ),
    QueryParam(
        "group_by",
        str,
        f"comma list of {', '.join(GROUPS)} (default kind): the dimensions of the "
        "totals besides fiscal_year",
    ),
]


def _group_by(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if any(name not in GROUPS for name in names):
        raise ValidationFailed(
            {"group_by": f"must be a comma list of: {', '.join(GROUPS)}"}
        )
    return list(dict.fromkeys(names)) or ["kind"]


def _rank(name: str, value: Any) -> tuple[Any, ...]:
    """Totals' order within a year: kinds as the forecast lists them, then values,
    district-wide (no school) last."""
    if name == "kind":
        return (fc.KINDS.index(value) if value in fc.KINDS else len(fc.KINDS), value)
    return (value is None, 0 if value is None else value)


def _shown(
    run: services.Run, scenario: Scenario | None, group_by: list[str]
) -> dict[str, Any]:
    forecast = run.forecast
    by_year = forecast.by_year()
    lines_total = forecast.total()
    sums = forecast.totals("fy", *group_by)
    keys = sorted(
        sums,
        key=lambda k: (
            k[0],
            *(_rank(n, v) for n, v in zip(group_by, k[1:], strict=True)),
        ),
    )
    erate = None
    if run.district is not None and forecast.plan.erate is not None:
        share = forecast.erate_share
        erate = {
            "naming": ERATE_NAMING,
            "discount_pct": forecast.plan.erate.discount_pct,
            "share": share,
            "district_net": lines_total - share,
            "cycles": [
                {
                    "name": use.name,
                    "budget": use.budget,
                    "used": use.used,
                    "left": use.left,
                    "assumed": use.assumed,
                }
                for use in forecast.erate_cycles
            ],
        }
    shown = ForecastRead.model_validate(
        {
            "district_id": run.district.id if run.district is not None else None,
            "scenario_id": scenario.id if scenario is not None else None,
            "as_of": forecast.plan.today,
            "years": sorted(by_year),
            "fiscal_year_naming": FISCAL_YEAR_NAMING,
            "group_by": group_by,
            "totals": [
                {
                    "fiscal_year": key[0],
                    **dict(zip(group_by, key[1:], strict=True)),
                    "amount": sums[key],
                }
                for key in keys
            ],
            "by_year": [
                {
                    "fiscal_year": fy,
                    "amount": amount,
                    "cap": forecast.settings.caps.get(fy),
                    "shortfall": forecast.shortfall.get(fy),
                }
                for fy, amount in sorted(by_year.items())
            ],
            "deferrals": [
                {
                    "label": d.label,
                    "ref": d.ref,
                    "category": d.category,
                    "quantity": d.quantity,
                    "from_fiscal_year": d.from_fy,
                    "to_fiscal_year": d.to_fy,
                    "amount": d.amount,
                }
                for d in forecast.deferrals
            ],
            "erate": erate,
            "lines_total": lines_total,
        }
    )
    # totals carry only the dimensions asked for
    return shown.model_dump(mode="json", exclude_unset=True)


def _scenario_for(
    session: Session, district: District | None, scenario_id: int | None
) -> Scenario | None:
    if scenario_id is None:
        return None
    scenario = services.get_scenario(session, scenario_id, get_user())
    if district is None:
        raise ValidationFailed(
            {
                "scenario_id": "applies to one district: name its district_id (the "
                "cooperative's forecast is the baseline)"
            }
        )
    if scenario.district_id != district.id:
        raise ValidationFailed({"scenario_id": "is a scenario of another district"})
    return scenario


@operation(
    "/forecast",
    "GET",
    summary="The multi-year forecast of a district (or the whole cooperative), "
    "optionally under a scenario: totals by fiscal year, caps and shortfalls, "
    "deferrals, E-Rate",
    tag="forecast",
    response=ForecastRead,
    query=FORECAST_QUERY,
)
def get_forecast() -> Response:
    values = filters(FORECAST_QUERY, paged=False)
    years = services.parse_years(values.get("years"))
    group_by = _group_by(values.get("group_by", ""))
    session = get_session()
    user = get_user()
    district = services.visible_district(session, user, values.get("district_id"))
    scenario = _scenario_for(session, district, values.get("scenario_id"))
    if district is None:
        run = services.run_cooperative(session, user, years=years)
    else:
        settings = services.settings_of(scenario)
        run = services.run_district(session, district, years=years, settings=settings)
    return jsonify(_shown(run, scenario, group_by))


# --- scenarios ---------------------------------------------------------------

SCENARIO_FILTERS = [
    QueryParam("district_id", int, "cooperative staff: one member district's"),
]
VERSION_QUERY = [
    QueryParam(
        "version",
        int,
        "the version you read; 409 if someone changed the scenario since",
        required=True,
    )
]


@operation(
    "/scenarios",
    "GET",
    summary="List budget scenarios (a district's what-ifs), in id order with a cursor",
    tag="scenarios",
    response=ScenarioRead,
    many=True,
    query=SCENARIO_FILTERS,
)
def list_scenarios() -> Response:
    visible = scoped(select(Scenario), Scenario, get_user())
    return page(get_session(), visible, Scenario, ScenarioRead, SCENARIO_FILTERS)


@operation(
    "/scenarios/<int:scenario_id>",
    "GET",
    summary="Get a scenario",
    tag="scenarios",
    response=ScenarioRead,
)
def get_scenario(scenario_id: int) -> Response:
    return one(
        ScenarioRead, services.get_scenario(get_session(), scenario_id, get_user())
    )


@operation(
    "/scenarios",
    "POST",
    summary="Save a scenario of your district (district finance and IT); its name is "
    "unique in the district",
    tag="scenarios",
    request=ScenarioCreate,
    response=ScenarioRead,
    status=201,
)
def create_scenario() -> Response:
    session = get_session()
    data = body_as(ScenarioCreate, ScenarioRead)
    scenario = services.create_scenario(session, get_user(), data)
    session.commit()
    return one(ScenarioRead, scenario, status=201)


@operation(
    "/scenarios/<int:scenario_id>",
    "PATCH",
    summary="Rename a scenario or replace its settings (district finance and IT); "
    "send the version you read",
    tag="scenarios",
    request=ScenarioUpdate,
    response=ScenarioRead,
)
def patch_scenario(scenario_id: int) -> Response:
    session = get_session()
    user = get_user()
    scenario = services.get_scenario(session, scenario_id, user)
    data = body_as(ScenarioUpdate, ScenarioRead, scenario)
    try:
        services.update_scenario(session, user, scenario, data)
    except Conflict as exc:
        raise stale(session, scenario, ScenarioRead, exc) from exc
    session.commit()
    return one(ScenarioRead, scenario)


@operation(
    "/scenarios/<int:scenario_id>",
    "DELETE",
    summary="Delete a scenario (district finance and IT); send the version you read "
    "as ?version=",
    tag="scenarios",
    status=204,
    query=VERSION_QUERY,
)
def delete_scenario(scenario_id: int) -> Response:
    session = get_session()
    user = get_user()
    scenario = services.get_scenario(session, scenario_id, user)
    version = filters(VERSION_QUERY, paged=False)["version"]
    try:
        services.delete_scenario(session, user, scenario, version)
    except Conflict as exc:
        raise stale(session, scenario, ScenarioRead, exc) from exc
    session.commit()
    return Response(status=204)
