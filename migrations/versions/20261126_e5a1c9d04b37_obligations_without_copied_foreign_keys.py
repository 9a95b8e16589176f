"""obligations without foreign keys on the columns the scan copies

Obligations are derived: the scan copies district_id, school_id and catalog_item_id
from records whose own foreign keys were checked. Checking three more per derived row
was a quarter of the database's work in a first scan. Districts and catalog items are
never deleted; deleting a school detaches its obligations first.

Revision ID: e5a1c9d04b37
Revises: c41d9e3a7b20
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e5a1c9d04b37"
down_revision: str | None = "c41d9e3a7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIED = [
    ("fk_obligations_district_id_districts", "districts", "district_id"),
    ("fk_obligations_school_id_schools", "schools", "school_id"),
    (
        "fk_obligations_catalog_item_id_catalog_items",
        "catalog_items",
        "catalog_item_id",
    ),
]


def upgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        for name, _table, _column in COPIED:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    # without the keys a scan racing a school's deletion may have left its id behind
    # (the next scan re-derives it); clear such ids so the keys can come back
    op.execute(
        "UPDATE obligations SET school_id = NULL WHERE school_id IS NOT NULL "
        "AND school_id NOT IN (SELECT id FROM schools)"
    )
    op.execute(
        "UPDATE obligations SET catalog_item_id = NULL WHERE catalog_item_id IS NOT NULL "
        "AND catalog_item_id NOT IN (SELECT id FROM catalog_items)"
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        for name, table, column in COPIED:
            batch_op.create_foreign_key(name, table, [column], ["id"])
