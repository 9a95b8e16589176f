"""Service-contract services: list, create/edit with derived terms, coverage, bulk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lifecycle import audit
from lifecycle.agreements import services as agreements
from lifecycle.agreements.services import agreement_filters, agreement_sorts
from lifecycle.enums import AgreementStatus, ContractKind, CoverageType, RenewalType
from lifecycle.inventory.refs import require_refs
from lifecycle.models import (
    ContractCoveredDevice,
    Device,
    School,
    ServiceContract,
    ServiceContractCreate,
    ServiceContractUpdate,
    User,
    Vendor,
)
from lifecycle.tenancy import scoped, writable_district
from lifecycle.web.errors import Conflict, ValidationFailed
from lifecycle.web.forms import validate
from lifecycle.web.listing import AnySelect, Filter, ListSpec, SortKey

EDITABLE = tuple(f for f in ServiceContractUpdate.model_fields if f != "version")
REQUIRED = (
    *("name", "kind", "coverage", "term_start", "initial_term_months"),
    *("renewal_term_months", "renewal_type", "notice_days", "cost_per_period"),
    *("escalator_pct", "erate_c2_eligible"),
)

_COVERED = (
    sa.select(sa.func.count())
    .select_from(ContractCoveredDevice)
    .where(col(ContractCoveredDevice.contract_id) == col(ServiceContract.id))
    .correlate(ServiceContract)
    .scalar_subquery()
)


def _search(q: str) -> sa.ColumnElement[bool]:
    like = f"%{q}%"
    return sa.or_(
        col(ServiceContract.name).ilike(like), col(ServiceContract.notes).ilike(like)
    )


def _erate(value: str) -> sa.ColumnElement[bool]:
    return col(ServiceContract.erate_c2_eligible) == (value in ("yes", "true", "1"))


SPEC = ListSpec(
    filters=[
        Filter("kind", "Kind", ContractKind, column=col(ServiceContract.kind)),
        Filter(
            "coverage", "Covers", CoverageType, column=col(ServiceContract.coverage)
        ),
        Filter(
            "school_id", "Site", int, column=col(ServiceContract.coverage_school_id)
        ),
        Filter("erate", "E-Rate C2 eligible", str, where=_erate),
        *agreement_filters(ServiceContract),
    ],
    sorts=[
        SortKey("name", "Name", col(ServiceContract.name)),
        SortKey("kind", "Kind", col(ServiceContract.kind)),
        SortKey("cost_per_period", "Cost", col(ServiceContract.cost_per_period)),
        SortKey("escalator_pct", "Escalator", col(ServiceContract.escalator_pct)),
        *agreement_sorts(ServiceContract),
    ],
    default_sort="name",
    id_column=col(ServiceContract.id),
    search=_search,
)


def list_stmt(user: User) -> AnySelect:
    """Contracts the user may see, with vendor, site and device count (one query)."""
    stmt = (
        sa.select(
            ServiceContract, col(Vendor.name), col(School.name), _COVERED.label("n")
        )
        .outerjoin(Vendor, col(Vendor.id) == ServiceContract.vendor_id)
        .outerjoin(School, col(School.id) == ServiceContract.coverage_school_id)
    )
    return scoped(stmt, ServiceContract, user)


def _coverage_fields(values: dict[str, Any]) -> None:
    """Keep only the coverage detail that matches the coverage type."""
    coverage = values.get("coverage")
    if coverage is None:
        return
    if coverage != CoverageType.CATEGORY:
        values["coverage_category"] = None
    if coverage != CoverageType.SITE:
        values["coverage_school_id"] = None


def create_contract(
    session: Session,
    *,
    user: User,
    data: ServiceContractCreate,
    today: date | None = None,
) -> ServiceContract:
    values = data.model_dump()
    _coverage_fields(values)
    return agreements.create(
        session, ServiceContract, user=user, values=values, today=today
    )


def update_contract(
    session: Session,
    *,
    user: User,
    contract: ServiceContract,
    data: ServiceContractUpdate,
    today: date | None = None,
) -> ServiceContract:
    changes = agreements.changes_of(
        session, contract, data, user=user, editable=EDITABLE, required=REQUIRED
    )
    _coverage_fields(changes)
    require_refs(session, contract.district_id, changes)
    merged = {**contract.model_dump(include=set(EDITABLE)), **changes}
    validate(ServiceContractCreate, merged)
    if contract.coverage == CoverageType.DEVICES and merged["coverage"] != "devices":
        _uncover(session, contract, None)
    agreements.apply_changes(
        session,
        "contract",
        contract,
        changes,
        today=today,
        reprice="cost_per_period" not in changes,
    )
    return contract


BULK_ACTIONS = ("renewal_type", "cancel", "kind")


def bulk_update(
    session: Session, *, user: User, ids: list[int], action: str, value: str | None
) -> int:
    """One change to the selected contracts of the user's district; each is audited."""
    district_id = agreements.bulk_district(user, ids, action, BULK_ACTIONS, "contract")
    changes: dict[str, Any]
    try:
        if action == "cancel":
            changes = {"status": AgreementStatus.CANCELLED}
        elif action == "renewal_type":
            changes = {"renewal_type": RenewalType(value or "")}
        else:
            changes = {"kind": ContractKind(value or "")}
    except ValueError as exc:
        raise ValidationFailed(
            {"value": f"choose a {action.replace('_', ' ')}"}
        ) from exc
    return agreements.apply_bulk(
        session, ServiceContract, "contract", district_id, ids, changes
    )


# --- coverage ----------------------------------------------------------------------


@dataclass
class CoveredDevice:
    id: int
    asset_tag: str
    model: str
    category: str
    school: str | None


def covered_devices(session: Session, contract: ServiceContract) -> list[CoveredDevice]:
    """The devices a contract names, with their school, in one query."""
    stmt = (
        sa.select(
            col(Device.id),
            col(Device.asset_tag),
            col(Device.model),
            col(Device.category),
            col(School.name),
        )
        .join(ContractCoveredDevice, col(ContractCoveredDevice.device_id) == Device.id)
        .outerjoin(School, col(School.id) == Device.school_id)
        .where(
            col(ContractCoveredDevice.contract_id) == contract.id,
            col(Device.district_id) == contract.district_id,
        )
        .order_by(col(Device.asset_tag))
    )
    return [CoveredDevice(*row) for row in session.execute(stmt).all()]


def _require_device_coverage(contract: ServiceContract) -> None:
    if contract.coverage != CoverageType.DEVICES:
        raise Conflict(
            f"“{contract.name}” covers a {contract.coverage}, not a list of devices."
        )


def cover_devices(
    session: Session, *, user: User, contract: ServiceContract, asset_tags: str
) -> int:
    """Add devices of the district by asset tag (comma-, space- or line-separated)."""
    district_id = writable_district(user, contract.district_id)
    _require_device_coverage(contract)
    tags = [t for t in re.split(r"[\s,;]+", asset_tags) if t][:1000]
    if not tags:
        raise ValidationFailed({"asset_tags": "list at least one asset tag"})
    found = dict(
        session.execute(
            sa.select(col(Device.asset_tag), col(Device.id)).where(
                col(Device.district_id) == district_id, col(Device.asset_tag).in_(tags)
            )
        ).all()
    )
    unknown = [t for t in tags if t not in found]
    if unknown:
        shown = ", ".join(unknown[:10]) + ("…" if len(unknown) > 10 else "")
        raise ValidationFailed({"asset_tags": f"not devices of your district: {shown}"})
    covered = set(
        session.exec(
            select(ContractCoveredDevice.device_id).where(
                col(ContractCoveredDevice.contract_id) == contract.id
            )
        ).all()
    )
    new = sorted({found[t] for t in tags} - covered)
    if new:
        session.execute(
            sa.insert(ContractCoveredDevice),
            [
                {"contract_id": contract.id, "device_id": d, "district_id": district_id}
                for d in new
            ],
        )
        _audit_coverage(session, contract, "devices_added", new)
    return len(new)


def uncover_device(
    session: Session, *, user: User, contract: ServiceContract, device_id: int
) -> None:
    writable_district(user, contract.district_id)
    if not _uncover(session, contract, [device_id]):
        raise ValidationFailed({"device_id": "is not covered by this contract"})


def _uncover(
    session: Session, contract: ServiceContract, device_ids: list[int] | None
) -> list[int]:
    """Remove the given devices (or all) from a contract's list; audited."""
    where = [col(ContractCoveredDevice.contract_id) == contract.id]
    if device_ids is not None:
        where.append(col(ContractCoveredDevice.device_id).in_(device_ids))
    gone = [
        int(d)
        for d in session.exec(select(ContractCoveredDevice.device_id).where(*where))
    ]
    if gone:
        session.execute(sa.delete(ContractCoveredDevice).where(*where))
        _audit_coverage(session, contract, "devices_removed", gone)
    return gone


def _audit_coverage(
    session: Session, contract: ServiceContract, change: str, ids: list[int]
) -> None:
    assert contract.id is not None
    audit.record(
        session,
        action="cover_devices" if change == "devices_added" else "uncover_devices",
        entity_type="contract",
        entity_id=contract.id,
        district_id=contract.district_id,
        changes={change: [None, ids]},
        summary=contract.name,
    )
