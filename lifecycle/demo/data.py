"""The tables the demo seeder draws from: districts, vendors, vehicles, catalog, products.

District names and ids are real (2010 census, see lifecycle/refdata); vendor and product
names are real; every contract number, price, date and quantity is made up for the demo.
"""

# (data tables read best one row per line)

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lifecycle.enums import ContractKind, DeviceCategory, ItemKind, PriceUnit, Role

C = DeviceCategory

COOPERATIVE_NAME = "Central Texas Education Technology Purchasing Cooperative"
COOPERATIVE_SHORT = "CTETPC"
DEMO_DOMAIN = "demo.lifecycle.test"

# (role, e-mail local part, display name); district roles belong to the first district.
DEMO_USERS: list[tuple[Role, str, str]] = [
    (Role.DISTRICT_IT, "it", "Dana Ruiz (IT director)"),
    (Role.DISTRICT_FINANCE, "finance", "Marcus Bell (CFO)"),
    (Role.DISTRICT_VIEWER, "viewer", "Priya Shah (principal)"),
    (Role.COOP_STAFF, "coop", "Jordan Lee (cooperative buyer)"),
    (Role.ADMIN, "admin", "Sam Ortiz (administrator)"),
]


@dataclass(frozen=True, slots=True)
class DemoDistrict:
    nces_id: str
    tag_prefix: str
    fy_start_month: int
    nslp_pct: Decimal  # synthetic share of NSLP-eligible students, for the E-Rate band
    rural: bool
    timezone: str
    chromebook_maker: str
    chromebook_lifespan: int


CHI, DET = "America/Chicago", "America/Detroit"
DISTRICTS = [
    DemoDistrict("4808940", "AISD", 7, Decimal("52.0"), False, CHI, "Lenovo", 48),
    DemoDistrict("4838080", "RRISD", 9, Decimal("26.0"), False, CHI, "Dell", 48),
    DemoDistrict("2616440", "GRPS", 7, Decimal("82.0"), False, DET, "Dell", 48),
    DemoDistrict("2711040", "DPS", 7, Decimal("44.0"), False, CHI, "Lenovo", 48),
    DemoDistrict("2633870", "TCAPS", 7, Decimal("33.0"), False, DET, "HP", 60),
    DemoDistrict("4800010", "HCISD", 7, Decimal("48.0"), False, CHI, "HP", 60),
    DemoDistrict("2704440", "BAS", 7, Decimal("47.0"), True, CHI, "Lenovo", 60),
    DemoDistrict("4817760", "EISD", 7, Decimal("2.5"), False, CHI, "Dell", 48),
    DemoDistrict("4827870", "LISD", 10, Decimal("68.0"), True, CHI, "Acer", 60),
    DemoDistrict("4824840", "JCISD", 1, Decimal("45.0"), True, CHI, "Lenovo", 60),
]

VENDORS: list[tuple[str, str]] = [
    ("Dell Technologies", "https://www.dell.com"),
    ("Lenovo", "https://www.lenovo.com"),
    ("HP Inc.", "https://www.hp.com"),
    ("Acer", "https://www.acer.com"),
    ("Apple", "https://www.apple.com/education/"),
    ("Google", "https://edu.google.com"),
    ("Microsoft", "https://www.microsoft.com/education"),
    ("CDW-G", "https://www.cdwg.com"),
    ("SHI International", "https://www.shi.com"),
    ("Cisco Meraki", "https://meraki.cisco.com"),
    ("HPE Aruba Networking", "https://www.arubanetworks.com"),
    ("Fortinet", "https://www.fortinet.com"),
    ("APC by Schneider Electric", "https://www.apc.com"),
    ("Promethean", "https://www.prometheanworld.com"),
    ("Epson", "https://epson.com"),
    ("IPEVO", "https://www.ipevo.com"),
    ("Xerox", "https://www.xerox.com"),
    ("GoGuardian", "https://www.goguardian.com"),
    ("Securly", "https://www.securly.com"),
    ("Lightspeed Systems", "https://www.lightspeedsystems.com"),
    ("Clever", "https://clever.com"),
    ("Renaissance Learning", "https://www.renaissance.com"),
    ("Instructure", "https://www.instructure.com"),
    ("PowerSchool", "https://www.powerschool.com"),
    ("IXL Learning", "https://www.ixl.com"),
    ("Newsela", "https://newsela.com"),
    ("Seesaw Learning", "https://seesaw.com"),
    ("Kami", "https://www.kamiapp.com"),
    ("Adobe", "https://www.adobe.com/education"),
    ("Zoom", "https://www.zoom.com"),
]


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """A cooperative contract vehicle; fields after `vendor` are ContractVehicle columns."""

    key: str
    vendor: str
    contract_number: str
    title: str
    term_start: date
    term_end: date
    renewal_options: str
    lead_agency: str = COOPERATIVE_NAME


VEHICLES = [
    VehicleSpec("euc", "CDW-G", "CTETPC-22-101", "End-user computing: Chromebooks, laptops, desktops, tablets, displays", date(2022, 8, 1), date(2027, 7, 31), "Initial term Aug 2022 – Jul 2025; two 1-year renewals (both exercised)."),
    VehicleSpec("net", "Cisco Meraki", "CTETPC-22-204", "Network infrastructure and basic maintenance (E-Rate Category Two)", date(2022, 7, 1), date(2027, 6, 30), "Five-year term aligned with E-Rate funding years; no further renewals."),
    VehicleSpec("soft", "SHI International", "CTETPC-24-310", "Software licensing, subscriptions and technology services", date(2024, 1, 1), date(2026, 12, 31), "Initial 3-year term; up to two 1-year renewals at the cooperative's option."),
]  # fmt: skip

# Volume discounts off list price, in percent, from each minimum quantity.
TIER_SCHEMES: dict[str, list[tuple[int, int]]] = {
    "device": [(1, 0), (100, 4), (500, 8), (2000, 12)],
    "display": [(1, 0), (10, 3), (50, 6), (150, 9)],
    "network": [(1, 0), (10, 3), (50, 6), (200, 10)],
    "software": [(1, 0), (500, 5), (2500, 10), (10000, 15)],
    "service": [(1, 0), (100, 2), (1000, 5)],
}


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """A catalog item; fields after `scheme` are CatalogItem columns."""

    vehicle: str
    scheme: str  # the TIER_SCHEMES row its price tiers follow
    sku: str
    name: str
    kind: ItemKind
    category: DeviceCategory | None
    list_price: Decimal
    unit: PriceUnit = PriceUnit.EACH
    min_order_qty: int = 1
    lifespan_months: int | None = None
    term_months: int | None = None
    erate_c2_eligible: bool = False


_NET = (C.NETWORK_SWITCH, C.WIRELESS_AP, C.FIREWALL)
_MOQ = {"device": 25, "display": 2, "network": 1}


def _device(
    sku: str, name: str, cat: C, price: str, scheme: str, life: int
) -> ItemSpec:
    vehicle = "net" if cat in _NET else "euc"
    return ItemSpec(vehicle, scheme, sku, name, ItemKind.DEVICE, cat, Decimal(price), min_order_qty=_MOQ[scheme], lifespan_months=life, erate_c2_eligible=vehicle == "net")  # fmt: skip


def _license(vehicle: str, sku: str, name: str, price: str, term: int) -> ItemSpec:
    net = vehicle == "net"
    return ItemSpec(vehicle, "network" if net else "software", sku, name, ItemKind.LICENSE, None, Decimal(price), unit=PriceUnit.SEAT, min_order_qty=1 if net else 100, term_months=term, erate_c2_eligible=net)  # fmt: skip


def _service(vehicle: str, sku: str, name: str, cat: C, price: str, unit: PriceUnit, term: int) -> ItemSpec:  # fmt: skip
    return ItemSpec(vehicle, "service", sku, name, ItemKind.SERVICE, cat, Decimal(price), unit=unit, term_months=term, erate_c2_eligible=vehicle == "net")  # fmt: skip


CATALOG: list[ItemSpec] = [
    _device("LEN-100E-G4", "Lenovo 100e Chromebook Gen 4", C.CHROMEBOOK, "319.00", "device", 48),
    _device("LEN-100E-G3", "Lenovo 100e Chromebook Gen 3", C.CHROMEBOOK, "289.00", "device", 48),
    _device("LEN-300E-G3", "Lenovo 300e Chromebook Gen 3", C.CHROMEBOOK, "399.00", "device", 48),
    _device("DEL-CB3120", "Dell Chromebook 3120", C.CHROMEBOOK, "329.00", "device", 48),
    _device("DEL-CB3120-2N1", "Dell Chromebook 3120 2-in-1", C.CHROMEBOOK, "409.00", "device", 48),
    _device("DEL-CB3110", "Dell Chromebook 3110", C.CHROMEBOOK, "309.00", "device", 48),
    _device("HP-CB11-G9EE", "HP Chromebook 11 G9 EE", C.CHROMEBOOK, "299.00", "device", 48),
    _device("ACR-CB311-12H", "Acer Chromebook 311 (CB311-12H/CB311-12HT)", C.CHROMEBOOK, "289.00", "device", 48),
    _device("DEL-LAT3440", "Dell Latitude 3440", C.LAPTOP, "899.00", "device", 60),
    _device("LEN-L14-G5", "Lenovo ThinkPad L14 Gen 5", C.LAPTOP, "1029.00", "device", 60),
    _device("HP-PB440-G11", "HP ProBook 440 G11", C.LAPTOP, "949.00", "device", 60),
    _device("DEL-OPT7010M", "Dell OptiPlex 7010 Micro", C.DESKTOP, "879.00", "device", 72),
    _device("APL-IPAD10", "Apple iPad (10th generation)", C.TABLET, "329.00", "device", 48),
    _device("PRM-AP9-75", 'Promethean ActivPanel 9 Premium 75"', C.INTERACTIVE_DISPLAY, "3899.00", "display", 96),
    _device("PRM-LX-86", 'Promethean ActivPanel LX 86"', C.INTERACTIVE_DISPLAY, "5499.00", "display", 96),
    _device("HP-LJ-M611DN", "HP LaserJet Enterprise M611dn", C.PRINTER, "899.00", "display", 72),
    _device("MER-MS130-48P", "Cisco Meraki MS130-48P", C.NETWORK_SWITCH, "4899.00", "network", 84),
    _device("MER-MS390-48UX", "Cisco Meraki MS390-48UX", C.NETWORK_SWITCH, "13999.00", "network", 84),
    _device("MER-MR36", "Cisco Meraki MR36", C.WIRELESS_AP, "699.00", "network", 72),
    _device("MER-CW9164I", "Cisco Meraki CW9164I", C.WIRELESS_AP, "1099.00", "network", 72),
    _device("MER-MX105", "Cisco Meraki MX105", C.FIREWALL, "5999.00", "network", 60),
    _license("net", "MER-LIC-AP-5Y", "Cisco Meraki Enterprise license, access point, 5 years", "150.00", 60),
    _license("net", "MER-LIC-MS130-5Y", "Cisco Meraki Enterprise license, MS130-48, 5 years", "690.00", 60),
    _service("net", "MER-SVC-MAINT", "Network basic maintenance, per switch per year", C.NETWORK_SWITCH, "180.00", PriceUnit.PER_YEAR, 12),
    _license("soft", "GGL-WS-EDU-PLUS", "Google Workspace for Education Plus", "5.00", 12),
    _license("soft", "MSFT-M365-A3-FAC", "Microsoft 365 A3 for faculty", "39.00", 12),
    _license("soft", "GOG-ADMIN", "GoGuardian Admin", "7.00", 12),
    _license("soft", "SEC-FILTER", "Securly Filter", "4.25", 12),
    _license("soft", "LSS-FILTER", "Lightspeed Filter", "4.00", 12),
    _license("soft", "CLV-COMPLETE", "Clever Complete", "2.00", 12),
    _license("soft", "REN-STAR-READ", "Renaissance Star Reading", "4.10", 12),
    _service("euc", "CDW-CB-ADP-3Y", "Chromebook extended warranty with accidental damage, 3 years", C.CHROMEBOOK, "59.00", PriceUnit.EACH, 36),
    _service("soft", "SHI-MPS", "Managed print service, per printer per year", C.PRINTER, "420.00", PriceUnit.PER_YEAR, 12),
]  # fmt: skip

# Replacement item per category for each district's refresh policy; Chromebooks follow
# the district's preferred maker.
POLICY_ITEMS: dict[DeviceCategory, tuple[int, str]] = {
    C.LAPTOP: (60, "DEL-LAT3440"),
    C.DESKTOP: (72, "DEL-OPT7010M"),
    C.TABLET: (48, "APL-IPAD10"),
    C.INTERACTIVE_DISPLAY: (96, "PRM-AP9-75"),
    C.PRINTER: (72, "HP-LJ-M611DN"),
    C.NETWORK_SWITCH: (84, "MER-MS130-48P"),
    C.WIRELESS_AP: (72, "MER-CW9164I"),
    C.FIREWALL: (60, "MER-MX105"),
}
CHROMEBOOK_REPLACEMENT = {
    "Lenovo": "LEN-100E-G4",
    "Dell": "DEL-CB3120",
    "HP": "HP-CB11-G9EE",
    "Acer": "ACR-CB311-12H",
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A device model the demo districts bought, in which years, at what list price."""

    name: str
    category: DeviceCategory
    maker: str
    first_year: int
    last_year: int
    list_price: Decimal
    serial: str  # pattern: '#' a digit, '?' a letter or digit
    sku: str | None = None  # the catalog item, when the cooperative sells it


def _m(name: str, cat: C, maker: str, years: str, price: str, serial: str, sku: str = "") -> ModelSpec:  # fmt: skip
    first, _, last = years.partition("-")
    return ModelSpec(name, cat, maker, int(first), int(last or first), Decimal(price), serial, sku or None)  # fmt: skip


MODELS: list[ModelSpec] = [
    # Chromebooks: names exactly as on Google's AUE list, so aue_date() finds them.
    _m("Dell Chromebook 11 (3180)", C.CHROMEBOOK, "Dell", "2018", "229.00", "???????"),
    _m("Lenovo 100e Chromebook", C.CHROMEBOOK, "Lenovo", "2018", "259.00", "PF??????"),
    _m("HP Chromebook 11 G6 EE", C.CHROMEBOOK, "HP", "2018", "249.00", "5CD###????"),
    _m("Acer Chromebook 11 (C732, C732T, C732L, C732LT)", C.CHROMEBOOK, "Acer", "2018-2019", "239.00", "NXGUK##########"),
    _m("Lenovo 300e Chromebook", C.CHROMEBOOK, "Lenovo", "2019", "339.00", "PF??????"),
    _m("Dell Chromebook 11 (5190)", C.CHROMEBOOK, "Dell", "2019", "289.00", "???????"),
    _m("HP Chromebook x360 14 G1", C.CHROMEBOOK, "HP", "2019-2020", "529.00", "5CD###????"),
    _m("Acer Chromebook Spin 13 (CP713-1WN)", C.CHROMEBOOK, "Acer", "2019-2020", "649.00", "NXEFJ##########"),
    _m("Lenovo 100e Chromebook 2nd Gen", C.CHROMEBOOK, "Lenovo", "2020", "279.00", "PF??????"),
    _m("Dell Chromebook 3100", C.CHROMEBOOK, "Dell", "2020-2021", "299.00", "???????"),
    _m("HP Chromebook 11 G8 EE", C.CHROMEBOOK, "HP", "2020-2021", "279.00", "5CD###????"),
    _m("Lenovo 100e Chromebook 2nd Gen AST", C.CHROMEBOOK, "Lenovo", "2021", "269.00", "PF??????"),
    _m("Dell Chromebook 3100 2-in-1", C.CHROMEBOOK, "Dell", "2021", "379.00", "???????"),
    _m("Acer Chromebook 311 (C722/C722T)", C.CHROMEBOOK, "Acer", "2021", "259.00", "NXHPV##########"),
    _m("Lenovo 100e Chromebook Gen 3", C.CHROMEBOOK, "Lenovo", "2022-2023", "289.00", "PF??????", "LEN-100E-G3"),
    _m("Dell Chromebook 3110", C.CHROMEBOOK, "Dell", "2022-2023", "309.00", "???????", "DEL-CB3110"),
    _m("HP Chromebook 11 G9 EE", C.CHROMEBOOK, "HP", "2022-2024", "299.00", "5CD###????", "HP-CB11-G9EE"),
    _m("Acer Chromebook 311 (CB311-11H/CB311-11HT)", C.CHROMEBOOK, "Acer", "2022", "269.00", "NXAAY##########"),
    _m("Lenovo 300e Chromebook Gen 3", C.CHROMEBOOK, "Lenovo", "2023", "399.00", "PF??????", "LEN-300E-G3"),
    _m("Lenovo 100e Chromebook Gen 4", C.CHROMEBOOK, "Lenovo", "2024-2025", "319.00", "PF??????", "LEN-100E-G4"),
    _m("Dell Chromebook 3120", C.CHROMEBOOK, "Dell", "2024-2025", "329.00", "???????", "DEL-CB3120"),
    _m("Dell Chromebook 3120 2-in-1", C.CHROMEBOOK, "Dell", "2025", "409.00", "???????", "DEL-CB3120-2N1"),
    _m("Acer Chromebook 311 (CB311-12H/CB311-12HT)", C.CHROMEBOOK, "Acer", "2023-2025", "289.00", "NXKB2##########", "ACR-CB311-12H"),
    _m("Dell Latitude 3400", C.LAPTOP, "Dell", "2018-2020", "849.00", "???????"),
    _m("HP ProBook 440 G7", C.LAPTOP, "HP", "2020-2021", "879.00", "5CG###????"),
    _m("Lenovo ThinkPad L14 Gen 2", C.LAPTOP, "Lenovo", "2021-2022", "929.00", "PF??????"),
    _m("Dell Latitude 3440", C.LAPTOP, "Dell", "2023-2025", "899.00", "???????", "DEL-LAT3440"),
    _m("Lenovo ThinkPad L14 Gen 5", C.LAPTOP, "Lenovo", "2024-2025", "1029.00", "PF??????", "LEN-L14-G5"),
    _m("HP ProBook 440 G11", C.LAPTOP, "HP", "2024-2025", "949.00", "5CG###????", "HP-PB440-G11"),
    _m("Dell OptiPlex 7070 Micro", C.DESKTOP, "Dell", "2018-2020", "829.00", "???????"),
    _m("HP EliteDesk 800 G6 Mini", C.DESKTOP, "HP", "2020-2022", "899.00", "MXL###????"),
    _m("Dell OptiPlex 7010 Micro", C.DESKTOP, "Dell", "2023-2025", "879.00", "???????", "DEL-OPT7010M"),
    _m("Apple iPad (6th generation)", C.TABLET, "Apple", "2018", "309.00", "DMP?????????"),
    _m("Apple iPad (7th generation)", C.TABLET, "Apple", "2019-2020", "299.00", "DMP?????????"),
    _m("Apple iPad (9th generation)", C.TABLET, "Apple", "2021-2023", "309.00", "DMP?????????"),
    _m("Apple iPad (10th generation)", C.TABLET, "Apple", "2023-2025", "329.00", "DMP?????????", "APL-IPAD10"),
    _m('Promethean ActivPanel Nickel 75"', C.INTERACTIVE_DISPLAY, "Promethean", "2018-2020", "3299.00", "AP7N##########"),
    _m('Promethean ActivPanel 9 Premium 75"', C.INTERACTIVE_DISPLAY, "Promethean", "2021-2025", "3899.00", "AP9P##########", "PRM-AP9-75"),
    _m('Promethean ActivPanel LX 86"', C.INTERACTIVE_DISPLAY, "Promethean", "2023-2025", "5499.00", "APLX##########", "PRM-LX-86"),
    _m("Epson BrightLink 696Ui", C.PROJECTOR, "Epson", "2018-2019", "1899.00", "X5???########"),
    _m("Epson PowerLite 1785W", C.PROJECTOR, "Epson", "2018-2020", "899.00", "X4???########"),
    _m("IPEVO VZ-R", C.DOCUMENT_CAMERA, "IPEVO", "2018-2021", "159.00", "VZR########"),
    _m("IPEVO V4K PRO", C.DOCUMENT_CAMERA, "IPEVO", "2022-2025", "139.00", "V4KP########"),
    _m("HP LaserJet Pro M404dn", C.PRINTER, "HP", "2018-2021", "349.00", "PHB###????"),
    _m("HP LaserJet Enterprise M611dn", C.PRINTER, "HP", "2022-2025", "899.00", "CNB###????", "HP-LJ-M611DN"),
    _m("HPE Aruba 2930F 48G PoE+", C.NETWORK_SWITCH, "Aruba", "2018-2019", "4599.00", "CN##???###"),
    _m("Cisco Meraki MS120-48FP", C.NETWORK_SWITCH, "Meraki", "2019-2021", "4299.00", "Q2??-????-????"),
    _m("Cisco Meraki MS130-48P", C.NETWORK_SWITCH, "Meraki", "2022-2025", "4899.00", "Q2??-????-????", "MER-MS130-48P"),
    _m("Cisco Meraki MS390-48UX", C.NETWORK_SWITCH, "Meraki", "2023-2025", "13999.00", "Q2??-????-????", "MER-MS390-48UX"),
    _m("HPE Aruba AP-315", C.WIRELESS_AP, "Aruba", "2018-2019", "849.00", "CN##???###"),
    _m("Cisco Meraki MR36", C.WIRELESS_AP, "Meraki", "2020-2023", "699.00", "Q2??-????-????", "MER-MR36"),
    _m("Cisco Meraki CW9164I", C.WIRELESS_AP, "Meraki", "2024-2025", "1099.00", "Q5??-????-????", "MER-CW9164I"),
    _m("Fortinet FortiGate 100F", C.FIREWALL, "Fortinet", "2018-2021", "3299.00", "FG100FTK########"),
    _m("Cisco Meraki MX105", C.FIREWALL, "Meraki", "2022-2025", "5999.00", "Q2??-????-????", "MER-MX105"),
    _m("APC Smart-UPS 1500 SMT1500RM2UC", C.UPS, "APC", "2018-2025", "899.00", "AS##########"),
]  # fmt: skip

# Share of a district's devices per category (per mille).
CATEGORY_MIX: dict[DeviceCategory, int] = {
    C.CHROMEBOOK: 640,
    C.LAPTOP: 110,
    C.DESKTOP: 60,
    C.TABLET: 40,
    C.INTERACTIVE_DISPLAY: 40,
    C.PROJECTOR: 15,
    C.DOCUMENT_CAMERA: 25,
    C.PRINTER: 20,
    C.WIRELESS_AP: 32,
    C.NETWORK_SWITCH: 10,
    C.FIREWALL: 2,
    C.UPS: 6,
}
YEARS = list(range(2018, 2026))
# Purchase-year weights: Chromebooks came in big 1:1 waves in 2020–21 (ESSER), and
# every earlier wave hits its AUE date in June 2027 or 2029.
YEAR_WEIGHTS: dict[str, list[int]] = {
    "chromebook": [7, 9, 20, 22, 10, 10, 11, 11],
    "network": [22, 6, 8, 20, 8, 8, 20, 8],
    "other": [10, 12, 12, 14, 14, 14, 12, 12],
}
WARRANTY_MONTHS: dict[str, list[int]] = {
    "chromebook": [12, 36, 36, 48],
    "network": [12, 36, 36],
    "other": [36, 36, 48],
}
FUNDING_BY_YEAR: dict[int, list[tuple[str, int]]] = {
    2018: [("General Fund", 55), ("Title I", 15), ("Title IV-A", 10), ("Bond 2017", 20)],
    2019: [("General Fund", 55), ("Title I", 15), ("Title IV-A", 15), ("Bond 2017", 15)],
    2020: [("ESSER I (CARES)", 45), ("General Fund", 35), ("Title I", 10), ("Title IV-A", 10)],
    2021: [("ESSER II", 40), ("ESSER III", 25), ("General Fund", 25), ("Title I", 10)],
    2022: [("ESSER III", 50), ("General Fund", 30), ("Title IV-A", 10), ("Title I", 10)],
    2023: [("ESSER III", 35), ("Bond 2022", 30), ("General Fund", 25), ("Title IV-A", 10)],
    2024: [("ESSER III", 20), ("Bond 2022", 35), ("General Fund", 35), ("Title I", 10)],
    2025: [("General Fund", 50), ("Bond 2022", 30), ("Title IV-A", 10), ("Title I", 10)],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LicenseSpec:
    product: str
    vendor: str
    basis: str  # seats per "students", "staff" or "aps" (access points)
    coverage: Decimal  # share of the basis that is licensed
    price: Decimal  # per seat per term, when not from the catalog
    initial_months: int
    renewal_months: int
    tacit: bool
    sku: str | None = None


def _lic(
    product: str, vendor: str, basis: str, cover: str, price: str, terms: str,
    tacit: bool, sku: str = "",
) -> LicenseSpec:  # fmt: skip
    initial, _, renewal = terms.partition("/")
    return LicenseSpec(
        product, vendor, basis, Decimal(cover), Decimal(price), int(initial),
        int(renewal or initial), tacit, sku or None,
    )  # fmt: skip


# The first CORE_LICENSES products every district has; the rest are sampled.
CORE_LICENSES = 4
LICENSES: list[LicenseSpec] = [
    _lic("Google Workspace for Education Plus", "Google", "students", "1", "5.00", "12", False, "GGL-WS-EDU-PLUS"),
    _lic("Microsoft 365 A3 for faculty", "Microsoft", "staff", "1", "39.00", "36/12", True, "MSFT-M365-A3-FAC"),
    _lic("Clever Complete", "Clever", "students", "1", "2.00", "12", True, "CLV-COMPLETE"),
    _lic("PowerSchool SIS", "PowerSchool", "students", "1", "9.75", "60/12", True),
    _lic("GoGuardian Admin", "GoGuardian", "students", "1", "7.00", "12", False, "GOG-ADMIN"),
    _lic("GoGuardian Teacher", "GoGuardian", "students", "0.8", "5.50", "12", False),
    _lic("Securly Filter", "Securly", "students", "1", "4.25", "12", True, "SEC-FILTER"),
    _lic("Securly Classroom", "Securly", "students", "0.8", "3.50", "12", True),
    _lic("Lightspeed Filter", "Lightspeed Systems", "students", "1", "4.00", "12", True, "LSS-FILTER"),
    _lic("Renaissance Star Reading", "Renaissance Learning", "students", "0.5", "4.10", "12", False, "REN-STAR-READ"),
    _lic("Renaissance Star Math", "Renaissance Learning", "students", "0.5", "4.10", "12", False),
    _lic("Renaissance Accelerated Reader", "Renaissance Learning", "students", "0.4", "4.40", "12", False),
    _lic("Canvas LMS", "Instructure", "students", "1", "6.50", "36/12", True),
    _lic("IXL Math and ELA", "IXL Learning", "students", "0.35", "9.50", "12", False),
    _lic("Newsela ELA", "Newsela", "students", "0.3", "7.00", "12", False),
    _lic("Seesaw for Schools", "Seesaw Learning", "students", "0.35", "5.50", "12", True),
    _lic("Kami for Schools", "Kami", "students", "0.5", "3.00", "12", False),
    _lic("Adobe Creative Cloud for K-12, shared device", "Adobe", "students", "0.05", "40.00", "12", False),
    _lic("Zoom Workplace for Education", "Zoom", "staff", "1", "14.00", "12", True),
    _lic("Minecraft Education", "Microsoft", "students", "0.2", "5.04", "12", False),
    _lic("Cisco Meraki Enterprise license, access point, 5 years", "Cisco Meraki", "aps", "1", "150.00", "60", False, "MER-LIC-AP-5Y"),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ContractSpec:
    name: str
    vendor: str
    kind: ContractKind
    coverage: str  # a DeviceCategory value, "site", "devices" or "none"
    tacit: bool
    months: int  # initial and renewal term
    escalator: Decimal
    erate: bool
    rate: Decimal  # cost per period per covered unit (or flat, for sites and none)
    vehicle: str | None = None


def _con(
    name: str, vendor: str, kind: ContractKind, coverage: str, tacit: bool,
    months: int, escalator: str, erate: bool, rate: str, vehicle: str = "",
) -> ContractSpec:  # fmt: skip
    return ContractSpec(
        name, vendor, kind, coverage, tacit, months, Decimal(escalator), erate,
        Decimal(rate), vehicle or None,
    )  # fmt: skip


K = ContractKind
# The first CORE_CONTRACTS are in every district (one covers a list of devices).
CORE_CONTRACTS = 2
CONTRACTS: list[ContractSpec] = [
    _con("Network basic maintenance (switches and access points)", "Cisco Meraki", K.MAINTENANCE, "network_switch", True, 12, "3.00", True, "180.00", "net"),
    _con("Chromebook extended warranty and accidental damage", "CDW-G", K.WARRANTY_EXTENSION, "devices", False, 36, "0", False, "59.00", "euc"),
    _con("Managed print and copier service", "Xerox", K.MANAGED_SERVICE, "printer", True, 12, "2.50", False, "420.00"),
    _con("Managed Wi-Fi", "HPE Aruba Networking", K.MANAGED_SERVICE, "site", False, 12, "0", True, "18500.00"),
    _con("FortiGuard security subscription and firewall support", "Fortinet", K.SUPPORT, "firewall", True, 12, "4.00", False, "1450.00"),
    _con("Interactive display extended warranty", "Promethean", K.WARRANTY_EXTENSION, "interactive_display", False, 12, "0", False, "95.00"),
    _con("IT help desk overflow support", "CDW-G", K.SUPPORT, "none", True, 12, "4.00", False, "24000.00"),
    _con("UPS battery replacement and service plan", "APC by Schneider Electric", K.MAINTENANCE, "ups", True, 12, "2.00", True, "85.00"),
]  # fmt: skip
NOTICE_DAYS = [30, 60, 60, 90]

SCHOOL_STEMS = [
    "Barton Creek", "Bluebonnet", "Live Oak", "Pecan Grove", "Cedar Ridge",
    "Lakeview", "Riverside", "Maple Hill", "Prairie Wind", "Northstar",
    "Willow Bend", "Sunset Valley", "Eastside", "Westwood", "Highland Park",
    "Meadowbrook", "Oak Springs", "Pine Crest", "Red Bud", "Sandy Creek",
    "Stone Bridge", "Timberline", "Walnut Grove", "Hillcrest", "Brookhollow",
    "Cypress", "Elm Street", "Forest Trail", "Granite Falls", "Heritage",
    "Independence", "Jefferson", "Kennedy", "Lincoln", "Madison", "Roosevelt",
    "Washington", "Franklin", "Garfield", "Hamilton", "Jackson", "Harmony",
    "Liberty", "Pioneer", "Frontier", "Canyon View", "Mesa Verde", "Silver Lake",
    "Clearwater", "Deer Park", "Fox Run", "Eagle Point", "Hawthorne",
    "Juniper", "Kingsbury", "Lone Star", "Mockingbird", "Old Settlers",
    "Quail Hollow", "Rolling Hills", "Shady Oaks", "Twin Lakes", "Vista Ridge",
    "Wildflower", "Blackland", "Copperfield", "Spring Valley", "Ridgeview",
]  # fmt: skip
