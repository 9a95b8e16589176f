"""Template filters and globals: money, dates, navigation by role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user
from markupsafe import Markup

from lifecycle.accounts.passwords import MIN_LENGTH
from lifecycle.enums import Role
from lifecycle.money import to_cents
from lifecycle.web.records import record_key


def num(value: int | None) -> str:
    """A count with thousands separators: 3767 → "3,767"."""
    return "—" if value is None else f"{value:,}"


def money(value: Decimal | int | str | None, *, cents: bool = True) -> str:
    """$1,234.50 — money is shown rounded half-up to the cent (docs/rules.md#money)."""
    if value is None or value == "":
        return "—"
    if cents:
        amount = to_cents(Decimal(value))
        text = f"{abs(amount):,.2f}"
    else:
        amount = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        text = f"{abs(amount):,.0f}"
    return f"-${text}" if amount < 0 else f"${text}"


def money_short(value: Decimal | int) -> str:
    """$7.5M, $250K, $900: an axis label, never a figure to add up."""
    amount = Decimal(value)
    for size, suffix in (
        (Decimal(10) ** 9, "B"),
        (Decimal(10) ** 6, "M"),
        (Decimal(1000), "K"),
    ):
        if abs(amount) >= size:
            scaled = (amount / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = f"{scaled:f}".removesuffix(".0")
            return f"${text}{suffix}"
    return money(amount, cents=False)


def label(value: Any) -> str:
    """A human label for an enum member or a snake_case code."""
    if value is None or value == "":
        return "—"
    text = getattr(value, "label", None)
    if isinstance(text, str):
        return text
    raw = getattr(value, "value", value)
    return str(raw).replace("_", " ").capitalize()


# A badge's colour says how a state stands, the same everywhere: good (nothing to do),
# warn (look at it), bad (something went wrong or is lost), or neutral.
TONES = {
    # devices
    "in_service": "good", "spare": "warn", "in_repair": "warn", "on_order": "warn",
    # licenses and contracts
    "active": "good", "lapsed": "bad",
    # obligations
    "notified": "warn", "acknowledged": "good", "in_round": "good", "ordered": "good",
    "done": "good",
    # contract vehicles
    "current": "good", "expiring": "warn", "expired": "bad",
    # people, API tokens, the calendar feed, undelivered e-mail
    "deactivated": "", "revoked": "bad", "on": "good", "off": "", "gave_up": "bad",
    # jobs
    "finished": "good", "failed": "bad",
}  # fmt: skip


def tone(value: Any) -> str:
    """The badge colour of a state (an enum member or its value): see TONES."""
    return TONES.get(str(getattr(value, "value", value)), "")


def badge(value: Any, text: str | None = None, testid: str | None = None) -> Markup:
    """A state as a badge, coloured by its tone (a template global, so every page and
    fragment draws a state the same way)."""
    colour = tone(value)
    return Markup('<span class="badge{}"{}>{}</span>').format(
        f" {colour}" if colour else "",
        Markup(' data-testid="{}"').format(testid) if testid else "",
        label(value) if text is None else text,
    )


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%b %-d, %Y %H:%M UTC")
    return value.strftime("%b %-d, %Y")


def iso(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[Role, ...]
    prefix: str


DISTRICT = (Role.DISTRICT_IT, Role.DISTRICT_FINANCE, Role.DISTRICT_VIEWER)
COOP = (Role.COOP_STAFF, Role.ADMIN)
NAV: list[NavItem] = [
    NavItem("Home", "home.index", tuple(Role), "/"),
    NavItem("Devices", "devices.index", DISTRICT, "/devices"),
    NavItem("Licenses", "licenses.index", DISTRICT, "/licenses"),
    NavItem("Contracts", "contracts.index", DISTRICT, "/contracts"),
    NavItem("Renewals", "renewals.index", DISTRICT, "/renewals"),
    NavItem("Budget", "budget.index", tuple(Role), "/budget"),
    NavItem("Pipeline", "pipeline.index", COOP, "/pipeline"),
    NavItem("Rounds", "rounds.index", (*DISTRICT, Role.COOP_STAFF), "/rounds"),
    NavItem("Schools", "schools.index", DISTRICT, "/schools"),
    NavItem("Catalog", "catalog.index", tuple(Role), "/catalog"),
    NavItem("Vendors", "vendors.vendor_index", COOP, "/vendors"),
    NavItem("Districts", "districts.index", (Role.COOP_STAFF,), "/districts"),
    NavItem("Policy", "policy.policy_home", (Role.DISTRICT_IT,), "/policy"),
    NavItem("Import", "imports.index", (Role.DISTRICT_IT,), "/import"),
    NavItem("Users", "admin.users", (Role.ADMIN,), "/admin/users"),
    NavItem("Districts", "admin.districts", (Role.ADMIN,), "/admin/districts"),
    NavItem("Activity", "admin.activity", (Role.ADMIN,), "/admin/activity"),
    NavItem("Settings", "admin.settings", (Role.ADMIN,), "/admin/settings"),
]


def nav_items() -> list[dict[str, Any]]:
    if not getattr(current_user, "is_authenticated", False):
        return []
    role = Role(current_user.role)
    items = []
    for item in NAV:
        if role not in item.roles:
            continue
        active = (
            request.path == "/"
            if item.prefix == "/"
            else request.path.startswith(item.prefix)
        )
        items.append(
            {"label": item.label, "url": url_for(item.endpoint), "active": active}
        )
    return items


def _header_context() -> dict[str, Any]:
    """The signed-in district user's district name, shown in the header."""
    if (
        not getattr(current_user, "is_authenticated", False)
        or not current_user.district_id
    ):
        return {"header_district": None}
    from lifecycle.db import get_session
    from lifecycle.models import District

    district = get_session().get(District, current_user.district_id)
    return {"header_district": district.name if district else None}


def init_app(app: Flask) -> None:
    app.context_processor(_header_context)
    app.jinja_env.filters["num"] = num
    app.jinja_env.filters["record_key"] = record_key
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["money_short"] = money_short
    app.jinja_env.filters["date"] = fmt_date
    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["badge"] = badge
    app.jinja_env.globals["password_min_length"] = MIN_LENGTH
    app.jinja_env.globals["Role"] = Role
    from lifecycle.notices.notify import background_delayed, current_unread

    # Counted only where the bell renders (full pages, out-of-band swaps): one query.
    app.jinja_env.globals["bell_unread"] = current_unread
    app.jinja_env.globals["background_delayed"] = background_delayed
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
