"""Award: committed lines become the districts' order lines; the needs they cover
move to "ordered"; a district marks its order lines received.

Both steps of the award are set-based statements in the round's transaction, under its
exclusive lock: one INSERT … SELECT of the order lines (one per commitment, so an
award run twice orders nothing twice) and one UPDATE of the obligations.

Which obligations a line covers: the district's open needs for that catalog item due
in the round's need window, earliest due first, for as long as the line's quantity
lasts — an obligation is covered when the units before it leave room for it to start
(a license renewal of 500 seats is covered by a line of 450: its term is bought).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.audit import record
from lifecycle.enums import ObligationState, OrderState, Role, RoundState
from lifecycle.models import (
    CatalogItem,
    Commitment,
    ContractVehicle,
    Obligation,
    OrderLine,
    PurchaseRound,
    RoundItem,
    User,
    UtcDateTime,
    utcnow,
)
from lifecycle.rounds.notify import tell_districts
from lifecycle.rounds.services import lock_round, require_staff
from lifecycle.rounds.suggest import NEED_STATES, SUGGESTED_KINDS
from lifecycle.sqlfuncs import insert_ignore, rowcount
from lifecycle.tenancy import district_filter
from lifecycle.web.errors import Conflict, Forbidden, NotFound
from lifecycle.web.records import claim_version


@dataclass(frozen=True)
class AwardOutcome:
    awarded: bool
    order_lines: int = 0
    obligations_ordered: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "awarded": self.awarded,
            "order_lines": self.order_lines,
            "obligations_ordered": self.obligations_ordered,
        }


def _order_lines_select(round_id: int, now: datetime) -> Any:
    created = UtcDateTime()
    return (
        sa.select(
            col(Commitment.district_id),
            col(RoundItem.round_id),
            col(Commitment.id),
            col(RoundItem.catalog_item_id),
            col(CatalogItem.vehicle_id),
            col(Commitment.committed_qty),
            col(RoundItem.final_unit_price),
            # two decimals × a whole number: exact, nothing to round
            (col(RoundItem.final_unit_price) * col(Commitment.committed_qty)),
            sa.literal(OrderState.ORDERED.value),
            sa.literal(1),
            sa.literal(now, created),
            sa.literal(now, created),
        )
        .select_from(Commitment)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .join(CatalogItem, col(CatalogItem.id) == col(RoundItem.catalog_item_id))
        .where(
            col(RoundItem.round_id) == round_id,
            sa.not_(col(RoundItem.cancelled)),
            col(RoundItem.final_unit_price).is_not(None),
            col(Commitment.committed_qty) > 0,
        )
    )


ORDER_COLUMNS = [
    "district_id",
    "round_id",
    "commitment_id",
    "catalog_item_id",
    "vehicle_id",
    "quantity",
    "unit_price",
    "amount",
    "state",
    "version",
    "created_at",
    "updated_at",
]


def _covered(found: PurchaseRound) -> sa.Select[Any]:
    """The ids of the obligations the round's order lines cover."""
    before = sa.func.sum(col(Obligation.quantity)).over(
        partition_by=(col(Obligation.district_id), col(Obligation.catalog_item_id)),
        order_by=(col(Obligation.due_date), col(Obligation.id)),
    ) - col(Obligation.quantity)
    need = (
        sa.select(
            col(Obligation.id).label("id"),
            col(Obligation.district_id).label("district_id"),
            col(Obligation.catalog_item_id).label("item_id"),
            before.label("before"),
        )
        .where(
            col(Obligation.kind).in_([k.value for k in SUGGESTED_KINDS]),
            col(Obligation.state).in_([s.value for s in NEED_STATES]),
            col(Obligation.due_date) >= found.need_start,
            col(Obligation.due_date) <= found.need_end,
            col(Obligation.district_id).in_(
                sa.select(col(OrderLine.district_id)).where(
                    col(OrderLine.round_id) == found.id
                )
            ),
        )
        .subquery("need")
    )
    return (
        sa.select(need.c.id)
        .join(
            OrderLine,
            sa.and_(
                col(OrderLine.round_id) == found.id,
                col(OrderLine.district_id) == need.c.district_id,
                col(OrderLine.catalog_item_id) == need.c.item_id,
            ),
        )
        .where(need.c.before < col(OrderLine.quantity))
    )


def award_round(
    session: Session, *, user: User, round_id: int, now: datetime | None = None
) -> AwardOutcome:
    """Turn a closed round's committed lines into orders (once; again is a no-op)."""
    require_staff(user)
    now = now or utcnow()
    found = lock_round(session, round_id, share=False)
    if found.state is RoundState.AWARDED:
        return AwardOutcome(False)
    if found.state is not RoundState.CLOSED:
        raise Conflict(
            f"Only a closed round can be awarded; this one is {found.state.value}."
        )
    inserted = session.execute(
        insert_ignore(session, OrderLine).from_select(
            ORDER_COLUMNS, _order_lines_select(round_id, now)
        ),
        execution_options={"preserve_rowcount": True},
    )
    lines = rowcount(inserted, session)
    moved = session.execute(
        sa.update(Obligation)
        .where(col(Obligation.id).in_(_covered(found)))
        .values(state=ObligationState.ORDERED.value, updated_at=now)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    ordered = rowcount(moved, session)
    found.state = RoundState.AWARDED
    found.awarded_at = now
    session.flush()
    per_district = session.execute(
        sa.select(
            col(OrderLine.district_id),
            sa.func.count(),
            sa.func.sum(col(OrderLine.amount)),
        )
        .where(col(OrderLine.round_id) == round_id)
        .group_by(col(OrderLine.district_id))
    ).all()
    for district_id, count, amount in per_district:
        record(
            session,
            action="award",
            entity_type="round",
            entity_id=round_id,
            district_id=int(district_id),
            changes={"order_lines": int(count), "amount": str(amount)},
            summary=f"{found.name}: {int(count)} order lines",
        )
    record(
        session,
        action="award",
        entity_type="round",
        entity_id=round_id,
        district_id=None,
        changes={"order_lines": lines, "obligations_ordered": ordered},
        summary=found.name,
    )
    totals = {int(d): (int(n), Decimal(a)) for d, n, a in per_district}
    tell_districts(
        session,
        round_id=round_id,
        event="awarded",
        district_ids=totals,
        link="/orders",
        message=lambda district: (
            f"Orders placed: {found.name}",
            f"The round {found.name} was awarded: {totals[district.id or 0][0]} "
            f"order lines for ${totals[district.id or 0][1]:,.2f} are on order "
            "for your district. Mark them received when they arrive.",
        ),
    )
    return AwardOutcome(True, lines, ordered)


def orders_stmt(user: User) -> Any:
    """The order lines a user may see, with their item, vehicle and round."""
    stmt = (
        select(OrderLine, CatalogItem, ContractVehicle, PurchaseRound)
        .join(CatalogItem, col(CatalogItem.id) == col(OrderLine.catalog_item_id))
        .join(ContractVehicle, col(ContractVehicle.id) == col(OrderLine.vehicle_id))
        .join(PurchaseRound, col(PurchaseRound.id) == col(OrderLine.round_id))
    )
    district_id = district_filter(user)
    if district_id is not None:
        stmt = stmt.where(col(OrderLine.district_id) == district_id)
    return stmt


def get_order_line(session: Session, user: User, line_id: int) -> OrderLine:
    found = session.exec(orders_stmt(user).where(col(OrderLine.id) == line_id)).first()
    if found is None:
        raise NotFound("No such order line.")
    line: OrderLine = found[0]
    return line


def mark_received(
    session: Session,
    *,
    user: User,
    line_id: int,
    version: int,
    now: datetime | None = None,
) -> OrderLine:
    """The district's IT staff confirm an order line arrived."""
    found = get_order_line(session, user, line_id)
    if Role(user.role) is not Role.DISTRICT_IT:
        raise Forbidden("Only district IT staff mark orders received.")
    claim_version(session, found, version, fields=("state", "received_at"))
    if found.state is OrderState.RECEIVED:
        raise Conflict("This order line was marked received already.")
    found.state = OrderState.RECEIVED
    found.received_at = now or utcnow()
    found.received_by_id = user.id
    session.flush()
    return found


def ordered_amounts(
    session: Session, district_id: int
) -> dict[int, tuple[int, Decimal]]:
    """catalog item id → (units, amount) on order or received through rounds.

    What the district committed to pay at the pooled price, for the forecast to show
    as committed spend in place of the scan's estimate of the same needs."""
    rows = session.execute(
        sa.select(
            col(OrderLine.catalog_item_id),
            sa.func.sum(col(OrderLine.quantity)),
            sa.func.sum(col(OrderLine.amount)),
        )
        .where(col(OrderLine.district_id) == district_id)
        .group_by(col(OrderLine.catalog_item_id))
    ).all()
    return {int(i): (int(q), Decimal(a)) for i, q, a in rows}
