"""API resources for pooled purchase rounds and the orders they award
(docs/rules.md#pooled-purchase-rounds).

Coop staff create, open, close and award rounds and see every district's lines; a
district's token sees rounds from the moment they open, its own lines and results
only, and each item's pooled quantity and tier — never another district's quantity.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, Field
from sqlmodel import col, select

from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    body_as,
    filters,
    items_page,
    one,
    operation,
)
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import OrderState, RoundState
from lifecycle.models import (
    Commitment,
    CommitmentUpdate,
    OrderLine,
    PurchaseRound,
    RoundCreate,
    RoundItem,
    RoundUpdate,
)
from lifecycle.models.base import InputModel, Money
from lifecycle.rounds import award, closing, commit, services
from lifecycle.rounds.closing import Totals
from lifecycle.tenancy import scoped
from lifecycle.web.records import claim_version

TAG = "rounds"


class RoundResource(BaseModel):
    id: int
    name: str
    state: RoundState
    status: str = Field(
        description="the state as people read it: draft, opening (suggestions being "
        "written), open, close_pending (past closes_at, the close job not run yet), "
        "closed, awarded, cancelled"
    )
    need_start: date
    need_end: date
    opens_at: datetime | None
    closes_at: datetime
    closed_at: datetime | None
    awarded_at: datetime | None
    notes: str
    catalog_item_ids: list[int]
    version: int


class VersionBody(InputModel):
    version: int = Field(description="the round's version")


class RoundItemResource(BaseModel):
    """An item of a round as every participant sees it: the pool, never who is in it."""

    id: int = Field(description="the round item's id")
    catalog_item_id: int
    sku: str
    name: str
    list_price: Money
    min_order_qty: int
    pooled_qty: int = Field(description="units committed by all districts together")
    unit_price: Money = Field(description="the price everyone pays at pooled_qty")
    tier_min_qty: int | None = Field(description="the tier reached; null: list price")
    next_tier_min_qty: int | None
    next_tier_unit_price: Money | None
    units_to_next_tier: int | None = Field(
        description="how many more units and everyone pays next_tier_unit_price"
    )
    units_to_minimum: int = Field(description="units short of the minimum order")
    cancelled: bool = Field(description="closed below its minimum order quantity")


class RoundItems(BaseModel):
    items: list[RoundItemResource]


class CommitmentResource(BaseModel):
    id: int
    round_item_id: int
    district_id: int
    suggested_qty: int = Field(description="from the district's needs in the window")
    committed_qty: int | None = Field(description="null until committed; 0: not now")
    committed_at: datetime | None
    version: int


class TotalsResource(BaseModel):
    amount: Money
    at_list: Money
    alone: Money = Field(description="what each district would pay at its own tier")
    saved_vs_list: Money
    saved_vs_alone: Money


class ResultLineResource(BaseModel):
    district_id: int
    catalog_item_id: int
    quantity: int
    unit_price: Money
    alone_price: Money
    amount: Money
    saved_vs_list: Money
    saved_vs_alone: Money


class DistrictTotals(TotalsResource):
    district_id: int


class ResultsResource(BaseModel):
    round_id: int
    final: bool = Field(description="false until the round has closed (no lines yet)")
    lines: list[ResultLineResource]
    districts: list[DistrictTotals]
    total: TotalsResource


class OrderResource(BaseModel):
    id: int
    district_id: int
    round_id: int
    catalog_item_id: int
    vehicle_id: int
    quantity: int
    unit_price: Money
    amount: Money
    state: OrderState
    received_at: datetime | None
    version: int


def _round(found: PurchaseRound) -> dict[str, Any]:
    return _present_rounds(get_session(), [found])[0]


def _present_rounds(session: Any, rows: list[PurchaseRound]) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    by_round: dict[int, list[int]] = {i: [] for i in ids if i is not None}
    for round_id, item_id in session.execute(
        select(RoundItem.round_id, RoundItem.catalog_item_id)
        .where(col(RoundItem.round_id).in_(ids))
        .order_by(col(RoundItem.id))
    ):
        by_round[round_id].append(item_id)
    return [
        RoundResource.model_validate(
            {
                **{
                    name: getattr(r, name)
                    for name in RoundResource.model_fields
                    if name not in ("status", "catalog_item_ids")
                },
                "status": services.status(r).code,
                "catalog_item_ids": by_round.get(r.id or 0, []),
            }
        ).model_dump(mode="json")
        for r in rows
    ]


ROUND_FILTERS = [QueryParam("state", RoundState)]


@operation(
    "/rounds",
    "GET",
    summary="List purchase rounds (district users: open and later, never drafts)",
    tag=TAG,
    response=RoundResource,
    many=True,
    query=ROUND_FILTERS,
)
def list_rounds() -> Response:
    stmt = apply_filters(
        services.list_stmt(get_user()),
        PurchaseRound,
        filters(ROUND_FILTERS),
        ROUND_FILTERS,
    )
    return items_page(
        get_session(), stmt, PurchaseRound, RoundResource, present=_present_rounds
    )


@operation(
    "/rounds",
    "POST",
    summary="Create a draft round (cooperative staff)",
    tag=TAG,
    request=RoundCreate,
    response=RoundResource,
    status=201,
)
def create_round() -> Response:
    session = get_session()
    data = body_as(RoundCreate)
    found = services.create_round(session, user=get_user(), data=data)
    session.commit()
    response = jsonify(_round(found))
    response.status_code = 201
    return response


@operation(
    "/rounds/<int:round_id>",
    "GET",
    summary="Get a purchase round",
    tag=TAG,
    response=RoundResource,
)
def get_round(round_id: int) -> Response:
    return jsonify(_round(services.get_round(get_session(), get_user(), round_id)))


@operation(
    "/rounds/<int:round_id>",
    "PUT",
    summary="Edit a draft round: name, windows, notes and items (cooperative staff)",
    tag=TAG,
    request=RoundUpdate,
    response=RoundResource,
)
def put_round(round_id: int) -> Response:
    session = get_session()
    user = get_user()
    services.get_round(session, user, round_id)
    found = services.update_round(
        session, user=user, round_id=round_id, data=body_as(RoundUpdate)
    )
    session.commit()
    return jsonify(_round(found))


def _action(round_id: int, run: Any) -> Response:
    session = get_session()
    user = get_user()
    services.get_round(session, user, round_id)
    body = body_as(VersionBody)
    run(session, user, body.version)
    session.commit()
    found = session.get(PurchaseRound, round_id)
    assert found is not None
    session.refresh(found)
    return jsonify(_round(found))


@operation(
    "/rounds/<int:round_id>/open",
    "POST",
    summary="Open a draft round: every district's suggestions are written by a job, "
    "then the districts are told (cooperative staff)",
    tag=TAG,
    request=VersionBody,
    response=RoundResource,
)
def open_round(round_id: int) -> Response:
    return _action(
        round_id,
        lambda s, u, v: services.open_round(s, user=u, round_id=round_id, version=v),
    )


@operation(
    "/rounds/<int:round_id>/close",
    "POST",
    summary="Close an open round now, before its close time (cooperative staff)",
    tag=TAG,
    request=VersionBody,
    response=RoundResource,
)
def close_round(round_id: int) -> Response:
    def run(session: Any, user: Any, version: int) -> None:
        services.require_staff(user)
        found = services.get_round(session, user, round_id)
        claim_version(session, found, version, fields=services.FIELDS)
        closing.close_round(session, round_id=round_id, early_by=user)

    return _action(round_id, run)


@operation(
    "/rounds/<int:round_id>/award",
    "POST",
    summary="Award a closed round: its committed lines become the districts' order "
    "lines and the needs they cover move to ordered (cooperative staff)",
    tag=TAG,
    request=VersionBody,
    response=RoundResource,
)
def award_round(round_id: int) -> Response:
    def run(session: Any, user: Any, version: int) -> None:
        services.require_staff(user)
        found = services.get_round(session, user, round_id)
        claim_version(session, found, version, fields=services.FIELDS)
        award.award_round(session, user=user, round_id=round_id)

    return _action(round_id, run)


@operation(
    "/rounds/<int:round_id>/cancel",
    "POST",
    summary="Cancel a draft or open round (cooperative staff)",
    tag=TAG,
    request=VersionBody,
    response=RoundResource,
)
def cancel_round(round_id: int) -> Response:
    return _action(
        round_id,
        lambda s, u, v: services.cancel_round(s, user=u, round_id=round_id, version=v),
    )


@operation(
    "/rounds/<int:round_id>/items",
    "GET",
    summary="A round's items: pooled quantity, tier, unit price and units to the "
    "next tier (never who committed what)",
    tag=TAG,
    response=RoundItems,
)
def list_round_items(round_id: int) -> Response:
    tiers = closing.item_tiers(get_session(), get_user(), round_id)
    items = [
        {
            "id": t.round_item.id,
            "catalog_item_id": t.item.id,
            "sku": t.item.sku,
            "name": t.item.name,
            "list_price": t.item.list_price,
            "min_order_qty": t.item.min_order_qty,
            "pooled_qty": t.pooled_qty,
            "unit_price": t.unit_price,
            "tier_min_qty": t.tier.min_qty if t.tier else None,
            "next_tier_min_qty": t.next_tier.min_qty if t.next_tier else None,
            "next_tier_unit_price": t.next_tier.unit_price if t.next_tier else None,
            "units_to_next_tier": t.units_to_next,
            "units_to_minimum": t.units_to_minimum,
            "cancelled": t.cancelled,
        }
        for t in tiers
    ]
    return jsonify(RoundItems.model_validate({"items": items}).model_dump(mode="json"))


COMMITMENT_FILTERS = [QueryParam("district_id", int)]


@operation(
    "/rounds/<int:round_id>/commitments",
    "GET",
    summary="The lines of a round: a district's token gets its own, coop staff all",
    tag=TAG,
    response=CommitmentResource,
    many=True,
    query=COMMITMENT_FILTERS,
)
def list_commitments(round_id: int) -> Response:
    session = get_session()
    user = get_user()
    services.get_round(session, user, round_id)
    stmt: Any = scoped(
        select(Commitment)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .where(col(RoundItem.round_id) == round_id),
        Commitment,
        user,
    )
    stmt = apply_filters(
        stmt, Commitment, filters(COMMITMENT_FILTERS), COMMITMENT_FILTERS
    )
    return items_page(session, stmt, Commitment, CommitmentResource)


@operation(
    "/rounds/<int:round_id>/commitments/<int:commitment_id>",
    "PUT",
    summary="Commit the district's quantity of one line (district IT; 0 = not this "
    "time), with the version read; refused (409) once the round has closed",
    tag=TAG,
    request=CommitmentUpdate,
    response=CommitmentResource,
)
def put_commitment(round_id: int, commitment_id: int) -> Response:
    session = get_session()
    user = get_user()
    commit.own_line(session, user, round_id, commitment_id)
    found = commit.commit_line(
        session,
        user=user,
        round_id=round_id,
        commitment_id=commitment_id,
        data=body_as(CommitmentUpdate),
    )
    session.commit()
    return one(CommitmentResource, found)


def _totals(t: Totals) -> dict[str, Any]:
    return {
        "amount": t.amount,
        "at_list": t.at_list,
        "alone": t.alone,
        "saved_vs_list": t.saved_vs_list,
        "saved_vs_alone": t.saved_vs_alone,
    }


@operation(
    "/rounds/<int:round_id>/results",
    "GET",
    summary="A closed round's lines at the pooled price and the savings vs list and "
    "vs each district alone (a district's token: its own only)",
    tag=TAG,
    response=ResultsResource,
)
def round_results(round_id: int) -> Response:
    found = closing.results(get_session(), get_user(), round_id)
    body = {
        "round_id": round_id,
        "final": found.final,
        "lines": [
            {
                "district_id": r.district_id,
                "catalog_item_id": r.item.id,
                "quantity": r.line.quantity,
                "unit_price": r.line.unit_price,
                "alone_price": r.line.alone_price,
                "amount": r.line.amount,
                "saved_vs_list": r.line.saved_vs_list,
                "saved_vs_alone": r.line.saved_vs_alone,
            }
            for r in found.lines
        ],
        "districts": [
            {"district_id": d, **_totals(t)} for d, t in found.by_district.items()
        ],
        "total": _totals(found.total),
    }
    return jsonify(ResultsResource.model_validate(body).model_dump(mode="json"))


ORDER_FILTERS = [
    QueryParam("state", OrderState),
    QueryParam("round_id", int),
    QueryParam("district_id", int),
]


@operation(
    "/orders",
    "GET",
    summary="Order lines awarded by rounds (a district's token: its own)",
    tag=TAG,
    response=OrderResource,
    many=True,
    query=ORDER_FILTERS,
)
def list_orders() -> Response:
    stmt: Any = scoped(select(OrderLine), OrderLine, get_user())
    stmt = apply_filters(stmt, OrderLine, filters(ORDER_FILTERS), ORDER_FILTERS)
    return items_page(get_session(), stmt, OrderLine, OrderResource)


class ReceiveBody(InputModel):
    version: int = Field(description="the order line's version")


@operation(
    "/orders/<int:order_line_id>/receive",
    "POST",
    summary="Mark an order line received (district IT)",
    tag=TAG,
    request=ReceiveBody,
    response=OrderResource,
)
def receive_order(order_line_id: int) -> Response:
    session = get_session()
    user = get_user()
    award.get_order_line(session, user, order_line_id)
    body = body_as(ReceiveBody)
    found = award.mark_received(
        session, user=user, line_id=order_line_id, version=body.version
    )
    session.commit()
    return one(OrderResource, found)
