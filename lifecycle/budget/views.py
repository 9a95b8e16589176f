"""The budget pages: the multi-year forecast, its drill-down, scenarios and exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, make_response, request, url_for
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from lifecycle.auth import get_user
from lifecycle.bounds import parse_int
from lifecycle.budget import chart as charts
from lifecycle.budget import exports, pages, services
from lifecycle.budget.fiscal import fiscal_year
from lifecycle.budget.forecast import KINDS, MAX_YEARS
from lifecycle.db import get_session
from lifecycle.enums import Role, category_label
from lifecycle.models import District, Scenario, User
from lifecycle.org import services as org
from lifecycle.scan.jobs import district_today
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.htmx import redirect_to, render

bp = Blueprint("budget", __name__, url_prefix="/budget")
READERS = tuple(Role)  # every role reads a budget it may see (tenancy decides which)
MAX_COMPARED = 2


def _int_arg(args: MultiDict[str, str], name: str) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_int(raw)
    except ValueError:
        raise ValidationFailed({name: "must be a whole number"}) from None


@dataclass
class Budget:
    """Everything the budget page shows for one request."""

    user: User
    district: District | None
    years: int
    scenarios: list[Scenario]
    compared: list[Scenario]
    runs: list[services.Run]
    series: list[pages.Series]
    options: pages.FilterOptions
    where: pages.LineFilter
    approved: services.ApprovedBudget

    @property
    def baseline(self) -> services.Run:
        return self.runs[0]

    def params(self, *, filters: bool = True, **extra: Any) -> dict[str, Any]:
        """The query string that reproduces this view (for links and the drill-down)."""
        out: dict[str, Any] = {}
        if self.district is not None and not Role(self.user.role).is_district:
            out["district_id"] = self.district.id
        if self.years != services.DEFAULT_YEARS:
            out["years"] = self.years
        if self.compared:
            out["scenario_id"] = [s.id for s in self.compared]
        if filters:
            out.update(self.where.params())
        out.update(extra)
        return out


def _budget(args: MultiDict[str, str]) -> Budget:
    user = get_user()
    session = get_session()
    district = services.visible_district(session, user, _int_arg(args, "district_id"))
    years = services.parse_years(args.get("years"))
    scenarios: list[Scenario] = []
    compared: list[Scenario] = []
    if district is not None:
        assert district.id is not None
        scenarios = services.list_scenarios(session, district.id, user)
        by_id = {s.id: s for s in scenarios}
        for raw in args.getlist("scenario_id")[:MAX_COMPARED]:
            if not raw.strip():
                continue
            try:
                wanted = parse_int(raw)
            except ValueError:
                raise ValidationFailed(
                    {"scenario_id": "must be a whole number"}
                ) from None
            if wanted not in by_id:
                raise NotFound()
            if by_id[wanted] not in compared:
                compared.append(by_id[wanted])
        runs = [services.run_district(session, district, years=years)]
        runs += [services.rerun(runs[0], services.settings_of(s)) for s in compared]
        schools = runs[0].inputs.schools if runs[0].inputs else {}
    else:
        if args.getlist("scenario_id") and any(
            a.strip() for a in args.getlist("scenario_id")
        ):
            raise ValidationFailed(
                {"scenario_id": "scenarios belong to a district: choose one"}
            )
        runs = [services.run_cooperative(session, user, years=years)]
        schools = {}
    options = pages.filter_options(runs[0].forecast.lines, schools)
    where = pages.parse_filter(args, options)
    approved = (
        services.approved_budget(session, district.id or 0)
        if district is not None
        else services.ApprovedBudget({}, None)
    )
    series = [pages.series("Baseline", runs[0].forecast, where, approved=approved.caps)]
    series += [
        pages.series(s.name, run.forecast, where, s.id)
        for s, run in zip(compared, runs[1:], strict=True)
    ]
    return Budget(
        user,
        district,
        years,
        scenarios,
        compared,
        runs,
        series,
        options,
        where,
        approved,
    )


def _districts(user: User) -> list[District]:
    if Role(user.role).is_district:
        return []
    return list(org.list_districts(get_session(), user=user))


@bp.get("")
def index() -> Response:
    budget = _budget(request.args)
    caps = budget.series[1].caps if len(budget.series) > 1 else {}
    caps_of = budget.series[1].name if caps else "approved budget"
    caps = caps or budget.approved.caps
    chart = charts.build(
        budget.baseline.forecast.fiscal_years,
        [(s.name, s.amounts) for s in budget.series],
        caps,
    )
    return render(
        "budget/index.html",
        "budget_body",
        b=budget,
        chart=chart,
        caps=caps,
        caps_of=caps_of,
        callout=pages.peak(budget.series[0]),
        callouts=[pages.peak(s) for s in budget.series],
        kinds=KINDS,
        kind_labels=pages.KIND_LABELS,
        districts=_districts(budget.user),
        can_write=budget.district is not None
        and services.can_write(budget.user, budget.district.id or 0),
        category_label=category_label,
        year_choices=list(range(1, 16)),
    )


@bp.get("/cell")
def cell() -> Response:
    """The cohorts and agreements behind one number of the table (htmx drill-down)."""
    budget = _budget(request.args)
    fy = _int_arg(request.args, "fy")
    index = _int_arg(request.args, "series") or 0
    kind = request.args.get("cell_kind", "")
    if fy is None:  # no year named: this fiscal year's detail
        fy = budget.baseline.forecast.fiscal_years[0]
    if fy not in budget.baseline.forecast.fiscal_years:
        raise ValidationFailed({"fy": "must be a fiscal year of the forecast"})
    if kind and kind not in KINDS:
        raise ValidationFailed({"cell_kind": "must be refresh, license or contract"})
    if not 0 <= index < len(budget.series):
        raise ValidationFailed({"series": "is not a column of this page"})
    chosen = budget.series[index]
    lines = [ln for ln in chosen.lines if ln.fy == fy and (not kind or ln.kind == kind)]
    return render(
        "budget/cell.html",
        "drill",
        b=budget,
        s=chosen,
        fy=fy,
        kind=kind,
        drill=pages.drill(
            lines, budget.runs[0].inputs.schools if budget.runs[0].inputs else {}
        ),
        total=sum((ln.amount for ln in lines), pages.ZERO),
        kind_labels=pages.KIND_LABELS,
        category_label=category_label,
    )


# ---------------------------------------------------------------------------
# Scenarios


def _editor(
    *,
    district: District,
    scenario: Scenario | None,
    form: pages.ScenarioForm,
    status: int = 200,
    conflict: bool = False,
) -> Response:
    session = get_session()
    user = get_user()
    facts = services.editor_facts(session, district)
    preview = (
        _preview_context(services.run_district(session, district), form)
        if not form.errors
        else None
    )
    return render(
        "budget/scenario.html",
        "editor",
        status=status,
        district=district,
        scenario=scenario,
        form=form,
        categories=facts.categories,
        fiscal_years=facts.fiscal_years,
        preview=preview,
        conflict=conflict,
        can_write=services.can_write(user, district.id or 0),
    )


def _writer_district() -> District:
    user = get_user()
    district = services.visible_district(get_session(), user, user.district_id)
    if district is None or not services.can_write(user, district.id or 0):
        raise Forbidden(
            "Only the district's finance and IT staff can change its scenarios."
        )
    return district


@bp.get("/scenarios/new")
def new_scenario() -> Response:
    """A new scenario starts from the district's approved budget as its caps."""
    district = _writer_district()
    approved = services.approved_budget(get_session(), district.id or 0)
    values = {"name": ""} | {f"cap_{fy}": str(cap) for fy, cap in approved.caps.items()}
    return _editor(
        district=district, scenario=None, form=pages.ScenarioForm(values=values)
    )


@bp.post("/approved")
def save_approved() -> Response:
    """The district's approved budget per fiscal year (the baseline's caps)."""
    district = _writer_district()
    session = get_session()
    first = fiscal_year(district_today(district), district.fy_start_month)
    form = pages.read_form(request.form, [first + k for k in range(MAX_YEARS)])
    version = request.form.get("version", "")
    back = url_for("budget.index") + "#approved"
    try:
        if form.errors:
            raise ValidationFailed(form.errors)
        data = validate(
            services.ApprovedIn,
            {"caps": form.data.get("caps", {}), "version": version or None},
        )
        services.save_approved_budget(session, get_user(), district, data)
    except ValidationFailed as exc:
        session.rollback()
        problems = "; ".join(
            f"{k.replace('caps.', 'FY')} {v}" for k, v in exc.fields.items()
        )
        flash(f"Approved budget not saved: {problems}.", "error")
        return redirect_to(back)
    except Conflict:
        session.rollback()
        flash(
            "Approved budget not saved: someone else changed it after you opened the "
            "page. It is shown as saved now; make your change again.",
            "error",
        )
        return redirect_to(back)
    session.commit()
    flash("Approved budget saved.", "success")
    return redirect_to(back)


@bp.get("/scenarios/<int:scenario_id>")
def edit_scenario(scenario_id: int) -> Response:
    session = get_session()
    scenario = services.get_scenario(session, scenario_id, get_user())
    district = session.get(District, scenario.district_id)
    assert district is not None
    values = pages.form_values(scenario.name, scenario.settings)
    values["version"] = str(scenario.version)
    return _editor(
        district=district, scenario=scenario, form=pages.ScenarioForm(values=values)
    )


def _parsed(
    district: District,
) -> tuple[pages.ScenarioForm, services.ScenarioSettings | None]:
    first = fiscal_year(district_today(district), district.fy_start_month)
    years = [first + k for k in range(MAX_YEARS)]
    form = pages.read_form(request.form, years)
    try:
        settings = services.parse_settings(form.data)
    except ValidationFailed as exc:
        form.errors.update(pages.form_errors(exc.fields))
        return form, None
    return (form, None) if form.errors else (form, settings)


@bp.post("/scenarios/preview")
def preview() -> Response:
    """The numbers of the settings being edited, beside the baseline (debounced htmx)."""
    district = services.visible_district(
        get_session(), get_user(), get_user().district_id
    )
    if district is None:
        raise NotFound()
    form, settings = _parsed(district)
    # always the fragment (htmx asks for it); a preview is not a save: its problems
    # are shown in it and the request succeeded
    run = services.run_district(get_session(), district)
    context = _preview_context(run, form, settings) if settings else None
    body = render_block("budget/scenario.html", "preview", form=form, preview=context)
    return make_response(body)


def _preview_context(
    run: services.Run,
    form: pages.ScenarioForm,
    settings: services.ScenarioSettings | None = None,
) -> dict[str, Any] | None:
    """The baseline's run beside the same inputs under the form's settings."""
    if settings is None:
        try:
            settings = services.parse_settings(form.data)
        except ValidationFailed:
            return None
    base = run.forecast
    scen = services.rerun(run, settings.to_settings()).forecast
    b, s = base.by_year(), scen.by_year()
    rows = [
        {
            "fy": fy,
            "baseline": b.get(fy, pages.ZERO),
            "scenario": s.get(fy, pages.ZERO),
            "difference": s.get(fy, pages.ZERO) - b.get(fy, pages.ZERO),
            "cap": scen.settings.caps.get(fy),
            "shortfall": scen.shortfall.get(fy),
        }
        for fy in base.fiscal_years
    ]
    return {
        "rows": rows,
        "baseline_total": base.total(),
        "scenario_total": scen.total(),
        "deferrals": scen.deferrals,
        "erate": scen.erate_share,
    }


def _name_and_settings(
    district: District,
) -> tuple[pages.ScenarioForm, services.ScenarioSettings | None, str]:
    form, settings = _parsed(district)
    name = request.form.get("name", "").strip()
    if not name:
        form.errors["name"] = "is required"
    elif len(name) > 120:
        form.errors["name"] = "must be at most 120 characters"
    return form, settings, name


@bp.post("/scenarios")
def create_scenario() -> Response:
    district = _writer_district()
    session = get_session()
    form, settings, name = _name_and_settings(district)
    if settings is None or form.errors:
        return _editor(district=district, scenario=None, form=form, status=422)
    try:
        scenario = services.create_scenario(
            session,
            get_user(),
            services.ScenarioCreate(
                district_id=district.id, name=name, settings=settings
            ),
        )
    except ValidationFailed as exc:
        session.rollback()
        form.errors.update(exc.fields)
        return _editor(district=district, scenario=None, form=form, status=422)
    session.commit()
    flash(f"Scenario “{scenario.name}” saved.", "success")
    return redirect_to(url_for("budget.index", scenario_id=scenario.id))


@bp.post("/scenarios/<int:scenario_id>")
def update_scenario(scenario_id: int) -> Response:
    session = get_session()
    user = get_user()
    scenario = services.get_scenario(session, scenario_id, user)
    district = session.get(District, scenario.district_id)
    assert district is not None
    form, settings, name = _name_and_settings(district)
    version = request.form.get("version", "")
    if not version.isdigit():
        form.errors["version"] = "is missing; reload the page"
    if settings is None or form.errors:
        return _editor(district=district, scenario=scenario, form=form, status=422)
    try:
        services.update_scenario(
            session,
            user,
            scenario,
            services.ScenarioUpdate(name=name, settings=settings, version=int(version)),
        )
    except ValidationFailed as exc:
        session.rollback()
        form.errors.update(exc.fields)
        return _editor(district=district, scenario=scenario, form=form, status=422)
    except Conflict:
        session.rollback()
        session.expire_all()
        fresh = services.get_scenario(session, scenario_id, user)
        return _editor(
            district=district, scenario=fresh, form=form, status=409, conflict=True
        )
    session.commit()
    flash(f"Scenario “{scenario.name}” saved.", "success")
    return redirect_to(url_for("budget.index", scenario_id=scenario.id))


@bp.get("/scenarios/<int:scenario_id>/delete")
def confirm_delete(scenario_id: int) -> Response:
    scenario = services.get_scenario(get_session(), scenario_id, get_user())
    return render("budget/delete.html", scenario=scenario)


@bp.post("/scenarios/<int:scenario_id>/delete")
def delete_scenario(scenario_id: int) -> Response:
    session = get_session()
    user = get_user()
    scenario = services.get_scenario(session, scenario_id, user)
    version = request.form.get("version", "")
    try:
        services.delete_scenario(
            session, user, scenario, int(version) if version.isdigit() else -1
        )
    except Conflict:
        session.rollback()
        flash(
            "Someone changed this scenario after you opened it; review it before deleting.",
            "error",
        )
        return redirect_to(url_for("budget.confirm_delete", scenario_id=scenario_id))
    name = scenario.name
    session.commit()
    flash(f"Scenario “{name}” deleted.", "success")
    return redirect_to(url_for("budget.index"))


# ---------------------------------------------------------------------------
# Exports


def _export_name(budget: Budget, extension: str) -> str:
    who = budget.district.name if budget.district else "cooperative"
    safe = "".join(ch if ch.isalnum() else "-" for ch in who).strip("-").lower()
    f = budget.baseline.forecast
    return f"budget-{safe}-fy{f.fiscal_years[0]}-fy{f.fiscal_years[-1]}.{extension}"


@bp.get("/export.xlsx")
def export_workbook() -> Response:
    """The board workbook of what the page shows: the baseline and its first scenario."""
    budget = _budget(request.args)
    scenario = budget.compared[0] if budget.compared else None
    name = budget.district.name if budget.district else "All member districts"
    body = exports.workbook(
        budget.baseline,
        budget.runs[1] if scenario else None,
        title=f"Budget — {name}",
        scenario_name=scenario.name if scenario else None,
        district_name=name,
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{_export_name(budget, "xlsx")}"'
        },
    )


@bp.get("/lines.csv")
def export_lines() -> Response:
    """Every line of the baseline (or of the first scenario compared) as CSV."""
    budget = _budget(request.args)
    scenario = budget.compared[0] if budget.compared else None
    run = budget.runs[1] if scenario else budget.baseline
    body = exports.lines_csv(run, scenario.name if scenario else None)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_export_name(budget, "csv")}"'
        },
    )
