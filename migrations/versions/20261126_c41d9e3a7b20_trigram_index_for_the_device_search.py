"""trigram index for the device search

The device list's search looks for text anywhere in the asset tag, serial, model and
person (ILIKE '%…%') of one district; on PostgreSQL a GIN index of the district and
the trigrams of that text (pg_trgm, btree_gin) answers it without reading every device
of a large district, nor every match of other districts. SQLite has no such index: nothing
to do there.

Revision ID: c41d9e3a7b20
Revises: 8b76e2d57c8a
Create Date: 2026-11-26 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c41d9e3a7b20"
down_revision: str | None = "8b76e2d57c8a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As lifecycle.models.inventory.DEVICE_SEARCH_TEXT spells it (written out: a
# migration does not change when the code does).
SEARCH_TEXT = (
    "coalesce(asset_tag, '') || ' ' || coalesce(serial, '') || ' ' || "
    "coalesce(model, '') || ' ' || coalesce(assigned_to, '')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "ix_devices_search_trgm",
        "devices",
        [sa.text(f"district_id, ({SEARCH_TEXT}) gin_trgm_ops")],
        postgresql_using="gin",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_devices_search_trgm", table_name="devices")
