"""The demo cooperative's purchase rounds: one open now, one closed and awarded.

The open round has commitments from most member districts, and its first item sits
just short of its next tier, so the round page shows "N more units and everyone pays
…". The awarded round went through the real close and award, so its results, savings
and order lines are what the services compute.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle.enums import ItemKind, Role, RoundState
from lifecycle.models import (
    CatalogItem,
    Commitment,
    PriceTier,
    PurchaseRound,
    RoundItem,
    User,
    utcnow,
)
from lifecycle.rounds.award import award_round
from lifecycle.rounds.closing import close_round, price_tables

SHORT_OF_TIER = 12  # how many units the open round's first item lacks


def _tiered_devices(session: Session, n: int) -> list[CatalogItem]:
    with_tiers = sa.select(col(PriceTier.catalog_item_id)).distinct()
    return list(
        session.exec(
            select(CatalogItem)
            .where(
                col(CatalogItem.kind) == ItemKind.DEVICE,
                col(CatalogItem.id).in_(with_tiers),
            )
            .order_by(col(CatalogItem.id))
            .limit(n)
        ).all()
    )


def _round(
    session: Session,
    coop_id: int,
    name: str,
    items: list[CatalogItem],
    *,
    need_start: date,
    closes_at: datetime,
) -> tuple[PurchaseRound, list[RoundItem]]:
    found = PurchaseRound(
        cooperative_id=coop_id,
        name=name,
        state=RoundState.OPEN,
        need_start=need_start,
        need_end=need_start.replace(year=need_start.year + 1) - timedelta(days=1),
        opens_at=closes_at - timedelta(days=21),
        closes_at=closes_at,
        suggested_at=closes_at - timedelta(days=21),
        notes="Demo round: quantities committed by the member districts.",
    )
    session.add(found)
    session.flush()
    assert found.id is not None
    lines = [
        RoundItem(round_id=found.id, catalog_item_id=i.id)
        for i in items
        if i.id is not None
    ]
    session.add_all(lines)
    session.flush()
    return found, lines


def _commit_all(
    session: Session,
    rng: random.Random,
    lines: list[RoundItem],
    district_ids: list[int],
    now: datetime,
) -> dict[int, int]:
    """Most districts commit something to each line; the pooled units per line."""
    pooled: dict[int, int] = {}
    for ri in lines:
        assert ri.id is not None
        total = 0
        for n, district_id in enumerate(district_ids):
            qty = 0 if n % 5 == 4 else rng.randint(8, 90)
            total += qty
            session.add(
                Commitment(
                    round_item_id=ri.id,
                    district_id=district_id,
                    suggested_qty=qty + rng.randint(0, 6),
                    committed_qty=qty,
                    committed_at=now,
                )
            )
        pooled[ri.id] = total
    session.flush()
    return pooled


def _just_short(
    session: Session, line: RoundItem, item: CatalogItem, pooled: int
) -> None:
    """Move one commitment so the pool sits SHORT_OF_TIER units below a tier."""
    table = price_tables(session, [item])[item.id or 0]
    nxt = table.next_tier(pooled)
    if nxt is None or nxt.min_qty - SHORT_OF_TIER <= 0:
        return
    target = nxt.min_qty - SHORT_OF_TIER
    first = session.exec(
        select(Commitment)
        .where(col(Commitment.round_item_id) == line.id)
        .order_by(col(Commitment.id))
    ).first()
    if first is not None and (first.committed_qty or 0) + target - pooled >= 0:
        first.committed_qty = (first.committed_qty or 0) + target - pooled
        session.flush()


def seed_rounds(
    session: Session,
    *,
    coop_id: int,
    district_ids: list[int],
    rng: random.Random,
    today: date,
) -> int:
    """The open and the awarded demo round; how many rounds were made."""
    items = _tiered_devices(session, 3)
    staff = session.exec(select(User).where(col(User.role) == Role.COOP_STAFF)).first()
    if not items or not district_ids or staff is None:
        return 0
    now = utcnow()
    midday = datetime.combine(today, time(17), tzinfo=UTC)
    _, open_lines = _round(
        session,
        coop_id,
        f"Spring {today.year + 1} device refresh",
        items,
        need_start=date(today.year + 1, 7, 1),
        closes_at=max(midday + timedelta(days=14), now + timedelta(days=14)),
    )
    pooled = _commit_all(session, rng, open_lines, district_ids, now)
    _just_short(session, open_lines[0], items[0], pooled[open_lines[0].id or 0])
    past, past_lines = _round(
        session,
        coop_id,
        f"Fall {today.year} classroom devices",
        items[:2],
        need_start=date(today.year, 7, 1),
        closes_at=midday - timedelta(days=45),
    )
    _commit_all(session, rng, past_lines, district_ids, now - timedelta(days=50))
    assert past.id is not None
    close_round(session, round_id=past.id, now=past.closes_at + timedelta(minutes=1))
    award_round(session, user=staff, round_id=past.id)
    return 2
