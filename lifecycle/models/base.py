"""Shared column types and mixins for the table models."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import (
    BeforeValidator,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from lifecycle.bounds import (
    MONEY_DIGITS,
    NOT_WHOLE,
    out_of_range,
    out_of_window,
    unstorable_text,
)

# Stable constraint names, so migrations can address them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
# The device search's index needs two extensions; migrations create them too.
for _extension in ("pg_trgm", "btree_gin"):
    _create = sa.DDL(f"CREATE EXTENSION IF NOT EXISTS {_extension}")  # type: ignore[no-untyped-call]
    sa.event.listen(
        SQLModel.metadata, "before_create", _create.execute_if(dialect="postgresql")
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


MONEY_AS_TEXT = 'send money as a string, e.g. "1234.50"'


def _money_text(value: Any) -> Any:
    """Refuse a number for money: a JSON float has lost its cents before we see it
    (0.1 + 0.2), and accepting some numbers would make clients think all are fine."""
    if isinstance(value, int | float):  # bool too: True is not a price
        raise ValueError(MONEY_AS_TEXT)
    return value


# Money in every model that reads or shows it (docs/architecture.md#the-json-api): a string with two decimals
# in JSON ("1234.50") both ways; a Decimal in Python; a JSON number is a 422.
Money = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^-?[0-9]{{1,{MONEY_DIGITS}}}(\.[0-9]{{1,2}})?$",
            "description": "money: a string with up to two decimals, never a number",
            "examples": ["1234.50"],
        }
    ),
]

# A percentage as the API shows it: "3.00", like money (but requests may send 3).
Percent = Annotated[
    Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")
]


class StrEnumType(sa.types.TypeDecorator[Any]):
    """A closed vocabulary stored as text; read back as the enum member."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


def enum_type(enum_cls: type[StrEnum], length: int = 24) -> StrEnumType:
    return StrEnumType(enum_cls, length)


def money_field(*, default: Decimal | None = None, nullable: bool = False) -> Any:
    """A NUMERIC(14,2) money column (docs/rules.md#money)."""
    return Field(
        default=default,
        max_digits=14,
        decimal_places=2,
        nullable=nullable,
    )


def pct_field(*, default: Decimal | None = None) -> Any:
    """A percentage with two decimals, 0–100."""
    return Field(default=default, max_digits=5, decimal_places=2, ge=0, le=100)


def created_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


def updated_field() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=UtcDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


def _takes_int(annotation: Any) -> bool:
    """Whether a field is a whole number (optionally None), not a truth value."""
    if annotation is int:
        return True
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return int in args and bool not in args
    return False


class InputModel(SQLModel):
    """What a form or a JSON body sends: every whole number within the INTEGER range
    and every date within the accepted window (lifecycle/bounds.py).

    Only input models check this: a row stored before the window existed must still
    read back (the Read models and the API resources accept any date)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_truth_values_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads JSON true/false as 1/0: `"school_id": true` would name a row
        field = cls.model_fields.get(info.field_name or "")
        if (
            isinstance(value, bool)
            and field is not None
            and _takes_int(field.annotation)
        ):
            raise ValueError(NOT_WHOLE)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, value: Any) -> Any:
        problem = None
        if isinstance(value, str):
            problem = unstorable_text(value)
        elif isinstance(value, datetime):
            problem = out_of_window(value.date())
        elif isinstance(value, date):
            problem = out_of_window(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            problem = out_of_range(value)
        if problem:
            raise ValueError(problem)
        return value


class Versioned(SQLModel):
    """Optimistic locking: every write sends the version it read (docs/architecture.md#the-json-api)."""

    version: int = Field(default=1, nullable=False)


class Timestamps(SQLModel):
    created_at: datetime = created_field()
    updated_at: datetime = updated_field()
