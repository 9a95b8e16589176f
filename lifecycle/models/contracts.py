"""Service contracts (maintenance, support, warranty extensions, managed services) and term history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, TypeAlias

import sqlalchemy as sa
from pydantic import field_validator, model_validator
from sqlmodel import JSON, Field, SQLModel

from lifecycle.enums import (
    AgreementStatus,
    ContractKind,
    CoverageType,
    DeviceCategory,
    RenewalType,
)
from lifecycle.models.base import (
    InputModel,
    Money,
    Timestamps,
    Versioned,
    created_field,
    enum_type,
    money_field,
    pct_field,
)
from lifecycle.models.inventory import License
from lifecycle.models.org import check_thresholds


class ServiceContractBase(SQLModel):
    vendor_id: int | None = None
    name: str = Field(min_length=1, max_length=200)
    kind: ContractKind = Field(
        default=ContractKind.MAINTENANCE, sa_type=enum_type(ContractKind, 24)
    )
    coverage: CoverageType = Field(
        default=CoverageType.NONE, sa_type=enum_type(CoverageType, 16)
    )
    coverage_category: DeviceCategory | None = Field(
        default=None, sa_type=enum_type(DeviceCategory, 32)
    )
    coverage_school_id: int | None = None
    term_start: date
    initial_term_months: int = Field(ge=1, le=120)
    renewal_term_months: int = Field(default=12, ge=1, le=120)
    renewal_type: RenewalType = Field(
        default=RenewalType.TACIT, sa_type=enum_type(RenewalType, 16)
    )
    notice_days: int = Field(default=60, ge=0, le=730)
    cost_per_period: Money = money_field(default=Decimal("0.00"))
    escalator_pct: Decimal = pct_field(default=Decimal("0.00"))
    vehicle_id: int | None = None
    funding_source: str = Field(default="", max_length=80)
    erate_c2_eligible: bool = False
    reminder_thresholds: list[int] | None = Field(default=None, sa_type=JSON)
    notes: str = Field(default="", max_length=4000)

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)


def _coverage_checks(obj: ServiceContractBase) -> None:
    if obj.coverage == CoverageType.CATEGORY and obj.coverage_category is None:
        raise ValueError(
            "coverage_category: is required when the contract covers a category"
        )
    if obj.coverage == CoverageType.SITE and obj.coverage_school_id is None:
        raise ValueError(
            "coverage_school_id: is required when the contract covers a site"
        )
    if obj.cost_per_period < 0:
        raise ValueError("cost_per_period: must not be negative")


class ServiceContract(ServiceContractBase, Versioned, Timestamps, table=True):
    """A district's maintenance/support/managed-service agreement and what it covers."""

    __tablename__: ClassVar[str] = "service_contracts"
    __table_args__ = (
        sa.Index(
            "ix_service_contracts_district_id_decide_by", "district_id", "decide_by"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendors.id", index=True)
    coverage_school_id: int | None = Field(
        default=None, foreign_key="schools.id", index=True
    )
    vehicle_id: int | None = Field(
        default=None, foreign_key="contract_vehicles.id", index=True
    )
    status: AgreementStatus = Field(
        default=AgreementStatus.ACTIVE, sa_type=enum_type(AgreementStatus, 16)
    )
    current_term_number: int | None = None
    # The term whose end is the open renewal decision: the current term, a later one
    # once a tacit notice date has passed, or the last term renewed ahead (express).
    decision_term_number: int | None = None
    current_term_start: date | None = None
    current_term_end: date | None = None
    decide_by: date | None = None


class ServiceContractCreate(InputModel, ServiceContractBase):
    @model_validator(mode="after")
    def _checks(self) -> ServiceContractCreate:
        self.name = self.name.strip()
        if not self.name:
            raise ValueError("name: is required")
        _coverage_checks(self)
        return self


class ServiceContractUpdate(InputModel):
    vendor_id: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: ContractKind | None = None
    coverage: CoverageType | None = None
    coverage_category: DeviceCategory | None = None
    coverage_school_id: int | None = None
    term_start: date | None = None
    initial_term_months: int | None = Field(default=None, ge=1, le=120)
    renewal_term_months: int | None = Field(default=None, ge=1, le=120)
    renewal_type: RenewalType | None = None
    notice_days: int | None = Field(default=None, ge=0, le=730)
    cost_per_period: Money | None = Field(
        default=None, ge=0, max_digits=14, decimal_places=2
    )
    escalator_pct: Decimal | None = Field(default=None, ge=0, le=100)
    vehicle_id: int | None = None
    funding_source: str | None = Field(default=None, max_length=80)
    erate_c2_eligible: bool | None = None
    reminder_thresholds: list[int] | None = None
    notes: str | None = Field(default=None, max_length=4000)
    version: int

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)


class ServiceContractRead(ServiceContractBase):
    id: int
    district_id: int
    cost_per_period: Money
    status: AgreementStatus
    current_term_number: int | None
    current_term_start: date | None
    current_term_end: date | None
    decide_by: date | None
    version: int


class ContractCoveredDevice(SQLModel, table=True):
    """A device named in a service contract whose coverage is a list of devices."""

    __tablename__: ClassVar[str] = "contract_covered_devices"
    contract_id: int = Field(
        foreign_key="service_contracts.id", primary_key=True, ondelete="CASCADE"
    )
    device_id: int = Field(
        foreign_key="devices.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    district_id: int = Field(foreign_key="districts.id", index=True)


class TermRecord(SQLModel, table=True):
    """The term history of a license or contract: each term as it was renewed and priced."""

    __tablename__: ClassVar[str] = "term_records"
    __table_args__ = (sa.UniqueConstraint("subject_type", "subject_id", "term_number"),)
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    subject_type: str = Field(max_length=16)  # "license" | "contract"
    subject_id: int = Field(index=True)
    term_number: int = Field(ge=1)
    start: date
    end: date
    price: Money = money_field(default=Decimal("0.00"))
    seats: int | None = None
    recorded_at: datetime = created_field()
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id", index=True)


# A license or a service contract: the two kinds of agreement with terms (docs/rules.md#terms-and-renewal-dates).
# The one name for them: an instance is an `Agreement`, its table `type[Agreement]`.
Agreement: TypeAlias = License | ServiceContract
