"""Service-contract pages: list, CSV, detail with coverage and priced terms, forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from ..auth import get_user
from ..db import get_session
from ..enums import ContractKind, DeviceCategory
from ..errors import Conflict, NotFound, ValidationFailed
from ..forms import form_data, validate
from ..htmx import is_fragment, redirect_to, render
from ..models import (
    ContractVehicle,
    ServiceContract,
    ServiceContractCreate,
    ServiceContractUpdate,
)
from ..records import history
from ..tenancy import get_scoped
from . import contracts as services
from . import licenses as agreements
from .licenses_views import (
    can_edit,
    change_state,
    csv_export,
    form_values,
    list_page,
    optional_url,
    renewal_choices,
    require_edit,
    run_bulk,
    save_field,
)
from .options import options

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

INLINE_FIELDS = (
    *("cost_per_period", "escalator_pct", "notice_days", "funding_source", "notes"),
)
TEXT_FIELDS = ("funding_source", "notes")
CSV_HEADER = [
    "id", "name", "kind", "vendor", "coverage", "coverage_category", "site",
    "devices_covered", "renewal_type", "status", "term_start", "initial_term_months",
    "renewal_term_months", "current_term_number", "current_term_start",
    "current_term_end", "decide_by", "notice_days", "cost_per_period",
    "escalator_pct", "erate_c2_eligible", "funding_source", "notes",
]  # fmt: skip


def _choices() -> dict[str, Any]:
    return {
        **renewal_choices(),
        "kinds": [(k.value, k.label) for k in ContractKind],
        "coverages": [
            ("none", "Nothing specific"),
            ("devices", "A list of devices"),
            ("category", "A device category"),
            ("site", "A site (school)"),
        ],
        "categories": [(c.value, c.label) for c in DeviceCategory],
    }


@bp.get("")
def index() -> Response:
    template = "inventory/contracts/list.html"
    stmt_for = services.list_stmt
    return list_page(services.SPEC, stmt_for, template, ServiceContract, _choices())


@bp.get("/export.csv")
def export() -> Response:
    def row(r: Any) -> list[Any]:
        c: ServiceContract = r[0]
        return [
            c.id, c.name, c.kind, r[1], c.coverage, c.coverage_category, r[2], r[3],
            c.renewal_type, c.status, c.term_start, c.initial_term_months,
            c.renewal_term_months, c.current_term_number, c.current_term_start,
            c.current_term_end, c.decide_by, c.notice_days, c.cost_per_period,
            c.escalator_pct, "yes" if c.erate_c2_eligible else "no", c.funding_source,
            c.notes,
        ]  # fmt: skip

    return csv_export(services.SPEC, services.list_stmt, CSV_HEADER, row, "contracts")


def _form(
    *,
    contract: ServiceContract | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    user = get_user()
    return render(
        "inventory/contracts/form.html",
        "form",
        status=status,
        contract=contract,
        values=values,
        errors=errors or {},
        conflict=conflict,
        opts=options(get_session(), user, district_id=user.district_id),
        **_choices(),
    )


@bp.get("/new")
def new() -> Response:
    require_edit(get_user())
    defaults: dict[str, Any] = {"renewal_type": "tacit", "kind": "maintenance"}
    defaults |= {"coverage": "none", "initial_term_months": 12, "notice_days": 60}
    defaults |= {"renewal_term_months": 12, "escalator_pct": "0.00"}
    return _form(contract=None, values=defaults)


@bp.post("")
def create() -> Response:
    user = get_user()
    require_edit(user)
    session = get_session()
    try:
        form = form_data(ServiceContractCreate, request.form)
        data = validate(ServiceContractCreate, form)
        contract = services.create_contract(session, user=user, data=data)
    except ValidationFailed as exc:
        session.rollback()
        values = request.form.to_dict()
        return _form(contract=None, values=values, errors=exc.fields, status=422)
    session.commit()
    flash(f"Service contract {contract.name} added.", "success")
    return redirect_to(url_for("contracts.detail", contract_id=contract.id))


def _load(contract_id: int) -> ServiceContract:
    return get_scoped(get_session(), ServiceContract, contract_id, get_user())


@bp.get("/<int:contract_id>")
def detail(contract_id: int) -> Response:
    session = get_session()
    user = get_user()
    contract = _load(contract_id)
    view = agreements.term_view(session, "contract", contract)
    vehicle = (
        session.get(ContractVehicle, contract.vehicle_id)
        if contract.vehicle_id
        else None
    )
    return render(
        "inventory/contracts/detail.html",
        contract=contract,
        state=view.state,
        explanation=view.explanation,
        term_rows=view.rows,
        upcoming=[r for r in view.rows if r.number > view.state.number][:3],
        devices=services.covered_devices(session, contract),
        vehicle=vehicle,
        vehicle_url=optional_url("catalog.vehicle", vehicle_id=vehicle.id)
        if vehicle
        else None,
        events=history(session, entity_type="contract", entity_id=contract_id),
        can_edit=can_edit(user),
        opts=options(session, user, district_id=contract.district_id),
        **_choices(),
    )


@bp.get("/<int:contract_id>/edit")
def edit(contract_id: int) -> Response:
    require_edit(get_user())
    contract = _load(contract_id)
    return _form(contract=contract, values=form_values(contract))


def _update(
    contract: ServiceContract, form: dict[str, Any] | None = None
) -> ServiceContract:
    if form is None:
        form = form_data(ServiceContractUpdate, request.form)
    data = validate(ServiceContractUpdate, form)
    return services.update_contract(
        get_session(), user=get_user(), contract=contract, data=data
    )


@bp.post("/<int:contract_id>")
def update(contract_id: int) -> Response:
    require_edit(get_user())
    session = get_session()
    contract = _load(contract_id)
    values = request.form.to_dict()
    try:
        _update(contract)
    except ValidationFailed as exc:
        session.rollback()
        return _form(contract=contract, values=values, errors=exc.fields, status=422)
    except Conflict as exc:
        session.rollback()
        current = exc.extra.get("current", {})
        fresh = _load(contract_id)
        return _form(contract=fresh, values=values, status=409, conflict=current)
    session.commit()
    flash(f"Service contract {contract.name} saved.", "success")
    return redirect_to(url_for("contracts.detail", contract_id=contract.id))


def _field(
    contract: ServiceContract, field: str, *, editing: bool, **extra: Any
) -> Response:
    """One field (shown or being edited); after a save, the summaries out of band."""
    view = agreements.term_view(get_session(), "contract", contract)
    return render(
        "inventory/contracts/field.html",
        status=extra.pop("status", 200),
        contract=contract,
        field=field,
        editing=editing,
        state=view.state,
        explanation=view.explanation,
        term_rows=view.rows,
        upcoming=[r for r in view.rows if r.number > view.state.number][:3],
        can_edit=can_edit(get_user()),
        **{"error": None, "value": None, "conflict": False, **extra},
    )


def _field_name(field: str) -> str:
    if field not in INLINE_FIELDS:
        raise NotFound("That field cannot be edited here.")
    return field


@bp.get("/<int:contract_id>/fields/<field>")
def field_show(contract_id: int, field: str) -> Response:
    contract = _load(contract_id)
    return _field(contract, _field_name(field), editing=False)


@bp.get("/<int:contract_id>/fields/<field>/edit")
def field_edit(contract_id: int, field: str) -> Response:
    require_edit(get_user())
    contract = _load(contract_id)
    name = _field_name(field)
    if not is_fragment():
        return redirect_to(url_for("contracts.edit", contract_id=contract_id))
    return _field(contract, name, editing=True)


@bp.post("/<int:contract_id>/fields/<field>")
def field_save(contract_id: int, field: str) -> Response:
    require_edit(get_user())
    _load(contract_id)
    name = _field_name(field)
    return save_field(lambda: _load(contract_id), _update, _field, name, TEXT_FIELDS)


def _change(contract_id: int, action: str) -> Response:
    require_edit(get_user())
    contract = _load(contract_id)
    url = url_for("contracts.detail", contract_id=contract_id)
    return change_state("contract", contract, action, contract.name, url)


@bp.post("/<int:contract_id>/renew")
def renew(contract_id: int) -> Response:
    return _change(contract_id, "renew")


@bp.post("/<int:contract_id>/cancel")
def cancel(contract_id: int) -> Response:
    return _change(contract_id, "cancel")


@bp.post("/<int:contract_id>/reinstate")
def reinstate(contract_id: int) -> Response:
    return _change(contract_id, "reinstate")


@bp.post("/<int:contract_id>/delete")
def delete(contract_id: int) -> Response:
    user = get_user()
    require_edit(user)
    session = get_session()
    contract = _load(contract_id)
    name = contract.name
    agreements.delete_agreement(session, user=user, subject="contract", obj=contract)
    session.commit()
    flash(f"Service contract {name} deleted.", "success")
    return redirect_to(url_for("contracts.index"))


@bp.post("/<int:contract_id>/devices")
def cover(contract_id: int) -> Response:
    """Add devices to a contract that covers a list of devices, by asset tag."""
    user = get_user()
    require_edit(user)
    session = get_session()
    contract = _load(contract_id)
    try:
        tags = request.form.get("asset_tags", "")
        added = services.cover_devices(
            session, user=user, contract=contract, asset_tags=tags
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
        return redirect_to(url_for("contracts.detail", contract_id=contract_id))
    session.commit()
    flash(f"{added} {'device' if added == 1 else 'devices'} added.", "success")
    return redirect_to(url_for("contracts.detail", contract_id=contract_id))


@bp.post("/<int:contract_id>/devices/<int:device_id>/remove")
def uncover(contract_id: int, device_id: int) -> Response:
    user = get_user()
    require_edit(user)
    session = get_session()
    contract = _load(contract_id)
    services.uncover_device(session, user=user, contract=contract, device_id=device_id)
    session.commit()
    flash("Device removed from the contract.", "success")
    return redirect_to(url_for("contracts.detail", contract_id=contract_id))


@bp.post("/bulk")
def bulk() -> Response:
    """Bulk actions on the selected contracts: a POST form of checkboxes."""
    verbs = {"renewal_type": "updated", "cancel": "cancelled", "kind": "updated"}
    home = url_for("contracts.index")
    return run_bulk(services.bulk_update, verbs, "contract", home)
