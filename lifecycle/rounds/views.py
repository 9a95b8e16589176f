"""Round pages for districts: the rounds list, a round with its live tiers and the
district's own lines to commit, and the district's orders with mark-received.

The tier fragment is polled by htmx; it answers 304 while nothing changed (its ETag is
a hash of what it shows), so a room full of open round pages costs one small query
each poll.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, make_response, request, url_for
from sqlmodel import col, select

from lifecycle.auth import get_user
from lifecycle.bounds import parse_int
from lifecycle.db import get_session
from lifecycle.enums import Role, RoundState
from lifecycle.models import (
    CatalogItem,
    CommitmentUpdate,
    District,
    OrderLine,
    PurchaseRound,
    RoundCreate,
    utcnow,
)
from lifecycle.rounds import award, closing, commit, exports, services
from lifecycle.rounds.notify import local_time
from lifecycle.tenancy import scoped
from lifecycle.web.errors import AppError, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.htmx import is_fragment, redirect_to, render
from lifecycle.web.paging import id_page, parse_limit
from lifecycle.web.records import claim_version

bp = Blueprint("rounds", __name__)
POLL_SECONDS = 10


def _zone() -> str:
    user = get_user()
    district = (
        get_session().get(District, user.district_id) if user.district_id else None
    )
    return district.timezone if district else "America/Chicago"


@bp.get("/rounds")
def index() -> Response:
    """The rounds the user may see, newest first."""
    session = get_session()
    user = get_user()
    page = id_page(
        session,
        services.list_stmt(user),
        col(PurchaseRound.id),
        limit=parse_limit(request.args.get("limit"), 25),
        cursor=request.args.get("cursor"),
        descending=True,
    )
    zone = _zone()
    rows = [
        {
            "round": r,
            "status": services.status(r),
            "closes": local_time(r.closes_at, zone),
        }
        for r in page.items
    ]
    return render(
        "rounds/index.html",
        block="list",
        title="Purchase rounds",
        rows=rows,
        page=page,
        cursor=request.args.get("cursor"),
    )


def _tiers_context(round_id: int) -> dict[str, Any]:
    session = get_session()
    user = get_user()
    found = services.get_round(session, user, round_id)
    return {
        "round": found,
        "round_status": services.status(found),
        "tiers": closing.item_tiers(session, user, round_id),
    }


def _etag(context: dict[str, Any]) -> str:
    shown = [
        (
            t.round_item.id,
            t.pooled_qty,
            str(t.unit_price),
            t.units_to_next,
            t.cancelled,
        )
        for t in context["tiers"]
    ]
    seed = f"{context['round_status'].code}|{shown}".encode()
    return hashlib.sha256(seed).hexdigest()[:32]


@bp.get("/rounds/<int:round_id>/tiers")
def tiers(round_id: int) -> Response:
    """The live tier table: polled while open, 304 while unchanged."""
    context = _tiers_context(round_id)
    etag = _etag(context)
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        response = render("rounds/_tiers.html", poll=POLL_SECONDS, **context)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


def _round_context(round_id: int, errors: dict[int, dict[str, str]]) -> dict[str, Any]:
    session = get_session()
    user = get_user()
    context = _tiers_context(round_id)
    found: PurchaseRound = context["round"]
    settled = found.state in (RoundState.CLOSED, RoundState.AWARDED)
    return {
        **context,
        "title": found.name,
        "lines": commit.own_lines(session, user, round_id),
        "can_commit": Role(user.role) is Role.DISTRICT_IT
        and services.accepting_commitments(found, utcnow()),
        "results": closing.results(session, user, round_id) if settled else None,
        "closes": local_time(found.closes_at, _zone()),
        "errors": errors,
        "poll": POLL_SECONDS,
        "staff_actions": _staff_actions(found) if services.is_staff(user) else [],
    }


def _staff_actions(found: PurchaseRound) -> list[tuple[str, str, str]]:
    """(action, button, what ticking the box confirms) for the round's state."""
    if found.state is RoundState.DRAFT:
        return [
            ("open", "Open", "Open now: every district is told and gets its lines"),
            ("cancel", "Cancel", "Cancel this draft"),
        ]
    if found.state is RoundState.OPEN:
        return [
            ("close", "Close now", "Close now: no district can change quantities"),
            ("cancel", "Cancel", "Cancel the round: nothing will be ordered"),
        ]
    if found.state is RoundState.CLOSED:
        return [("award", "Award", "Award: every committed line becomes an order")]
    return []


@bp.get("/rounds/<int:round_id>")
def show(round_id: int) -> Response:
    return render("rounds/show.html", **_round_context(round_id, {}))


@bp.post("/rounds/<int:round_id>/commitments/<int:commitment_id>")
def commit_line(round_id: int, commitment_id: int) -> Response:
    """Commit one line from the round page; a refusal re-renders it with the reason."""
    session = get_session()
    user = get_user()
    commit.own_line(session, user, round_id, commitment_id)
    problems: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, label in (("committed_qty", "Quantity"), ("version", "Version")):
        try:
            values[name] = parse_int(request.form.get(name, ""), low=0)
        except ValueError as exc:
            problems[name] = f"{label} {exc}"
    try:
        if problems:
            raise ValidationFailed(problems)
        commit.commit_line(
            session,
            user=user,
            round_id=round_id,
            commitment_id=commitment_id,
            data=CommitmentUpdate.model_validate(values),
        )
        session.commit()
    except AppError as exc:
        session.rollback()
        message = exc.message if not exc.fields else "; ".join(exc.fields.values())
        context = _round_context(round_id, {commitment_id: {"message": message}})
        return render("rounds/show.html", block="lines", status=exc.status, **context)
    if is_fragment():
        return render("rounds/show.html", block="lines", **_round_context(round_id, {}))
    return redirect_to(url_for("rounds.show", round_id=round_id))


@bp.get("/orders")
def orders() -> Response:
    """The district's order lines from awarded rounds (coop staff: every district's)."""
    session = get_session()
    user = get_user()
    page = id_page(
        session,
        scoped(select(OrderLine), OrderLine, user),
        col(OrderLine.id),
        limit=parse_limit(request.args.get("limit"), 50),
        cursor=request.args.get("cursor"),
        descending=True,
    )
    lines: list[OrderLine] = page.items
    items = {
        i.id: i
        for i in session.exec(
            select(CatalogItem).where(
                col(CatalogItem.id).in_({o.catalog_item_id for o in lines})
            )
        )
    }
    rounds = {
        r.id: r
        for r in session.exec(
            select(PurchaseRound).where(
                col(PurchaseRound.id).in_({o.round_id for o in lines})
            )
        )
    }
    return render(
        "rounds/orders.html",
        block="list",
        title="Orders",
        page=page,
        rows=[(o, items[o.catalog_item_id], rounds[o.round_id]) for o in lines],
        cursor=request.args.get("cursor"),
        can_receive=Role(user.role) is Role.DISTRICT_IT,
    )


@bp.post("/orders/<int:order_line_id>/receive")
def receive(order_line_id: int) -> Response:
    session = get_session()
    user = get_user()
    award.get_order_line(session, user, order_line_id)
    try:
        version = parse_int(request.form.get("version", ""), low=0)
    except ValueError as exc:
        raise ValidationFailed({"version": str(exc)}) from exc
    award.mark_received(session, user=user, line_id=order_line_id, version=version)
    session.commit()
    return redirect_to(url_for("rounds.orders"))


# --- coop staff: create a round, and open / close / award / cancel it ---------------


def _new_form(values: dict[str, Any], errors: dict[str, str], status: int) -> Response:
    session = get_session()
    items = session.exec(
        select(CatalogItem)
        .where(col(CatalogItem.active))
        .order_by(col(CatalogItem.name), col(CatalogItem.sku))
    ).all()
    return render(
        "rounds/new.html",
        status=status,
        title="New purchase round",
        values=values,
        errors=errors,
        items=items,
    )


@bp.get("/rounds/new")
def new() -> Response:
    services.require_staff(get_user())
    return _new_form({"catalog_item_ids": []}, {}, 200)


def _closes_at(raw: str) -> datetime | None:
    """A close time typed in UTC (the page says so): 2027-03-01T17:00."""
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.post("/rounds")
def create() -> Response:
    session = get_session()
    user = get_user()
    services.require_staff(user)
    form = request.form
    values: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "need_start": form.get("need_start", ""),
        "need_end": form.get("need_end", ""),
        "closes_at": form.get("closes_at", ""),
        "notes": form.get("notes", ""),
        "catalog_item_ids": form.getlist("catalog_item_ids"),
    }
    errors: dict[str, str] = {}
    closes = _closes_at(values["closes_at"])
    if closes is None:
        errors["closes_at"] = "must be a date and time"
    ids: list[int] = []
    for raw in values["catalog_item_ids"]:
        try:
            ids.append(parse_int(raw, low=1))
        except ValueError:
            errors["catalog_item_ids"] = "must be items of the catalog"
    try:
        if errors:
            raise ValidationFailed(errors)
        data = validate(
            RoundCreate,
            {**values, "closes_at": closes, "catalog_item_ids": ids},
        )
        found = services.create_round(session, user=user, data=data)
        session.commit()
    except ValidationFailed as exc:
        session.rollback()
        values["catalog_item_ids"] = ids
        return _new_form(values, {**errors, **exc.fields}, 422)
    return redirect_to(url_for("rounds.show", round_id=found.id))


@bp.post("/rounds/<int:round_id>/<any(open, close, award, cancel):action>")
def act(round_id: int, action: str) -> Response:
    """A staff action on the round, with the version read and a ticked confirmation."""
    session = get_session()
    user = get_user()
    services.require_staff(user)
    found = services.get_round(session, user, round_id)
    try:
        version = parse_int(request.form.get("version", ""), low=0)
    except ValueError as exc:
        raise ValidationFailed({"version": str(exc)}) from exc
    if request.form.get("confirm") != "yes":
        raise ValidationFailed(
            {"confirm": "tick the box to confirm"}, f"Confirm to {action} the round."
        )
    if action == "open":
        services.open_round(session, user=user, round_id=round_id, version=version)
    elif action == "cancel":
        services.cancel_round(session, user=user, round_id=round_id, version=version)
    else:
        claim_version(session, found, version, fields=services.FIELDS)
        if action == "close":
            closing.close_round(session, round_id=round_id, early_by=user)
        else:
            award.award_round(session, user=user, round_id=round_id)
    session.commit()
    return redirect_to(url_for("rounds.show", round_id=round_id))


@bp.get("/rounds/<int:round_id>/results.<any(csv, xlsx):fmt>")
def results_export(round_id: int, fmt: str) -> Response:
    """The results as a file: every district's lines for staff, one's own for a district."""
    session = get_session()
    user = get_user()
    found = closing.results(session, user, round_id)
    if not found.final:
        raise ValidationFailed(
            {"round": "has not closed yet"}, "The results are there once it has closed."
        )
    names = services.sees_everyone(user)
    stem = f"round-{round_id}-results"
    if fmt == "csv":
        response = make_response(exports.to_csv(found, names))
        response.mimetype = "text/csv"
    else:
        response = make_response(exports.to_xlsx(found, names))
        response.mimetype = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    response.headers["Cache-Control"] = "no-store"
    return response
