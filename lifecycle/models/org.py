"""Who: the cooperative, its member districts and schools, people and their API tokens, vendors."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import PrivateAttr, field_validator
from sqlmodel import JSON, Field, SQLModel

from lifecycle.enums import DeviceCategory, Role
from lifecycle.models.base import (
    InputModel,
    Timestamps,
    UtcDateTime,
    Versioned,
    created_field,
    enum_type,
    pct_field,
)

DEFAULT_THRESHOLDS = [120, 90, 60, 30, 7]
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_thresholds(value: list[int] | None) -> list[int] | None:
    """Reminder thresholds: distinct whole days before the decide-by date, 0–730."""
    if value is None:
        return None
    days = sorted((int(v) for v in value), reverse=True)
    if not days:
        raise ValueError("give at least one threshold")
    if len(set(days)) != len(days):
        raise ValueError("give each threshold once")
    if any(d < 0 or d > 730 for d in days):
        raise ValueError("each threshold must be between 0 and 730 days")
    return days


def check_timezone(value: str | None) -> str | None:
    """An IANA time zone name such as America/Chicago."""
    if value is None:
        return None
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not a time zone name like America/Chicago") from exc
    return value


class Cooperative(Timestamps, table=True):
    """The purchasing cooperative that runs this deployment (exactly one)."""

    __tablename__: ClassVar[str] = "cooperatives"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    short_name: str = Field(default="", max_length=40)
    default_reminder_thresholds: list[int] = Field(
        default_factory=lambda: list(DEFAULT_THRESHOLDS), sa_type=JSON
    )


class DistrictBase(SQLModel):
    nces_id: str = Field(max_length=7)
    name: str = Field(min_length=1, max_length=200)
    state: str = Field(max_length=2)
    enrollment: int = Field(default=0, ge=0, le=2_000_000)
    enrollment_synthetic: bool = False
    fy_start_month: int = Field(default=7, ge=1, le=12)
    erate_c2_discount_pct: Decimal = pct_field(default=Decimal("40.00"))
    inflation_pct: Decimal = pct_field(default=Decimal("3.00"))
    reminder_thresholds: list[int] = Field(
        default_factory=lambda: list(DEFAULT_THRESHOLDS), sa_type=JSON
    )
    max_deferral_months: int = Field(default=12, ge=0, le=60)
    timezone: str = Field(default="America/Chicago", max_length=64)

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)

    @field_validator("nces_id")
    @classmethod
    def _nces_id(cls, value: str) -> str:
        value = value.strip()
        if not (len(value) == 7 and value.isascii() and value.isdigit()):
            raise ValueError("the NCES district id is 7 digits, e.g. 4808940")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value) or ""

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        value = value.strip().upper()
        if not (len(value) == 2 and value.isalpha()):
            raise ValueError("use the two-letter state code, e.g. TX")
        return value


class District(DistrictBase, Versioned, Timestamps, table=True):
    """A member school district; all inventory belongs to exactly one."""

    __tablename__: ClassVar[str] = "districts"
    id: int | None = Field(default=None, primary_key=True)
    cooperative_id: int = Field(foreign_key="cooperatives.id", index=True)
    nces_id: str = Field(max_length=7, unique=True)


class DistrictCreate(InputModel, DistrictBase):
    pass


class DistrictUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    enrollment: int | None = Field(default=None, ge=0, le=2_000_000)
    fy_start_month: int | None = Field(default=None, ge=1, le=12)
    erate_c2_discount_pct: Decimal | None = Field(
        default=None, ge=0, le=100, max_digits=5, decimal_places=2
    )
    inflation_pct: Decimal | None = Field(
        default=None, ge=0, le=100, max_digits=5, decimal_places=2
    )
    reminder_thresholds: list[int] | None = None
    max_deferral_months: int | None = Field(default=None, ge=0, le=60)
    timezone: str | None = Field(default=None, max_length=64)
    version: int

    _thresholds = field_validator("reminder_thresholds")(check_thresholds)
    _timezone = field_validator("timezone")(check_timezone)


class DistrictRead(DistrictBase):
    id: int
    cooperative_id: int
    version: int


class CategoryPolicy(SQLModel, table=True):
    """A district's refresh policy for one device category (docs/rules.md#device-refresh)."""

    __tablename__: ClassVar[str] = "category_policies"
    __table_args__ = (sa.UniqueConstraint("district_id", "category"),)
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    category: DeviceCategory = Field(sa_type=enum_type(DeviceCategory, 32))
    lifespan_months: int | None = Field(default=None, ge=1, le=240)
    replacement_item_id: int | None = Field(
        default=None, foreign_key="catalog_items.id", index=True
    )


class SchoolBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(default="", max_length=32)
    level: str = Field(default="", max_length=32)
    enrollment: int | None = Field(default=None, ge=0, le=100_000)


class School(SchoolBase, Versioned, Timestamps, table=True):
    """A school or site of a district; devices and licenses may be assigned to one."""

    __tablename__: ClassVar[str] = "schools"
    __table_args__ = (sa.UniqueConstraint("district_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)


class SchoolCreate(InputModel, SchoolBase):
    district_id: int | None = None


class SchoolUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, max_length=32)
    level: str | None = Field(default=None, max_length=32)
    enrollment: int | None = Field(default=None, ge=0, le=100_000)
    version: int


class SchoolRead(SchoolBase):
    id: int
    district_id: int
    version: int


class UserBase(SQLModel):
    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=120)
    role: Role = Field(sa_type=enum_type(Role, 24))
    district_id: int | None = Field(default=None)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL_RE.match(value):
            raise ValueError("enter an e-mail address like name@district.org")
        return value


class User(UserBase, Versioned, table=True):
    """A person who signs in. District roles belong to exactly one district."""

    __tablename__: ClassVar[str] = "users"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    district_id: int | None = Field(
        default=None, foreign_key="districts.id", index=True
    )
    password_hash: str = Field(default="", max_length=255)
    is_active: bool = True
    notify_email: bool = True
    weekly_digest: bool = True
    # The secret of the personal calendar feed URL; only its SHA-256 is stored.
    calendar_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = created_field()
    last_login_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    # The sign-in this object was loaded for (see lifecycle.auth); never stored.
    _login_key: str | None = PrivateAttr(default=None)

    # flask-login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session's key: which sign-in (a LoginSession) this browser holds."""
        if self._login_key is None:
            raise RuntimeError("sign in through lifecycle.auth.start_login_session")
        return self._login_key

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_district_user(self) -> bool:
        return Role(self.role).is_district

    def has_role(self, *roles: Role) -> bool:
        return Role(self.role) in roles


class UserCreate(InputModel, UserBase):
    password: str  # judged by the one password rule, accounts/passwords.py


class UserUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    role: Role | None = None
    district_id: int | None = None
    is_active: bool | None = None
    version: int


class UserRead(SQLModel):
    id: int
    email: str
    name: str
    role: Role
    district_id: int | None
    is_active: bool
    version: int


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__: ClassVar[str] = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_field()
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LoginSession(SQLModel, table=True):
    """One sign-in in one browser. The session and remember cookies carry its key and
    work only while this row exists: signing out deletes it, and deactivation, a role
    or password change delete all of a person's, so a copied cookie dies with them.
    Only the key's SHA-256 is stored."""

    __tablename__: ClassVar[str] = "login_sessions"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    key_hash: str = Field(max_length=64, unique=True)
    remember: bool = False
    created_at: datetime = created_field()


class VendorBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    website: str = Field(default="", max_length=300)
    support_email: str = Field(default="", max_length=254)
    support_phone: str = Field(default="", max_length=40)


class Vendor(VendorBase, Versioned, Timestamps, table=True):
    """A company we buy from (shared reference data: Dell, Google, CDW, …)."""

    __tablename__: ClassVar[str] = "vendors"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)


class VendorCreate(InputModel, VendorBase):
    pass


class VendorUpdate(InputModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=300)
    support_email: str | None = Field(default=None, max_length=254)
    support_phone: str | None = Field(default=None, max_length=40)
    version: int


class VendorRead(VendorBase):
    id: int
    version: int
