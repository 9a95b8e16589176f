"""What the budget pages show, from forecasts: filters, the table, the peak-year callout,
the drill-down, the scenario form. No Flask here; views.py renders it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lifecycle.budget import forecast as fc
from lifecycle.budget.chart import KINDS
from lifecycle.enums import DeviceCategory, category_label

ZERO = Decimal("0.00")
KIND_LABELS = {
    "refresh": "Device refresh",
    "license": "Licenses",
    "contract": "Contracts",
}
FILTERS = ("category", "school_id", "funding_source", "kind")


# ---------------------------------------------------------------------------
# Filters


@dataclass(frozen=True, slots=True)
class LineFilter:
    """What the page narrows the lines to (category, school, funding source, kind)."""

    category: str = ""
    school_id: int | None = None
    funding_source: str | None = None
    kind: str = ""

    def keep(self, line: fc.Line) -> bool:
        return (
            (not self.category or line.category == self.category)
            and (self.school_id is None or line.school_id == self.school_id)
            and (
                self.funding_source is None
                or line.funding_source == self.funding_source
            )
            and (not self.kind or line.kind == self.kind)
        )

    @property
    def active(self) -> bool:
        return bool(
            self.category or self.school_id is not None
            or self.funding_source is not None or self.kind
        )  # fmt: skip

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.category:
            out["category"] = self.category
        if self.school_id is not None:
            out["school_id"] = self.school_id
        if self.funding_source is not None:
            out["funding_source"] = self.funding_source
        if self.kind:
            out["kind"] = self.kind
        return out


def parse_filter(args: Mapping[str, str], options: FilterOptions) -> LineFilter:
    """The page's filters from the query string; a value the page does not offer is
    ignored rather than an error (a link from an older page still opens)."""
    category = args.get("category", "")
    school = args.get("school_id", "")
    funding = args.get("funding_source")
    kind = args.get("kind", "")
    school_id = (
        int(school) if school.isdigit() and int(school) in options.schools else None
    )
    return LineFilter(
        category=category if category in options.categories else "",
        school_id=school_id,
        funding_source=funding if funding in options.funding_sources else None,
        kind=kind if kind in KINDS else "",
    )


@dataclass(frozen=True, slots=True)
class FilterOptions:
    categories: dict[str, str]
    schools: dict[int, str]
    funding_sources: list[str]


def filter_options(
    lines: Sequence[fc.Line], schools: Mapping[int, str]
) -> FilterOptions:
    cats = sorted({ln.category for ln in lines if ln.category}, key=category_label)
    used_schools = {ln.school_id for ln in lines if ln.school_id is not None}
    return FilterOptions(
        categories={c: category_label(c) for c in cats},
        schools={
            sid: schools.get(sid, f"School {sid}")
            for sid in sorted(used_schools, key=lambda s: schools.get(s, ""))
        },
        funding_sources=sorted({ln.funding_source for ln in lines}),
    )


# ---------------------------------------------------------------------------
# Series and the table


@dataclass(frozen=True, slots=True)
class Series:
    """One column group of the page: the baseline or a scenario, its lines filtered."""

    name: str
    forecast: fc.Forecast
    lines: tuple[fc.Line, ...]
    scenario_id: int | None = None
    approved: Mapping[int, Decimal] = field(default_factory=dict)  # the baseline's caps

    @property
    def amounts(self) -> dict[tuple[int, str], Decimal]:
        sums: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            sums[(line.fy, line.kind)] += line.amount
        return dict(sums)

    def kind_total(self, kind: str) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == kind), ZERO)

    def year_total(self, fy: int) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.fy == fy), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), ZERO)

    @property
    def erate(self) -> Decimal:
        return sum((ln.erate for ln in self.lines), ZERO)

    @property
    def caps(self) -> Mapping[int, Decimal]:
        """A scenario's own caps (it defers to fit them); the baseline is compared with
        the district's approved budget (it defers nothing)."""
        return self.forecast.settings.caps if self.scenario_id else self.approved

    def short(self, fy: int) -> Decimal | None:
        """How far the year is over its cap, after any deferral."""
        if self.scenario_id:
            return self.forecast.shortfall.get(fy)
        cap = self.approved.get(fy)
        over = self.forecast.by_year().get(fy, ZERO) - cap if cap is not None else ZERO
        return over if over > 0 else None


def series(
    name: str,
    forecast: fc.Forecast,
    where: LineFilter,
    scenario_id: int | None = None,
    approved: Mapping[int, Decimal] | None = None,
) -> Series:
    lines = tuple(ln for ln in forecast.lines if where.keep(ln))
    return Series(name, forecast, lines, scenario_id, approved or {})


@dataclass(frozen=True, slots=True)
class Callout:
    fy: int
    total: Decimal
    driver: str
    driver_amount: Decimal


def _plural(word: str, n: int) -> str:
    return word if n == 1 else word + "s"


def peak(s: Series) -> Callout | None:
    """The biggest year, and the one group of lines that drives it most."""
    years = s.forecast.fiscal_years
    if not s.lines:
        return None
    fy = max(years, key=lambda y: (s.year_total(y), -y))
    total = s.year_total(fy)
    if total <= 0:
        return None
    groups: dict[tuple[Any, ...], list[fc.Line]] = defaultdict(list)
    for line in s.lines:
        if line.fy != fy:
            continue
        if line.kind == "refresh":
            month = date(line.day.year, line.day.month, 1)
            groups[("refresh", line.category, line.reason, month)].append(line)
        else:
            groups[(line.kind, line.ref)].append(line)
    key, lines = max(groups.items(), key=lambda kv: sum(ln.amount for ln in kv[1]))
    amount = sum((ln.amount for ln in lines), ZERO)
    if key[0] == "refresh":
        _, category, reason, month = key
        n = sum(ln.quantity for ln in lines)
        what = _plural(category_label(category), n)
        when = month.strftime("%B %Y")
        verb = {
            "aue": f"reach their auto-update expiration (AUE) in {when}",
            "eol": f"reach end of life in {when}",
            "ordered": f"are on order for {when}",
        }.get(reason, f"are due for refresh in {when}")
        text = f"{n:,} {what} {verb}"
    else:
        first = lines[0]
        text = f"{first.label} renews ({len(lines)} {_plural('term', len(lines))} starting in FY{fy})"
    return Callout(fy, total, text, amount)


# ---------------------------------------------------------------------------
# Drill-down


@dataclass(frozen=True, slots=True)
class DrillRow:
    label: str
    kind: str
    ref: str
    quantity: int
    amount: Decimal
    erate: Decimal
    committed: bool
    details: str
    link: dict[str, Any] | None  # endpoint and values for url_for


def _agreement_link(ref: str) -> dict[str, Any] | None:
    kind, _, ident = ref.partition(":")
    if kind == "license":
        return {"endpoint": "licenses.detail", "license_id": int(ident)}
    if kind == "contract":
        return {"endpoint": "contracts.detail", "contract_id": int(ident)}
    return None


def _devices_link(line: fc.Line, month: date | None) -> dict[str, Any]:
    """The device list filtered to the devices behind refresh lines."""
    values: dict[str, Any] = {"endpoint": "devices.index", "category": line.category}
    if line.school_id is not None:
        values["school_id"] = line.school_id
    if line.funding_source:
        values["funding_source"] = line.funding_source
    if month is not None:
        after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        values["refresh_due_from"] = month.isoformat()
        values["refresh_due_before"] = after.isoformat()
    return values


REASONS = {
    "aue": "auto-update expiration",
    "eol": "end of life",
    "lifespan": "end of lifespan",
    "cycle": "next refresh cycle",
    "ordered": "on order",
}


@dataclass(frozen=True, slots=True)
class Drill:
    rows: list[DrillRow]
    hidden: int  # rows not shown (the smallest)
    hidden_amount: Decimal


def drill(
    lines: Sequence[fc.Line], schools: Mapping[int, str], limit: int = 100
) -> Drill:
    """The lines of one cell, biggest first: refreshes grouped by category, school,
    funding source, reason and month (a row is the devices a user can open in the
    device list), agreements one row each."""
    groups: dict[tuple[Any, ...], list[fc.Line]] = defaultdict(list)
    for line in lines:
        if line.kind == "refresh":
            month = date(line.day.year, line.day.month, 1)
            key: tuple[Any, ...] = (
                "refresh", line.category, line.school_id, line.funding_source,
                line.reason, month, line.cycle > 1, line.deferred_from, line.payment,
                line.committed,
            )  # fmt: skip
        else:
            key = (line.kind, line.ref, line.committed)
        groups[key].append(line)
    rows = []
    for key, group in groups.items():
        first = group[0]
        amount = sum((ln.amount for ln in group), ZERO)
        erate = sum((ln.erate for ln in group), ZERO)
        if first.kind == "refresh":
            month = key[5]
            n = sum(ln.quantity for ln in group)
            school = schools.get(first.school_id) if first.school_id else None
            label = _plural(category_label(first.category), n) + (
                f" at {school}" if school else ""
            )
            bits = [f"{REASONS.get(first.reason, first.reason)} {month:%b %Y}"]
            if first.funding_source:
                bits.append(first.funding_source)
            if first.deferred_from:
                bits.append(f"deferred from FY{first.deferred_from}")
            if first.payment:
                bits.append(f"lease payment {first.payment[0]} of {first.payment[1]}")
            if first.cycle > 1:
                bits.append("replacements of an earlier refresh")
            link = (
                None
                if first.cycle > 1
                else _devices_link(first, None if first.deferred_from else month)
            )
            rows.append(
                DrillRow(
                    label,
                    "refresh",
                    first.ref,
                    n,
                    amount,
                    erate,
                    first.committed,
                    ", ".join(bits),
                    link,
                )
            )
        else:
            terms = sorted({ln.term for ln in group if ln.term is not None})
            detail = (
                (
                    f"term {terms[0]}"
                    if len(terms) == 1
                    else f"terms {terms[0]}–{terms[-1]}"
                )
                if terms
                else ""
            )
            if first.kind == "license" and first.quantity > 1:
                detail += f" · {first.quantity:,} seats"
            rows.append(
                DrillRow(
                    first.label,
                    first.kind,
                    first.ref,
                    len(group),
                    amount,
                    erate,
                    first.committed,
                    detail,
                    _agreement_link(first.ref),
                )
            )
    rows.sort(key=lambda r: (-r.amount, r.label))
    shown, rest = rows[:limit], rows[limit:]
    return Drill(shown, len(rest), sum((r.amount for r in rest), ZERO))


# ---------------------------------------------------------------------------
# The scenario form


@dataclass
class ScenarioForm:
    """The editor's fields as the page shows them, and the settings they make."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def form_values(name: str, stored: Mapping[str, Any]) -> dict[str, str]:
    """A saved scenario's settings as the editor's field values."""
    values = {"name": name}
    for key in ("inflation_pct", "headroom_pct", "max_deferral_months"):
        if stored.get(key) is not None:
            values[key] = str(stored[key])
    for cat, months in (stored.get("lifespans") or {}).items():
        values[f"lifespan_{cat}"] = str(months)
    for cat, lease in (stored.get("leases") or {}).items():
        values[f"lease_years_{cat}"] = str(lease.get("years", ""))
        values[f"lease_rate_{cat}"] = str(lease.get("rate_pct", ""))
    for fy, cap in (stored.get("caps") or {}).items():
        values[f"cap_{fy}"] = str(cap)
    return values


def _number(raw: str) -> str | None:
    raw = raw.strip().replace(",", "").replace("$", "").removesuffix("%").strip()
    return raw or None


def read_form(form: Mapping[str, str], fiscal_years: Sequence[int]) -> ScenarioForm:
    """The editor's fields → the settings object the API takes (validated by the caller
    with services.parse_settings; its errors come back under these field names)."""
    out = ScenarioForm(values={k: v for k, v in form.items() if k != "csrf_token"})
    accepted = {"name", "version", "csrf_token", "inflation_pct", "headroom_pct"}
    accepted |= {"max_deferral_months"} | {f"cap_{fy}" for fy in fiscal_years}
    for cat in DeviceCategory:
        accepted |= {f"lifespan_{cat.value}", f"lease_years_{cat.value}"}
        accepted.add(f"lease_rate_{cat.value}")
    for name in form:
        if name not in accepted:
            out.errors[name] = "is not a field this form accepts"
    data: dict[str, Any] = {}
    for key in ("inflation_pct", "headroom_pct", "max_deferral_months"):
        raw = _number(form.get(key, ""))
        if raw is not None:
            data[key] = raw
    lifespans, leases, caps = {}, {}, {}
    for cat in DeviceCategory:
        raw = _number(form.get(f"lifespan_{cat.value}", ""))
        if raw is not None:
            lifespans[cat.value] = raw
        years = _number(form.get(f"lease_years_{cat.value}", ""))
        rate = _number(form.get(f"lease_rate_{cat.value}", ""))
        if years is not None or rate is not None:
            leases[cat.value] = {"years": years or "", "rate_pct": rate or "0"}
    for fy in fiscal_years:
        raw = _number(form.get(f"cap_{fy}", ""))
        if raw is not None:
            caps[str(fy)] = raw
    for key, value in (("lifespans", lifespans), ("leases", leases), ("caps", caps)):
        if value:
            data[key] = value
    out.data = data
    return out


def form_errors(fields: Mapping[str, str]) -> dict[str, str]:
    """Settings' field errors (settings.caps.2028) under the editor's field names."""
    out = {}
    for key, message in fields.items():
        name = key.removeprefix("settings.")
        parts = name.split(".")
        if parts[0] == "lifespans" and len(parts) > 1:
            name = f"lifespan_{parts[1]}"
        elif parts[0] == "leases" and len(parts) > 2:
            name = f"lease_{'years' if parts[2] == 'years' else 'rate'}_{parts[1]}"
        elif parts[0] == "caps" and len(parts) > 1:
            name = f"cap_{parts[1]}"
        out[name] = message
    return out


def decimal_or_none(raw: str | None) -> Decimal | None:
    try:
        return Decimal(raw) if raw not in (None, "") else None
    except InvalidOperation:
        return None
