"""Set-based refresh dates for devices (DESIGN §3.2), computed in SQL over whole tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import DeviceCategory
from ..models import CatalogItem, CategoryPolicy, Device
from ..sqlfuncs import add_months, earliest, rowcount


def lifespan_expr() -> sa.ColumnElement[Any]:
    """The device override, else the district policy for its category, else the catalog default."""
    policy = (
        sa.select(col(CategoryPolicy.lifespan_months))
        .where(
            col(CategoryPolicy.district_id) == col(Device.district_id),
            col(CategoryPolicy.category) == col(Device.category),
        )
        .scalar_subquery()
    )
    catalog = (
        sa.select(col(CatalogItem.lifespan_months))
        .where(col(CatalogItem.id) == col(Device.catalog_item_id))
        .scalar_subquery()
    )
    return sa.func.coalesce(col(Device.lifespan_months), policy, catalog)


def refresh_due_expr() -> sa.ColumnElement[Any]:
    """Earliest of purchase + lifespan, the AUE date and the explicit EOL date."""
    by_lifespan = add_months(col(Device.purchase_date), lifespan_expr())
    return earliest(by_lifespan, col(Device.aue_date), col(Device.eol_date))


def recompute_device_refresh(
    session: Session,
    *,
    district_id: int | None = None,
    category: DeviceCategory | None = None,
    device_ids: list[int] | None = None,
) -> int:
    """Bring refresh_due and refresh_reason up to date; returns the rows that changed."""
    where: list[sa.ColumnElement[bool]] = []
    if district_id is not None:
        where.append(col(Device.district_id) == district_id)
    if category is not None:
        where.append(col(Device.category) == category)
    if device_ids is not None:
        where.append(col(Device.id).in_(device_ids))
    due = refresh_due_expr()
    changed = rowcount(
        session.execute(
            sa.update(Device)
            .where(*where, col(Device.refresh_due).is_distinct_from(due))
            .values(refresh_due=due)
            .execution_options(synchronize_session=False)
        )
    )
    reason = sa.case(
        (col(Device.refresh_due).is_(None), ""),
        (col(Device.refresh_due) == col(Device.aue_date), "aue"),
        (col(Device.refresh_due) == col(Device.eol_date), "eol"),
        else_="lifespan",
    )
    changed += rowcount(
        session.execute(
            sa.update(Device)
            .where(*where, col(Device.refresh_reason) != reason)
            .values(refresh_reason=reason)
            .execution_options(synchronize_session=False)
        )
    )
    return changed
