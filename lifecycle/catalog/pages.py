"""What the catalog's detail pages show, shared by the browse and the editing views:
an item's page with its price table (read, or open in the in-place editor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response

from lifecycle.auth import get_user
from lifecycle.catalog import services
from lifecycle.catalog.editing import item_tiers
from lifecycle.catalog.rules import Tier, tiers_for_editing
from lifecycle.db import get_session
from lifecycle.enums import PriceUnit, Role
from lifecycle.models import User
from lifecycle.web.htmx import render
from lifecycle.web.records import history

UNITS = {
    PriceUnit.EACH: "each",
    PriceUnit.SEAT: "per seat",
    PriceUnit.PER_STUDENT: "per student",
    PriceUnit.PER_YEAR: "per year",
}
# An item page's regions a saved price table replaces: the table, and out of band the
# actions (their forms carry the item's version) and the history.
SAVED_BLOCKS = ["tiers", "actions_oob", "history_oob"]


def can_manage(user: User) -> bool:
    """Cooperative staff (and admins) keep the catalog; district roles browse it."""
    return Role(user.role) in (Role.COOP_STAFF, Role.ADMIN)


@dataclass
class TierEditor:
    """The price table open for editing: the rows as typed, their problems, and on a
    stale version the table as it is now."""

    rows: list[dict[str, str]]
    version: int
    errors: dict[str, str] = field(default_factory=dict)
    current: list[Tier] | None = None


def editor_for(item: Any, tiers: list[Tier]) -> TierEditor:
    return TierEditor(tiers_for_editing(tiers, item.list_price), item.version)


def item_page(
    item_id: int,
    *,
    block: str | list[str] | None = None,
    status: int = 200,
    editor: TierEditor | None = None,
    saved: str = "",  # after a save: "saved", or "unchanged" (the same table)
) -> Response:
    """The item page, or (htmx) its `block`: terms, vehicle, the price table."""
    user = get_user()
    session = get_session()
    found, vehicle, vendor = services.get_item(session, item_id)
    tiers = services.tiers_by_item(session, [item_id]).get(item_id, [])
    manage = can_manage(user)
    today = services.catalog_today(session, user)
    return render(
        "catalog/item.html",
        block,
        status=status,
        item=found,
        vehicle=vehicle,
        vendor=vendor,
        state=services.vehicle_state(vehicle, today),
        today=today,
        bands=services.tier_rows(found, tiers),
        units=UNITS,
        devices=services.devices_using(session, user=user, item_id=item_id),
        can_edit=manage,
        editor=editor,
        saved=saved,
        events=(
            history(session, entity_type="catalog_item", entity_id=item_id)
            if manage
            else []
        ),
    )


def stored_editor(item_id: int) -> TierEditor:
    session = get_session()
    item, _vehicle, _vendor = services.get_item(session, item_id)
    return editor_for(item, item_tiers(session, item_id))
