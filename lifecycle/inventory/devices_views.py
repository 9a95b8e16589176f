"""Device pages: the list (search, filters, sort, keyset pages, CSV), detail, forms, bulk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, request, url_for

from .. import listing
from ..auth import get_user
from ..db import get_session
from ..enums import DeviceCategory, DeviceStatus, Role
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..forms import form_data, validate
from ..htmx import is_fragment, redirect_to, render
from ..models import Device, DeviceCreate, DeviceUpdate, User
from ..records import history
from ..tenancy import get_scoped
from . import devices as services
from .devices_bulk import bulk_update
from .options import district_choices, options

bp = Blueprint("devices", __name__, url_prefix="/devices")

FILTER_LABELS = {f.name: f.label for f in services.SPEC.filters}
# Fields that can be edited in place on the detail page.
INLINE_FIELDS = (
    "status",
    "school_id",
    "assigned_to",
    "warranty_end",
    "eol_date",
    "lifespan_months",
    "notes",
)
CSV_HEADER = [
    "id", "district", "asset_tag", "serial", "model", "category", "status", "school",
    "purchase_date", "purchase_cost", "funding_source", "warranty_end", "aue_date",
    "eol_date", "lifespan_months", "refresh_due", "refresh_reason", "assigned_to",
]  # fmt: skip
# The list's regions an htmx request replaces: the results, and out of band the
# count, the filter summary and the sort the filter form sends next.
LIST_BLOCKS = ["results", "count_oob", "summary_oob", "sort_oob"]


def can_edit(user: User) -> bool:
    return Role(user.role) is Role.DISTRICT_IT


def _require_edit(user: User) -> None:
    if not can_edit(user):
        raise Forbidden("Only district IT staff can change devices.")


def _choices() -> dict[str, Any]:
    return {
        "categories": [(c.value, c.label) for c in DeviceCategory],
        "statuses": [(s.value, s.label) for s in DeviceStatus],
    }


@bp.get("")
def index() -> Response:
    user = get_user()
    session = get_session()
    errors: dict[str, str] = {}
    try:
        query = listing.parse_query(services.SPEC, request.args)
        page = listing.page(session, services.SPEC, services.list_stmt(user), query)
    except ValidationFailed as exc:
        # A bad filter or cursor: say so, and show the unfiltered list beneath.
        errors = exc.fields
        query = listing.ListQuery()
        page = listing.page(session, services.SPEC, services.list_stmt(user), query)
    context: dict[str, Any] = {
        "page": page,
        "query": query,
        "errors": errors,
        "labels": FILTER_LABELS,
        "can_edit": can_edit(user),
        "cross_district": services.cross_district(user),
        **_choices(),
    }
    status = 422 if errors else 200
    if is_fragment():
        return render(
            "inventory/devices/list.html",
            LIST_BLOCKS,
            status=status,
            is_oob=True,
            **context,
        )
    context["opts"] = options(session, user)
    context["districts"] = (
        district_choices(session, user) if context["cross_district"] else []
    )
    return render("inventory/devices/list.html", status=status, **context)


@bp.get("/export.csv")
def export() -> Response:
    """The current filter as CSV, streamed, with no row cap."""
    user = get_user()
    query = listing.parse_query(services.SPEC, request.args)
    stmt = listing.ordered(services.SPEC, services.list_stmt(user), query)

    def row(r: Any) -> list[Any]:
        d: Device = r[0]
        return [
            d.id, r[2], d.asset_tag, d.serial, d.model, d.category, d.status, r[1],
            d.purchase_date, d.purchase_cost, d.funding_source, d.warranty_end,
            d.aue_date, d.eol_date, d.lifespan_months, d.refresh_due, d.refresh_reason,
            d.assigned_to,
        ]  # fmt: skip

    filename = f"devices-{datetime.now(UTC).date().isoformat()}.csv"
    return listing.csv_response(stmt, CSV_HEADER, row, filename=filename)


def _form(
    *,
    device: Device | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    user = get_user()
    return render(
        "inventory/devices/form.html",
        "form",
        status=status,
        device=device,
        values=values,
        errors=errors or {},
        conflict=conflict,
        opts=options(get_session(), user, district_id=user.district_id),
        **_choices(),
    )


def _values(device: Device) -> dict[str, Any]:
    values = device.model_dump()
    return {k: ("" if v is None else getattr(v, "value", v)) for k, v in values.items()}


@bp.get("/new")
def new() -> Response:
    _require_edit(get_user())
    return _form(device=None, values={"status": DeviceStatus.IN_SERVICE.value})


@bp.post("")
def create() -> Response:
    user = get_user()
    _require_edit(user)
    session = get_session()
    try:
        data = validate(DeviceCreate, form_data(DeviceCreate, request.form))
        device = services.create_device(session, user=user, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _form(
            device=None, values=request.form.to_dict(), errors=exc.fields, status=422
        )
    session.commit()
    flash(f"Device {device.asset_tag} added.", "success")
    return redirect_to(url_for("devices.detail", device_id=device.id))


def _load(device_id: int) -> Device:
    return get_scoped(get_session(), Device, device_id, get_user())


def _detail(device: Device, *, status: int = 200, problem: str = "") -> Response:
    """The detail page; with a problem (a refused retire or delete), said on top.

    For htmx the page's content is swapped whole, so its forms carry the new version.
    """
    session = get_session()
    user = get_user()
    headers = {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"} if problem else None
    return render(
        "inventory/devices/detail.html",
        "content" if problem else None,
        status=status,
        headers=headers,
        device=device,
        problem=problem,
        refresh=services.refresh_info(session, device),
        events=history(session, entity_type="device", entity_id=device.id or 0),
        contracts=services.contracts_covering(session, device),
        can_edit=can_edit(user),
        inline_fields=INLINE_FIELDS,
        opts=options(session, user, district_id=device.district_id),
        **_choices(),
    )


@bp.get("/<int:device_id>")
def detail(device_id: int) -> Response:
    return _detail(_load(device_id))


@bp.get("/<int:device_id>/edit")
def edit(device_id: int) -> Response:
    _require_edit(get_user())
    device = _load(device_id)
    return _form(device=device, values=_values(device))


def _update(device: Device, form: dict[str, Any] | None = None) -> Device:
    """Apply a (partial) form to the device; raises ValidationFailed or Conflict."""
    data = validate(
        DeviceUpdate,
        form
        if form is not None
        else form_data(DeviceUpdate, request.form, checkboxes=False),
    )
    return services.update_device(
        get_session(), user=get_user(), device=device, data=data
    )


@bp.post("/<int:device_id>")
def update(device_id: int) -> Response:
    user = get_user()
    _require_edit(user)
    session = get_session()
    device = _load(device_id)
    values = request.form.to_dict()
    try:
        _update(device)
    except ValidationFailed as exc:
        session.rollback()
        return _form(device=device, values=values, errors=exc.fields, status=422)
    except Conflict as exc:
        session.rollback()
        return _form(
            device=_load(device_id),
            values=values,
            status=409,
            conflict=exc.extra.get("current", {}),
        )
    session.commit()
    flash(f"Device {device.asset_tag} saved.", "success")
    return redirect_to(url_for("devices.detail", device_id=device.id))


def _field_name(field: str) -> str:
    if field not in INLINE_FIELDS:
        raise NotFound("That field cannot be edited here.")
    return field


def _field(
    device: Device,
    field: str,
    *,
    editing: bool,
    status: int = 200,
    error: str | None = None,
    value: Any = None,
    conflict: bool = False,
) -> Response:
    session = get_session()
    user = get_user()
    return render(
        "inventory/devices/field.html",
        status=status,
        device=device,
        field=field,
        editing=editing,
        error=error,
        value=value,
        conflict=conflict,
        can_edit=can_edit(user),
        refresh=services.refresh_info(session, device),
        opts=options(session, user, district_id=device.district_id),
        **_choices(),
    )


@bp.get("/<int:device_id>/fields/<field>")
def field_show(device_id: int, field: str) -> Response:
    return _field(_load(device_id), _field_name(field), editing=False)


@bp.get("/<int:device_id>/fields/<field>/edit")
def field_edit(device_id: int, field: str) -> Response:
    _require_edit(get_user())
    device = _load(device_id)
    name = _field_name(field)
    if not is_fragment():
        return redirect_to(url_for("devices.edit", device_id=device_id))
    return _field(device, name, editing=True)


@bp.post("/<int:device_id>/fields/<field>")
def field_save(device_id: int, field: str) -> Response:
    """Click-to-edit: save one field with the version the form was opened at."""
    _require_edit(get_user())
    session = get_session()
    device = _load(device_id)
    name = _field_name(field)
    raw = request.form.get(name, "").strip()
    form: dict[str, Any] = {"version": request.form.get("version"), name: raw or None}
    if name in services.TEXT:
        form[name] = raw
    try:
        _update(device, form)
    except ValidationFailed as exc:
        session.rollback()
        if name in exc.fields:
            error = exc.fields[name]
        else:
            other, problem = next(iter(exc.fields.items()))
            error = f"cannot be saved: {other.replace('_', ' ')} {problem}"
        return _field(device, name, editing=True, status=422, value=raw, error=error)
    except Conflict:
        session.rollback()
        # The form keeps what the user typed and carries the current version; the
        # message shows what the device holds now.
        return _field(
            _load(device_id), name, editing=True, status=409, conflict=True, value=raw
        )
    session.commit()
    if not is_fragment():
        return redirect_to(url_for("devices.detail", device_id=device_id))
    return _field(device, name, editing=False)


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError as exc:
        raise ValidationFailed({"version": "is required"}) from exc


@bp.post("/<int:device_id>/retire")
def retire(device_id: int) -> Response:
    user = get_user()
    _require_edit(user)
    session = get_session()
    device = _load(device_id)
    try:
        services.update_device(
            session,
            user=user,
            device=device,
            data=DeviceUpdate(status=DeviceStatus.RETIRED, version=_version()),
        )
    except Conflict:
        session.rollback()
        return _detail(
            _load(device_id),
            status=409,
            problem="Someone else changed this device after you opened it, so it "
            "was not retired. Its current values are shown; retire it again if you "
            "still mean to.",
        )
    session.commit()
    flash(f"Device {device.asset_tag} is retired; its history is kept.", "success")
    return redirect_to(url_for("devices.detail", device_id=device_id))


@bp.post("/<int:device_id>/delete")
def delete(device_id: int) -> Response:
    user = get_user()
    _require_edit(user)
    session = get_session()
    device = _load(device_id)
    tag = device.asset_tag
    try:
        services.delete_device(session, user=user, device=device)
    except Conflict as exc:
        session.rollback()
        return _detail(_load(device_id), status=409, problem=exc.message)
    session.commit()
    flash(f"Device {tag} deleted.", "success")
    return redirect_to(url_for("devices.index"))


def _back() -> str:
    """Where the bulk form came from (the filtered list), never another site."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc in ("", request.host) and parts.path.startswith(
        bp.url_prefix or ""
    ):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("devices.index")


BULK_VERBS = {
    "status": "updated",
    "school": "moved",
    "retire": "retired",
    "cover": "added to the contract",
}


@bp.post("/bulk")
def bulk() -> Response:
    """Bulk actions on the selected devices: a POST form of checkboxes."""
    user = get_user()
    _require_edit(user)
    session = get_session()
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    action = request.form.get("action", "")
    value = request.form.get("value") or request.form.get(f"value_{action}")
    try:
        changed = bulk_update(session, user=user, ids=ids, action=action, value=value)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
        return redirect_to(_back())
    session.commit()
    if changed:
        noun = "device" if changed == 1 else "devices"
        flash(f"{changed} {noun} {BULK_VERBS[action]}.", "success")
    else:
        flash("Nothing to change: the selected devices already were.", "info")
    return redirect_to(_back())
