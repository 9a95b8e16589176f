"""Pages for schools (district data) and vendors (cooperative reference data)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, request, url_for

from .. import listing
from ..auth import get_user, require_roles
from ..db import get_db, get_session
from ..enums import Role
from ..errors import Conflict, Forbidden, ValidationFailed
from ..forms import form_data, validate
from ..htmx import is_fragment, redirect_to, render
from ..models import (
    District,
    School,
    SchoolCreate,
    SchoolUpdate,
    User,
    VendorCreate,
    VendorUpdate,
)
from ..records import history
from ..tenancy import get_scoped
from . import services

schools = Blueprint("schools", __name__, url_prefix="/schools")
vendors = Blueprint("vendors", __name__, url_prefix="/vendors")
coop_writers = require_roles(Role.COOP_STAFF, Role.ADMIN)

RESULT_BLOCKS = ["results", "count_oob", "summary_oob"]


def parse_list(spec: listing.ListSpec) -> tuple[listing.ListQuery, dict[str, str]]:
    """The list request, or an empty one and the problems (shown with a 422)."""
    try:
        return listing.parse_query(spec, request.args), {}
    except ValidationFailed as exc:
        return listing.ListQuery(), exc.fields


def csv_response(
    name: str, stmt: listing.AnySelect, header: list[str], row: Callable[[Any], Any]
) -> Response:
    """A streamed CSV download read by a session of its own, closed with the response.

    Streaming needs no request context then (stream_with_context would re-push it).
    """
    session = get_db().session()
    filename = f"{name}-{datetime.now(UTC).date().isoformat()}.csv"
    response = Response(
        listing.stream_csv(session, stmt, header, row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    response.call_on_close(session.close)
    return response


def blanks_clear(form: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """An emptied optional text field clears it (form_data reads blank as not given)."""
    for name in names:
        if name in request.form and not request.form[name].strip():
            form[name] = ""
    return form


# --- schools -----------------------------------------------------------------

SCHOOL_LABELS = {f.name: f.label for f in services.SCHOOL_SPEC.filters}
SCHOOL_CSV = ["id", "district", "name", "code", "level", "enrollment", "devices",
              "licenses"]  # fmt: skip


def can_edit_schools(user: User) -> bool:
    return Role(user.role) is Role.DISTRICT_IT


def _require_school_edit(user: User) -> None:
    if not can_edit_schools(user):
        raise Forbidden("Only district IT staff can change schools.")


@schools.get("")
def index() -> Response:
    user = get_user()
    session = get_session()
    spec = services.SCHOOL_SPEC
    query, errors = parse_list(spec)
    key = services.school_row_key(spec.sort_key(query.sort)[0].name)
    page = listing.page(
        session, spec, services.school_list_stmt(user), query, row_key=key
    )
    context: dict[str, Any] = {
        "page": page,
        "query": query,
        "errors": errors,
        "labels": SCHOOL_LABELS,
        "can_edit": can_edit_schools(user),
        "cross": not Role(user.role).is_district,
    }
    status = 422 if errors else 200
    if is_fragment():
        return render("org/schools/list.html", RESULT_BLOCKS, status=status, **context)
    context["levels"] = services.school_levels(session, user=user)
    context["districts"] = [
        (d.id, d.name) for d in services.list_districts(session, user=user)
    ]
    return render("org/schools/list.html", status=status, **context)


@schools.get("/export.csv")
def export() -> Response:
    """The current filter as CSV, streamed, with no row cap."""
    spec = services.SCHOOL_SPEC
    query = listing.parse_query(spec, request.args)
    stmt = listing.ordered(spec, services.school_list_stmt(get_user()), query)

    def row(r: Any) -> list[Any]:
        s: School = r[0]
        return [s.id, r[1], s.name, s.code, s.level, s.enrollment, r[2], r[3]]

    return csv_response("schools", stmt, SCHOOL_CSV, row)


def _school_form(
    *,
    school: School | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    return render(
        "org/schools/form.html",
        "form",
        status=status,
        school=school,
        values=values,
        errors=errors or {},
        conflict=conflict,
    )


def _load_school(school_id: int) -> School:
    return get_scoped(get_session(), School, school_id, get_user())


@schools.get("/new")
def new() -> Response:
    _require_school_edit(get_user())
    return _school_form(school=None, values={})


@schools.post("")
def create() -> Response:
    user = get_user()
    _require_school_edit(user)
    session = get_session()
    form = form_data(SchoolCreate, request.form)
    form.pop("district_id", None)  # a school always joins the user's own district
    try:
        school = services.create_school(
            session, user=user, data=validate(SchoolCreate, form)
        )
    except ValidationFailed as exc:
        session.rollback()
        values = request.form.to_dict()
        return _school_form(school=None, values=values, errors=exc.fields, status=422)
    session.commit()
    flash(f"{school.name} added.", "success")
    return redirect_to(url_for("schools.detail", school_id=school.id))


@schools.get("/<int:school_id>")
def detail(school_id: int) -> Response:
    session = get_session()
    user = get_user()
    school = _load_school(school_id)
    district = session.get(District, school.district_id)
    return render(
        "org/schools/detail.html",
        school=school,
        district=district,
        usage=services.school_usage(session, school),
        events=history(session, entity_type="school", entity_id=school_id),
        can_edit=can_edit_schools(user),
        cross=not Role(user.role).is_district,
    )


@schools.get("/<int:school_id>/edit")
def edit(school_id: int) -> Response:
    _require_school_edit(get_user())
    school = _load_school(school_id)
    values = {k: "" if v is None else v for k, v in school.model_dump().items()}
    return _school_form(school=school, values=values)


@schools.post("/<int:school_id>")
def update(school_id: int) -> Response:
    user = get_user()
    _require_school_edit(user)
    session = get_session()
    school = _load_school(school_id)
    values = request.form.to_dict()
    form = blanks_clear(
        form_data(SchoolUpdate, request.form, checkboxes=False), ("code", "level")
    )
    try:
        data = validate(SchoolUpdate, form)
        services.update_school(session, user=user, school=school, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _school_form(school=school, values=values, errors=exc.fields, status=422)
    except Conflict as exc:
        session.rollback()
        return _school_form(
            school=_load_school(school_id),
            values=values,
            status=409,
            conflict=exc.extra.get("current", {}),
        )
    session.commit()
    flash(f"{school.name} saved.", "success")
    return redirect_to(url_for("schools.detail", school_id=school_id))


def _delete_page(school: School, *, status: int = 200, problem: str = "") -> Response:
    return render(
        "org/schools/delete.html",
        "confirm",
        status=status,
        school=school,
        usage=services.school_usage(get_session(), school),
        problem=problem,
    )


@schools.get("/<int:school_id>/delete")
def confirm_delete(school_id: int) -> Response:
    _require_school_edit(get_user())
    return _delete_page(_load_school(school_id))


@schools.post("/<int:school_id>/delete")
def delete(school_id: int) -> Response:
    user = get_user()
    _require_school_edit(user)
    session = get_session()
    school = _load_school(school_id)
    name = school.name
    try:
        services.delete_school(session, user=user, school=school)
    except Conflict as exc:
        session.rollback()
        return _delete_page(_load_school(school_id), status=409, problem=exc.message)
    session.commit()
    flash(f"{name} deleted.", "success")
    return redirect_to(url_for("schools.index"))


# --- vendors -----------------------------------------------------------------

VENDOR_TEXT = ("website", "support_email", "support_phone")


def can_edit_vendors(user: User) -> bool:
    return Role(user.role) in (Role.COOP_STAFF, Role.ADMIN)


@vendors.get("")
def vendor_index() -> Response:
    user = get_user()
    spec = services.VENDOR_SPEC
    query, errors = parse_list(spec)
    page = listing.page(get_session(), spec, services.vendor_list_stmt(), query)
    return render(
        "org/vendors/list.html",
        RESULT_BLOCKS,
        status=422 if errors else 200,
        page=page,
        query=query,
        errors=errors,
        labels={},
        can_edit=can_edit_vendors(user),
    )


def _vendor_form(
    *,
    vendor: Any,
    values: dict[str, Any],
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


@vendors.get("/new")
@coop_writers
def vendor_new() -> Response:
    return _vendor_form(vendor=None, values={})


@vendors.post("")
@coop_writers
def vendor_create() -> Response:
    session = get_session()
    try:
        data = validate(VendorCreate, form_data(VendorCreate, request.form))
        vendor = services.create_vendor(session, data=data)
    except ValidationFailed as exc:
        session.rollback()
        values = request.form.to_dict()
        return _vendor_form(vendor=None, values=values, errors=exc.fields, status=422)
    session.commit()
    flash(f"Vendor {vendor.name} added.", "success")
    return redirect_to(url_for("vendors.vendor_detail", vendor_id=vendor.id))


@vendors.get("/<int:vendor_id>")
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


@vendors.get("/<int:vendor_id>/edit")
@coop_writers
def vendor_edit(vendor_id: int) -> Response:
    vendor = services.get_vendor(get_session(), vendor_id)
    return _vendor_form(vendor=vendor, values=vendor.model_dump())


@vendors.post("/<int:vendor_id>")
@coop_writers
def vendor_update(vendor_id: int) -> Response:
    session = get_session()
    vendor = services.get_vendor(session, vendor_id)
    values = request.form.to_dict()
    form = blanks_clear(
        form_data(VendorUpdate, request.form, checkboxes=False), VENDOR_TEXT
    )
    try:
        data = validate(VendorUpdate, form)
        services.update_vendor(session, vendor=vendor, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _vendor_form(vendor=vendor, values=values, errors=exc.fields, status=422)
    except Conflict as exc:
        session.rollback()
        return _vendor_form(
            vendor=services.get_vendor(session, vendor_id),
            values=values,
            status=409,
            conflict=exc.extra.get("current", {}),
        )
    session.commit()
    flash(f"Vendor {vendor.name} saved.", "success")
    return redirect_to(url_for("vendors.vendor_detail", vendor_id=vendor_id))
