"""Upcoming things that need a decision or money, and the reminders sent about them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lifecycle.enums import ObligationKind, ObligationState
from lifecycle.models.base import (
    Money,
    Timestamps,
    UtcDateTime,
    created_field,
    enum_type,
    money_field,
)


class Obligation(Timestamps, table=True):
    """A computed refresh, warranty end or renewal (docs/rules.md#obligations); derived by the scan.

    `district_id`, `school_id` and `catalog_item_id` are copies the scan takes from its
    subjects (whose own foreign keys were checked) and carry no foreign key of their
    own: checking three per derived row was a quarter of the database's work in a
    first scan (bench/scan.py). Nothing can leave them dangling: districts and catalog
    items are never deleted, and deleting a school detaches its obligations first
    (`org.services.delete_school`).
    """

    __tablename__: ClassVar[str] = "obligations"
    __table_args__ = (
        # District first: the scan works one district at a time, and this key serves
        # both its upserts and its lookups of what is stored.
        sa.UniqueConstraint(
            "district_id", "subject_type", "subject_id", "kind", "term_number"
        ),
        sa.Index(
            "ix_obligations_subject_type_subject_id", "subject_type", "subject_id"
        ),
        sa.Index("ix_obligations_district_id_due_date", "district_id", "due_date"),
        sa.Index("ix_obligations_district_id_decide_by", "district_id", "decide_by"),
        sa.Index("ix_obligations_district_id_state", "district_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    district_id: int
    kind: ObligationKind = Field(sa_type=enum_type(ObligationKind, 24))
    subject_type: str = Field(max_length=16)  # "device" | "license" | "contract"
    subject_id: int
    # 0 for devices; the term that ends for licenses and contracts.
    term_number: int = 0
    due_date: date
    decide_by: date
    estimated_cost: Money = money_field(default=Decimal("0.00"))
    fiscal_year: int
    category: str = Field(default="", max_length=32)
    school_id: int | None = Field(default=None, index=True)
    funding_source: str = Field(default="", max_length=80)
    catalog_item_id: int | None = Field(default=None, index=True)
    quantity: int = 1
    state: ObligationState = Field(
        default=ObligationState.UPCOMING, sa_type=enum_type(ObligationState, 16)
    )
    snoozed_until: date | None = None
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by_id: int | None = Field(
        default=None, foreign_key="users.id", index=True
    )
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)


class Reminder(SQLModel, table=True):
    """One notice for (obligation, term, threshold); the unique key makes it at most once."""

    __tablename__: ClassVar[str] = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("obligation_id", "term_number", "threshold_days"),
    )
    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(
        foreign_key="obligations.id", index=True, ondelete="CASCADE"
    )
    district_id: int = Field(foreign_key="districts.id", index=True)
    term_number: int
    threshold_days: int
    created_at: datetime = created_field()


class Notification(SQLModel, table=True):
    """An in-app notice for one person (the bell): what a scan found due for them."""

    __tablename__: ClassVar[str] = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    district_id: int | None = Field(
        default=None, foreign_key="districts.id", index=True
    )
    kind: str = Field(default="reminder", max_length=24)
    title: str = Field(max_length=300)
    body: str = Field(default="", max_length=4000)
    link: str = Field(default="", max_length=500)
    reminder_count: int = 0
    created_at: datetime = created_field()
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutboxEmail(SQLModel, table=True):
    """An e-mail to send. It counts as sent only once the SMTP server accepted it.

    `dedupe_key` makes each logical message (the reminders of one scan for one person, one
    weekly digest) exist once, however often the job that writes it runs.
    """

    __tablename__: ClassVar[str] = "outbox_emails"
    __table_args__ = (
        sa.Index("ix_outbox_emails_sent_at_created_at", "sent_at", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    district_id: int | None = Field(
        default=None, foreign_key="districts.id", index=True
    )
    kind: str = Field(default="reminder", max_length=24)
    dedupe_key: str = Field(max_length=200, unique=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    created_at: datetime = created_field()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    message_id: str = Field(default="", max_length=300)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
