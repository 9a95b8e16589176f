"""Background jobs people started or the scheduler ran, as the UI shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from lifecycle.enums import JobState
from lifecycle.models.base import UtcDateTime, created_field, enum_type


class JobRecord(SQLModel, table=True):
    """One user-visible background job: kind, state, progress, result summary, error."""

    __tablename__: ClassVar[str] = "job_records"
    __table_args__ = (
        sa.Index("ix_job_records_state_created_at", "state", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    district_id: int | None = Field(
        default=None, foreign_key="districts.id", index=True
    )
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    state: JobState = Field(default=JobState.QUEUED, sa_type=enum_type(JobState, 16))
    progress: int = Field(default=0, ge=0, le=100)
    message: str = Field(default="", max_length=500)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    error: str = Field(default="", max_length=4000)
    rq_job_id: str = Field(default="", max_length=120)
    attempts: int = 0
    created_at: datetime = created_field()
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class JobRead(SQLModel):
    id: int
    kind: str
    state: JobState
    progress: int
    message: str
    result: dict[str, Any] | None
    error: str
    district_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
