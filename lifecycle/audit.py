"""The audit trail: every ORM create/update/delete of an audited record writes an event.

A flush hook records changes for the models listed in AUDITED, so no service can forget.
Set-based statements (scans, bulk updates) bypass the ORM and call `record` themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from lifecycle.db import AppSession
from lifecycle.models import (
    ApiToken,
    AuditEvent,
    BudgetCap,
    BudgetPlan,
    CatalogItem,
    CategoryPolicy,
    Commitment,
    ContractVehicle,
    Cooperative,
    Device,
    District,
    License,
    OrderLine,
    PriceTier,
    PurchaseRound,
    Scenario,
    School,
    ServiceContract,
    User,
    Vendor,
    utcnow,
)

# model → entity type name used in events and URLs
AUDITED: dict[type[SQLModel], str] = {
    Cooperative: "cooperative",
    District: "district",
    School: "school",
    User: "user",
    ApiToken: "api_token",
    Vendor: "vendor",
    ContractVehicle: "vehicle",
    CatalogItem: "catalog_item",
    PriceTier: "price_tier",
    CategoryPolicy: "category_policy",
    Device: "device",
    License: "license",
    ServiceContract: "contract",
    PurchaseRound: "round",
    Commitment: "commitment",
    OrderLine: "order_line",
    BudgetPlan: "budget_plan",
    BudgetCap: "budget_cap",
    Scenario: "scenario",
}
IGNORED_FIELDS = frozenset(
    {"created_at", "updated_at", "version", "last_used_at", "last_login_at"}
)
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "calendar_token_hash"})


def jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _district_of(obj: Any) -> int | None:
    if isinstance(obj, District):
        return obj.id
    district_id = getattr(obj, "district_id", None)
    return district_id if isinstance(district_id, int) else None


def _label(obj: Any) -> str:
    for attr in ("asset_tag", "name", "product", "email", "contract_number", "sku"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return f"#{getattr(obj, 'id', '')}"


def _changes(obj: Any, mode: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in IGNORED_FIELDS or key == "id":
            continue
        if mode == "update":
            hist = state.attrs[key].history
            if not hist.has_changes():
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if jsonable(before) == jsonable(after):
                continue
        else:
            value = state.attrs[key].value
            before, after = (None, value) if mode == "create" else (value, None)
        if key in SECRET_FIELDS:
            changes[key] = ["•••", "•••"]
        else:
            changes[key] = [jsonable(before), jsonable(after)]
    return changes


def _event_row(
    session: Session, obj: Any, action: str, changes: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_id": session.info.get("actor_id"),
        "actor_label": session.info.get("actor_label") or "system",
        "district_id": _district_of(obj),
        "entity_type": AUDITED[type(obj)],
        "entity_id": obj.id,
        "action": action,
        "changes": changes,
        "summary": _label(obj)[:300],
    }


@event.listens_for(AppSession, "before_flush")
def _capture_updates_and_deletes(session: Session, _ctx: Any, _instances: Any) -> None:
    # History must be read before the flush resets it; ids of new rows come after.
    pending: list[dict[str, Any]] = session.info.setdefault("audit_pending", [])
    for obj in session.dirty:
        if type(obj) in AUDITED and session.is_modified(obj, include_collections=False):
            changes = _changes(obj, "update")
            if changes:
                pending.append(_event_row(session, obj, "update", changes))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            pending.append(_event_row(session, obj, "delete", _changes(obj, "delete")))


@event.listens_for(AppSession, "after_flush")
def _write_events(session: Session, _ctx: Any) -> None:
    rows: list[dict[str, Any]] = session.info.pop("audit_pending", [])
    for obj in session.new:
        if type(obj) in AUDITED:
            rows.append(_event_row(session, obj, "create", _changes(obj, "create")))
    if rows:
        session.connection().execute(sa.insert(AuditEvent), rows)


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: int,
    district_id: int | None,
    changes: dict[str, Any] | None = None,
    summary: str = "",
) -> None:
    """Write an event for something the flush hook cannot see (bulk statements, logins)."""
    session.add(
        AuditEvent(
            actor_id=session.info.get("actor_id"),
            actor_label=session.info.get("actor_label") or "system",
            district_id=district_id,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            changes=jsonable(changes or {}),
            summary=summary[:300],
        )
    )


@event.listens_for(AppSession, "after_soft_rollback")
def _drop_pending(session: Session, _previous: Any) -> None:
    session.info.pop("audit_pending", None)
