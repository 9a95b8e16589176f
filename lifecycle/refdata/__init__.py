"""Reference data in the package: Chromebook AUE dates, E-Rate rules, census districts.

Pure lookups over the CSV files next to this module (sources and caveats in SOURCES.md);
no Flask or database imports. Each table is parsed once and cached.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources

__all__ = [
    "SYNTHETIC_ENROLLMENT_SHARE",
    "AueModel",
    "C2Cycle",
    "CensusDistrict",
    "DiscountBand",
    "aue_date",
    "aue_models",
    "census_district",
    "census_districts",
    "erate_c2_cycle",
    "erate_c2_cycles",
    "erate_c2_discount",
    "erate_discount_bands",
    "month_end",
    "synthetic_enrollment",
]

CENTS = Decimal("0.01")
# A rough students-per-resident share: 2010 census population is not enrollment.
SYNTHETIC_ENROLLMENT_SHARE = Decimal("0.16")


def _rows(filename: str) -> Iterator[dict[str, str]]:
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    yield from csv.DictReader(text.splitlines())


def month_end(year: int, month: int) -> date:
    """The last day of a month (an AUE month means "updates until the end of it")."""
    return date(year, month, calendar.monthrange(year, month)[1])


# --- Chromebook Auto Update Expiration ---------------------------------------


@dataclass(frozen=True, slots=True)
class AueModel:
    """One row of Google's AUE list: updates stop after the last day of `aue_month`."""

    manufacturer: str
    model: str
    aue_month: str  # "YYYY-MM"
    aue_date: date


_ORDINAL_GEN = re.compile(r"\b(\d+)(?:st|nd|rd|th)\s+gen(?:eration)?\b")
_GEN_WORD = re.compile(r"\bgeneration\b")
_PARENS = re.compile(r"\(([^()]*)\)")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words a device's reported model may add to Google's name without changing the model.
_NOISE = frozenset(
    {"intel", "amd", "arm", "mediatek", "celeron", "touch", "touchscreen", "lte"}
)


def _words(text: str) -> list[str]:
    text = _ORDINAL_GEN.sub(r"gen \1", text.lower())
    text = _GEN_WORD.sub("gen", text)
    return [w for w in _NON_ALNUM.split(text) if w]


def _key(words: Iterable[str]) -> str:
    # Joining without separators makes "Gen 3", "Gen3" and "Gen-3" the same key.
    return "".join(words)


def _split_parens(name: str) -> tuple[list[str], list[list[str]]]:
    """The words outside parentheses, and the words of each code listed inside them."""
    base = _words(_PARENS.sub(" ", name))
    codes = [
        _words(code)
        for group in _PARENS.findall(name)
        for code in re.split(r"[,/]", group)
    ]
    return base, [c for c in codes if c]


@dataclass(frozen=True, slots=True)
class _AueIndex:
    models: tuple[AueModel, ...]
    exact: dict[str, frozenset[date]]
    alias: dict[str, frozenset[date]]


def _add(index: dict[str, set[date]], key: str, when: date) -> None:
    if key:
        index.setdefault(key, set()).add(when)


@cache
def _aue_index() -> _AueIndex:
    models: list[AueModel] = []
    exact: dict[str, set[date]] = {}
    alias: dict[str, set[date]] = {}
    for row in _rows("chromebook_aue_reference.csv"):
        year, month = (int(part) for part in row["aue_month"].split("-"))
        entry = AueModel(
            manufacturer=row["manufacturer"].strip(),
            model=row["model"].strip(),
            aue_month=row["aue_month"].strip(),
            aue_date=month_end(year, month),
        )
        models.append(entry)
        when = entry.aue_date
        _add(exact, _key(_words(entry.model)), when)
        base, codes = _split_parens(entry.model)
        maker = _words(entry.manufacturer)
        variants = [base, *([*base, *code] for code in codes)]
        for words in variants:
            _add(alias, _key(words), when)
            # Some devices report the model without the manufacturer's name.
            if words[: len(maker)] == maker:
                _add(alias, _key(words[len(maker) :]), when)
    return _AueIndex(
        models=tuple(models),
        exact={k: frozenset(v) for k, v in exact.items()},
        alias={k: frozenset(v) for k, v in alias.items()},
    )


def _query_keys(model: str) -> list[str]:
    """Keys to try for a reported model name, most specific first."""
    base, codes = _split_parens(model)
    keys = [_key(_words(model))]
    keys += [_key([*base, *code]) for code in codes]
    keys.append(_key(base))
    trimmed = list(base)
    while trimmed and trimmed[-1] in _NOISE:
        trimmed.pop()
    keys.append(_key(trimmed))
    return list(dict.fromkeys(k for k in keys if k))


def aue_date(model: str) -> date | None:
    """The AUE date (last day of the AUE month) of a Chromebook model, or None.

    Matching ignores case, spacing and punctuation, reads "2nd Gen" as "Gen 2",
    accepts a code from Google's parenthesised variant list ("Acer Chromebook 311
    C722") and extra words such as "(Intel)". When a name could mean models with
    different dates, the answer is None rather than a guess.
    """
    index = _aue_index()
    for key in _query_keys(model):
        for table in (index.exact, index.alias):
            dates = table.get(key)
            if dates:
                return next(iter(dates)) if len(dates) == 1 else None
    return None


def aue_models() -> list[AueModel]:
    """Every model of the AUE reference list, in file order."""
    return list(_aue_index().models)


# --- E-Rate Category Two -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class C2Cycle:
    """A five-year Category Two budget cycle (E-Rate funding years start on 1 July)."""

    name: str
    first_funding_year: int
    last_funding_year: int
    multiplier: Decimal  # pre-discount dollars per student
    floor: Decimal  # minimum budget per school district
    library_multiplier: Decimal  # dollars per square foot
    tribal_library_floor: Decimal
    source: str = ""

    def budget(self, enrollment: int) -> Decimal:
        """The five-year pre-discount budget: max(multiplier × students, floor)."""
        amount = (self.multiplier * enrollment).quantize(CENTS, ROUND_HALF_UP)
        return max(amount, self.floor)


@cache
def _c2_cycles() -> tuple[C2Cycle, ...]:
    cycles = [
        C2Cycle(
            name=row["cycle"],
            first_funding_year=int(row["first_funding_year"]),
            last_funding_year=int(row["last_funding_year"]),
            multiplier=Decimal(row["school_multiplier_per_student_usd"]),
            floor=Decimal(row["funding_floor_usd"]),
            library_multiplier=Decimal(row["library_multiplier_per_sqft_usd"]),
            tribal_library_floor=Decimal(row["tribal_library_floor_usd"]),
            source=row["source"],
        )
        for row in _rows("erate_c2_budget_parameters.csv")
    ]
    return tuple(sorted(cycles, key=lambda c: c.first_funding_year))


def erate_c2_cycles() -> list[C2Cycle]:
    """The known Category Two cycles, oldest first."""
    return list(_c2_cycles())


def erate_c2_cycle(funding_year: int, *, extrapolate: bool = False) -> C2Cycle:
    """The cycle an E-Rate funding year (named by the year it starts) belongs to.

    Raises LookupError for a year no published cycle covers; with `extrapolate`, a year
    after the last published cycle uses that cycle's figures (a planning assumption).
    """
    cycles = _c2_cycles()
    for cycle in cycles:
        if cycle.first_funding_year <= funding_year <= cycle.last_funding_year:
            return cycle
    if extrapolate and funding_year > cycles[-1].last_funding_year:
        return cycles[-1]
    raise LookupError(
        f"no E-Rate Category Two cycle covers funding year {funding_year}"
    )


@dataclass(frozen=True, slots=True)
class DiscountBand:
    """One row of the E-Rate discount matrix: NSLP eligibility % band → discount %."""

    nslp_pct_min: Decimal
    nslp_pct_max: Decimal
    c1_urban_pct: int
    c1_rural_pct: int
    c2_urban_pct: int
    c2_rural_pct: int


@cache
def _bands() -> tuple[DiscountBand, ...]:
    bands = [
        DiscountBand(
            nslp_pct_min=Decimal(row["nslp_pct_min"]),
            nslp_pct_max=Decimal(row["nslp_pct_max"]),
            c1_urban_pct=int(row["c1_urban_pct"]),
            c1_rural_pct=int(row["c1_rural_pct"]),
            c2_urban_pct=int(row["c2_urban_pct"]),
            c2_rural_pct=int(row["c2_rural_pct"]),
        )
        for row in _rows("erate_discount_matrix.csv")
    ]
    return tuple(sorted(bands, key=lambda b: b.nslp_pct_min))


def erate_discount_bands() -> list[DiscountBand]:
    return list(_bands())


def erate_c2_discount(nslp_pct: Decimal, rural: bool) -> int:
    """The Category Two discount % for a share of NSLP-eligible students (0–100 %)."""
    if not Decimal(0) <= nslp_pct <= Decimal(100):
        raise ValueError(f"NSLP eligibility must be 0–100 %, not {nslp_pct}")
    # Bands are "less than 1 %", "1–19 %", …: a value is in the last band it reaches.
    band = [b for b in _bands() if b.nslp_pct_min <= nslp_pct][-1]
    return band.c2_rural_pct if rural else band.c2_urban_pct


# --- census districts --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CensusDistrict:
    """A real unified school district (2010 census); population is not enrollment."""

    nces_id: str
    name: str
    state: str
    population: int


@cache
def _census() -> tuple[CensusDistrict, ...]:
    return tuple(
        CensusDistrict(
            nces_id=row["geoid7"],
            name=row["name"],
            state=row["state"],
            population=int(row["population"]),
        )
        for row in _rows("census2010_unified_school_districts_TX_MI_MN.csv")
    )


def census_districts(states: Iterable[str] | None = None) -> list[CensusDistrict]:
    """Districts of the given two-letter states (all of TX, MI and MN by default)."""
    if states is None:
        return list(_census())
    wanted = {s.strip().upper() for s in states}
    return [d for d in _census() if d.state in wanted]


@cache
def _census_by_id() -> dict[str, CensusDistrict]:
    return {d.nces_id: d for d in _census()}


def census_district(nces_id: str) -> CensusDistrict | None:
    return _census_by_id().get(nces_id.strip())


def synthetic_enrollment(population: int) -> int:
    """A SYNTHETIC enrollment for demos and scale tests: 16 % of the census population.

    The census counts residents, not students; store the result with
    `enrollment_synthetic=True` and never present it as a real enrollment.
    """
    if population < 0:
        raise ValueError("population cannot be negative")
    share = SYNTHETIC_ENROLLMENT_SHARE * population
    return int(share.quantize(Decimal(1), ROUND_HALF_UP))
