"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from lifecycle.models.base import created_field


class AuditEvent(SQLModel, table=True):
    """Who did what to which record, when, with each changed field's before and after."""

    __tablename__: ClassVar[str] = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_events_district_id_at", "district_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_field()
    actor_id: int | None = Field(default=None, index=True)
    actor_label: str = Field(default="", max_length=254)
    district_id: int | None = Field(default=None, index=True)
    entity_type: str = Field(max_length=40)
    entity_id: int
    action: str = Field(max_length=40)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    summary: str = Field(default="", max_length=300)
