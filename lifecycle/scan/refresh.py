"""Set-based refresh dates for devices (docs/rules.md#device-refresh), computed in SQL over whole tables."""

from __future__ import annotations

from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.enums import DeviceCategory
from lifecycle.models import CatalogItem, CategoryPolicy, Device
from lifecycle.scan.binds import DISTRICT
from lifecycle.sqlfuncs import (
    add_months,
    built_once,
    earliest,
    ids_param,
    ids_value,
    in_ids,
    rowcount,
)


def refresh_dates(*where: sa.ColumnElement[bool]) -> sa.CTE:
    """The devices `where` selects whose stored refresh date or reason is not what the
    rule gives (§3.2): id, due, reason and the stored due.

    Due: the earliest of purchase + lifespan (the device's own, else the district
    policy's for its category, else the catalog item's), the AUE date and the explicit
    EOL date. Computed once per device (a CTE PostgreSQL keeps as such): the reason
    compares the date with AUE and EOL, and an expression written twice is evaluated
    twice.
    """
    lifespan = sa.func.coalesce(
        col(Device.lifespan_months),
        col(CategoryPolicy.lifespan_months),
        col(CatalogItem.lifespan_months),
    )
    dates = (
        sa.select(
            col(Device.id).label("id"),
            earliest(
                add_months(col(Device.purchase_date), lifespan),
                col(Device.aue_date),
                col(Device.eol_date),
            ).label("due"),
            col(Device.aue_date).label("aue"),
            col(Device.eol_date).label("eol"),
            col(Device.refresh_due).label("stored_due"),
            col(Device.refresh_reason).label("stored_reason"),
        )
        .select_from(Device)
        .outerjoin(
            CategoryPolicy,
            sa.and_(
                col(CategoryPolicy.district_id) == col(Device.district_id),
                col(CategoryPolicy.category) == col(Device.category),
            ),
        )
        .outerjoin(CatalogItem, col(CatalogItem.id) == col(Device.catalog_item_id))
        .where(*where)
        .cte("refresh_dates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    reason = sa.case(
        (dates.c.due.is_(None), ""),
        (dates.c.due == dates.c.aue, "aue"),
        (dates.c.due == dates.c.eol, "eol"),
        else_="lifespan",
    )
    return (
        sa.select(dates.c.id, dates.c.due, reason.label("reason"), dates.c.stored_due)
        .where(
            sa.or_(
                dates.c.stored_due.is_distinct_from(dates.c.due),
                dates.c.stored_reason.is_distinct_from(reason),
            )
        )
        .cte("refresh_changed")
    )


def _recompute_stmt(session: Session, scope: frozenset[str]) -> Any:
    """The UPDATE for one kind of scope, its values bound (built once per scope)."""
    where: list[sa.ColumnElement[bool]] = []
    if "district" in scope:
        where.append(col(Device.district_id) == DISTRICT)
    if "categories" in scope:
        categories = sa.bindparam("p_categories", type_=sa.String(), expanding=True)
        where.append(col(Device.category).in_(categories))
    if "devices" in scope:
        ids = ids_param(session, "p_device_ids")
        where.append(in_ids(session, col(Device.id), ids))
    changed = refresh_dates(*where)
    return (
        sa.update(Device)
        .where(col(Device.id) == changed.c.id)
        .values(refresh_due=changed.c.due, refresh_reason=changed.c.reason)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )


def recompute_device_refresh(
    session: Session,
    *,
    district_id: int | None = None,
    categories: list[DeviceCategory] | None = None,
    device_ids: list[int] | None = None,
) -> int:
    """Bring refresh_due and refresh_reason up to date (of every device, or those of a
    district, some categories, a list); returns how many devices changed."""
    params: dict[str, Any] = {}
    if district_id is not None:
        params["p_district_id"] = district_id
    if categories is not None:
        params["p_categories"] = [category.value for category in categories]
    if device_ids is not None:
        params["p_device_ids"] = ids_value(session, device_ids)
    scope = frozenset(
        name
        for name, given in (
            ("district", district_id), ("categories", categories), ("devices", device_ids),
        )
        if given is not None
    )  # fmt: skip
    stmt = built_once(
        session,
        f"recompute refresh {sorted(scope)}",
        partial(_recompute_stmt, scope=scope),
    )
    session.flush()  # the rule reads devices and policies in SQL: pending edits first
    return rowcount(session.connection().execute(stmt, params), session)
