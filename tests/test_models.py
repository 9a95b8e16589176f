"""Schema rules every table keeps: indexed foreign keys, money as NUMERIC(14,2), documented tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

import lifecycle.models  # noqa: F401  (registers every table)


def _leading_columns(table: sa.Table) -> set[str]:
    leading = {idx.columns[0].name for idx in table.indexes if idx.columns}
    for constraint in table.constraints:
        if (
            isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
            and constraint.columns
        ):
            leading.add(next(iter(constraint.columns)).name)
    return leading


def test_every_foreign_key_and_district_column_is_indexed():
    missing = []
    for table in SQLModel.metadata.sorted_tables:
        leading = _leading_columns(table)
        for column in table.columns:
            needs_index = column.foreign_keys or column.name == "district_id"
            if needs_index and column.name not in leading:
                missing.append(f"{table.name}.{column.name}")
    assert not missing, f"foreign keys without an index: {missing}"


def test_money_is_numeric_with_cents():
    money_names = (
        "price",
        "cost",
        "cap",
        "unit_price",
        "list_price",
        "cost_per_period",
    )
    wrong = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            is_money = any(
                column.name == n or column.name.endswith("_" + n) for n in money_names
            )
            exact = isinstance(column.type, sa.Numeric) and (
                column.type.precision,
                column.type.scale,
            ) == (14, 2)
            if is_money and not exact:
                wrong.append(f"{table.name}.{column.name}: {column.type}")
    assert not wrong, wrong


def test_every_table_says_what_it_means():
    undocumented = [
        mapper.class_.__name__
        for mapper in SQLModel._sa_registry.mappers
        if not (mapper.class_.__doc__ or "").strip()
    ]
    assert not undocumented
