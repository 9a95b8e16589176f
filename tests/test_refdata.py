"""The reference data in the package: AUE dates, E-Rate rules, census districts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

import pytest

import lifecycle.refdata as refdata
from lifecycle.refdata import (
    aue_date,
    aue_models,
    census_district,
    census_districts,
    erate_c2_cycle,
    erate_c2_discount,
    month_end,
    synthetic_enrollment,
)

# --- Chromebook AUE ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # Google's own names; the date is the last day of the AUE month.
        ("Lenovo 100e Chromebook Gen 3", date(2031, 6, 30)),
        ("Dell Chromebook 3120", date(2033, 6, 30)),
        ("HP Chromebook 11 G3", date(2021, 9, 30)),
        ("HP Chromebook 14 G3", date(2019, 10, 31)),
        ("Acer Chromebook R13 (CB5-312T)", date(2026, 8, 31)),
        # Case, spacing and punctuation do not matter.
        ("lenovo  100E chromebook gen3", date(2031, 6, 30)),
        ("LENOVO 100e Chromebook Gen-3", date(2031, 6, 30)),
        ("Dell Chromebook 3100 2 in 1", date(2029, 6, 30)),
        # What devices report: an extra qualifier, "2nd Gen" for "Gen 2", no maker.
        ("Lenovo 100e Chromebook Gen 3 (Intel)", date(2031, 6, 30)),
        ("Lenovo 100e Chromebook Gen 4 Intel", date(2033, 6, 30)),
        ("Lenovo 100e Chromebook 3rd Gen", date(2031, 6, 30)),
        ("Lenovo 100e Chromebook Gen 2", date(2029, 6, 30)),
        ("100e Chromebook Gen 3", date(2031, 6, 30)),
        # One code out of Google's parenthesised variant list.
        ("Acer Chromebook 311 (C722)", date(2030, 6, 30)),
        ("Acer Chromebook 311 C722T", date(2030, 6, 30)),
        ("Acer Chromebook 511 (C736)", date(2033, 6, 30)),
        # Unknown, or ambiguous (several "Acer Chromebook 311" with other dates).
        ("Samsung Galaxy Chromebook", None),
        ("Acer Chromebook 311", None),
        ("Lenovo ThinkPad L14 Gen 5", None),
        ("", None),
    ],
)
def test_aue_date(model: str, expected: date | None) -> None:
    assert aue_date(model) == expected


@pytest.mark.parametrize(
    ("year", "month", "last"),
    [
        (2027, 1, 31),
        (2027, 2, 28),
        (2028, 2, 29),  # leap year
        (2100, 2, 28),  # divisible by 100: not a leap year
        (2000, 2, 29),  # divisible by 400: a leap year
        (2027, 4, 30),
        (2027, 12, 31),
    ],
)
def test_month_end(year: int, month: int, last: int) -> None:
    assert month_end(year, month) == date(year, month, last)


@pytest.fixture
def february_aue(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The AUE table with two extra rows whose AUE month is a February."""
    real_rows = refdata._rows

    def rows(filename: str) -> Iterator[dict[str, str]]:
        yield from real_rows(filename)
        if filename == "chromebook_aue_reference.csv":
            yield {
                "manufacturer": "Test",
                "model": "Test Book 1",
                "aue_month": "2028-02",
            }
            yield {
                "manufacturer": "Test",
                "model": "Test Book 2",
                "aue_month": "2027-02",
            }

    monkeypatch.setattr(refdata, "_rows", rows)
    refdata._aue_index.cache_clear()
    yield
    refdata._aue_index.cache_clear()


@pytest.mark.parametrize(
    ("model", "expected"),
    [("Test Book 1", date(2028, 2, 29)), ("test book 2", date(2027, 2, 28))],
)
def test_aue_date_in_february_is_the_last_day(
    february_aue: None, model: str, expected: date
) -> None:
    assert aue_date(model) == expected


def test_every_aue_model_ends_on_the_last_day_of_its_month() -> None:
    models = aue_models()
    assert len(models) == 103
    assert {m.manufacturer for m in models} == {"Acer", "Dell", "HP", "Lenovo"}
    for m in models:
        assert m.aue_date.strftime("%Y-%m") == m.aue_month
        assert (m.aue_date + timedelta(days=1)).day == 1
        assert aue_date(m.model) == m.aue_date, m.model


# --- E-Rate ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("funding_year", "multiplier", "floor", "first", "last"),
    [
        (2021, "167.00", "25000.00", 2021, 2025),
        (2025, "167.00", "25000.00", 2021, 2025),
        (2026, "201.57", "30175.00", 2026, 2030),
        (2030, "201.57", "30175.00", 2026, 2030),
    ],
)
def test_erate_c2_cycle(
    funding_year: int, multiplier: str, floor: str, first: int, last: int
) -> None:
    cycle = erate_c2_cycle(funding_year)
    assert cycle.multiplier == Decimal(multiplier)
    assert cycle.floor == Decimal(floor)
    assert (cycle.first_funding_year, cycle.last_funding_year) == (first, last)
    assert isinstance(cycle.multiplier, Decimal) and isinstance(cycle.floor, Decimal)


@pytest.mark.parametrize("funding_year", [2015, 2020, 2031])
def test_erate_c2_cycle_unknown_year(funding_year: int) -> None:
    with pytest.raises(LookupError):
        erate_c2_cycle(funding_year)


def test_erate_c2_cycle_extrapolates_only_forward_when_asked() -> None:
    assert erate_c2_cycle(2033, extrapolate=True).first_funding_year == 2026
    with pytest.raises(LookupError):
        erate_c2_cycle(2019, extrapolate=True)


@pytest.mark.parametrize(
    ("students", "budget"),
    [
        (0, "30175.00"),  # the floor
        (149, "30175.00"),  # 149 × 201.57 = 30033.93, under the floor
        (150, "30235.50"),
        (1000, "201570.00"),
        (101_778, "20515391.46"),
    ],
)
def test_erate_c2_budget_fy2026(students: int, budget: str) -> None:
    assert erate_c2_cycle(2026).budget(students) == Decimal(budget)


@pytest.mark.parametrize(
    ("nslp", "rural", "discount"),
    [
        ("0", False, 20),
        ("0.99", True, 25),
        ("0.995", False, 20),  # still "less than 1 %"
        ("1", False, 40),
        ("19.99", True, 50),
        ("20", False, 50),
        ("34.99", True, 60),
        ("35", False, 60),
        ("49.99", True, 70),
        ("50", False, 80),
        ("74.99", True, 80),
        ("75", False, 85),  # Category Two tops out at 85 %
        ("100", True, 85),
    ],
)
def test_erate_c2_discount(nslp: str, rural: bool, discount: int) -> None:
    assert erate_c2_discount(Decimal(nslp), rural) == discount


@pytest.mark.parametrize("nslp", ["-0.01", "100.01"])
def test_erate_c2_discount_refuses_impossible_shares(nslp: str) -> None:
    with pytest.raises(ValueError, match="NSLP"):
        erate_c2_discount(Decimal(nslp), rural=False)


# --- census districts ----------------------------------------------------------


def test_census_districts() -> None:
    everything = census_districts()
    assert len(everything) == 1885
    assert len(census_districts(["TX"])) == 1022
    assert len(census_districts(["mi", "MN"])) == 524 + 339
    ids = [d.nces_id for d in everything]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 7 and i.isdigit() for i in ids)


@pytest.mark.parametrize(
    ("nces_id", "name", "state"),
    [
        ("4808940", "Austin Independent School District", "TX"),
        ("2721240", "Minneapolis Public School District", "MN"),
        ("2612000", "Detroit City School District", "MI"),
    ],
)
def test_census_district(nces_id: str, name: str, state: str) -> None:
    district = census_district(nces_id)
    assert district is not None
    assert (district.name, district.state) == (name, state)
    assert district.population > 0


def test_census_district_unknown() -> None:
    assert census_district("9999999") is None


@pytest.mark.parametrize(
    ("population", "enrollment"),
    [(0, 0), (3, 0), (4, 1), (1000, 160), (636_113, 101_778), (5424, 868)],
)
def test_synthetic_enrollment_is_16_percent(population: int, enrollment: int) -> None:
    assert synthetic_enrollment(population) == enrollment


def test_synthetic_enrollment_refuses_negative_population() -> None:
    with pytest.raises(ValueError):
        synthetic_enrollment(-1)


# --- packaging -----------------------------------------------------------------


def test_sources_are_shipped_with_the_data() -> None:
    package = resources.files("lifecycle.refdata")
    sources = package.joinpath("SOURCES.md").read_text(encoding="utf-8")
    for name in (
        "chromebook_aue_reference.csv",
        "erate_c2_budget_parameters.csv",
        "erate_discount_matrix.csv",
        "census2010_unified_school_districts_TX_MI_MN.csv",
    ):
        assert package.joinpath(name).is_file()
        assert f"`{name}`" in sources
    assert "verify each date against Google's page" in sources
