"""Writing one chunk of an import: set-based, within one district, keyed as chosen.

A chunk is validated row by row (pure), then written in a handful of statements
whatever its size: one SELECT of the records its keys name, one of the other unique
column's owners (devices), one INSERT … RETURNING of the new records, one bulk UPDATE
of the changed ones, one INSERT of their audit events and one of the refused rows. A
blank cell leaves the stored value alone; a value equal to the stored one is no change,
so importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from lifecycle import audit
from lifecycle.enums import ImportKind, ItemKind
from lifecycle.imports.fields import KEYS
from lifecycle.imports.reading import Cell
from lifecycle.imports.rows import Plan, Prepared, Rejected, key_of, prepare
from lifecycle.imports.values import name_key, text
from lifecycle.models import (
    AuditEvent,
    CatalogItem,
    ContractVehicle,
    Device,
    ImportRejection,
    License,
    School,
    ServiceContract,
    Vendor,
    utcnow,
)
from lifecycle.scan.refresh import recompute_device_refresh
from lifecycle.scan.schedule import aue_month_end

MODELS: dict[ImportKind, Any] = {
    ImportKind.DEVICES: Device,
    ImportKind.LICENSES: License,
    ImportKind.CONTRACTS: ServiceContract,
}
SUBJECTS = {
    ImportKind.DEVICES: "device",
    ImportKind.LICENSES: "license",
    ImportKind.CONTRACTS: "contract",
}
# A change to one of these redraws an agreement's terms (the scan initialises them).
TERM_RULES = (
    "term_start",
    "initial_term_months",
    "renewal_term_months",
    "renewal_type",
)
DERIVED_TERMS = (
    "current_term_number", "decision_term_number", "current_term_start",
    "current_term_end", "decide_by",
)  # fmt: skip
TEXT_FIELDS = ("model", "funding_source", "assigned_to", "notes")


@dataclass
class Context:
    """What resolving names needs, read once per run: the district's schools, the
    vendors, the catalog's items by name (with their vehicle and its vendor)."""

    district_id: int
    schools: dict[str, int]
    vendors: dict[str, int]
    items: dict[str, tuple[int, int, int]]  # name key → item, vehicle, vendor

    @classmethod
    def load(cls, session: Session, district_id: int, kind: ImportKind) -> Context:
        schools = session.exec(
            select(School.name, School.id).where(col(School.district_id) == district_id)
        ).all()
        vendors = session.exec(select(Vendor.name, Vendor.id)).all()
        item_kind = ItemKind.DEVICE if kind is ImportKind.DEVICES else ItemKind.LICENSE
        items = session.exec(
            select(
                CatalogItem.name,
                CatalogItem.id,
                CatalogItem.vehicle_id,
                ContractVehicle.vendor_id,
            )
            .join(
                ContractVehicle, col(ContractVehicle.id) == col(CatalogItem.vehicle_id)
            )
            .where(col(CatalogItem.kind) == item_kind)
            .order_by(col(CatalogItem.active).desc(), col(CatalogItem.id))
        ).all()
        catalog: dict[str, tuple[int, int, int]] = {}
        for name, item_id, vehicle_id, vendor_id in items:
            assert item_id is not None
            catalog.setdefault(name_key(name), (item_id, vehicle_id, vendor_id))
        return cls(
            district_id=district_id,
            schools={name_key(n): i for n, i in schools if i is not None},
            vendors={name_key(n): i for n, i in vendors if i is not None},
            items=catalog,
        )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    changed_ids: list[int] = field(default_factory=list)


def first_rows(plan: Plan, rows: Any) -> tuple[int, dict[int, Rejected]]:
    """One pass over the file: how many rows it has, and each row whose key (or, for
    devices, whose other unique value) an earlier row already has — reported, never
    merged. The same file gives the same answer, so a resumed run agrees with the first."""
    seen: dict[tuple[str, ...], int] = {}
    other = "serial" if plan.key == "asset_tag" else "asset_tag"
    other_index = plan.mapping.get(other) if plan.kind is ImportKind.DEVICES else None
    seen_other: dict[str, int] = {}
    duplicates: dict[int, Rejected] = {}
    total = 0
    key_column = plan.column(KEYS[plan.kind][plan.key][0])
    for number, cells in rows:
        total += 1
        key = key_of(plan, cells)
        if key is not None:
            first = seen.setdefault(key, number)
            if first != number:
                duplicates[number] = Rejected(
                    number, key_column, f"the same key as row {first} (not merged)"
                )
                continue
        if other_index is not None and other_index < len(cells):
            value = text(cells[other_index])
            if value:
                first = seen_other.setdefault(value, number)
                if first != number:
                    duplicates[number] = Rejected(
                        number,
                        plan.column(other),
                        f"the same {other.replace('_', ' ')} as row {first}",
                    )
    return total, duplicates


def resolve(plan: Plan, ctx: Context, row: Prepared) -> str | None:
    """Put ids in place of names; what is wrong when a name means nothing here."""
    values = row.values
    if row.school:
        found = next(
            (ctx.schools[k] for k in map(name_key, row.school) if k in ctx.schools),
            None,
        )
        if found is None:
            return f"no school named {row.school[0]!r} in this district"
        values[
            "coverage_school_id" if plan.kind is ImportKind.CONTRACTS else "school_id"
        ] = found
    if row.vendor:
        vendor = ctx.vendors.get(name_key(row.vendor))
        if vendor is None:
            return f"no vendor named {row.vendor!r}"
        values["vendor_id"] = vendor
    name = (
        values.get("model")
        if plan.kind is ImportKind.DEVICES
        else values.get("product")
    )
    item = ctx.items.get(name_key(name)) if isinstance(name, str) and name else None
    if item is not None and plan.kind is not ImportKind.CONTRACTS:
        values["catalog_item_id"], vehicle, vendor_id = item
        values.setdefault("vehicle_id", vehicle)
        if plan.kind is ImportKind.LICENSES:
            values.setdefault("vendor_id", vendor_id)
    aue = values.get("aue_date")
    if isinstance(aue, date):
        values["aue_date"] = aue_month_end(aue.year, aue.month)
    return None


def _key_clause(kind: ImportKind, key: str, keys: list[tuple[Any, ...]]) -> Any:
    model = MODELS[kind]
    names = KEYS[kind][key]
    if len(names) == 1:
        return col(getattr(model, names[0])).in_([k[0] for k in keys])
    columns = [col(getattr(model, n)) for n in names]
    return sa.tuple_(*columns).in_(keys)


def _key_value(kind: ImportKind, key: str, values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[n] for n in KEYS[kind][key])


def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """The column defaults of a new record (what the model gives a field not set)."""
    table = model.__table__  # type: ignore[attr-defined]
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ("id", "created_at", "updated_at") or name not in table.c:
            continue
        if info.default_factory is not None:
            out[name] = info.default_factory()  # type: ignore[call-arg]
        elif not info.is_required():
            out[name] = info.default
    return out


def apply_chunk(
    session: Session,
    *,
    import_id: int,
    plan: Plan,
    ctx: Context,
    rows: list[tuple[int, list[Cell]]],
    duplicates: dict[int, Rejected],
    dry_run: bool,
) -> Counts:
    """Validate, resolve and write one chunk; the caller commits it whole."""
    counts = Counts()
    refused: list[tuple[Rejected, list[Cell]]] = []
    ready: list[tuple[Prepared, list[Cell]]] = []
    for number, cells in rows:
        result = duplicates.get(number) or prepare(plan, number, cells)
        if isinstance(result, Prepared):
            problem = resolve(plan, ctx, result)
            if problem:
                column = plan.column("vendor" if "vendor" in problem else "school")
                result = Rejected(number, column, problem)
        if isinstance(result, Rejected):
            refused.append((result, cells))
        else:
            ready.append((result, cells))
    model = MODELS[plan.kind]
    existing: dict[tuple[Any, ...], Any] = {}
    if ready:
        keys = list({_key_value(plan.kind, plan.key, r.values) for r, _ in ready})
        stmt = select(model).where(
            col(model.district_id) == ctx.district_id,
            _key_clause(plan.kind, plan.key, keys),
        )
        for obj in session.exec(stmt).all():
            existing.setdefault(
                tuple(getattr(obj, n) for n in KEYS[plan.kind][plan.key]), obj
            )
    if plan.kind is ImportKind.DEVICES and ready:
        ready = _unique_elsewhere(session, plan, ctx, ready, existing, refused)
    now = utcnow()
    defaults = _defaults(model)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    actor = {
        "actor_id": session.info.get("actor_id"),
        "actor_label": session.info.get("actor_label") or "import",
    }
    for row, _ in ready:
        values = row.values
        for name in TEXT_FIELDS:
            if name in values and values[name] is None:
                values[name] = ""
        current = existing.get(_key_value(plan.kind, plan.key, values))
        if current is None:
            inserts.append(
                {**defaults, **values, "district_id": ctx.district_id,
                 "created_at": now, "updated_at": now}
            )  # fmt: skip
            continue
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not changed:
            counts.unchanged += 1
            continue
        update = {**changed, "id": current.id, "version": current.version + 1,
                  "updated_at": now}  # fmt: skip
        if plan.kind is not ImportKind.DEVICES and any(
            k in changed for k in TERM_RULES
        ):
            update.update(dict.fromkeys(DERIVED_TERMS))
        updates.append(update)
        events.append(
            {**actor, "at": now, "district_id": ctx.district_id,
             "entity_type": SUBJECTS[plan.kind], "entity_id": current.id,
             "action": "import_update",
             "changes": audit.jsonable({k: [getattr(current, k), v] for k, v in changed.items()}),
             "summary": f"row {row.number} of import {import_id}"}
        )  # fmt: skip
    counts.created, counts.updated = len(inserts), len(updates)
    counts.rejected = len(refused)
    if refused:
        session.execute(
            sa.insert(ImportRejection),
            [
                {"import_id": import_id, "row_number": r.number,
                 "column": r.column[:200], "message": r.message[:500],
                 "cells": [_jsonable_cell(c) for c in cells]}
                for r, cells in refused
            ],
        )  # fmt: skip
    if dry_run:
        return counts
    if inserts:
        new_ids = (
            session.execute(
                sa.insert(model).returning(col(model.id), sort_by_parameter_order=True),
                inserts,
            )
            .scalars()
            .all()
        )
        counts.changed_ids.extend(int(i) for i in new_ids)
        events.extend(
            {**actor, "at": now, "district_id": ctx.district_id,
             "entity_type": SUBJECTS[plan.kind], "entity_id": int(new_id),
             "action": "import_create",
             "changes": audit.jsonable({k: [None, v] for k, v in row.items()
                                        if k in ready_fields(row)}),
             "summary": f"import {import_id}"}
            for new_id, row in zip(new_ids, inserts, strict=True)
        )  # fmt: skip
    if updates:
        session.execute(sa.update(model), updates)
        counts.changed_ids.extend(int(u["id"]) for u in updates)
    if events:
        session.execute(sa.insert(AuditEvent), events)
    if plan.kind is ImportKind.DEVICES and counts.changed_ids:
        recompute_device_refresh(session, device_ids=counts.changed_ids)
    return counts


def ready_fields(row: dict[str, Any]) -> list[str]:
    """The fields of a new record worth an audit line: the ones with a value."""
    skip = {"district_id", "created_at", "updated_at", "version"}
    return [k for k, v in row.items() if k not in skip and v not in (None, "", [])]


def _jsonable_cell(cell: Cell) -> Any:
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def _unique_elsewhere(
    session: Session,
    plan: Plan,
    ctx: Context,
    ready: list[tuple[Prepared, list[Cell]]],
    existing: dict[tuple[Any, ...], Any],
    refused: list[tuple[Rejected, list[Cell]]],
) -> list[tuple[Prepared, list[Cell]]]:
    """A device's other unique value (its serial when keyed by tag, its tag when keyed
    by serial) held by another device of the district refuses the row: one query."""
    other = "serial" if plan.key == "asset_tag" else "asset_tag"
    wanted = {r.values.get(other) for r, _ in ready} - {None, ""}
    if not wanted:
        return ready
    holders = {
        value: (device_id, tag)
        for device_id, value, tag in session.execute(
            sa.select(
                col(Device.id), col(getattr(Device, other)), col(Device.asset_tag)
            ).where(
                col(Device.district_id) == ctx.district_id,
                col(getattr(Device, other)).in_(list(wanted)),
            )
        ).all()
    }
    kept = []
    for row, cells in ready:
        value = row.values.get(other)
        holder = holders.get(value) if value else None
        current = existing.get(_key_value(plan.kind, plan.key, row.values))
        if holder is not None and (current is None or current.id != holder[0]):
            label = "serial" if other == "serial" else "asset tag"
            refused.append(
                (
                    Rejected(
                        row.number,
                        plan.column(other),
                        f"{label} {value} belongs to device {holder[1]} already",
                    ),
                    cells,
                )
            )
        else:
            kept.append((row, cells))
    return kept
