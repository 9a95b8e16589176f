"""What a district owns: devices and software licenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import JSON, Field, SQLModel

from lifecycle.enums import AgreementStatus, DeviceCategory, DeviceStatus, RenewalType
from lifecycle.models.base import (
    InputModel,
    Money,
    Timestamps,
    Versioned,
    enum_type,
    money_field,
)
from lifecycle.models.org import check_thresholds


class DeviceBase(SQLModel):
    school_id: int | None = None
    asset_tag: str = Field(min_length=1, max_length=64)
    serial: str | None = Field(default=None, max_length=64)
    model: str = Field(default="", max_length=200)
    catalog_item_id: int | None = None
    category: DeviceCategory = Field(sa_type=enum_type(DeviceCategory, 32))
    status: DeviceStatus = Field(
        default=DeviceStatus.IN_SERVICE, sa_type=enum_type(DeviceStatus, 16)
    )
    purchase_date: date | None = None
    purchase_cost: Money | None = money_field(nullable=True)
    funding_source: str = Field(default="", max_length=80)
    vehicle_id: int | None = None
    warranty_end: date | None = None
    aue_date: date | None = None
    eol_date: date | None = None
    lifespan_months: int | None = Field(default=None, ge=1, le=240)
    assigned_to: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=4000)


def _device_dates(obj: DeviceBase | DeviceUpdate) -> None:
    bought = obj.purchase_date
    if bought is not None:
        if obj.eol_date is not None and obj.eol_date < bought:
            raise ValueError("eol_date: must be on or after the purchase date")
        if obj.warranty_end is not None and obj.warranty_end < bought:
            raise ValueError("warranty_end: must be on or after the purchase date")
    if obj.purchase_cost is not None and obj.purchase_cost < 0:
        raise ValueError("purchase_cost: must not be negative")


# What the device list's search looks in, as one text (the trigram index and the
# search itself must spell it the same way).
DEVICE_SEARCH_TEXT = (
    "coalesce(asset_tag, '') || ' ' || coalesce(serial, '') || ' ' || "
    "coalesce(model, '') || ' ' || coalesce(assigned_to, '')"
)


class Device(DeviceBase, Versioned, Timestamps, table=True):
    """One physical asset of a district (docs/rules.md#records-and-vocabularies), with its computed refresh date."""

    __tablename__: ClassVar[str] = "devices"
    __table_args__ = (
        sa.UniqueConstraint("district_id", "asset_tag"),
        sa.UniqueConstraint("district_id", "serial"),
        sa.Index("ix_devices_district_id_status", "district_id", "status"),
        sa.Index("ix_devices_district_id_category", "district_id", "category"),
        sa.Index("ix_devices_district_id_refresh_due", "district_id", "refresh_due"),
        # the funding-source filter's choices: a loose index scan (inventory/options.py)
        sa.Index(
            "ix_devices_district_id_funding_source", "district_id", "funding_source"
        ),
        # the list's search for text anywhere (ILIKE '%…%') within one district:
        # trigrams next to the district (btree_gin), PostgreSQL only
        sa.Index(
            "ix_devices_search_trgm",
            sa.text(f"district_id, ({DEVICE_SEARCH_TEXT}) gin_trgm_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="schools.id", index=True)
    catalog_item_id: int | None = Field(
        default=None, foreign_key="catalog_items.id", index=True
    )
    vehicle_id: int | None = Field(
        default=None, foreign_key="contract_vehicles.id", index=True
    )
    # Derived by the lifecycle engine from lifespan, AUE and EOL (docs/rules.md#device-refresh);
    # stored so lists can filter and sort on it with an index.
    refresh_due: date | None = None
    refresh_reason: str = Field(default="", max_length=16)


class DeviceCreate(InputModel, DeviceBase):
    asset_tag: str = Field(min_length=1, max_length=64)

    @field_validator("asset_tag", "serial", "model", "funding_source", "assigned_to")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value

    @model_validator(mode="after")
    def _dates(self) -> DeviceCreate:
        if not self.asset_tag:
            raise ValueError("asset_tag: is required")
        if self.serial == "":
            self.serial = None
        _device_dates(self)
        return self


class DeviceUpdate(InputModel):
    """A partial change: only the fields sent are changed; `version` is what was read."""

    school_id: int | None = None
    asset_tag: str | None = Field(default=None, min_length=1, max_length=64)
    serial: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=200)
    catalog_item_id: int | None = None
    category: DeviceCategory | None = None
    status: DeviceStatus | None = None
    purchase_date: date | None = None
    purchase_cost: Money | None = Field(default=None, max_digits=14, decimal_places=2)
    funding_source: str | None = Field(default=None, max_length=80)
    vehicle_id: int | None = None
    warranty_end: date | None = None
    aue_date: date | None = None
    eol_date: date | None = None
    lifespan_months: int | None = Field(default=None, ge=1, le=240)
    assigned_to: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=4000)
    version: int

    @model_validator(mode="after")
    def _dates(self) -> DeviceUpdate:
        _device_dates(self)
        return self


class DeviceRead(DeviceBase):
    id: int
    district_id: int
    purchase_cost: Money | None
    refresh_due: date | None
    refresh_reason: str
    version: int


class LicenseBase(SQLModel):
    product: str = Field(min_length=1, max_length=200)
    vendor_id: int | None = None
    catalog_item_id: int | None = None
    school_id: int | None = None
    seats: int = Field(ge=0, le=10_000_000)
    seats_used: int = Field(default=0, ge=0, le=10_000_000)
    term_start: date
    initial_term_months: int = Field(ge=1, le=120)
    renewal_term_months: int = Field(default=12, ge=1, le=120)
    renewal_type: RenewalType = Field(
        default=RenewalType.EXPRESS, sa_type=enum_type(RenewalType, 16)
    )
    notice_days: int = Field(default=0, ge=0, le=730)
    price_per_seat: Money = money_field(default=Decimal("0.00"))
    vehicle_id: int | None = None
    funding_source: str = Field(default="", max_length=80)
    reminder_thresholds: list[int] | None = Field(default=None, sa_type=JSON)
    notes: str = Field(default="", max_length=4000)

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)


class License(LicenseBase, Versioned, Timestamps, table=True):
    """A software entitlement of a district: seats for a term that renews (docs/rules.md#terms-and-renewal-dates)."""

    __tablename__: ClassVar[str] = "licenses"
    __table_args__ = (
        sa.Index("ix_licenses_district_id_decide_by", "district_id", "decide_by"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendors.id", index=True)
    catalog_item_id: int | None = Field(
        default=None, foreign_key="catalog_items.id", index=True
    )
    school_id: int | None = Field(default=None, foreign_key="schools.id", index=True)
    vehicle_id: int | None = Field(
        default=None, foreign_key="contract_vehicles.id", index=True
    )
    status: AgreementStatus = Field(
        default=AgreementStatus.ACTIVE, sa_type=enum_type(AgreementStatus, 16)
    )
    # Derived from the original term start (docs/rules.md#terms-and-renewal-dates); stored for lists and filters.
    current_term_number: int | None = None
    # The term whose end is the open renewal decision: the current term, a later one
    # once a tacit notice date has passed, or the last term renewed ahead (express).
    decision_term_number: int | None = None
    current_term_start: date | None = None
    current_term_end: date | None = None
    decide_by: date | None = None


def _license_checks(obj: LicenseBase | LicenseUpdate) -> None:
    if obj.price_per_seat is not None and obj.price_per_seat < 0:
        raise ValueError("price_per_seat: must not be negative")


class LicenseCreate(InputModel, LicenseBase):
    @model_validator(mode="after")
    def _checks(self) -> LicenseCreate:
        self.product = self.product.strip()
        if not self.product:
            raise ValueError("product: is required")
        _license_checks(self)
        return self


class LicenseUpdate(InputModel):
    product: str | None = Field(default=None, min_length=1, max_length=200)
    vendor_id: int | None = None
    catalog_item_id: int | None = None
    school_id: int | None = None
    seats: int | None = Field(default=None, ge=0, le=10_000_000)
    seats_used: int | None = Field(default=None, ge=0, le=10_000_000)
    term_start: date | None = None
    initial_term_months: int | None = Field(default=None, ge=1, le=120)
    renewal_term_months: int | None = Field(default=None, ge=1, le=120)
    renewal_type: RenewalType | None = None
    notice_days: int | None = Field(default=None, ge=0, le=730)
    price_per_seat: Money | None = Field(default=None, max_digits=14, decimal_places=2)
    vehicle_id: int | None = None
    funding_source: str | None = Field(default=None, max_length=80)
    reminder_thresholds: list[int] | None = None
    notes: str | None = Field(default=None, max_length=4000)
    version: int

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)

    @model_validator(mode="after")
    def _checks(self) -> LicenseUpdate:
        _license_checks(self)
        return self


class LicenseRead(LicenseBase):
    id: int
    district_id: int
    price_per_seat: Money
    status: AgreementStatus
    current_term_number: int | None
    current_term_start: date | None
    current_term_end: date | None
    decide_by: date | None
    version: int
