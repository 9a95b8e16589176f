"""The pipeline API (docs/rules.md#the-pipeline): member districts' open needs by quarter.

For cooperative staff and administrators only: a district's token is refused (403),
since the pipeline adds up every member district's needs. The numbers are the pipeline
page's (lifecycle/pipeline/services.py), computed on every request.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, jsonify, request
from pydantic import BaseModel, Field

from lifecycle.api.frame import QueryParam, filters, operation
from lifecycle.auth import get_user, require_roles
from lifecycle.db import get_session
from lifecycle.models.base import Money
from lifecycle.pipeline import params, pivot, services


class UnitsRead(BaseModel):
    devices: int = Field(description="devices to refresh")
    seats: int = Field(description="license seats to renew")
    contracts: int = Field(description="service contracts to renew")


class AmountRead(BaseModel):
    units: UnitsRead
    spend: Money = Field(description="the needs' estimated cost")
    districts: int = Field(description="how many member districts are behind it")


class QuarterRead(BaseModel):
    key: str = Field(description="2027-Q1")
    label: str
    start: date
    end: date = Field(description="the quarter's last day")


class CellRead(AmountRead):
    quarter: str = Field(description="the quarter's key")


class RowRead(BaseModel):
    key: str = Field(
        description='the group\'s value: an id, a category, or "" for needs without one'
    )
    label: str
    cells: list[CellRead]
    total: AmountRead


class PipelineRead(BaseModel):
    today: date
    group: str
    quarters: list[QuarterRead]
    rows: list[RowRead]
    columns: list[CellRead] = Field(description="each quarter's total")
    total: AmountRead
    overdue: AmountRead = Field(
        description="of the first quarter, the needs already due before today"
    )


PIPELINE_QUERY = [
    QueryParam(
        "quarters",
        int,
        f"how many calendar quarters from this one, {pivot.MIN_QUARTERS}–"
        f"{pivot.MAX_QUARTERS} (default {pivot.DEFAULT_QUARTERS}); overdue needs "
        "count in the first",
    ),
    QueryParam("group", str, "vendor (default) | vehicle | item | category"),
    QueryParam("sort", str, "-spend (default) | spend | -units | units | name | -name"),
    QueryParam("district_id", int, "one member district's needs", names_record=True),
    QueryParam("category", str, "a device category, license or service"),
    QueryParam("kind", str, "refresh | license_renewal | contract_renewal"),
    QueryParam(
        "vendor_id", int, "the need's vendor (its catalog item's, else its own)"
    ),
    QueryParam("vehicle_id", int, "the need's contract vehicle"),
]


def _amount(a: pivot.Amount) -> dict[str, object]:
    return {
        "units": {u: a.units.get(u, 0) for u in pivot.UNIT_NAMES},
        "spend": f"{a.spend:.2f}",
        "districts": a.districts,
    }


@operation(
    "/pipeline",
    "GET",
    summary="Every member district's open refreshes and renewals by calendar quarter "
    "and vendor, vehicle, catalog item or category: units, estimated spend, how many "
    "districts (cooperative staff and administrators)",
    tag="pipeline",
    response=PipelineRead,
    query=PIPELINE_QUERY,
)
@require_roles(*services.READERS)
def get_pipeline() -> Response:
    filters(PIPELINE_QUERY, paged=False)  # 422 for unknown names, as every operation
    query = params.parse(request.args)
    found = services.pipeline(get_session(), get_user(), query)
    t = found.table
    return jsonify(
        {
            "today": found.today.isoformat(),
            "group": query.group,
            "quarters": [
                {
                    "key": q.key,
                    "label": q.label,
                    "start": q.start.isoformat(),
                    "end": (q.end - timedelta(days=1)).isoformat(),
                }
                for q in t.quarters
            ],
            "rows": [
                {
                    "key": r.key,
                    "label": r.label,
                    "cells": [
                        {"quarter": q.key, **_amount(c)}
                        for q, c in zip(t.quarters, r.cells, strict=True)
                    ],
                    "total": _amount(r.total),
                }
                for r in t.rows
            ],
            "columns": [
                {"quarter": q.key, **_amount(c)}
                for q, c in zip(t.quarters, t.columns, strict=True)
            ],
            "total": _amount(t.total),
            "overdue": _amount(t.overdue),
        }
    )
