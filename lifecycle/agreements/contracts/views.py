"""Service-contract pages: list, CSV, detail with coverage and priced terms, forms.

The mechanics the license pages share are in agreements/pages.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request

from lifecycle.agreements.contracts import services
from lifecycle.agreements.pages import AgreementPages, optional_url, renewal_choices
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import ContractKind, DeviceCategory
from lifecycle.models import (
    ContractVehicle,
    ServiceContract,
    ServiceContractCreate,
    ServiceContractUpdate,
)
from lifecycle.web.edit import done
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import form_data, validate
from lifecycle.web.htmx import redirect_to

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

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


def _create() -> ServiceContract:
    form = form_data(ServiceContractCreate, request.form)
    data = validate(ServiceContractCreate, form)
    return services.create_contract(get_session(), user=get_user(), data=data)


def _update(
    contract: ServiceContract, form: dict[str, Any] | None = None
) -> ServiceContract:
    if form is None:
        form = form_data(ServiceContractUpdate, request.form)
    data = validate(ServiceContractUpdate, form)
    return services.update_contract(
        get_session(), user=get_user(), contract=contract, data=data
    )


def _upcoming(view: Any) -> list[Any]:
    """The next three terms after today's, with their projected cost."""
    if view.state is None:
        return []
    return [r for r in view.rows if r.number > view.state.number][:3]


PAGES = AgreementPages(
    subject="contract",
    model=ServiceContract,
    blueprint="contracts",
    id_arg="contract_id",
    var="contract",
    label="Service contract",
    name_field="name",
    inline_fields=(
        *("cost_per_period", "escalator_pct", "notice_days", "funding_source", "notes"),
    ),
    text_fields=("funding_source", "notes"),
    choices=_choices,
    update_one=_update,
    field_extras=lambda _contract, view: {"upcoming": _upcoming(view)},
    verbs={"renewal_type": "updated", "cancel": "cancelled", "kind": "updated"},
)


@bp.get("")
def index() -> Response:
    return PAGES.list_page(services.SPEC, services.list_stmt)


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

    return PAGES.export(services.SPEC, services.list_stmt, CSV_HEADER, row)


@bp.get("/new")
def new() -> Response:
    defaults: dict[str, Any] = {"renewal_type": "tacit", "kind": "maintenance"}
    defaults |= {"coverage": "none", "initial_term_months": 12, "notice_days": 60}
    defaults |= {"renewal_term_months": 12, "escalator_pct": "0.00"}
    return PAGES.new(defaults)


@bp.post("")
def create() -> Response:
    return PAGES.create(_create)


@bp.get("/<int:contract_id>")
def detail(contract_id: int) -> Response:
    session = get_session()
    contract: ServiceContract = PAGES.load(contract_id)
    view = PAGES.term_view(contract)
    vehicle_id = contract.vehicle_id
    vehicle = session.get(ContractVehicle, vehicle_id) if vehicle_id else None
    return PAGES.detail(
        contract,
        view,
        upcoming=_upcoming(view),
        devices=services.covered_devices(session, contract),
        vehicle=vehicle,
        vehicle_url=optional_url("catalog.vehicle", vehicle_id=vehicle_id)
        if vehicle
        else None,
        **_choices(),
    )


@bp.get("/<int:contract_id>/edit")
def edit(contract_id: int) -> Response:
    return PAGES.edit(contract_id)


@bp.post("/<int:contract_id>")
def update(contract_id: int) -> Response:
    return PAGES.update(contract_id)


@bp.get("/<int:contract_id>/fields/<field>")
def field_show(contract_id: int, field: str) -> Response:
    return PAGES.field_show(contract_id, field)


@bp.get("/<int:contract_id>/fields/<field>/edit")
def field_edit(contract_id: int, field: str) -> Response:
    return PAGES.field_edit(contract_id, field)


@bp.post("/<int:contract_id>/fields/<field>")
def field_save(contract_id: int, field: str) -> Response:
    return PAGES.field_save(contract_id, field)


@bp.post("/<int:contract_id>/renew")
def renew(contract_id: int) -> Response:
    return PAGES.change_state(contract_id, "renew")


@bp.post("/<int:contract_id>/cancel")
def cancel(contract_id: int) -> Response:
    return PAGES.change_state(contract_id, "cancel")


@bp.post("/<int:contract_id>/reinstate")
def reinstate(contract_id: int) -> Response:
    return PAGES.change_state(contract_id, "reinstate")


@bp.post("/<int:contract_id>/delete")
def delete(contract_id: int) -> Response:
    return PAGES.delete(contract_id)


@bp.post("/<int:contract_id>/devices")
def cover(contract_id: int) -> Response:
    """Add devices to a contract that covers a list of devices, by asset tag."""
    contract = PAGES.load_to_edit(contract_id)
    session = get_session()
    try:
        tags = request.form.get("asset_tags", "")
        added = services.cover_devices(
            session, user=get_user(), contract=contract, asset_tags=tags
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
        return redirect_to(PAGES.url("detail", contract_id))
    session.commit()
    noun = "device" if added == 1 else "devices"
    return done(f"{added} {noun} added.", PAGES.url("detail", contract_id))


@bp.post("/<int:contract_id>/devices/<int:device_id>/remove")
def uncover(contract_id: int, device_id: int) -> Response:
    contract = PAGES.load_to_edit(contract_id)
    session = get_session()
    services.uncover_device(
        session, user=get_user(), contract=contract, device_id=device_id
    )
    session.commit()
    return done("Device removed from the contract.", PAGES.url("detail", contract_id))


@bp.post("/bulk")
def bulk() -> Response:
    """Bulk actions on the selected contracts: a POST form of checkboxes."""
    return PAGES.bulk(services.bulk_update)
