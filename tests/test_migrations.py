"""The migrations build the whole schema on an empty database and agree with the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlmodel import SQLModel

from lifecycle.cli import alembic_config
from lifecycle.db import get_db


def _empty(app):
    engine = get_db(app).engine
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    return engine


def test_upgrade_from_empty_then_check_then_downgrade(app):
    engine = _empty(app)
    config = alembic_config(app)
    command.upgrade(config, "head")
    tables = set(sa.inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    command.check(config)  # raises if models and migrations disagree
    command.downgrade(config, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
