"""Cells as values: dates, money, counts, statuses and categories; headers and rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.enums import DeviceCategory, DeviceStatus, ImportKind
from lifecycle.imports import values as v
from lifecycle.imports.fields import (
    check_mapping,
    guess_mapping,
    looks_like_google_admin,
)
from lifecycle.imports.reading import read_table
from lifecycle.imports.rows import Plan, Prepared, Rejected, prepare

from .files import (
    BAD_HEADER,
    BAD_ROWS,
    GAM_DEVICES,
    SNIPE_ASSETS,
    gam_devices,
    snipe_assets,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-08-31", date(2026, 8, 31)),
        ("2026-8-1", date(2026, 8, 1)),
        ("2031-06-30T00:00:00.000Z", date(2031, 6, 30)),
        ("08/31/2026", date(2026, 8, 31)),
        ("8/1/2026", date(2026, 8, 1)),
        ("45519", date(2024, 8, 15)),
        (45519, date(2024, 8, 15)),
        (45519.75, date(2024, 8, 15)),
        (datetime(2024, 8, 15, 9, 30), date(2024, 8, 15)),
        (date(2024, 8, 15), date(2024, 8, 15)),
        ("", None),
        (None, None),
    ],
)
def test_date_forms(cell: object, expected: date | None) -> None:
    assert v.parse_date(cell) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2026-02-30", "is not a real date (2026-02-30)"),
        ("02/30/2026", "is not a real date (2026-02-30)"),
        ("13/01/2026", "is not a real date"),
        ("next June", "must be a date"),
        ("2029-06", "must be a date"),
        (12, "must be a date"),
    ],
)
def test_bad_dates_say_why(cell: object, message: str) -> None:
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        v.parse_date(cell)  # type: ignore[arg-type]


def test_an_aue_month_means_its_last_day() -> None:
    assert v.parse_date("2029-06", month_end=True) == date(2029, 6, 30)
    assert v.parse_date("2028-02", month_end=True) == date(2028, 2, 29)
    assert v.parse_date("2028-12", month_end=True) == date(2028, 12, 31)
    with pytest.raises(ValueError, match="month"):
        v.parse_date("2028-13", month_end=True)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("$1,049.00", Decimal("1049.00")),
        ("1049", Decimal("1049")),
        ("USD 12.5", Decimal("12.5")),
        ("€ 1 234.50", Decimal("1234.50")),
        ("(12.00)", Decimal("-12.00")),
        ("-$3", Decimal("-3")),
        ("$-3", Decimal("-3")),
        ("1,234,567.89", Decimal("1234567.89")),
        (19.99, Decimal("19.99")),
        (250, Decimal("250")),
        ("", None),
    ],
)
def test_money_forms(cell: object, expected: Decimal | None) -> None:
    assert v.parse_money(cell) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["1e308", "12,34", "1.2.3", "ten", "$", "NaN", True])
def test_bad_money(cell: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        v.parse_money(cell)  # type: ignore[arg-type]


@given(st.decimals(min_value=0, max_value=10**11, places=2))
def test_money_written_with_sign_and_separators_reads_back(amount: Decimal) -> None:
    assert v.parse_money(f"${amount:,.2f}") == amount


@given(st.dates(min_value=date(1980, 1, 1), max_value=date(2200, 12, 31)))
def test_every_date_reads_the_same_in_every_form(when: date) -> None:
    serial = (when - v.EXCEL_EPOCH).days
    forms = [when.isoformat(), f"{when.month:02d}/{when.day:02d}/{when.year}", serial]
    assert {v.parse_date(f) for f in forms} == {when}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Deployed", DeviceStatus.IN_SERVICE),
        ("ready to deploy", DeviceStatus.SPARE),
        ("ACTIVE", DeviceStatus.IN_SERVICE),
        ("DEPROVISIONED", DeviceStatus.RETIRED),
        ("Lost/Stolen", DeviceStatus.LOST),
        ("Out for Repair", DeviceStatus.IN_REPAIR),
        ("Archived", DeviceStatus.RETIRED),
        ("in_service", DeviceStatus.IN_SERVICE),
        ("", None),
    ],
)
def test_statuses(cell: str, expected: DeviceStatus | None) -> None:
    assert v.parse_status(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Chromebook", DeviceCategory.CHROMEBOOK),
        ("Chromebooks", DeviceCategory.CHROMEBOOK),
        ("Laptops", DeviceCategory.LAPTOP),
        ("iPad", DeviceCategory.TABLET),
        ("Access Point", DeviceCategory.WIRELESS_AP),
        ("interactive_display", DeviceCategory.INTERACTIVE_DISPLAY),
    ],
)
def test_categories(cell: str, expected: DeviceCategory) -> None:
    assert v.parse_category(cell) == expected


def test_every_status_and_category_reads_its_own_value_and_label() -> None:
    for status in DeviceStatus:
        assert v.parse_status(status.value) == status == v.parse_status(status.label)
    for category in DeviceCategory:
        assert v.parse_category(category.value) == category
        assert v.parse_category(category.label) == category


def test_an_unknown_status_names_itself() -> None:
    with pytest.raises(ValueError, match="'Vaporized' is not a device status we know"):
        v.parse_status("Vaporized")


def test_org_unit_paths_name_their_parts_deepest_first() -> None:
    assert v.school_names("/Students/Lincoln Elementary") == [
        "Lincoln Elementary",
        "Students",
    ]
    assert v.school_names("Lincoln Elementary") == ["Lincoln Elementary"]
    assert v.school_names("") == []


def test_whole_numbers() -> None:
    assert v.parse_whole("36 months") == 36
    assert v.parse_whole("1,000") == 1000
    assert v.parse_whole(24.0) == 24
    for bad in ("2.5", 2.5, "many"):
        with pytest.raises(ValueError, match="whole"):
            v.parse_whole(bad)


# --- headers -----------------------------------------------------------------


def test_snipe_it_headers_map_to_our_fields() -> None:
    mapping = guess_mapping(ImportKind.DEVICES, SNIPE_ASSETS)
    named = {field: SNIPE_ASSETS[i] for field, i in mapping.items()}
    assert named == {
        "asset_tag": "Asset Tag",
        "serial": "Serial Number",
        "model": "Model Name",
        "category": "Category",
        "status": "Status",
        "school": "Location",
        "purchase_date": "Purchase Date",
        "purchase_cost": "Purchase Cost",
        "warranty_months": "Warranty",
        "eol_date": "EOL Date",
        "assigned_to": "Checked Out To: Username",
        "notes": "Asset Notes",
    }


def test_gam_headers_map_to_our_fields() -> None:
    mapping = guess_mapping(ImportKind.DEVICES, GAM_DEVICES)
    named = {field: GAM_DEVICES[i] for field, i in mapping.items()}
    assert named == {
        "asset_tag": "annotatedAssetId",
        "serial": "serialNumber",
        "model": "model",
        "status": "status",
        "school": "orgUnitPath",
        "aue_date": "autoUpdateThrough",
        "assigned_to": "annotatedUser",
        "notes": "notes",
    }
    assert looks_like_google_admin(GAM_DEVICES)
    assert not looks_like_google_admin(SNIPE_ASSETS)
    older = [
        h.replace("autoUpdateThrough", "autoUpdateExpiration") for h in GAM_DEVICES
    ]
    assert guess_mapping(ImportKind.DEVICES, older)["aue_date"] == 10


@pytest.mark.parametrize(
    "header", ["asset_tag", "ASSET TAG", " Asset  Tag ", "asset-tag", "AssetTag"]
)
def test_headers_match_ignoring_case_spaces_and_punctuation(header: str) -> None:
    assert guess_mapping(ImportKind.DEVICES, ["x", header]) == {"asset_tag": 1}


def test_snipe_it_license_headers() -> None:
    headers = ["License Name", "Serial/Product Key", "Manufacturer", "Purchase Date",
               "Purchase Cost", "Expiration Date", "Seats", "Notes"]  # fmt: skip
    named = {
        f: headers[i] for f, i in guess_mapping(ImportKind.LICENSES, headers).items()
    }
    assert named == {
        "product": "License Name", "vendor": "Manufacturer", "seats": "Seats",
        "term_start": "Purchase Date", "term_end": "Expiration Date",
        "total_cost": "Purchase Cost", "notes": "Notes",
    }  # fmt: skip


def test_mapping_checks() -> None:
    assert check_mapping(ImportKind.DEVICES, {"asset_tag": 0}, 2, "asset_tag") == {}
    problems = check_mapping(
        ImportKind.DEVICES,
        {"asset_tag": 0, "model": 0, "wings": 1, "notes": 9},
        2,
        "serial",
    )
    assert problems == {
        "model": "uses the same column as asset_tag",
        "wings": "is not a field of this import",
        "notes": "names a column the file does not have",
        "serial": "is the import's key: choose its column",
    }
    assert "key" in check_mapping(ImportKind.LICENSES, {}, 1, "asset_tag")


# --- rows --------------------------------------------------------------------


def _plan(
    headers: list[str], kind: ImportKind = ImportKind.DEVICES, **kw: object
) -> Plan:
    return Plan(
        kind=kind,
        key=str(kw.get("key", "asset_tag")),
        mapping=guess_mapping(kind, headers),
        headers=headers,
        defaults=dict(kw.get("defaults", {})),  # type: ignore[arg-type]
    )


def test_a_snipe_it_row_as_it_will_be_stored() -> None:
    table = read_table(snipe_assets(1))
    number, row = next(table.rows)
    result = prepare(_plan(table.headers), number, row)
    assert isinstance(result, Prepared)
    assert result.key == ("LHS-0001",)
    assert result.school == ["Lincoln Elementary"]
    assert result.values == {
        "asset_tag": "LHS-0001",
        "serial": "SN000001",
        "model": "Latitude 3140",
        "category": DeviceCategory.LAPTOP,
        "status": DeviceStatus.IN_SERVICE,
        "purchase_date": date(2024, 8, 15),
        "purchase_cost": Decimal("1049.00"),
        "warranty_end": date(2027, 8, 15),
        "assigned_to": "student1",
    }


def test_a_gam_row_takes_the_aue_from_the_file_or_the_reference_list() -> None:
    table = read_table(gam_devices(2))
    plan = _plan(table.headers, defaults={"category": "chromebook"})
    plan.mapping["school"] = table.headers.index("orgUnitPath")
    first, second = (prepare(plan, n, r) for n, r in table.rows)
    assert isinstance(first, Prepared) and isinstance(second, Prepared)
    # Lenovo 100e Chromebook Gen 3: 2031-06 in the package's list
    assert first.values["aue_date"] == date(2031, 6, 30) and first.aue_from_reference
    assert second.values["aue_date"] == date(2031, 6, 30)
    assert not second.aue_from_reference
    assert first.values["category"] is DeviceCategory.CHROMEBOOK
    assert first.school == ["Lincoln Elementary", "Students"]
    assert first.values["assigned_to"] == "kid1@example.org"


def test_every_kind_of_bad_row_is_refused_with_its_row_and_column() -> None:
    plan = _plan(BAD_HEADER)
    results = [prepare(plan, n, row) for n, (row, _) in enumerate(BAD_ROWS, start=2)]
    by_row = {r.number: r for r in results}
    assert by_row[2] == Rejected(
        2, "Status", "'Vaporized' is not a device status we know"
    )
    assert by_row[3] == Rejected(3, "Purchase Date", "is not a real date (2026-02-30)")
    assert by_row[4] == Rejected(4, "Purchase Cost", "must be an amount like 1234.50")
    assert by_row[8] == Rejected(8, "Notes", "must be at most 4000 characters")
    # a duplicate tag and an unknown school need the whole file and the district
    assert isinstance(by_row[5], Prepared) and isinstance(by_row[6], Prepared)
    assert by_row[7] == Prepared(7, by_row[7].values, ("BAD-5",), ["Hogwarts"])  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (["A", "Laptop", "", "", "$1000000000000"], "Purchase Cost", "is too large"),
        (["A", "Laptop", "", "", "-5"], "Purchase Cost", "must not be negative"),
        (["A", "Laptop", "", "1979-12-31", ""], "Purchase Date", "must be between"),
        (["", "Laptop", "", "", ""], "Asset Tag", "is the import's key and is empty"),
        (["A", "", "", "", ""], "Category", "is required"),
        (["A", "Laptop", "", "", "1.234"], "Purchase Cost", "at most 2 decimals"),
    ],
)
def test_model_rules_apply_to_imported_rows(
    row: list[str], column: str, message: str
) -> None:
    plan = _plan(["Asset Tag", "Category", "Status", "Purchase Date", "Purchase Cost"])
    result = prepare(plan, 2, list(row))
    assert isinstance(result, Rejected), result
    assert result.column == column and message in result.message


def test_a_license_row_takes_its_term_from_the_dates_and_its_price_per_seat() -> None:
    headers = [
        "License Name",
        "Seats",
        "Purchase Date",
        "Expiration Date",
        "Purchase Cost",
    ]
    plan = _plan(headers, ImportKind.LICENSES, key="product")
    result = prepare(
        plan, 2, ["GoGuardian", "1,200", "07/01/2025", "06/30/2026", "$9,000.00"]
    )
    assert isinstance(result, Prepared), result
    assert result.values["initial_term_months"] == 12
    assert result.values["price_per_seat"] == Decimal("7.50")
    bad = prepare(plan, 3, ["GoGuardian", "10", "07/01/2025", "06/30/2024", ""])
    assert bad == Rejected(3, "Expiration Date", "must be at least 1")


def test_a_contract_row() -> None:
    headers = [
        "Contract Name",
        "Vendor",
        "Type",
        "Start Date",
        "End Date",
        "Annual Cost",
    ]
    plan = _plan(headers, ImportKind.CONTRACTS, key="name_start")
    result = prepare(
        plan,
        2,
        ["Core switching", "Cisco", "Support", "2025-07-01", "2028-06-30", "$12,000"],
    )
    assert isinstance(result, Prepared), result
    assert result.key == ("Core switching", "2025-07-01")
    assert result.vendor == "Cisco"
    assert result.values["initial_term_months"] == 36
    assert str(result.values["kind"]) == "support"
