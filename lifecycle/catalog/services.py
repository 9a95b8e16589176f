"""The cooperative's contract vehicles and catalog items with their price tiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from ..models import CatalogItem, CatalogItemRead, PriceTier, PriceTierRead


def tiers_by_item(
    session: Session, item_ids: Sequence[int]
) -> dict[int, list[PriceTier]]:
    """Price tiers of many items in one query, each list ordered by min_qty."""
    out: dict[int, list[PriceTier]] = defaultdict(list)
    if not item_ids:
        return out
    rows = session.exec(
        select(PriceTier)
        .where(col(PriceTier.catalog_item_id).in_(item_ids))
        .order_by(col(PriceTier.catalog_item_id), col(PriceTier.min_qty))
    ).all()
    for tier in rows:
        out[tier.catalog_item_id].append(tier)
    return out


def item_read(item: CatalogItem, tiers: list[PriceTier]) -> CatalogItemRead:
    data = item.model_dump()
    data["tiers"] = [
        PriceTierRead.model_validate(t, from_attributes=True) for t in tiers
    ]
    return CatalogItemRead.model_validate(data)
