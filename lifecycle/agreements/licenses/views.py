"""License pages: list (search, filters, sort, keyset pages, CSV), detail, forms, bulk.

The mechanics the contract pages share are in agreements/pages.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from lifecycle.agreements.licenses import services
from lifecycle.agreements.pages import AgreementPages, optional_url, renewal_choices
from lifecycle.agreements.terms import current_price
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.inventory.options import options
from lifecycle.models import CatalogItem, License, LicenseCreate, LicenseUpdate
from lifecycle.web.forms import form_data, validate

bp = Blueprint("licenses", __name__, url_prefix="/licenses")

CSV_HEADER = [
    "id", "product", "vendor", "school", "seats", "seats_used", "utilization_pct",
    "renewal_type", "status", "term_start", "initial_term_months",
    "renewal_term_months", "current_term_number", "current_term_start",
    "current_term_end", "decide_by", "notice_days", "price_per_seat",
    "cost_per_term", "funding_source", "notes",
]  # fmt: skip


def _create() -> License:
    data = validate(LicenseCreate, form_data(LicenseCreate, request.form))
    return services.create_license(get_session(), user=get_user(), data=data)


def _update(lic: License, form: dict[str, Any] | None = None) -> License:
    """Apply a (partial) form to the license; raises ValidationFailed or Conflict."""
    if form is None:
        form = form_data(LicenseUpdate, request.form, checkboxes=False)
    data = validate(LicenseUpdate, form)
    return services.update_license(get_session(), user=get_user(), lic=lic, data=data)


def _field_extras(lic: License, _view: Any) -> dict[str, Any]:
    return {"opts": options(get_session(), get_user(), district_id=lic.district_id)}


PAGES = AgreementPages(
    subject="license",
    model=License,
    blueprint="licenses",
    id_arg="license_id",
    var="lic",
    label="License",
    name_field="product",
    inline_fields=(
        *("seats", "seats_used", "price_per_seat", "notice_days", "school_id"),
        *("funding_source", "notes"),
    ),
    text_fields=("funding_source", "notes"),
    choices=renewal_choices,
    update_one=_update,
    field_extras=_field_extras,
    verbs={"renewal_type": "updated", "cancel": "cancelled", "school": "moved"},
)


@bp.get("")
def index() -> Response:
    return PAGES.list_page(services.SPEC, services.list_stmt, services.row_key)


@bp.get("/export.csv")
def export() -> Response:
    def row(r: Any) -> list[Any]:
        lic: License = r[0]
        return [
            lic.id, lic.product, r[2], r[1], lic.seats, lic.seats_used, r[3],
            lic.renewal_type, lic.status, lic.term_start, lic.initial_term_months,
            lic.renewal_term_months, lic.current_term_number, lic.current_term_start,
            lic.current_term_end, lic.decide_by, lic.notice_days, lic.price_per_seat,
            current_price(lic), lic.funding_source, lic.notes,
        ]  # fmt: skip

    return PAGES.export(services.SPEC, services.list_stmt, CSV_HEADER, row)


@bp.get("/new")
def new() -> Response:
    defaults: dict[str, Any] = {"renewal_type": "express", "initial_term_months": 12}
    defaults |= {"renewal_term_months": 12, "notice_days": 0, "seats_used": 0}
    return PAGES.new(defaults)


@bp.post("")
def create() -> Response:
    return PAGES.create(_create)


@bp.get("/<int:license_id>")
def detail(license_id: int) -> Response:
    lic: License = PAGES.load(license_id)
    view = PAGES.term_view(lic)
    item_id = lic.catalog_item_id
    item = get_session().get(CatalogItem, item_id) if item_id else None
    return PAGES.detail(
        lic,
        view,
        catalog_item=item,
        catalog_url=optional_url("catalog.item", item_id=item_id) if item else None,
    )


@bp.get("/<int:license_id>/edit")
def edit(license_id: int) -> Response:
    return PAGES.edit(license_id)


@bp.post("/<int:license_id>")
def update(license_id: int) -> Response:
    return PAGES.update(license_id)


# --- click-to-edit ---------------------------------------------------------------


@bp.get("/<int:license_id>/fields/<field>")
def field_show(license_id: int, field: str) -> Response:
    return PAGES.field_show(license_id, field)


@bp.get("/<int:license_id>/fields/<field>/edit")
def field_edit(license_id: int, field: str) -> Response:
    return PAGES.field_edit(license_id, field)


@bp.post("/<int:license_id>/fields/<field>")
def field_save(license_id: int, field: str) -> Response:
    return PAGES.field_save(license_id, field)


# --- renew, cancel, delete, bulk -----------------------------------------------------


@bp.post("/<int:license_id>/renew")
def renew(license_id: int) -> Response:
    return PAGES.change_state(license_id, "renew")


@bp.post("/<int:license_id>/cancel")
def cancel(license_id: int) -> Response:
    return PAGES.change_state(license_id, "cancel")


@bp.post("/<int:license_id>/reinstate")
def reinstate(license_id: int) -> Response:
    return PAGES.change_state(license_id, "reinstate")


@bp.post("/<int:license_id>/delete")
def delete(license_id: int) -> Response:
    return PAGES.delete(license_id)


@bp.post("/bulk")
def bulk() -> Response:
    """Bulk actions on the selected licenses: a POST form of checkboxes."""
    return PAGES.bulk(services.bulk_update)
