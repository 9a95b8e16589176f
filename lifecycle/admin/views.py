"""Administration pages: users, districts, cooperative settings, activity."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, flash, request, url_for

from lifecycle.admin import jobs, services
from lifecycle.auth import get_user, require_roles
from lifecycle.bounds import parse_day, parse_int
from lifecycle.db import get_session
from lifecycle.enums import Role
from lifecycle.models import (
    District,
    DistrictCreate,
    DistrictUpdate,
    UserCreate,
    UserUpdate,
)
from lifecycle.models.org import check_thresholds
from lifecycle.notices import mailing
from lifecycle.org import services as org_services
from lifecycle.web.errors import NotFound, ValidationFailed
from lifecycle.web.forms import form_data, parse_form, validate
from lifecycle.web.htmx import redirect_to, render
from lifecycle.web.paging import parse_limit
from lifecycle.web.records import history

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = require_roles(Role.ADMIN)
ROLE_OPTIONS = [(r.value, r.label) for r in Role]


def _district_options() -> list[tuple[int | None, str]]:
    return [(d.id, f"{d.name} ({d.state})") for d in services.districts(get_session())]


# --- users -------------------------------------------------------------------


@bp.get("/users")
@admin_only
def users() -> Response:
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    rows = services.list_users(get_session(), q=q, role=role)
    return render(
        "admin/users.html", "results", rows=rows, q=q, role=role, roles=ROLE_OPTIONS
    )


def _user_form(
    *,
    user: object = None,
    values: Mapping[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    temp_password: str | None = None,
) -> Response:
    events = []
    if user is not None:
        events = history(get_session(), entity_type="user", entity_id=user.id)  # type: ignore[attr-defined]
    return render(
        "admin/user_form.html",
        "form",
        status=status,
        user=user,
        values=values or {},
        errors=errors or {},
        roles=ROLE_OPTIONS,
        districts=_district_options(),
        events=events,
        temp_password=temp_password,
    )


@bp.get("/users/new")
@admin_only
def new_user() -> Response:
    # the least privileged role until the administrator picks another
    return _user_form(
        values={
            "password": services.temporary_password(),
            "role": Role.DISTRICT_VIEWER.value,
        }
    )


@bp.post("/users")
@admin_only
def create_user() -> Response:
    session = get_session()
    values = request.form.to_dict()
    try:
        user = services.create_user(session, data=parse_form(UserCreate, request.form))
    except ValidationFailed as exc:
        return _user_form(values=values, errors=exc.fields, status=422)
    session.commit()
    flash(
        f"Account created for {user.email}. Give them their first password "
        "privately; they can change it on their profile page.",
        "success",
    )
    return redirect_to(url_for("admin.edit_user", user_id=user.id))


@bp.get("/users/<int:user_id>")
@admin_only
def edit_user(user_id: int) -> Response:
    user = services.get_user_or_404(get_session(), user_id)
    return _user_form(user=user, values=user.model_dump())


@bp.post("/users/<int:user_id>")
@admin_only
def update_user(user_id: int) -> Response:
    session = get_session()
    user = services.get_user_or_404(session, user_id)
    values = request.form.to_dict()
    try:
        data = parse_form(UserUpdate, request.form)
        services.update_user(session, user=user, data=data, actor=get_user())
    except ValidationFailed as exc:
        session.rollback()
        return _user_form(user=user, values=values, errors=exc.fields, status=422)
    session.commit()
    flash(f"Saved {user.email}.", "success")
    return redirect_to(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/reset-password")
@admin_only
def reset_password(user_id: int) -> Response:
    session = get_session()
    user = services.get_user_or_404(session, user_id)
    password = services.reset_password(session, user=user)
    session.commit()
    return _user_form(user=user, values=user.model_dump(), temp_password=password)


# --- districts ---------------------------------------------------------------


@bp.get("/districts")
@admin_only
def districts() -> Response:
    return render("admin/districts.html", districts=services.districts(get_session()))


def _district_form(
    *,
    district: District | None = None,
    values: Mapping[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    events = []
    if district is not None and district.id is not None:
        events = history(get_session(), entity_type="district", entity_id=district.id)
    return render(
        "admin/district_form.html",
        "form",
        status=status,
        district=district,
        values=values or {},
        errors=errors or {},
        events=events,
    )


def _district_values(district: District) -> dict[str, object]:
    values: dict[str, object] = district.model_dump()
    values["reminder_thresholds"] = ", ".join(
        str(d) for d in district.reminder_thresholds
    )
    return values


@bp.get("/districts/new")
@admin_only
def new_district() -> Response:
    defaults = DistrictCreate.model_construct()
    values = {k: getattr(defaults, k, "") for k in DistrictCreate.model_fields}
    coop = org_services.cooperative(get_session())
    values["reminder_thresholds"] = ", ".join(
        str(d) for d in coop.default_reminder_thresholds
    )
    return _district_form(values=values)


@bp.post("/districts")
@admin_only
def create_district() -> Response:
    session = get_session()
    form = request.form.copy()
    if not form.get("reminder_thresholds", "").strip():
        # Blank means the cooperative's defaults, which the form offers to start with.
        coop = org_services.cooperative(session)
        form["reminder_thresholds"] = ", ".join(
            str(d) for d in coop.default_reminder_thresholds
        )
    try:
        district = org_services.create_district(
            session, data=parse_form(DistrictCreate, form)
        )
    except ValidationFailed as exc:
        return _district_form(
            values=request.form.to_dict(), errors=exc.fields, status=422
        )
    session.commit()
    flash(f"{district.name} is now a member district.", "success")
    return redirect_to(url_for("admin.districts"))


@bp.get("/districts/<int:district_id>")
@admin_only
def edit_district(district_id: int) -> Response:
    district = session_district(district_id)
    return _district_form(district=district, values=_district_values(district))


def session_district(district_id: int) -> District:
    district = get_session().get(District, district_id)
    if district is None:
        raise NotFound("No such district.")
    return district


@bp.post("/districts/<int:district_id>")
@admin_only
def update_district(district_id: int) -> Response:
    session = get_session()
    district = session_district(district_id)
    try:
        data = validate(
            DistrictUpdate, form_data(DistrictUpdate, request.form, checkboxes=False)
        )
        org_services.update_district(session, district=district, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _district_form(
            district=district,
            values=request.form.to_dict(),
            errors=exc.fields,
            status=422,
        )
    session.commit()
    flash(f"Saved {district.name}.", "success")
    return redirect_to(url_for("admin.edit_district", district_id=district.id))


# --- activity and settings ---------------------------------------------------


@bp.get("/activity")
@admin_only
def activity() -> Response:
    args = request.args
    since_raw = args.get("since", "")
    errors: dict[str, str] = {}
    since = None
    if since_raw:
        try:
            since = parse_day(since_raw)
        except ValueError as exc:
            errors["since"] = str(exc)
    district_id = None
    if args.get("district_id", "").strip():
        try:
            district_id = parse_int(args["district_id"])
        except ValueError as exc:
            errors["district_id"] = str(exc)
    page = services.activity(
        get_session(),
        cursor=args.get("cursor"),
        entity_type=args.get("entity_type", ""),
        actor=args.get("actor", "").strip(),
        district_id=district_id,
        since=since,
        limit=parse_limit(args.get("limit"), 50),
    )
    filters = {k: v for k, v in args.items() if k not in ("cursor",) and v}
    return render(
        "admin/activity.html",
        "results",
        status=422 if errors else 200,
        page=page,
        filters=filters,
        errors=errors,
        districts=_district_options(),
        entity_types=sorted(set(services.AUDITED_TYPES)),
    )


@bp.get("/settings")
@admin_only
def settings() -> Response:
    coop = org_services.cooperative(get_session())
    values = {
        "name": coop.name,
        "thresholds": ", ".join(str(d) for d in coop.default_reminder_thresholds),
    }
    return render(
        "admin/settings.html",
        coop=coop,
        values=values,
        errors={},
        undelivered=mailing.count_undelivered(get_session()),
    )


@bp.post("/settings")
@admin_only
def save_settings() -> Response:
    session = get_session()
    values = request.form.to_dict()
    raw = values.get("thresholds", "")
    try:
        try:
            thresholds = check_thresholds(
                [parse_int(p) for p in raw.replace(";", ",").split(",") if p.strip()]
            )
        except ValueError as exc:
            message = (
                str(exc)
                if "threshold" in str(exc)
                else "must be whole days, e.g. 120, 90, 60, 30, 7"
            )
            raise ValidationFailed({"thresholds": message}) from exc
        coop = services.update_cooperative(
            session, name=values.get("name", ""), thresholds=thresholds or []
        )
    except ValidationFailed as exc:
        session.rollback()
        coop = org_services.cooperative(session)
        return render(
            "admin/settings.html",
            status=422,
            coop=coop,
            values=values,
            errors=exc.fields,
            undelivered=mailing.count_undelivered(session),
        )
    session.commit()
    flash(f"Saved the settings of {coop.name}.", "success")
    return redirect_to(url_for("admin.settings"))


@bp.post("/settings/test-email")
@admin_only
def test_email() -> Response:
    session = get_session()
    record = jobs.start_test_email(session, user=get_user())
    session.commit()
    return redirect_to(url_for("home.job", job_id=record.id))


# --- e-mail the mail server did not accept ----------------------------------------

RESEND_MESSAGES = {
    "queued": (
        "Queued again: it goes out as soon as the mail server accepts it.",
        "success",
    ),
    "sent": ("That e-mail has been sent meanwhile: nothing to do.", "info"),
    "pending": ("That e-mail is still queued or being retried: wait for it.", "info"),
    "delayed": (
        "Background work is delayed (the job queue is unreachable): nothing was "
        "changed. Try again when it is back.",
        "error",
    ),
}


@bp.get("/mail")
@admin_only
def undelivered_mail() -> Response:
    raw_limit = request.args.get("limit")
    page = mailing.undelivered(
        get_session(),
        cursor=request.args.get("cursor"),
        limit=parse_limit(raw_limit, 50),
    )
    states = mailing.delivery_states([m.id for m in page.items if m.id is not None])
    return render(
        "admin/mail.html",
        "results",
        page=page,
        states=states,
        limit=raw_limit or None,  # kept in the next page's link when given
    )


@bp.post("/mail/<int:outbox_id>/resend")
@admin_only
def resend_mail(outbox_id: int) -> Response:
    session = get_session()
    outcome = mailing.resend(session, outbox_id)
    session.commit()
    message, category = RESEND_MESSAGES[outcome]
    flash(message, category)
    return redirect_to(url_for("admin.undelivered_mail"))
