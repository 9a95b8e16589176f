"""Cooperative staff keep the catalog: vehicles, their items, price tables in place.

District roles never reach these routes (403); the browse pages stay theirs.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from sqlmodel import col, select

from lifecycle.auth import require_roles
from lifecycle.catalog import editing, services
from lifecycle.catalog.pages import (
    SAVED_BLOCKS,
    UNITS,
    TierEditor,
    item_page,
    stored_editor,
)
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, ItemKind, PriceUnit, Role
from lifecycle.models import (
    CatalogItemCreate,
    CatalogItemUpdate,
    ContractVehicleCreate,
    ContractVehicleUpdate,
    Vendor,
)
from lifecycle.web.edit import done, form_version, submit
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import form_data, parse_form, refuse_unknown, validate
from lifecycle.web.htmx import is_fragment, redirect_to, render

bp = Blueprint("catalog_manage", __name__, url_prefix="/catalog")
coop_writers = require_roles(Role.COOP_STAFF, Role.ADMIN)
ITEM_FORM_EXCLUDE = ("vehicle_id", "tiers", "active")


# --- vehicles ----------------------------------------------------------------


def _vehicle_form(
    vehicle: Any,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    vendors = get_session().exec(
        select(Vendor.id, Vendor.name).order_by(col(Vendor.name))
    )
    return render(
        "catalog/vehicle_form.html",
        "form",
        status=status,
        vehicle=vehicle,
        values=values,
        errors=errors or {},
        conflict=conflict,
        vendors=list(vendors.all()),
    )


@bp.get("/vehicles/new")
@coop_writers
def vehicle_new() -> Response:
    return _vehicle_form(None, {})


@bp.post("/vehicles")
@coop_writers
def vehicle_create() -> Response:
    session = get_session()
    return submit(
        lambda: editing.create_vehicle(
            session, data=parse_form(ContractVehicleCreate, request.form)
        ),
        form=_vehicle_form,
        record=None,
        then=lambda v: done(
            f"Contract vehicle {v.contract_number} added.",
            url_for("catalog.vehicle", vehicle_id=v.id),
        ),
    )


@bp.get("/vehicles/<int:vehicle_id>/edit")
@coop_writers
def vehicle_edit(vehicle_id: int) -> Response:
    vehicle, _vendor = services.get_vehicle(get_session(), vehicle_id)
    return _vehicle_form(vehicle, vehicle.model_dump())


def _update_vehicle(vehicle_id: int) -> Any:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(session, vehicle_id)
    data = parse_form(ContractVehicleCreate, request.form)
    return editing.update_vehicle(
        session,
        vehicle=vehicle,
        data=ContractVehicleUpdate(**data.model_dump(), version=form_version()),
    )


@bp.post("/vehicles/<int:vehicle_id>")
@coop_writers
def vehicle_update(vehicle_id: int) -> Response:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(session, vehicle_id)
    return submit(
        lambda: _update_vehicle(vehicle_id),
        form=_vehicle_form,
        record=vehicle,
        reload=lambda: services.get_vehicle(session, vehicle_id)[0],
        then=lambda v: done(
            f"Contract vehicle {v.contract_number} saved.",
            url_for("catalog.vehicle", vehicle_id=vehicle_id),
        ),
    )


def _delete_page(vehicle_id: int, *, status: int = 200, problem: str = "") -> Response:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(session, vehicle_id)
    return render(
        "catalog/vehicle_delete.html",
        "confirm",
        status=status,
        vehicle=vehicle,
        usage=editing.vehicle_usage(session, vehicle_id),
        problem=problem,
    )


@bp.get("/vehicles/<int:vehicle_id>/delete")
@coop_writers
def vehicle_confirm_delete(vehicle_id: int) -> Response:
    return _delete_page(vehicle_id)


@bp.post("/vehicles/<int:vehicle_id>/delete")
@coop_writers
def vehicle_delete(vehicle_id: int) -> Response:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(session, vehicle_id)
    number = vehicle.contract_number
    try:
        refuse_unknown(request.form.keys(), ())
        editing.delete_vehicle(session, vehicle=vehicle, version=form_version())
    except ValidationFailed as exc:
        session.rollback()
        return _delete_page(
            vehicle_id, status=422, problem=" ".join(exc.fields.values())
        )
    except Conflict as exc:
        session.rollback()
        return _delete_page(vehicle_id, status=409, problem=exc.message)
    session.commit()
    return done(f"Contract vehicle {number} deleted.", url_for("catalog.vehicles"))


# --- items -------------------------------------------------------------------


def _item_form(
    item: Any,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
    vehicle_id: int | None = None,
) -> Response:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(
        session, item.vehicle_id if item is not None else vehicle_id or 0
    )
    return render(
        "catalog/item_form.html",
        "form",
        status=status,
        item=item,
        vehicle=vehicle,
        values=values,
        errors=errors or {},
        conflict=conflict,
        kinds=[(k.value, k.value.capitalize()) for k in ItemKind],
        categories=[(c.value, c.label) for c in DeviceCategory],
        units=[(u.value, UNITS[u]) for u in PriceUnit],
    )


def _item_values(item: Any) -> dict[str, Any]:
    values: dict[str, Any] = item.model_dump()
    for name in ("kind", "category", "unit"):
        values[name] = getattr(values[name], "value", values[name]) or ""
    return values


@bp.get("/vehicles/<int:vehicle_id>/items/new")
@coop_writers
def item_new(vehicle_id: int) -> Response:
    return _item_form(None, {"unit": "each", "min_order_qty": 1}, vehicle_id=vehicle_id)


@bp.post("/vehicles/<int:vehicle_id>/items")
@coop_writers
def item_create(vehicle_id: int) -> Response:
    session = get_session()
    vehicle, _vendor = services.get_vehicle(session, vehicle_id)

    def apply() -> Any:
        data = _item_data(vehicle_id)
        return editing.create_item(session, vehicle=vehicle, data=data)

    return submit(
        apply,
        form=lambda record, values, **kw: _item_form(
            record, values, vehicle_id=vehicle_id, **kw
        ),
        record=None,
        then=lambda item: done(
            f"{item.name} added. Set its price tiers below.",
            url_for("catalog.item", item_id=item.id),
        ),
    )


def _item_data(vehicle_id: int) -> CatalogItemCreate:
    """The item form's fields, checked as a whole item (the page decides its vehicle;
    its price table and whether it is offered have their own controls)."""
    data = form_data(CatalogItemCreate, request.form, exclude=ITEM_FORM_EXCLUDE)
    return validate(CatalogItemCreate, data | {"vehicle_id": vehicle_id})


@bp.get("/items/<int:item_id>/edit")
@coop_writers
def item_edit(item_id: int) -> Response:
    item, _vehicle, _vendor = services.get_item(get_session(), item_id)
    return _item_form(item, _item_values(item))


@bp.post("/items/<int:item_id>")
@coop_writers
def item_update(item_id: int) -> Response:
    session = get_session()
    item, _vehicle, _vendor = services.get_item(session, item_id)

    def apply() -> Any:
        fields = _item_data(item.vehicle_id).model_dump(exclude=set(ITEM_FORM_EXCLUDE))
        data = CatalogItemUpdate(**fields, version=form_version())
        return editing.update_item(session, item=item, data=data)

    return submit(
        apply,
        form=_item_form,
        record=item,
        reload=lambda: services.get_item(session, item_id)[0],
        then=lambda _: done(
            f"{item.name} saved.", url_for("catalog.item", item_id=item_id)
        ),
    )


@bp.post("/items/<int:item_id>/active")
@coop_writers
def item_active(item_id: int) -> Response:
    """Discontinue the item, or offer it again (the page asks first)."""
    session = get_session()
    item, _vehicle, _vendor = services.get_item(session, item_id)
    active = request.form.get("active") == "1"
    try:
        refuse_unknown(request.form.keys(), ("active",))
        editing.set_active(session, item=item, version=form_version(), active=active)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
        return redirect_to(url_for("catalog.item", item_id=item_id))
    session.commit()
    verb = "is offered again" if active else "is discontinued"
    return done(f"{item.name} {verb}.", url_for("catalog.item", item_id=item_id))


# --- the price table, edited in place ------------------------------------------

TIER_FORM = ("min_qty", "unit_price", "op")


def _posted_rows() -> list[dict[str, str]]:
    quantities = request.form.getlist("min_qty")
    prices = request.form.getlist("unit_price")
    if len(quantities) != len(prices):
        raise ValidationFailed({"tiers": "every row needs a quantity and a price"})
    return [
        {"min_qty": q.strip(), "unit_price": p.strip()}
        for q, p in zip(quantities, prices, strict=True)
    ]


def _editor_response(editor: TierEditor, item_id: int, *, status: int) -> Response:
    return item_page(item_id, block="tiers", status=status, editor=editor)


@bp.get("/items/<int:item_id>/tiers/edit")
@coop_writers
def tiers_edit(item_id: int) -> Response:
    """The price table as an editor (in place with htmx; the whole page without)."""
    return _editor_response(stored_editor(item_id), item_id, status=200)


@bp.get("/items/<int:item_id>/tiers")
@coop_writers
def tiers_show(item_id: int) -> Response:
    """The price table as it is stored (Cancel in the editor)."""
    return item_page(item_id, block="tiers")


@bp.post("/items/<int:item_id>/tiers")
@coop_writers
def tiers_save(item_id: int) -> Response:
    """Save the whole table, or (op=add / op=remove-N) change the rows being edited.

    Nothing is written unless every row is valid (422 with each row's problems); a
    table changed by someone else since it was opened is a 409 showing it as it is.
    """
    session = get_session()
    item, _vehicle, _vendor = services.get_item(session, item_id)
    op = request.form.get("op", "save")
    try:
        refuse_unknown(request.form.keys(), TIER_FORM)
        rows = _posted_rows()
        version = form_version()
    except ValidationFailed as exc:
        editor = stored_editor(item_id)
        editor.errors = exc.fields
        return _editor_response(editor, item_id, status=422)
    if op == "add":
        rows.append({"min_qty": "", "unit_price": ""})
        return _editor_response(TierEditor(rows, version), item_id, status=200)
    if op.startswith("remove-") and op[7:].isdigit():
        del rows[int(op[7:]) : int(op[7:]) + 1]
        return _editor_response(TierEditor(rows, version), item_id, status=200)
    try:
        saved = editing.save_tiers(session, item=item, version=version, rows=rows)
    except ValidationFailed as exc:
        session.rollback()
        editor = TierEditor(rows, version, errors=exc.fields)
        return _editor_response(editor, item_id, status=422)
    except Conflict:
        session.rollback()
        now = stored_editor(item_id)
        editor = TierEditor(
            rows, now.version, current=editing.item_tiers(session, item_id)
        )
        return _editor_response(editor, item_id, status=409)
    changed = saved.version != version  # the same table again moves nothing
    session.commit()
    if not is_fragment():
        return done(
            f"Price tiers of {item.name} "
            + ("saved." if changed else "unchanged: the table was already this one."),
            url_for("catalog.item", item_id=item_id),
        )
    return item_page(
        item_id, block=SAVED_BLOCKS, saved="saved" if changed else "unchanged"
    )
