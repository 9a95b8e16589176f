"""License pages: list (search, filters, sort, keyset pages, CSV), detail, forms, bulk.

The request helpers in the first half serve the service-contract pages as well.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from werkzeug.routing import BuildError

from .. import listing
from ..auth import get_user
from ..db import get_db, get_session
from ..enums import AgreementStatus, RenewalType, Role
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..forms import form_data, validate
from ..htmx import is_fragment, redirect_to, render
from ..models import CatalogItem, License, LicenseCreate, LicenseUpdate, User
from ..records import history
from ..tenancy import get_scoped
from . import licenses as services
from .options import options

bp = Blueprint("licenses", __name__, url_prefix="/licenses")

INLINE_FIELDS = (
    *("seats", "seats_used", "price_per_seat", "notice_days", "school_id"),
    *("funding_source", "notes"),
)
TEXT_FIELDS = ("funding_source", "notes")
CSV_HEADER = [
    "id", "product", "vendor", "school", "seats", "seats_used", "utilization_pct",
    "renewal_type", "status", "term_start", "initial_term_months",
    "renewal_term_months", "current_term_number", "current_term_start",
    "current_term_end", "decide_by", "notice_days", "price_per_seat",
    "cost_per_term", "funding_source", "notes",
]  # fmt: skip


# --- helpers shared with the contract pages ----------------------------------


def can_edit(user: User) -> bool:
    return Role(user.role) is Role.DISTRICT_IT


def require_edit(user: User) -> None:
    if not can_edit(user):
        raise Forbidden("Only district IT staff can change licenses and contracts.")


def optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to a page another feature may not have yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def renewal_choices() -> dict[str, Any]:
    return {
        "renewal_types": [(r.value, r.label) for r in RenewalType],
        "statuses": [(s.value, s.label) for s in AgreementStatus],
    }


def list_page(
    spec: listing.ListSpec,
    stmt_for: Callable[[User], listing.AnySelect],
    template: str,
    model: type[services.Agreement],
    choices: dict[str, Any],
    row_key: Callable[[listing.ListQuery], Any] | None = None,
) -> Response:
    """A list page, or its results fragment with the count and summary out of band."""
    user = get_user()
    session = get_session()
    errors: dict[str, str] = {}
    try:
        query = listing.parse_query(spec, request.args)
    except ValidationFailed as exc:
        query, errors = listing.ListQuery(), exc.fields
    key = row_key(query) if row_key else None
    page = listing.page(session, spec, stmt_for(user), query, row_key=key)
    context: dict[str, Any] = {
        "page": page,
        "query": query,
        "errors": errors,
        "labels": {f.name: f.label for f in spec.filters},
        "can_edit": can_edit(user),
        **choices,
    }
    status = 422 if errors else 200
    if is_fragment():
        blocks = ["results", "count_oob", "summary_oob"]
        return render(template, blocks, status=status, **context)
    context["opts"] = options(session, user)
    context["funding_sources"] = services.funding_sources(session, user, model)
    return render(template, status=status, **context)


def csv_export(
    spec: listing.ListSpec,
    stmt_for: Callable[[User], listing.AnySelect],
    header: list[str],
    row: Callable[[Any], list[Any]],
    name: str,
) -> Response:
    """The list's current filter as CSV, streamed with no row cap.

    The rows are read by a session of their own (no request context needed while
    streaming), closed as soon as the last row is out, or when the response closes.
    """
    user = get_user()
    query = listing.parse_query(spec, request.args)
    stmt = listing.ordered(spec, stmt_for(user), query)
    today = services.district_today(get_session(), user.district_id or 0)
    session = get_db().session()

    def body() -> Iterator[str]:
        try:
            yield from listing.stream_csv(session, stmt, header, row)
        finally:
            session.close()

    response = Response(
        body(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{today}.csv"'},
    )
    response.call_on_close(session.close)
    return response


def form_values(obj: Any) -> dict[str, Any]:
    """A record as form values: enums by value, lists comma-separated, None blank."""
    out: dict[str, Any] = {}
    for key, value in obj.model_dump().items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out[key] = "" if value is None else getattr(value, "value", value)
    return out


def save_field(
    load: Callable[[], Any],
    update_one: Callable[[Any, dict[str, Any]], Any],
    show: Callable[..., Response],
    name: str,
    text_fields: tuple[str, ...],
) -> Response:
    """Click-to-edit save: 422 keeps the editor and says why; 409 shows the value."""
    session = get_session()
    obj = load()
    raw = request.form.get(name, "").strip()
    value = raw if name in text_fields else (raw or None)
    try:
        update_one(obj, {"version": request.form.get("version"), name: value})
    except ValidationFailed as exc:
        session.rollback()
        message = exc.fields.get(name) or next(iter(exc.fields.values()), exc.message)
        return show(obj, name, editing=True, status=422, value=raw, error=message)
    except Conflict:
        session.rollback()
        return show(load(), name, editing=True, status=409, conflict=True, value=raw)
    session.commit()
    return show(obj, name, editing=False)


def change_state(subject: str, obj: Any, action: str, label: str, url: str) -> Response:
    """Renew, cancel or reinstate a license or contract from its detail page."""
    user = get_user()
    session = get_session()
    try:
        version = int(request.form.get("version", ""))
    except ValueError as exc:
        raise ValidationFailed({"version": "is required"}) from exc
    kwargs: dict[str, Any] = {"user": user, "subject": subject, "obj": obj}
    if action == "renew":
        number = services.renew(session, **kwargs, version=version)
        done = f"renewed for term {number}"
    else:
        cancelled = action == "cancel"
        services.set_cancelled(session, **kwargs, version=version, cancelled=cancelled)
        done = "cancelled; its history is kept" if cancelled else "reinstated"
    session.commit()
    flash(f"{label} is {done}.", "success")
    return redirect_to(url)


def run_bulk(
    action_fn: Callable[..., int], verbs: dict[str, str], noun: str, home: str
) -> Response:
    """A bulk action from a POST form of checkboxes; back to the list it came from."""
    user = get_user()
    require_edit(user)
    session = get_session()
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    action = request.form.get("action", "")
    value = request.form.get("value") or request.form.get(f"value_{action}")
    try:
        changed = action_fn(session, user=user, ids=ids, action=action, value=value)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        flash(" ".join([exc.message, *exc.fields.values()]), "error")
    else:
        session.commit()
        what = noun if changed == 1 else f"{noun}s"
        flash(f"{changed} {what} {verbs[action]}.", "success")
    referrer = request.referrer or ""
    return redirect_to(referrer if referrer.startswith(request.host_url) else home)


# --- license list and export ----------------------------------------------------


@bp.get("")
def index() -> Response:
    template = "inventory/licenses/list.html"
    spec, stmt_for, key = services.SPEC, services.list_stmt, services.row_key
    return list_page(spec, stmt_for, template, License, renewal_choices(), key)


@bp.get("/export.csv")
def export() -> Response:
    def row(r: Any) -> list[Any]:
        lic: License = r[0]
        return [
            lic.id, lic.product, r[2], r[1], lic.seats, lic.seats_used, r[3],
            lic.renewal_type, lic.status, lic.term_start, lic.initial_term_months,
            lic.renewal_term_months, lic.current_term_number, lic.current_term_start,
            lic.current_term_end, lic.decide_by, lic.notice_days, lic.price_per_seat,
            services.current_price(lic), lic.funding_source, lic.notes,
        ]  # fmt: skip

    return csv_export(services.SPEC, services.list_stmt, CSV_HEADER, row, "licenses")


# --- forms -----------------------------------------------------------------------


def _form(
    *,
    lic: License | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    conflict: dict[str, Any] | None = None,
) -> Response:
    user = get_user()
    return render(
        "inventory/licenses/form.html",
        "form",
        status=status,
        lic=lic,
        values=values,
        errors=errors or {},
        conflict=conflict,
        opts=options(get_session(), user, district_id=user.district_id),
        **renewal_choices(),
    )


@bp.get("/new")
def new() -> Response:
    require_edit(get_user())
    defaults: dict[str, Any] = {"renewal_type": "express", "initial_term_months": 12}
    defaults |= {"renewal_term_months": 12, "notice_days": 0, "seats_used": 0}
    return _form(lic=None, values=defaults)


@bp.post("")
def create() -> Response:
    user = get_user()
    require_edit(user)
    session = get_session()
    try:
        data = validate(LicenseCreate, form_data(LicenseCreate, request.form))
        lic = services.create_license(session, user=user, data=data)
    except ValidationFailed as exc:
        session.rollback()
        values = request.form.to_dict()
        return _form(lic=None, values=values, errors=exc.fields, status=422)
    session.commit()
    flash(f"License {lic.product} added.", "success")
    return redirect_to(url_for("licenses.detail", license_id=lic.id))


def _load(license_id: int) -> License:
    return get_scoped(get_session(), License, license_id, get_user())


def _detail_url(license_id: int) -> str:
    return url_for("licenses.detail", license_id=license_id)


@bp.get("/<int:license_id>")
def detail(license_id: int) -> Response:
    session = get_session()
    user = get_user()
    lic = _load(license_id)
    view = services.term_view(session, "license", lic)
    item_id = lic.catalog_item_id
    item = session.get(CatalogItem, item_id) if item_id else None
    return render(
        "inventory/licenses/detail.html",
        lic=lic,
        state=view.state,
        explanation=view.explanation,
        term_rows=view.rows,
        catalog_item=item,
        catalog_url=optional_url("catalog.item", item_id=item_id) if item else None,
        events=history(session, entity_type="license", entity_id=license_id),
        can_edit=can_edit(user),
        opts=options(session, user, district_id=lic.district_id),
    )


@bp.get("/<int:license_id>/edit")
def edit(license_id: int) -> Response:
    require_edit(get_user())
    lic = _load(license_id)
    return _form(lic=lic, values=form_values(lic))


def _update(lic: License, form: dict[str, Any] | None = None) -> License:
    """Apply a (partial) form to the license; raises ValidationFailed or Conflict."""
    if form is None:
        form = form_data(LicenseUpdate, request.form, checkboxes=False)
    data = validate(LicenseUpdate, form)
    return services.update_license(get_session(), user=get_user(), lic=lic, data=data)


@bp.post("/<int:license_id>")
def update(license_id: int) -> Response:
    require_edit(get_user())
    session = get_session()
    lic = _load(license_id)
    values = request.form.to_dict()
    try:
        _update(lic)
    except ValidationFailed as exc:
        session.rollback()
        return _form(lic=lic, values=values, errors=exc.fields, status=422)
    except Conflict as exc:
        session.rollback()
        current = exc.extra.get("current", {})
        return _form(lic=_load(license_id), values=values, status=409, conflict=current)
    session.commit()
    flash(f"License {lic.product} saved.", "success")
    return redirect_to(_detail_url(license_id))


# --- click-to-edit -------------------------------------------------------------


def _field_name(field: str) -> str:
    if field not in INLINE_FIELDS:
        raise NotFound("That field cannot be edited here.")
    return field


def _field(lic: License, field: str, *, editing: bool, **extra: Any) -> Response:
    """One field (shown or being edited); after a save, the summaries out of band."""
    session = get_session()
    user = get_user()
    view = services.term_view(session, "license", lic)
    return render(
        "inventory/licenses/field.html",
        status=extra.pop("status", 200),
        lic=lic,
        field=field,
        editing=editing,
        state=view.state,
        explanation=view.explanation,
        term_rows=view.rows,
        can_edit=can_edit(user),
        opts=options(session, user, district_id=lic.district_id),
        **{"error": None, "value": None, "conflict": False, **extra},
    )


@bp.get("/<int:license_id>/fields/<field>")
def field_show(license_id: int, field: str) -> Response:
    lic = _load(license_id)
    return _field(lic, _field_name(field), editing=False)


@bp.get("/<int:license_id>/fields/<field>/edit")
def field_edit(license_id: int, field: str) -> Response:
    require_edit(get_user())
    lic = _load(license_id)
    name = _field_name(field)
    if not is_fragment():
        return redirect_to(url_for("licenses.edit", license_id=license_id))
    return _field(lic, name, editing=True)


@bp.post("/<int:license_id>/fields/<field>")
def field_save(license_id: int, field: str) -> Response:
    require_edit(get_user())
    _load(license_id)
    name = _field_name(field)
    return save_field(lambda: _load(license_id), _update, _field, name, TEXT_FIELDS)


# --- renew, cancel, delete, bulk -------------------------------------------------


@bp.post("/<int:license_id>/renew")
def renew(license_id: int) -> Response:
    require_edit(get_user())
    lic = _load(license_id)
    url = _detail_url(license_id)
    return change_state("license", lic, "renew", lic.product, url)


@bp.post("/<int:license_id>/cancel")
def cancel(license_id: int) -> Response:
    require_edit(get_user())
    lic = _load(license_id)
    url = _detail_url(license_id)
    return change_state("license", lic, "cancel", lic.product, url)


@bp.post("/<int:license_id>/reinstate")
def reinstate(license_id: int) -> Response:
    require_edit(get_user())
    lic = _load(license_id)
    url = _detail_url(license_id)
    return change_state("license", lic, "reinstate", lic.product, url)


@bp.post("/<int:license_id>/delete")
def delete(license_id: int) -> Response:
    user = get_user()
    require_edit(user)
    session = get_session()
    lic = _load(license_id)
    product = lic.product
    services.delete_agreement(session, user=user, subject="license", obj=lic)
    session.commit()
    flash(f"License {product} deleted.", "success")
    return redirect_to(url_for("licenses.index"))


@bp.post("/bulk")
def bulk() -> Response:
    """Bulk actions on the selected licenses: a POST form of checkboxes."""
    verbs = {"renewal_type": "updated", "cancel": "cancelled", "school": "moved"}
    home = url_for("licenses.index")
    return run_bulk(services.bulk_update, verbs, "license", home)
