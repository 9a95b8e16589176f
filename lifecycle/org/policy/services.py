"""A district's planning policy: lifespan and replacement per category, and settings.

The settings page edits the District fields that drive reminders, fiscal years and the
forecast (docs/rules.md#reminders, docs/rules.md#fiscal-years) together with the CategoryPolicy rows
(docs/rules.md#device-refresh). The whole
page is guarded by the district's `version`: any saved change, to a category too, moves
it on, so a stale form answers 409. A lifespan change recomputes the refresh dates of
that category's devices in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from lifecycle.bounds import parse_id, parse_int
from lifecycle.budget.fiscal import fiscal_year, fiscal_year_bounds
from lifecycle.enums import DeviceCategory, ItemKind
from lifecycle.models import (
    AuditEvent,
    CatalogItem,
    CategoryPolicy,
    Device,
    District,
    DistrictUpdate,
    User,
)
from lifecycle.scan.jobs import schedule_rescan
from lifecycle.scan.refresh import recompute_device_refresh, refresh_dates
from lifecycle.tenancy import writable_district
from lifecycle.web.errors import ValidationFailed
from lifecycle.web.forms import refuse_unknown, validate
from lifecycle.web.records import claim_version

SETTINGS = (
    "reminder_thresholds",
    "fy_start_month",
    "inflation_pct",
    "erate_c2_discount_pct",
    "max_deferral_months",
)
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
CENT = Decimal("0.01")
THRESHOLD_HINT = "must be whole days separated by commas, e.g. 120, 90, 60, 30, 7"


def lifespan_field(category: DeviceCategory) -> str:
    return f"lifespan_{category.value}"


def replacement_field(category: DeviceCategory) -> str:
    return f"replacement_{category.value}"


def policy_fields() -> set[str]:
    """The fields of the policy form."""
    return {*SETTINGS} | {
        f(c) for c in DeviceCategory for f in (lifespan_field, replacement_field)
    }


@dataclass
class CategoryRule:
    """One category's row of the policy: lifespan and replacement catalog item."""

    lifespan_months: int | None = None
    replacement_item_id: int | None = None


@dataclass
class PolicyInput:
    """A validated policy form."""

    settings: DistrictUpdate
    categories: dict[DeviceCategory, CategoryRule] = field(default_factory=dict)


@dataclass
class PolicyResult:
    changed_categories: list[DeviceCategory]
    devices_redated: int


def parse_thresholds(raw: str) -> list[int]:
    """'120, 90, 60' → [120, 90, 60]: whole days 0–730, each once (a 422 otherwise)."""
    parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValidationFailed({"reminder_thresholds": "give at least one threshold"})
    try:
        days = [parse_int(p) for p in parts]
    except ValueError as exc:
        raise ValidationFailed({"reminder_thresholds": THRESHOLD_HINT}) from exc
    if any(d < 0 or d > 730 for d in days):
        raise ValidationFailed(
            {"reminder_thresholds": "each threshold must be between 0 and 730 days"}
        )
    repeated = sorted({d for d in days if days.count(d) > 1}, reverse=True)
    if repeated:
        listed = ", ".join(str(d) for d in repeated)
        raise ValidationFailed(
            {"reminder_thresholds": f"lists {listed} twice; give each day once"}
        )
    return sorted(days, reverse=True)


def _too_precise(raw: str | None) -> bool:
    """More than cents of a percent (NUMERIC(5,2) would round it silently)."""
    try:
        value = Decimal(raw or "0")
        return value.is_finite() and value != value.quantize(CENT)
    except (InvalidOperation, ValueError):
        return False  # not a number: the model's validation says so


def _whole(raw: str, low: int, high: int) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = parse_int(raw)
    except ValueError as exc:
        raise ValueError("must be a whole number of months") from exc
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high} months")
    return value


def parse_policy(
    session: Session, form: Mapping[str, str], *, version: int | None
) -> PolicyInput:
    """Read and check the whole form, collecting every problem before failing."""
    errors: dict[str, str] = {}
    try:
        refuse_unknown(form.keys(), policy_fields())
    except ValidationFailed as exc:
        errors.update(exc.fields)
    settings: dict[str, Any] = {"version": version}
    try:
        settings["reminder_thresholds"] = parse_thresholds(
            form.get("reminder_thresholds", "")
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    for name in SETTINGS[1:]:
        raw = (form.get(name) or "").strip()
        settings[name] = raw if raw else None
        if not raw:
            errors[name] = "is required"
    parsed: DistrictUpdate | None = None
    try:
        parsed = validate(DistrictUpdate, settings)
    except ValidationFailed as exc:
        for name, problem in exc.fields.items():
            errors.setdefault(name, problem)
    for name in ("inflation_pct", "erate_c2_discount_pct"):
        if name not in errors and _too_precise(settings[name]):
            errors[name] = "can have at most 2 decimals"
    categories: dict[DeviceCategory, CategoryRule] = {}
    wanted_items: dict[DeviceCategory, int] = {}
    for category in DeviceCategory:
        rule = CategoryRule()
        try:
            rule.lifespan_months = _whole(
                form.get(lifespan_field(category), ""), 1, 240
            )
        except ValueError as exc:
            errors[lifespan_field(category)] = str(exc)
        raw_item = (form.get(replacement_field(category)) or "").strip()
        if raw_item:
            try:
                wanted_items[category] = parse_id(raw_item)
            except ValueError:
                errors[replacement_field(category)] = "choose an item from the list"
        categories[category] = rule
    usable = _device_items(session, set(wanted_items.values()))
    for category, item_id in wanted_items.items():
        if item_id in usable:
            categories[category].replacement_item_id = item_id
        else:
            errors[replacement_field(category)] = (
                "is not a device in the cooperative catalog"
            )
    if errors or parsed is None:
        raise ValidationFailed(errors, "Some settings need attention.")
    return PolicyInput(settings=parsed, categories=categories)


def _device_items(session: Session, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    rows = session.exec(
        select(CatalogItem.id).where(
            col(CatalogItem.id).in_(ids), col(CatalogItem.kind) == ItemKind.DEVICE
        )
    ).all()
    return {int(i) for i in rows if i is not None}


def policies(
    session: Session, district_id: int
) -> dict[DeviceCategory, CategoryPolicy]:
    rows = session.exec(
        select(CategoryPolicy).where(col(CategoryPolicy.district_id) == district_id)
    ).all()
    return {DeviceCategory(p.category): p for p in rows}


def current_values(session: Session, district: District) -> dict[str, str]:
    """What the district holds now, keyed like the form (for the form and a 409)."""
    assert district.id is not None
    values = {
        "reminder_thresholds": ", ".join(str(d) for d in district.reminder_thresholds),
        "fy_start_month": str(district.fy_start_month),
        "inflation_pct": str(district.inflation_pct),
        "erate_c2_discount_pct": str(district.erate_c2_discount_pct),
        "max_deferral_months": str(district.max_deferral_months),
    }
    for category, policy in policies(session, district.id).items():
        if policy.lifespan_months is not None:
            values[lifespan_field(category)] = str(policy.lifespan_months)
        if policy.replacement_item_id is not None:
            values[replacement_field(category)] = str(policy.replacement_item_id)
    return values


def save_policy(
    session: Session, *, user: User, district: District, data: PolicyInput
) -> PolicyResult:
    """Save settings and category rows; re-date devices whose lifespan moved."""
    assert district.id is not None
    writable_district(user, district.id)
    claim_version(session, district, data.settings.version, fields=SETTINGS)
    district_changed = False
    for name in SETTINGS:
        value = getattr(data.settings, name)
        if value is not None and getattr(district, name) != value:
            setattr(district, name, value)
            district_changed = True
    existing = policies(session, district.id)
    policy_changed = False
    redate: list[DeviceCategory] = []
    for category, rule in data.categories.items():
        policy = existing.get(category)
        old = CategoryRule(
            policy.lifespan_months if policy else None,
            policy.replacement_item_id if policy else None,
        )
        if old == rule:
            continue
        policy_changed = True
        if old.lifespan_months != rule.lifespan_months:
            redate.append(category)
        if policy is None:
            session.add(
                CategoryPolicy(
                    district_id=district.id,
                    category=category,
                    lifespan_months=rule.lifespan_months,
                    replacement_item_id=rule.replacement_item_id,
                )
            )
        elif rule == CategoryRule():
            session.delete(policy)
        else:
            policy.lifespan_months = rule.lifespan_months
            policy.replacement_item_id = rule.replacement_item_id
    if policy_changed and not district_changed:
        district.version += 1  # the version guards the whole page, categories too
    session.flush()
    redated = _redate(session, district.id, redate)
    if district_changed or policy_changed:
        # obligations carry refresh dates, fiscal years, costs (replacement item price
        # with inflation) and reminder thresholds: the scan re-derives them
        schedule_rescan(session, district.id)
    return PolicyResult(changed_categories=redate, devices_redated=redated)


def _redate(
    session: Session, district_id: int, categories: list[DeviceCategory]
) -> int:
    """Recompute refresh dates of the categories; how many devices got a new date."""
    if not categories:
        return 0
    changing = refresh_dates(
        col(Device.district_id) == district_id, col(Device.category).in_(categories)
    )
    moving = session.execute(
        sa.select(func.count())
        .select_from(changing)
        .where(changing.c.due.is_distinct_from(changing.c.stored_due))
    ).scalar_one()
    recompute_device_refresh(session, district_id=district_id, categories=categories)
    return int(moving)


@dataclass
class CategoryRow:
    """One category line of the page: the rule, the devices it governs, item choices."""

    category: DeviceCategory
    devices: int
    lifespan_months: int | None
    replacement: CatalogItem | None
    choices: list[tuple[int, str]]


def category_rows(session: Session, district: District) -> list[CategoryRow]:
    """Each category: its policy, device count, replacement choices (3 queries)."""
    assert district.id is not None
    current = policies(session, district.id)
    counts = {
        DeviceCategory(c): int(n)
        for c, n in session.execute(
            sa.select(col(Device.category), func.count())
            .where(col(Device.district_id) == district.id)
            .group_by(col(Device.category))
        ).all()
    }
    items = session.exec(
        select(CatalogItem)
        .where(col(CatalogItem.kind) == ItemKind.DEVICE)
        .order_by(col(CatalogItem.name), col(CatalogItem.sku))
    ).all()
    by_id = {i.id: i for i in items}
    rows = []
    for category in DeviceCategory:
        policy = current.get(category)
        chosen = policy.replacement_item_id if policy else None
        choices = [
            (int(i.id), f"{i.name} ({i.sku})")
            for i in items
            if i.id is not None
            and (i.id == chosen or (i.active and i.category == category))
        ]
        rows.append(
            CategoryRow(
                category=category,
                devices=counts.get(category, 0),
                lifespan_months=policy.lifespan_months if policy else None,
                replacement=by_id.get(chosen) if chosen else None,
                choices=choices,
            )
        )
    return rows


def fy_example(start_month: int, today: date) -> dict[str, Any]:
    """The fiscal year containing today, and the July worked example (docs/rules.md#fiscal-years)."""
    fy = fiscal_year(today, start_month)
    first, last = fiscal_year_bounds(fy, start_month)
    return {"month": MONTHS[start_month - 1], "fy": fy, "first": first, "last": last}


def policy_history(
    session: Session, district_id: int, *, limit: int = 30
) -> list[AuditEvent]:
    """Changes to the district's settings and category rows, newest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                sa.or_(
                    sa.and_(
                        col(AuditEvent.entity_type) == "district",
                        col(AuditEvent.entity_id) == district_id,
                    ),
                    sa.and_(
                        col(AuditEvent.entity_type) == "category_policy",
                        col(AuditEvent.district_id) == district_id,
                    ),
                )
            )
            .order_by(col(AuditEvent.id).desc())
            .limit(limit)
        ).all()
    )


def saved_message(district: District, result: PolicyResult) -> str:
    """The flash after a save: what changed for the devices, in numbers."""
    text = f"Saved the policy of {district.name}."
    if not result.changed_categories:
        return text
    names = ", ".join(c.label for c in result.changed_categories)
    n = result.devices_redated
    if n == 0:
        return f"{text} No device needed a new refresh date ({names})."
    devices = "1 device has" if n == 1 else f"{n:,} devices have"
    return f"{text} {devices} a new refresh date ({names})."
