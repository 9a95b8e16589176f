"""What each kind of import reads: our fields, the headers other systems give them,
and the keys an upsert can match on. Pure.

Headers match ignoring case, spaces and punctuation ("Serial Number", "serial_number"
and "serialNumber" are one header). A mapping is {our field: the file's column index}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lifecycle.enums import ImportKind


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    # A header that starts like this also names the field (Snipe-IT's
    # "Checked Out To: Username").
    prefixes: tuple[str, ...] = ()


def header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", header.lower())


_DEVICE_FIELDS = (
    ImportField("asset_tag", "Asset tag", ("Asset Tag", "annotatedAssetId", "Tag")),
    ImportField("serial", "Serial", ("Serial Number", "serialNumber", "Serial No")),
    ImportField(
        "model",
        "Model",
        (
            "Model Name",
            "Model",
            "Item Name",
            "Asset Model",
            "Model No.",
            "Model Number",
        ),
    ),
    ImportField("category", "Category", ("Category", "Device Type", "Type")),
    ImportField("status", "Status", ("Status", "Status Label", "State")),
    ImportField(
        "school",
        "School",
        ("School", "Location", "Site", "orgUnitPath", "annotatedLocation", "Building"),
    ),
    ImportField("purchase_date", "Purchase date", ("Purchase Date", "Purchased")),
    ImportField(
        "purchase_cost",
        "Purchase cost",
        ("Purchase Cost", "Cost", "Price", "Unit Cost"),
    ),
    ImportField("funding_source", "Funding source", ("Funding Source", "Funding")),
    ImportField(
        "warranty_end",
        "Warranty end",
        ("Warranty End", "Warranty Expires", "Warranty Expiration", "warrantyEnd"),
    ),
    ImportField(
        "warranty_months", "Warranty (months)", ("Warranty", "Warranty Months")
    ),
    ImportField(
        "aue_date",
        "AUE date",
        ("AUE", "AUE Date", "autoUpdateThrough", "autoUpdateExpiration"),
    ),
    ImportField("eol_date", "EOL date", ("EOL Date", "Asset EOL Date", "EOL")),
    ImportField("lifespan_months", "Lifespan (months)", ("Lifespan", "Life (months)")),
    ImportField(
        "assigned_to",
        "Assigned to",
        ("Assigned To", "annotatedUser", "User", "Checked Out To"),
        prefixes=("checkedoutto",),
    ),
    ImportField("notes", "Notes", ("Notes", "Asset Notes", "Comments")),
)

_LICENSE_FIELDS = (
    ImportField(
        "product", "Product", ("License Name", "Item Name", "Name", "Software")
    ),
    ImportField("vendor", "Vendor", ("Manufacturer", "Publisher", "Supplier")),
    ImportField("school", "School", ("School", "Location", "Site")),
    ImportField("seats", "Seats", ("Seats", "Quantity", "Licenses", "Qty")),
    ImportField("seats_used", "Seats used", ("Seats Used", "Assigned Seats", "In Use")),
    ImportField("term_start", "Term start", ("Start Date", "Purchase Date", "Start")),
    ImportField(
        "term_end",
        "Term end",
        ("Expiration Date", "End Date", "Termination Date", "Expires", "Renewal Date"),
    ),
    ImportField("initial_term_months", "Term (months)", ("Term Months", "Term")),
    ImportField("renewal_term_months", "Renewal term (months)", ("Renewal Term",)),
    ImportField("renewal_type", "Renewal", ("Renewal Type", "Auto Renew", "Renews")),
    ImportField("notice_days", "Notice (days)", ("Notice Days", "Notice Period")),
    ImportField(
        "price_per_seat",
        "Price per seat",
        ("Price per Seat", "Unit Price", "Seat Price"),
    ),
    ImportField("total_cost", "Total cost", ("Purchase Cost", "Total Cost", "Cost")),
    ImportField("funding_source", "Funding source", ("Funding Source", "Funding")),
    ImportField("notes", "Notes", ("Notes", "Comments")),
)

_CONTRACT_FIELDS = (
    ImportField("name", "Name", ("Contract Name", "Name", "Contract", "Title")),
    ImportField("vendor", "Vendor", ("Vendor", "Supplier", "Provider", "Manufacturer")),
    ImportField("kind", "Kind", ("Contract Type", "Kind", "Type")),
    ImportField("term_start", "Term start", ("Start Date", "Start", "Effective Date")),
    ImportField(
        "term_end",
        "Term end",
        ("End Date", "Expiration Date", "Expires", "Termination Date"),
    ),
    ImportField("initial_term_months", "Term (months)", ("Term Months", "Term")),
    ImportField("renewal_term_months", "Renewal term (months)", ("Renewal Term",)),
    ImportField("renewal_type", "Renewal", ("Renewal Type", "Auto Renew", "Renews")),
    ImportField("notice_days", "Notice (days)", ("Notice Days", "Notice Period")),
    ImportField(
        "cost_per_period",
        "Cost per term",
        ("Cost per Period", "Annual Cost", "Cost", "Price", "Purchase Cost"),
    ),
    ImportField("funding_source", "Funding source", ("Funding Source", "Funding")),
    ImportField("erate_c2_eligible", "E-Rate C2 eligible", ("E-Rate", "E-Rate C2")),
    ImportField("notes", "Notes", ("Notes", "Comments")),
)

FIELDS: dict[ImportKind, tuple[ImportField, ...]] = {
    ImportKind.DEVICES: _DEVICE_FIELDS,
    ImportKind.LICENSES: _LICENSE_FIELDS,
    ImportKind.CONTRACTS: _CONTRACT_FIELDS,
}

# The keys an upsert can match rows on, per kind, the first being the default. A key is
# the fields whose values, together, name one record of the district.
KEYS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    ImportKind.DEVICES: {"asset_tag": ("asset_tag",), "serial": ("serial",)},
    ImportKind.LICENSES: {
        "product": ("product",),
        "product_start": ("product", "term_start"),
    },
    ImportKind.CONTRACTS: {"name": ("name",), "name_start": ("name", "term_start")},
}
KEY_LABELS = {
    "asset_tag": "Asset tag",
    "serial": "Serial number",
    "product": "Product name",
    "product_start": "Product name and term start",
    "name": "Contract name",
    "name_start": "Contract name and term start",
}


def field_names(kind: ImportKind) -> list[str]:
    return [f.name for f in FIELDS[kind]]


def guess_mapping(kind: ImportKind, headers: list[str]) -> dict[str, int]:
    """Each of our fields → the first column whose header is the field's own name, its
    label or an alias; a column serves one field (the earlier field in FIELDS wins)."""
    keys = [header_key(h) for h in headers]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for fld in FIELDS[kind]:
        wanted = [header_key(fld.name), header_key(fld.label)] + [
            header_key(a) for a in fld.aliases
        ]
        for alias in wanted:
            column = next(
                (i for i, k in enumerate(keys) if k == alias and i not in taken), None
            )
            if column is not None:
                break
        else:
            column = next(
                (
                    i
                    for i, k in enumerate(keys)
                    if i not in taken and k and k.startswith(fld.prefixes or ("\0",))
                ),
                None,
            )
        if column is not None:
            mapping[fld.name] = column
            taken.add(column)
    return mapping


def looks_like_google_admin(headers: list[str]) -> bool:
    """A Google Admin / GAM Chromebook export (its devices are all Chromebooks)."""
    keys = {header_key(h) for h in headers}
    return "serialnumber" in keys and bool(
        keys & {"autoupdatethrough", "autoupdateexpiration", "orgunitpath", "deviceid"}
    )


def check_mapping(
    kind: ImportKind, mapping: dict[str, int], width: int, key: str
) -> dict[str, str]:
    """What is wrong with a mapping, by field: a column that does not exist, a column
    used twice, a key field not mapped."""
    problems: dict[str, str] = {}
    names = set(field_names(kind))
    used: dict[int, str] = {}
    for name, column in mapping.items():
        if name not in names:
            problems[name] = "is not a field of this import"
        elif not 0 <= column < width:
            problems[name] = "names a column the file does not have"
        elif column in used:
            problems[name] = f"uses the same column as {used[column]}"
        else:
            used[column] = name
    if key not in KEYS[kind]:
        problems["key"] = "must be one of: " + ", ".join(KEYS[kind])
    else:
        for name in KEYS[kind][key]:
            if name not in mapping:
                problems.setdefault(name, "is the import's key: choose its column")
    return problems
