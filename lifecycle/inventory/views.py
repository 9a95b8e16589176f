"""Device pages: the list (search, filters, sort, keyset pages, CSV), detail, forms, bulk."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request, url_for

from lifecycle.auth import get_user, is_district_it, require_district_it
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, DeviceStatus
from lifecycle.inventory import devices as services
from lifecycle.inventory.bulk import bulk_update
from lifecycle.inventory.options import district_choices, options
from lifecycle.models import Device, DeviceCreate, DeviceUpdate, User
from lifecycle.renewals.queries import obligations_of, today_of
from lifecycle.tenancy import get_scoped
from lifecycle.web.edit import (
    done,
    form_values,
    form_version,
    inline_field,
    save_field,
    submit,
)
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import form_data, validate
from lifecycle.web.htmx import is_fragment, redirect_to, render
from lifecycle.web.lists import export_csv, load_list, render_list, run_bulk
from lifecycle.web.records import history

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
    return is_district_it(user)


def _require_edit(user: User) -> None:
    require_district_it(user, "devices")


def _choices() -> dict[str, Any]:
    return {
        "categories": [(c.value, c.label) for c in DeviceCategory],
        "statuses": [(s.value, s.label) for s in DeviceStatus],
    }


@bp.get("")
def index() -> Response:
    user = get_user()
    session = get_session()
    # A bad filter or cursor: say so, and show the unfiltered list beneath.
    query, page, errors = load_list(
        services.SPEC, services.list_stmt(user), recover=True
    )
    cross_district = services.cross_district(user)
    return render_list(
        "inventory/devices/list.html",
        errors=errors,
        blocks=LIST_BLOCKS,
        fragment={"is_oob": True},
        full=lambda: {
            "opts": options(session, user),
            "districts": district_choices(session, user) if cross_district else [],
        },
        page=page,
        query=query,
        labels=FILTER_LABELS,
        can_edit=can_edit(user),
        cross_district=cross_district,
        today=today_of(session, user),
        **_choices(),
    )


@bp.get("/export.csv")
def export() -> Response:
    """The current filter as CSV, streamed, with no row cap."""

    def row(r: Any) -> list[Any]:
        d: Device = r[0]
        return [
            d.id, r[2], d.asset_tag, d.serial, d.model, d.category, d.status, r[1],
            d.purchase_date, d.purchase_cost, d.funding_source, d.warranty_end,
            d.aue_date, d.eol_date, d.lifespan_months, d.refresh_due, d.refresh_reason,
            d.assigned_to,
        ]  # fmt: skip

    stmt = services.list_stmt(get_user())
    return export_csv(services.SPEC, stmt, CSV_HEADER, row, "devices")


def _form(
    device: Device | None,
    values: dict[str, Any],
    *,
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


@bp.get("/new")
def new() -> Response:
    _require_edit(get_user())
    return _form(None, {"status": DeviceStatus.IN_SERVICE.value})


def _create() -> Device:
    data = validate(DeviceCreate, form_data(DeviceCreate, request.form))
    return services.create_device(get_session(), user=get_user(), data=data)


@bp.post("")
def create() -> Response:
    _require_edit(get_user())
    return submit(
        _create,
        form=_form,
        record=None,
        then=lambda device: done(
            f"Device {device.asset_tag} added.",
            url_for("devices.detail", device_id=device.id),
        ),
    )


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
        obligations=obligations_of(
            session, subject_type="device", subject_id=device.id or 0
        ),
        obligations_search={"q": device.asset_tag, "state": "all"},
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
    return _form(device, form_values(device))


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
    _require_edit(get_user())
    device = _load(device_id)
    return submit(
        lambda: _update(device),
        form=_form,
        record=device,
        reload=lambda: _load(device_id),
        then=lambda _: done(
            f"Device {device.asset_tag} saved.",
            url_for("devices.detail", device_id=device.id),
        ),
    )


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
    return _field(_load(device_id), inline_field(field, INLINE_FIELDS), editing=False)


@bp.get("/<int:device_id>/fields/<field>/edit")
def field_edit(device_id: int, field: str) -> Response:
    _require_edit(get_user())
    device = _load(device_id)
    name = inline_field(field, INLINE_FIELDS)
    if not is_fragment():
        return redirect_to(url_for("devices.edit", device_id=device_id))
    return _field(device, name, editing=True)


def _explain(exc: ValidationFailed, name: str) -> str:
    """The field's own problem, or which other field stops the save and why."""
    if name in exc.fields:
        return exc.fields[name]
    other, problem = next(iter(exc.fields.items()))
    return f"cannot be saved: {other.replace('_', ' ')} {problem}"


@bp.post("/<int:device_id>/fields/<field>")
def field_save(device_id: int, field: str) -> Response:
    """Click-to-edit: save one field with the version the form was opened at."""
    _require_edit(get_user())
    device = _load(device_id)
    return save_field(
        device,
        inline_field(field, INLINE_FIELDS),
        update=_update,
        show=_field,
        reload=lambda: _load(device_id),
        text_fields=services.TEXT,
        explain=_explain,
        page_url=url_for("devices.detail", device_id=device_id),
    )


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
            data=DeviceUpdate(status=DeviceStatus.RETIRED, version=form_version()),
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
    return done(
        f"Device {device.asset_tag} is retired; its history is kept.",
        url_for("devices.detail", device_id=device_id),
    )


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
    return done(f"Device {tag} deleted.", url_for("devices.index"))


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
    _require_edit(get_user())
    return run_bulk(
        bulk_update,
        BULK_VERBS,
        "device",
        back=_back,
        unchanged="Nothing to change: the selected devices already were.",
    )
