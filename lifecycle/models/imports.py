"""Files a district imports, and the rows each run refused (docs/rules.md#importing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from lifecycle.enums import ImportKind, ImportState
from lifecycle.models.base import Timestamps, UtcDateTime, Versioned, enum_type


class ImportFile(Versioned, Timestamps, table=True):
    """One uploaded file and how it is read: kind, key, mapping; the state and counts of
    its last run, and the last file row a run committed (where a retry resumes)."""

    __tablename__: ClassVar[str] = "imports"
    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="districts.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    kind: ImportKind = Field(sa_type=enum_type(ImportKind, 16))
    key: str = Field(max_length=24)
    filename: str = Field(max_length=255)
    size: int = 0
    # The file itself, so any worker can read it and a retry can resume.
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    headers: list[str] = Field(default_factory=list, sa_type=JSON)
    mapping: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    defaults: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    warnings: list[str] = Field(default_factory=list, sa_type=JSON)
    state: ImportState = Field(
        default=ImportState.DRAFT, sa_type=enum_type(ImportState, 16)
    )
    dry_run: bool = False
    job_id: int | None = Field(default=None, foreign_key="job_records.id", index=True)
    rows_total: int = 0
    last_row: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    message: str = Field(default="", max_length=500)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ImportRejection(SQLModel, table=True):
    """A row a run refused: its number in the file, the column, why, and its cells as
    the file gave them (the error file is these rows with an `error` column)."""

    __tablename__: ClassVar[str] = "import_rejections"
    __table_args__ = (sa.UniqueConstraint("import_id", "row_number"),)
    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="imports.id", index=True, ondelete="CASCADE")
    row_number: int
    column: str = Field(max_length=200)
    message: str = Field(max_length=500)
    cells: list[Any] = Field(default_factory=list, sa_type=JSON)
