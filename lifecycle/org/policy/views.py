"""The district policy page: lifespans, replacement items and planning settings."""

from __future__ import annotations

from flask import Blueprint, Response, flash, request, url_for

from lifecycle.auth import get_user
from lifecycle.bounds import parse_int
from lifecycle.db import get_session
from lifecycle.enums import DeviceCategory, Role
from lifecycle.models import District, User
from lifecycle.org import services
from lifecycle.org.policy import services as policies
from lifecycle.scan.jobs import district_today
from lifecycle.tenancy import get_scoped
from lifecycle.web.errors import Conflict, Forbidden, ValidationFailed
from lifecycle.web.htmx import redirect_to, render

bp = Blueprint("policy", __name__)


def can_edit(user: User, district: District) -> bool:
    return Role(user.role) is Role.DISTRICT_IT and user.district_id == district.id


SETTING_LABELS = {
    "reminder_thresholds": "Reminder thresholds",
    "fy_start_month": "Fiscal year start month",
    "inflation_pct": "Inflation",
    "erate_c2_discount_pct": "E-Rate Category Two discount",
    "max_deferral_months": "Longest deferral",
}


def _field_labels() -> dict[str, str]:
    labels = dict(SETTING_LABELS)
    for c in DeviceCategory:
        labels[policies.lifespan_field(c)] = f"{c.label} lifespan (months)"
        labels[policies.replacement_field(c)] = f"{c.label} replacement item"
    return labels


def _policy_page(
    district: District,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: list[tuple[str, str]] | None = None,
) -> Response:
    session = get_session()
    user = get_user()
    assert district.id is not None
    return render(
        "org/policy/page.html",
        "form",
        status=status,
        district=district,
        rows=policies.category_rows(session, district),
        values=values
        if values is not None
        else policies.current_values(session, district),
        errors=errors or {},
        labels=_field_labels(),
        conflict=conflict,
        can_edit=can_edit(user, district),
        is_admin=Role(user.role) is Role.ADMIN,
        months=list(enumerate(policies.MONTHS, start=1)),
        fy=policies.fy_example(district.fy_start_month, district_today(district)),
        events=policies.policy_history(session, district.id),
    )


@bp.get("/policy")
def policy_home() -> Response:
    """District users see their own district's policy; others choose a district."""
    user = get_user()
    session = get_session()
    if Role(user.role).is_district:
        assert user.district_id is not None
        return _policy_page(get_scoped(session, District, user.district_id, user))
    return render(
        "org/policy/choose.html",
        districts=services.list_districts(session, user=user),
        is_admin=Role(user.role) is Role.ADMIN,
    )


@bp.get("/districts/<int:district_id>/policy")
def policy_show(district_id: int) -> Response:
    return _policy_page(get_scoped(get_session(), District, district_id, get_user()))


@bp.post("/districts/<int:district_id>/policy")
def policy_save(district_id: int) -> Response:
    user = get_user()
    if Role(user.role) is not Role.DISTRICT_IT:
        raise Forbidden(
            "Only the district's IT staff can change its policy. Administrators "
            "change district settings on the admin district page."
        )
    session = get_session()
    district = get_scoped(session, District, district_id, user)
    values = request.form.to_dict()
    raw_version = values.get("version", "")
    try:
        version: int | None = parse_int(raw_version)
    except ValueError:
        version = None
    try:
        if version is None:
            raise ValidationFailed({"version": "is missing; reload the page"})
        data = policies.parse_policy(session, request.form, version=version)
        result = policies.save_policy(session, user=user, district=district, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _policy_page(district, values=values, errors=exc.fields, status=422)
    except Conflict:
        session.rollback()
        session.expire_all()
        current = policies.current_values(session, district)
        labels = _field_labels()
        changed = [
            (labels.get(k, k), current.get(k, "") or "—")
            for k in sorted(set(current) | set(values))
            if k in labels and current.get(k, "") != values.get(k, "").strip()
        ]
        return _policy_page(district, values=values, status=409, conflict=changed)
    session.commit()
    flash(policies.saved_message(district, result), "success")
    return redirect_to(url_for("policy.policy_home"))
