"""Pooled purchase rounds run by the cooperative, and each district's commitments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from pydantic import StrictInt, model_validator
from sqlmodel import Field, SQLModel

from lifecycle.enums import OrderState, RoundState
from lifecycle.models.base import (
    InputModel,
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
    # When the opening job wrote every district's suggested lines and told them.
    suggested_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    notes: str = Field(default="", max_length=4000)


class RoundFields(SQLModel):
    """What coop staff type for a round; the form and the API share it."""

    name: str = Field(min_length=1, max_length=200)
    need_start: date
    need_end: date
    closes_at: datetime
    notes: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _windows(self) -> RoundFields:
        if self.need_end < self.need_start:
            raise ValueError(
                "need_end: must be on or after the start of the need window"
            )
        if self.closes_at.tzinfo is None:
            raise ValueError("closes_at: give a time zone (e.g. 2027-03-01T17:00:00Z)")
        return self


class RoundCreate(InputModel, RoundFields):
    catalog_item_ids: list[int] = Field(default_factory=list, max_length=200)


class RoundUpdate(InputModel, RoundFields):
    catalog_item_ids: list[int] = Field(default_factory=list, max_length=200)
    version: int


class CommitmentUpdate(InputModel):
    """A district's committed quantity: a whole number of units, 0 for "not this time"."""

    # Strict: "12" or 12.0 is a client sending the wrong thing, not a quantity.
    committed_qty: StrictInt = Field(ge=0, le=1_000_000)
    version: StrictInt


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


class OrderLine(Versioned, Timestamps, table=True):
    """What a district bought when a round was awarded: one committed line, its price."""

    __tablename__: ClassVar[str] = "order_lines"
    __table_args__ = (
        sa.Index("ix_order_lines_district_id_state", "district_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id")
    round_id: int = Field(foreign_key="purchase_rounds.id", index=True)
    # One order line per commitment: awarding twice cannot order twice.
    commitment_id: int = Field(foreign_key="commitments.id", unique=True)
    catalog_item_id: int = Field(foreign_key="catalog_items.id", index=True)
    vehicle_id: int = Field(foreign_key="contract_vehicles.id", index=True)
    quantity: int = Field(ge=1)
    unit_price: Money = money_field()
    amount: Money = money_field(default=Decimal("0.00"))
    state: OrderState = Field(
        default=OrderState.ORDERED, sa_type=enum_type(OrderState, 16)
    )
    received_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    received_by_id: int | None = Field(default=None, foreign_key="users.id", index=True)
