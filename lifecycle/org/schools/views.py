"""Pages for a district's schools."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for

from lifecycle.auth import get_user, is_district_it, require_district_it
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.models import (
    District,
    School,
    SchoolCreate,
    SchoolUpdate,
    User,
)
from lifecycle.org import services
from lifecycle.tenancy import get_scoped
from lifecycle.web.edit import done, submit
from lifecycle.web.errors import Conflict
from lifecycle.web.forms import blanks_clear, form_data, parse_form, validate
from lifecycle.web.htmx import render
from lifecycle.web.lists import export_csv, key_by_sort, load_list, render_list
from lifecycle.web.records import history

bp = Blueprint("schools", __name__, url_prefix="/schools")


# --- schools -----------------------------------------------------------------

SCHOOL_LABELS = {f.name: f.label for f in services.SCHOOL_SPEC.filters}
SCHOOL_CSV = ["id", "district", "name", "code", "level", "enrollment", "devices",
              "licenses"]  # fmt: skip


def can_edit_schools(user: User) -> bool:
    return is_district_it(user)


def _require_school_edit(user: User) -> None:
    require_district_it(user, "schools")


@bp.get("")
def index() -> Response:
    user = get_user()
    session = get_session()
    spec = services.SCHOOL_SPEC
    stmt = services.school_list_stmt(user)
    row_key = key_by_sort(spec, services.school_row_key)
    query, page, errors = load_list(spec, stmt, row_key=row_key)
    return render_list(
        "org/schools/list.html",
        errors=errors,
        full=lambda: {
            "levels": services.school_levels(session, user=user),
            "districts": [
                (d.id, d.name) for d in services.list_districts(session, user=user)
            ],
        },
        page=page,
        query=query,
        labels=SCHOOL_LABELS,
        can_edit=can_edit_schools(user),
        cross=not Role(user.role).is_district,
    )


@bp.get("/export.csv")
def export() -> Response:
    """The current filter as CSV, streamed, with no row cap."""

    def row(r: Any) -> list[Any]:
        s: School = r[0]
        return [s.id, r[1], s.name, s.code, s.level, s.enrollment, r[2], r[3]]

    stmt = services.school_list_stmt(get_user())
    return export_csv(services.SCHOOL_SPEC, stmt, SCHOOL_CSV, row, "schools")


def _school_form(
    school: School | None,
    values: dict[str, Any],
    *,
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


@bp.get("/new")
def new() -> Response:
    _require_school_edit(get_user())
    return _school_form(None, {})


@bp.post("")
def create() -> Response:
    user = get_user()
    _require_school_edit(user)
    session = get_session()
    return submit(
        lambda: services.create_school(
            session,
            user=user,
            # A school always joins the user's own district.
            data=parse_form(SchoolCreate, request.form, exclude=("district_id",)),
        ),
        form=_school_form,
        record=None,
        then=lambda school: done(
            f"{school.name} added.", url_for("schools.detail", school_id=school.id)
        ),
    )


@bp.get("/<int:school_id>")
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


@bp.get("/<int:school_id>/edit")
def edit(school_id: int) -> Response:
    _require_school_edit(get_user())
    school = _load_school(school_id)
    values = {k: "" if v is None else v for k, v in school.model_dump().items()}
    return _school_form(school, values)


@bp.post("/<int:school_id>")
def update(school_id: int) -> Response:
    user = get_user()
    _require_school_edit(user)
    session = get_session()
    school = _load_school(school_id)
    return submit(
        lambda: services.update_school(
            session,
            user=user,
            school=school,
            data=validate(
                SchoolUpdate,
                blanks_clear(
                    form_data(SchoolUpdate, request.form, checkboxes=False),
                    ("code", "level"),
                ),
            ),
        ),
        form=_school_form,
        record=school,
        reload=lambda: _load_school(school_id),
        then=lambda _: done(
            f"{school.name} saved.", url_for("schools.detail", school_id=school_id)
        ),
    )


def _delete_page(school: School, *, status: int = 200, problem: str = "") -> Response:
    return render(
        "org/schools/delete.html",
        "confirm",
        status=status,
        school=school,
        usage=services.school_usage(get_session(), school),
        problem=problem,
    )


@bp.get("/<int:school_id>/delete")
def confirm_delete(school_id: int) -> Response:
    _require_school_edit(get_user())
    return _delete_page(_load_school(school_id))


@bp.post("/<int:school_id>/delete")
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
    return done(f"{name} deleted.", url_for("schools.index"))
