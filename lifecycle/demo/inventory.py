"""Demo inventory without a database: device rows, prices and agreement term history.

Everything here draws from the random.Random it is given, in a fixed order, so a seeded
generator gives the same demo every time; demo.py writes the results.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, Protocol

from dateutil.relativedelta import relativedelta

from lifecycle.demo import data
from lifecycle.enums import DeviceCategory, DeviceStatus
from lifecycle.refdata import aue_date

CENTS = Decimal("0.01")
C = DeviceCategory
NETWORK = frozenset({C.NETWORK_SWITCH, C.WIRELESS_AP, C.FIREWALL, C.UPS})
PERSONAL = frozenset({C.CHROMEBOOK, C.LAPTOP, C.DESKTOP, C.TABLET})
_STATUSES = [s for s in DeviceStatus if s != DeviceStatus.ON_ORDER]
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
# Device columns the demo leaves at their empty value (derived ones included).
_EMPTY: dict[str, Any] = {"eol_date": None, "lifespan_months": None, "notes": ""}
_EMPTY |= {"assigned_to": "", "version": 1, "refresh_due": None, "refresh_reason": ""}


class SchoolRow(Protocol):
    """What device generation reads of a school."""

    id: int | None
    enrollment: int | None
    level: str


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder first)."""
    whole = sum(weights) or 1
    raw = [total * w / whole for w in weights]
    shares = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def tier_price(list_price: Decimal, scheme: str, qty: int) -> Decimal:
    """The unit price at the highest tier of `scheme` that `qty` units reach."""
    pct = max(p for min_qty, p in data.TIER_SCHEMES[scheme] if qty >= min_qty)
    return (list_price * (100 - pct) / 100).quantize(CENTS, ROUND_HALF_UP)


def _group(category: DeviceCategory) -> str:
    if category == C.CHROMEBOOK:
        return "chromebook"
    return "network" if category in NETWORK else "other"


def _scheme(category: DeviceCategory) -> str:
    if category in PERSONAL:
        return "device"
    return "network" if category in NETWORK else "display"


def device_rows(
    rng: random.Random,
    today: date,
    district_id: int,
    spec: data.DemoDistrict,
    schools: Sequence[SchoolRow],
    count: int,
    *,
    items: dict[str, int],
    vehicle_id: Callable[[str | None, date], int | None],
    now: datetime,
) -> list[dict[str, Any]]:
    """Insert-ready rows of `count` devices of one district, oldest purchase first.

    `items` maps a catalog SKU to its item id; `vehicle_id` answers the contract
    vehicle a purchase on a date was made under.
    """
    teaching = [sc for sc in schools if sc.enrollment]
    office = next(sc for sc in schools if sc.level == "district")
    sizes = [sc.enrollment or 0 for sc in teaching]
    mix = data.CATEGORY_MIX
    # Each (model, year) is a cohort: one summer order, warranty and funding source.
    cohorts: dict[tuple[str, int], tuple[date, int, str]] = {}
    picks: list[tuple[data.ModelSpec, int, date, SchoolRow]] = []
    for category in rng.choices(list(mix), list(mix.values()), k=count):
        years, weights = _years_offered(category)
        year = rng.choices(years, weights)[0]
        models, preference = _models_offered(category, year, spec.chromebook_maker)
        model = rng.choices(models, preference)[0]
        if (model.name, year) not in cohorts:
            cohorts[(model.name, year)] = _cohort(rng, category, year)
        bought = cohorts[(model.name, year)][0]
        if rng.random() < 0.2:  # top-ups and replacements outside the summer order
            bought = min(date(year, 1, 2) + timedelta(days=rng.randint(0, 360)), today)
        if category == C.FIREWALL:
            school = office
        elif category in NETWORK:
            school = rng.choice(schools)
        else:
            school = rng.choices(teaching, sizes)[0]
        picks.append((model, year, bought, school))
    picks.sort(key=lambda p: (p[2], p[0].category, p[0].name))
    cohort_size = Counter((m.name, y) for m, y, _, _ in picks)
    aue = {m.name: aue_date(m.name) for m, *_ in picks if m.category == C.CHROMEBOOK}
    serials: set[str] = set()
    rows: list[dict[str, Any]] = []
    for n, (model, year, bought, school) in enumerate(picks, start=1):
        _ordered, warranty_months, funding = cohorts[(model.name, year)]
        serial = _serial(rng, model.serial)
        while serial in serials:
            serial = _serial(rng, model.serial)
        serials.add(serial)
        size = cohort_size[(model.name, year)]
        vehicle = "net" if model.category in NETWORK else "euc"
        rows.append(
            {
                "district_id": district_id,
                "school_id": school.id,
                "asset_tag": f"{spec.tag_prefix}-{n:06d}",
                "serial": serial,
                "model": model.name,
                "catalog_item_id": items[model.sku] if model.sku else None,
                "category": model.category.value,
                "status": _status(rng, today, bought, aue.get(model.name)).value,
                "purchase_date": bought,
                "purchase_cost": tier_price(
                    model.list_price, _scheme(model.category), size
                ),
                "funding_source": funding,
                "vehicle_id": vehicle_id(vehicle, bought) if model.sku else None,
                "warranty_end": bought + relativedelta(months=warranty_months),
                "aue_date": aue.get(model.name),
                "created_at": now,
                "updated_at": now,
                **_EMPTY,
            }
        )
    return rows


def _cohort(
    rng: random.Random, category: DeviceCategory, year: int
) -> tuple[date, int, str]:
    """A cohort's summer order date, warranty months and funding source."""
    group = _group(category)
    if group == "network" and rng.random() < 0.8:
        funding = "E-Rate"
    else:
        sources = data.FUNDING_BY_YEAR[year]
        funding = rng.choices([f for f, _ in sources], [w for _, w in sources])[0]
    ordered = date(year, 6, 1) + timedelta(days=rng.randint(0, 91))
    return ordered, rng.choice(data.WARRANTY_MONTHS[group]), funding


@cache
def _models_offered(
    category: DeviceCategory, year: int, maker: str
) -> tuple[list[data.ModelSpec], list[int]]:
    """The models on sale that year, and weights that favour the district's maker."""
    models = [
        m
        for m in data.MODELS
        if m.category == category and m.first_year <= year <= m.last_year
    ]
    return models, [6 if m.maker == maker else 1 for m in models]


@cache
def _years_offered(category: DeviceCategory) -> tuple[list[int], list[int]]:
    weights = data.YEAR_WEIGHTS[_group(category)]
    offered = [
        (year, weight)
        for year, weight in zip(data.YEARS, weights, strict=True)
        if _models_offered(category, year, "")[0]
    ]
    return [y for y, _ in offered], [w for _, w in offered]


def _status(
    rng: random.Random, today: date, bought: date, aue: date | None
) -> DeviceStatus:
    """Older devices are likelier retired or lost; most past their AUE are pulled."""
    age = (today - bought).days / 365.25
    if aue is not None and aue < today:
        weights = [25, 5, 2, 8, 60]
    elif age > 7:
        weights = [45, 6, 2, 7, 40]
    elif age > 5:
        weights = [72, 6, 3, 4, 15]
    else:
        weights = [88, 5, 3, 2, 2]
    return rng.choices(_STATUSES, weights)[0]


def _serial(rng: random.Random, pattern: str) -> str:
    """Fill a serial pattern: '#' a digit, '?' a letter or digit."""
    return "".join(
        rng.choice("0123456789")
        if ch == "#"
        else rng.choice(_ALNUM)
        if ch == "?"
        else ch
        for ch in pattern
    )


@dataclass
class Terms:
    """An agreement's original start and the term it is in now (renewed into)."""

    start: date
    initial: int
    renewal: int
    current: int

    @classmethod
    def draw(
        cls, rng: random.Random, today: date, initial: int, renewal: int, most: int
    ) -> Terms:
        """Terms whose current one ends 1–14 months ahead, after 0–`most` renewals."""
        renewals = rng.randint(0, most if initial <= 12 else min(most, 1))
        running = renewal if renewals else initial  # the current term must hold today
        ahead = rng.randint(1, min(14, running))
        next_start = today.replace(day=1) + relativedelta(months=ahead)
        start = next_start - relativedelta(months=initial + renewals * renewal)
        return cls(start, initial, renewal, renewals + 1)

    def history(
        self,
        subject: tuple[str, int, int],
        price: Decimal,
        escalator: Decimal = Decimal(0),
        seats: int | None = None,
    ) -> list[dict[str, Any]]:
        """TermRecord rows for terms 1..current, each priced back from today's price.

        Recording the current term says it was renewed into: without it, the first scan
        would lapse every express agreement past its first term.
        """
        subject_type, subject_id, district_id = subject
        rows: list[dict[str, Any]] = []
        began = self.start
        for n in range(1, self.current + 1):
            months = self.initial + (n - 1) * self.renewal  # from the ORIGINAL start
            end = self.start + relativedelta(months=months) - timedelta(days=1)
            factor = (1 + escalator / 100) ** (self.current - n)
            rows.append(
                {
                    "district_id": district_id,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "term_number": n,
                    "start": began,
                    "end": end,
                    "price": (price / factor).quantize(CENTS, ROUND_HALF_UP),
                    "seats": seats,
                }
            )
            began = end + timedelta(days=1)
        return rows
