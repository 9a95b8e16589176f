"""The pipeline pages: member districts' open needs by quarter, the districts behind a
number, and the quantity estimate for a bid (docs/rules.md#the-pipeline)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from lifecycle.auth import get_user, require_roles
from lifecycle.db import get_session
from lifecycle.enums import category_label
from lifecycle.pipeline import chart as charts
from lifecycle.pipeline import export, params, services
from lifecycle.pipeline.pivot import MAX_QUARTERS, MIN_QUARTERS, Quarter
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.htmx import render

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")
SORT_LABELS = {
    "-spend": "Most spend first",
    "spend": "Least spend first",
    "-units": "Most units first",
    "units": "Fewest units first",
    "name": "Name A–Z",
    "-name": "Name Z–A",
}


def _context(query: params.Query) -> dict[str, Any]:
    session = get_session()
    user = get_user()
    return {
        "options": services.filter_options(session, user),
        "groups": params.GROUPS,
        "kinds": params.KINDS,
        "categories": {c: category_label(c) for c in params.CATEGORIES},
        "sorts": SORT_LABELS,
        "quarter_choices": list(range(MIN_QUARTERS, MAX_QUARTERS + 1)),
        "no_value": services.NO_VALUE,
    }


def shown_filters(
    query: params.Query,
    options: dict[str, list[tuple[int, str]]],
    *,
    for_vendor: bool = False,
) -> list[str]:
    """The filters in words, for the page's "Showing only" line and the workbook (a
    vendor's copy names no district, even the one it was filtered to)."""
    names = {k: dict(v) for k, v in options.items()}
    out = []
    if query.district_id is not None:
        out.append(
            "one member district"
            if for_vendor
            else names["districts"].get(query.district_id, "one member district")
        )
    if query.kind is not None:
        out.append(params.KINDS[query.kind])
    if query.category is not None:
        out.append(category_label(query.category))
    if query.vendor_id is not None:
        out.append(
            "vendor " + names["vendors"].get(query.vendor_id, str(query.vendor_id))
        )
    if query.vehicle_id is not None:
        out.append(
            "vehicle " + names["vehicles"].get(query.vehicle_id, str(query.vehicle_id))
        )
    return out


@bp.get("")
@require_roles(*services.READERS)
def index() -> Response:
    query = params.parse(request.args)
    found = services.pipeline(get_session(), get_user(), query)
    context = _context(query)
    return render(
        "pipeline/index.html",
        "pipeline_body",
        p=found,
        q=query,
        t=found.table,
        chart=charts.build(found.table),
        showing=shown_filters(query, context["options"]),
        **context,
    )


def _quarter(raw: str, quarters: list[Quarter]) -> int | None:
    if not raw:
        return None
    for i, q in enumerate(quarters):
        if q.key == raw:
            return i
    raise ValidationFailed({"quarter": "must be one of the quarters shown"})


@bp.get("/cell")
@require_roles(*services.READERS)
def cell() -> Response:
    """The districts behind one number of the table (htmx drill-down): a group in a
    quarter, a group's total (no quarter) or a quarter's total (no key)."""
    query = params.parse(request.args, extra=("key", "quarter"))
    session = get_session()
    user = get_user()
    shown = services.shown(session, user, query)
    quarter = _quarter(request.args.get("quarter", "").strip(), shown.quarters)
    key = request.args.get("key")
    label = (
        services.group_labels(session, query.group, {key}).get(key, key)
        if key is not None
        else None
    )
    behind = services.districts_behind(
        session, user, query, key=key, quarter=quarter, today=shown.today
    )
    return render(
        "pipeline/cell.html",
        "drill",
        p=shown,
        q=query,
        key=key,
        label=label,
        quarter=shown.quarters[quarter] if quarter is not None else None,
        behind=behind,
        groups=params.GROUPS,
    )


def _name(shown: services.Shown, extension: str) -> str:
    first, last = shown.quarters[0], shown.quarters[-1]
    return f"quantity-estimate-{first.key}-to-{last.key}.{extension}".lower()


@bp.get("/estimate.csv")
@require_roles(*services.READERS)
def estimate_csv() -> Response:
    """The quantity estimate for a bid as CSV (the page's filters apply)."""
    query = params.parse(request.args)
    session, user = get_session(), get_user()
    shown = services.shown(session, user, query)
    lines = services.bid_lines(session, user, query, today=shown.today)
    return Response(
        export.bid_csv(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_name(shown, "csv")}"'
        },
    )


@bp.get("/estimate.xlsx")
@require_roles(*services.READERS)
def estimate_xlsx() -> Response:
    """The quantity estimate for a bid as a workbook (the page's filters apply)."""
    query = params.parse(request.args)
    session, user = get_session(), get_user()
    shown = services.shown(session, user, query)
    lines = services.bid_lines(session, user, query, today=shown.today)
    first, last = shown.quarters[0], shown.quarters[-1]
    body = export.bid_workbook(
        lines,
        title=f"Quantity estimate, {first.label} – {last.label}",
        today=shown.today,
        filters=shown_filters(
            query, services.filter_options(session, user), for_vendor=True
        ),
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{_name(shown, "xlsx")}"'
        },
    )
