"""What the cooperative sells: awarded contract vehicles, their catalog items and price tiers."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import sqlalchemy as sa
from pydantic import model_validator
from sqlmodel import Field, SQLModel

from lifecycle.enums import DeviceCategory, ItemKind, PriceUnit
from lifecycle.models.base import (
    InputModel,
    Money,
    Timestamps,
    Versioned,
    enum_type,
    money_field,
)


class ContractVehicleBase(SQLModel):
    vendor_id: int
    contract_number: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    lead_agency: str = Field(default="", max_length=200)
    term_start: date
    term_end: date
    renewal_options: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _term_order(self) -> ContractVehicleBase:
        if self.term_end < self.term_start:
            raise ValueError("term_end: must be on or after the term start")
        return self


class ContractVehicle(ContractVehicleBase, Versioned, Timestamps, table=True):
    """A cooperative's awarded master contract with a vendor; purchases cite it."""

    __tablename__: ClassVar[str] = "contract_vehicles"
    id: int | None = Field(default=None, primary_key=True)
    cooperative_id: int = Field(foreign_key="cooperatives.id", index=True)
    vendor_id: int = Field(foreign_key="vendors.id", index=True)
    contract_number: str = Field(max_length=64, unique=True)


class ContractVehicleCreate(InputModel, ContractVehicleBase):
    pass


class ContractVehicleUpdate(InputModel):
    """A change of a vehicle: only what is sent changes; the merged record is checked
    as a whole (a new term end before the stored start is refused)."""

    vendor_id: int | None = None
    contract_number: str | None = Field(default=None, min_length=1, max_length=64)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    lead_agency: str | None = Field(default=None, max_length=200)
    term_start: date | None = None
    term_end: date | None = None
    renewal_options: str | None = Field(default=None, max_length=500)
    version: int


class ContractVehicleRead(ContractVehicleBase):
    id: int
    cooperative_id: int
    version: int


class PriceTierBase(SQLModel):
    min_qty: int = Field(ge=1)
    unit_price: Money = money_field()


class PriceTier(PriceTierBase, table=True):
    """One row of a catalog item's volume price table: from min_qty units, this price."""

    __tablename__: ClassVar[str] = "price_tiers"
    __table_args__ = (sa.UniqueConstraint("catalog_item_id", "min_qty"),)
    id: int | None = Field(default=None, primary_key=True)
    catalog_item_id: int = Field(
        foreign_key="catalog_items.id", index=True, ondelete="CASCADE"
    )


class PriceTierRead(SQLModel):
    min_qty: int
    unit_price: Money


class CatalogItemBase(SQLModel):
    vehicle_id: int
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: ItemKind = Field(sa_type=enum_type(ItemKind, 16))
    category: DeviceCategory | None = Field(
        default=None, sa_type=enum_type(DeviceCategory, 32)
    )
    list_price: Money = money_field()
    unit: PriceUnit = Field(default=PriceUnit.EACH, sa_type=enum_type(PriceUnit, 16))
    min_order_qty: int = Field(default=1, ge=0)
    lifespan_months: int | None = Field(default=None, ge=1, le=240)
    term_months: int | None = Field(default=None, ge=1, le=120)
    erate_c2_eligible: bool = False
    active: bool = True


class CatalogItem(CatalogItemBase, Versioned, Timestamps, table=True):
    """A product or service offered under a vehicle, with its volume price tiers."""

    __tablename__: ClassVar[str] = "catalog_items"
    __table_args__ = (sa.UniqueConstraint("vehicle_id", "sku"),)
    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="contract_vehicles.id", index=True)


class CatalogItemCreate(InputModel, CatalogItemBase):
    tiers: list[PriceTierBase] = Field(default_factory=list)


class CatalogItemUpdate(InputModel):
    """A change of an item; `tiers`, when sent, replaces the whole price table
    (checked by lifecycle.catalog.rules.check_tiers, as the page's table is)."""

    sku: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: ItemKind | None = None
    category: DeviceCategory | None = None
    list_price: Money | None = money_field(nullable=True)
    unit: PriceUnit | None = None
    min_order_qty: int | None = Field(default=None, ge=0)
    lifespan_months: int | None = Field(default=None, ge=1, le=240)
    term_months: int | None = Field(default=None, ge=1, le=120)
    erate_c2_eligible: bool | None = None
    active: bool | None = None
    tiers: list[PriceTierBase] | None = None
    version: int


class CatalogItemRead(CatalogItemBase):
    id: int
    list_price: Money
    version: int
    tiers: list[PriceTierRead] = Field(default_factory=list)
