"""Pooled purchase rounds run by the cooperative, and each district's commitments."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lifecycle.enums import RoundState
from lifecycle.models.base import (
    Money,
    Timestamps,
    UtcDateTime,
    Versioned,
    enum_type,
    money_field,
)


class PurchaseRound(Versioned, Timestamps, table=True):
    """A cooperative buying event: items, a need window and a commitment window."""

    __tablename__: ClassVar[str] = "purchase_rounds"
    id: int | None = Field(default=None, primary_key=True)
    cooperative_id: int = Field(foreign_key="cooperatives.id", index=True)
    name: str = Field(max_length=200)
    state: RoundState = Field(
        default=RoundState.DRAFT, sa_type=enum_type(RoundState, 16)
    )
    need_start: date
    need_end: date
    opens_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closes_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    awarded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    notes: str = Field(default="", max_length=4000)


class RoundItem(SQLModel, table=True):
    """A catalog item offered in a round; its final tier is fixed when the round closes."""

    __tablename__: ClassVar[str] = "round_items"
    __table_args__ = (sa.UniqueConstraint("round_id", "catalog_item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(
        foreign_key="purchase_rounds.id", index=True, ondelete="CASCADE"
    )
    catalog_item_id: int = Field(foreign_key="catalog_items.id", index=True)
    pooled_qty: int | None = None
    final_min_qty: int | None = None
    final_unit_price: Money | None = money_field(nullable=True)
    cancelled: bool = False


class Commitment(Versioned, Timestamps, table=True):
    """A district's quantity for one round item: suggested from obligations, then committed."""

    __tablename__: ClassVar[str] = "commitments"
    __table_args__ = (sa.UniqueConstraint("round_item_id", "district_id"),)
    id: int | None = Field(default=None, primary_key=True)
    round_item_id: int = Field(
        foreign_key="round_items.id", index=True, ondelete="CASCADE"
    )
    district_id: int = Field(foreign_key="districts.id", index=True)
    suggested_qty: int = Field(default=0, ge=0)
    committed_qty: int | None = Field(default=None, ge=0)
    committed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    committed_by_id: int | None = Field(
        default=None, foreign_key="users.id", index=True
    )
