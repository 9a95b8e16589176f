"""The live tiers while a round is open, the close, and the results with savings.

Pricing is the pure rule (`rounds.tiers`); here are the queries that feed it: one
aggregate of the pooled quantities per item, one read of the items' price tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import RoundState
from lifecycle.models import (
    CatalogItem,
    Commitment,
    District,
    PriceTier,
    PurchaseRound,
    RoundItem,
    User,
    utcnow,
)
from lifecycle.rounds.notify import tell_districts
from lifecycle.rounds.services import (
    get_round,
    lock_round,
    require_staff,
    round_items,
    sees_everyone,
)
from lifecycle.rounds.tiers import ZERO, Line, PriceTable, Tier, price_line
from lifecycle.web.errors import Conflict


def price_tables(
    session: Session, items: Iterable[CatalogItem]
) -> dict[int, PriceTable]:
    """Each item's list price, tiers and minimum order, in one query for the tiers."""
    by_id = {i.id: i for i in items if i.id is not None}
    tiers: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    if by_id:
        for item_id, min_qty, price in session.execute(
            sa.select(
                col(PriceTier.catalog_item_id),
                col(PriceTier.min_qty),
                col(PriceTier.unit_price),
            ).where(col(PriceTier.catalog_item_id).in_(sorted(by_id)))
        ):
            tiers[int(item_id)].append((int(min_qty), Decimal(price)))
    return {
        item_id: PriceTable.of(item.list_price, tiers[item_id], item.min_order_qty)
        for item_id, item in by_id.items()
    }


def pooled_quantities(session: Session, round_id: int) -> dict[int, int]:
    """round item id → the units committed so far by every district together."""
    rows = session.execute(
        sa.select(
            col(RoundItem.id),
            sa.func.coalesce(sa.func.sum(col(Commitment.committed_qty)), 0),
        )
        .select_from(RoundItem)
        .outerjoin(Commitment, col(Commitment.round_item_id) == col(RoundItem.id))
        .where(col(RoundItem.round_id) == round_id)
        .group_by(col(RoundItem.id))
    ).all()
    return {int(ri): int(qty) for ri, qty in rows}


@dataclass(frozen=True)
class ItemTier:
    """What every participant sees of an item: the pool, never who is in it."""

    round_item: RoundItem
    item: CatalogItem
    pooled_qty: int
    unit_price: Decimal
    tier: Tier | None
    next_tier: Tier | None
    units_to_next: int | None
    units_to_minimum: int
    cancelled: bool


def item_tiers(session: Session, user: User, round_id: int) -> list[ItemTier]:
    """Each item's pooled quantity and tier: live while open, final once closed."""
    found = get_round(session, user, round_id)
    pairs = round_items(session, round_id)
    tables = price_tables(session, (ci for _, ci in pairs))
    live = pooled_quantities(session, round_id)
    settled = found.state in (RoundState.CLOSED, RoundState.AWARDED)
    out = []
    for ri, ci in pairs:
        assert ri.id is not None and ci.id is not None
        table = tables[ci.id]
        qty = ri.pooled_qty if settled and ri.pooled_qty is not None else live[ri.id]
        price = (
            ri.final_unit_price
            if settled and ri.final_unit_price is not None
            else table.unit_price(qty)
        )
        out.append(
            ItemTier(
                round_item=ri,
                item=ci,
                pooled_qty=qty,
                unit_price=price,
                tier=table.tier_at(qty),
                next_tier=None if settled else table.next_tier(qty),
                units_to_next=None if settled else table.units_to_next(qty),
                units_to_minimum=table.units_to_minimum(qty),
                cancelled=ri.cancelled,
            )
        )
    return out


@dataclass(frozen=True)
class CloseOutcome:
    closed: bool
    message: str
    cancelled_items: int = 0
    people_told: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "closed": self.closed,
            "cancelled_items": self.cancelled_items,
            "people_told": self.people_told,
        }


def close_round(
    session: Session,
    *,
    round_id: int,
    now: datetime | None = None,
    early_by: User | None = None,
) -> CloseOutcome:
    """Fix each item's final tier from the pooled committed quantity, and tell them.

    Idempotent: a closed round is left as it is, so a second close (the scheduled
    job after an early close, a retry, a sweep) changes nothing and tells nobody
    again. Everything — the prices, the state, the notices — is one transaction: a
    close killed half way leaves the round open, and the rerun does all of it."""
    now = now or utcnow()
    if early_by is not None:
        require_staff(early_by)
    found = lock_round(session, round_id, share=False)
    if found.state is not RoundState.OPEN:
        if early_by is not None and found.state is not RoundState.CLOSED:
            raise Conflict(f"A {found.state.value} round cannot be closed.")
        return CloseOutcome(False, f"Nothing to do: the round is {found.state.value}.")
    if early_by is None and now < found.closes_at:
        return CloseOutcome(False, "Nothing to do: the round closes later.")
    if early_by is not None and now < found.closes_at:
        found.closes_at = now
    pairs = round_items(session, round_id)
    tables = price_tables(session, (ci for _, ci in pairs))
    pooled = pooled_quantities(session, round_id)
    cancelled: dict[int, str] = {}
    for ri, ci in pairs:
        assert ri.id is not None and ci.id is not None
        table, qty = tables[ci.id], pooled[ri.id]
        tier = table.tier_at(qty)
        ri.pooled_qty = qty
        ri.final_unit_price = table.unit_price(qty)
        ri.final_min_qty = tier.min_qty if tier else None
        ri.cancelled = not table.meets_minimum(qty)
        if ri.cancelled:
            cancelled[ri.id] = (
                f"{ci.name} ({qty:,} of the {table.min_order_qty:,} needed)"
            )
    found.state = RoundState.CLOSED
    found.closed_at = now
    session.flush()
    told = _tell_participants(session, found, cancelled)
    return CloseOutcome(
        True,
        f"Round closed: {len(pairs) - len(cancelled)} items ordered at their pooled "
        f"tier, {len(cancelled)} cancelled below their minimum.",
        cancelled_items=len(cancelled),
        people_told=told,
    )


def _tell_participants(
    session: Session, found: PurchaseRound, cancelled: dict[int, str]
) -> int:
    """Every district that committed something hears the close once; those with a
    line on a cancelled item are told which."""
    assert found.id is not None
    rows = session.execute(
        sa.select(col(Commitment.district_id), col(Commitment.round_item_id))
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .where(col(RoundItem.round_id) == found.id, col(Commitment.committed_qty) > 0)
    ).all()
    lost: dict[int, list[str]] = defaultdict(list)
    for district_id, ri in rows:
        if ri in cancelled:
            lost[int(district_id)].append(cancelled[ri])

    def message(district: District) -> tuple[str, str]:
        assert district.id is not None
        body = f"The round {found.name} has closed; see the final prices and savings."
        if lost[district.id]:
            body += (
                " These items did not reach their minimum order and are cancelled"
                ": " + "; ".join(sorted(lost[district.id])) + "."
            )
        return f"Purchase round closed: {found.name}", body

    return tell_districts(
        session,
        round_id=found.id,
        event="closed",
        district_ids={int(d) for d, _ in rows},
        message=message,
        link=f"/rounds/{found.id}",
    )


@dataclass(frozen=True)
class ResultLine:
    district_id: int
    district_name: str
    item: CatalogItem
    line: Line[int]


@dataclass(frozen=True)
class Totals:
    amount: Decimal = ZERO
    at_list: Decimal = ZERO
    alone: Decimal = ZERO

    def add(self, line: Line[int]) -> Totals:
        return Totals(
            self.amount + line.amount,
            self.at_list + line.at_list,
            self.alone + line.alone,
        )

    @property
    def saved_vs_list(self) -> Decimal:
        return self.at_list - self.amount

    @property
    def saved_vs_alone(self) -> Decimal:
        return self.alone - self.amount


@dataclass(frozen=True)
class Results:
    """A closed round's lines at the pooled price, per district and in total."""

    round: PurchaseRound
    lines: list[ResultLine]
    by_district: dict[int, Totals]
    total: Totals

    @property
    def final(self) -> bool:
        """False until the round has closed: no line has a final price yet."""
        return self.round.state in (RoundState.CLOSED, RoundState.AWARDED)


def results(session: Session, user: User, round_id: int) -> Results:
    """The settled lines; a district user gets only its own (and no one's name but
    its own), coop staff every district's."""
    found = get_round(session, user, round_id)
    if found.state not in (RoundState.CLOSED, RoundState.AWARDED):
        return Results(found, [], {}, Totals())
    stmt = (
        select(Commitment, RoundItem, CatalogItem, District.name)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .join(CatalogItem, col(CatalogItem.id) == col(RoundItem.catalog_item_id))
        .join(District, col(District.id) == col(Commitment.district_id))
        .where(
            col(RoundItem.round_id) == round_id,
            col(Commitment.committed_qty) > 0,
            sa.not_(col(RoundItem.cancelled)),
        )
        .order_by(col(District.name), col(CatalogItem.name), col(Commitment.id))
    )
    if not sees_everyone(user):
        stmt = stmt.where(col(Commitment.district_id) == user.district_id)
    rows = session.exec(stmt).all()
    tables = price_tables(session, {ci.id: ci for _, _, ci, _ in rows}.values())
    lines: list[ResultLine] = []
    by_district: dict[int, Totals] = defaultdict(Totals)
    total = Totals()
    for c, ri, ci, name in rows:
        assert ci.id is not None and ri.final_unit_price is not None
        line = price_line(
            tables[ci.id], c.district_id, c.committed_qty or 0, ri.final_unit_price
        )
        lines.append(ResultLine(c.district_id, name, ci, line))
        by_district[c.district_id] = by_district[c.district_id].add(line)
        total = total.add(line)
    return Results(found, lines, dict(by_district), total)
