"""Pages for vendors (cooperative reference data)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from lifecycle.auth import get_user, require_roles
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.models import (
    User,
    VendorCreate,
    VendorUpdate,
)
from lifecycle.org import services
from lifecycle.web.edit import done, submit
from lifecycle.web.forms import blanks_clear, form_data, validate
from lifecycle.web.htmx import render
from lifecycle.web.lists import load_list, render_list
from lifecycle.web.records import history

bp = Blueprint("vendors", __name__, url_prefix="/vendors")
coop_writers = require_roles(Role.COOP_STAFF, Role.ADMIN)


# --- vendors -----------------------------------------------------------------

VENDOR_TEXT = ("website", "support_email", "support_phone")


def can_edit_vendors(user: User) -> bool:
    return Role(user.role) in (Role.COOP_STAFF, Role.ADMIN)


@bp.get("")
def vendor_index() -> Response:
    user = get_user()
    spec = services.VENDOR_SPEC
    query, page, errors = load_list(spec, services.vendor_list_stmt())
    return render_list(
        "org/vendors/list.html",
        errors=errors,
        page=page,
        query=query,
        labels={},
        can_edit=can_edit_vendors(user),
    )


def _vendor_form(
    vendor: Any,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    return render(
        "org/vendors/form.html",
        "form",
        status=status,
        vendor=vendor,
        values=values,
        errors=errors or {},
        conflict=conflict,
    )


@bp.get("/new")
@coop_writers
def vendor_new() -> Response:
    return _vendor_form(None, {})


@bp.post("")
@coop_writers
def vendor_create() -> Response:
    session = get_session()
    return submit(
        lambda: services.create_vendor(
            session, data=validate(VendorCreate, form_data(VendorCreate, request.form))
        ),
        form=_vendor_form,
        record=None,
        then=lambda vendor: done(
            f"Vendor {vendor.name} added.",
            url_for("vendors.vendor_detail", vendor_id=vendor.id),
        ),
    )


@bp.get("/<int:vendor_id>")
def vendor_detail(vendor_id: int) -> Response:
    session = get_session()
    vendor = services.get_vendor(session, vendor_id)
    return render(
        "org/vendors/detail.html",
        vendor=vendor,
        vehicles=services.vendor_vehicles(session, vendor),
        events=history(session, entity_type="vendor", entity_id=vendor_id),
        can_edit=can_edit_vendors(get_user()),
    )


@bp.get("/<int:vendor_id>/edit")
@coop_writers
def vendor_edit(vendor_id: int) -> Response:
    vendor = services.get_vendor(get_session(), vendor_id)
    return _vendor_form(vendor, vendor.model_dump())


@bp.post("/<int:vendor_id>")
@coop_writers
def vendor_update(vendor_id: int) -> Response:
    session = get_session()
    vendor = services.get_vendor(session, vendor_id)
    return submit(
        lambda: services.update_vendor(
            session,
            vendor=vendor,
            data=validate(
                VendorUpdate,
                blanks_clear(
                    form_data(VendorUpdate, request.form, checkboxes=False),
                    VENDOR_TEXT,
                ),
            ),
        ),
        form=_vendor_form,
        record=vendor,
        reload=lambda: services.get_vendor(session, vendor_id),
        then=lambda _: done(
            f"Vendor {vendor.name} saved.",
            url_for("vendors.vendor_detail", vendor_id=vendor_id),
        ),
    )
