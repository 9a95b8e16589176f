"""The closed vocabularies of the domain (docs/rules.md#records-and-vocabularies), shared by models, forms and API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COOP_STAFF = "coop_staff"
    DISTRICT_IT = "district_it"
    DISTRICT_FINANCE = "district_finance"
    DISTRICT_VIEWER = "district_viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_district(self) -> bool:
        return self in DISTRICT_ROLES


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.COOP_STAFF: "Cooperative staff",
    Role.DISTRICT_IT: "District IT",
    Role.DISTRICT_FINANCE: "District finance",
    Role.DISTRICT_VIEWER: "District viewer",
}
DISTRICT_ROLES = frozenset(
    {Role.DISTRICT_IT, Role.DISTRICT_FINANCE, Role.DISTRICT_VIEWER}
)


class DeviceCategory(StrEnum):
    CHROMEBOOK = "chromebook"
    LAPTOP = "laptop"
    DESKTOP = "desktop"
    TABLET = "tablet"
    INTERACTIVE_DISPLAY = "interactive_display"
    PROJECTOR = "projector"
    DOCUMENT_CAMERA = "document_camera"
    PRINTER = "printer"
    NETWORK_SWITCH = "network_switch"
    WIRELESS_AP = "wireless_ap"
    FIREWALL = "firewall"
    SERVER = "server"
    UPS = "ups"
    PHONE = "phone"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS.get(
            self.value, self.value.replace("_", " ").capitalize()
        )


_CATEGORY_LABELS = {
    "wireless_ap": "Wireless AP",
    "ups": "UPS",
    "interactive_display": "Interactive display",
    "document_camera": "Document camera",
    "network_switch": "Network switch",
}


# What the forecast calls a license's and an uncovered contract's category.
_OTHER_CATEGORY_LABELS = {
    "license": "Software license",
    "service": "Service (no category)",
}


def category_label(value: str) -> str:
    """A category in words, also one outside the vocabulary (a license's "license", a
    contract's "service")."""
    if value in _OTHER_CATEGORY_LABELS:
        return _OTHER_CATEGORY_LABELS[value]
    try:
        return DeviceCategory(value).label
    except ValueError:
        return value.replace("_", " ").capitalize()


# Network equipment that E-Rate Category Two can pay for.
ERATE_C2_CATEGORIES = frozenset(
    {
        DeviceCategory.NETWORK_SWITCH,
        DeviceCategory.WIRELESS_AP,
        DeviceCategory.FIREWALL,
        DeviceCategory.UPS,
    }
)


class DeviceStatus(StrEnum):
    IN_SERVICE = "in_service"
    SPARE = "spare"
    IN_REPAIR = "in_repair"
    LOST = "lost"
    RETIRED = "retired"
    ON_ORDER = "on_order"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Devices in these states need no refresh (docs/rules.md#device-refresh).
NO_REFRESH_STATUSES = frozenset(
    {DeviceStatus.RETIRED, DeviceStatus.LOST, DeviceStatus.ON_ORDER}
)


class RenewalType(StrEnum):
    TACIT = "tacit"  # renews unless cancelled
    EXPRESS = "express"  # lapses unless renewed
    NONE = "none"  # ends for good

    @property
    def label(self) -> str:
        return {
            "tacit": "Auto-renews (tacit)",
            "express": "Must be renewed (express)",
            "none": "Ends (no renewal)",
        }[self.value]


class AgreementStatus(StrEnum):
    """State of a license or service contract as a whole."""

    ACTIVE = "active"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ItemKind(StrEnum):
    DEVICE = "device"
    LICENSE = "license"
    SERVICE = "service"


class PriceUnit(StrEnum):
    EACH = "each"
    SEAT = "seat"
    PER_STUDENT = "per_student"
    PER_YEAR = "per_year"


class CoverageType(StrEnum):
    DEVICES = "devices"
    CATEGORY = "category"
    SITE = "site"
    NONE = "none"


class ContractKind(StrEnum):
    MAINTENANCE = "maintenance"
    SUPPORT = "support"
    WARRANTY_EXTENSION = "warranty_extension"
    MANAGED_SERVICE = "managed_service"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ObligationKind(StrEnum):
    REFRESH = "refresh"
    WARRANTY = "warranty"
    LICENSE_RENEWAL = "license_renewal"
    CONTRACT_RENEWAL = "contract_renewal"


# The obligations that are a license's or a contract's renewal decision.
RENEWAL_KINDS = frozenset(
    {ObligationKind.LICENSE_RENEWAL, ObligationKind.CONTRACT_RENEWAL}
)
# The obligations about one device: its refresh and its warranty end.
DEVICE_KINDS = frozenset({ObligationKind.REFRESH, ObligationKind.WARRANTY})


class ObligationState(StrEnum):
    UPCOMING = "upcoming"
    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    IN_ROUND = "in_round"
    ORDERED = "ordered"
    DONE = "done"
    LAPSED = "lapsed"
    RETIRED = "retired"


class RoundState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    AWARDED = "awarded"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OrderState(StrEnum):
    """An order line a round's award made: bought, then delivered."""

    ORDERED = "ordered"
    RECEIVED = "received"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        return self in (JobState.FINISHED, JobState.FAILED)


class ImportKind(StrEnum):
    """What an import file holds (docs/rules.md#importing)."""

    DEVICES = "devices"
    LICENSES = "licenses"
    CONTRACTS = "contracts"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ImportState(StrEnum):
    DRAFT = "draft"  # uploaded; the mapping can change
    QUEUED = "queued"
    RUNNING = "running"
    CHECKED = "checked"  # a dry run finished; the mapping can still change
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"checked": "Dry run done"}.get(self.value, self.value.capitalize())

    @property
    def busy(self) -> bool:
        return self in (ImportState.QUEUED, ImportState.RUNNING)
