"""API resources for licenses and service contracts (DESIGN §6).

Responses carry exactly the fields §6 lists; requests are validated by the same
Create/Update models the HTML forms use, and the same services do the writing.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel
from sqlmodel import col, select

from ..auth import get_user
from ..db import get_session
from ..enums import (
    AgreementStatus,
    ContractKind,
    CoverageType,
    RenewalType,
)
from ..errors import ValidationFailed
from ..forms import validate
from ..inventory import agreements, contracts, licenses
from ..models import (
    License,
    LicenseCreate,
    LicenseUpdate,
    ServiceContract,
    ServiceContractCreate,
    ServiceContractUpdate,
)
from ..models.base import MoneyOut
from ..paging import id_page, parse_limit
from ..tenancy import get_scoped, scoped
from .frame import QueryParam, apply_filters, dump, filters, json_body, one, operation


class LicenseResource(BaseModel):
    """A software license as the API shows it."""

    id: int
    district_id: int
    product: str
    vendor_id: int | None
    catalog_item_id: int | None
    seats: int
    seats_used: int
    term_start: date
    initial_term_months: int
    renewal_term_months: int
    renewal_type: RenewalType
    notice_days: int
    price_per_seat: MoneyOut
    current_term_start: date | None  # read-only, derived
    current_term_end: date | None  # read-only, derived
    decide_by: date | None  # read-only, derived
    version: int


class ContractResource(BaseModel):
    """A service contract as the API shows it."""

    id: int
    district_id: int
    vendor_id: int | None
    name: str
    coverage: CoverageType
    term_start: date
    initial_term_months: int
    renewal_term_months: int
    renewal_type: RenewalType
    notice_days: int
    cost_per_period: MoneyOut
    escalator_pct: MoneyOut
    current_term_start: date | None  # read-only, derived
    current_term_end: date | None  # read-only, derived
    decide_by: date | None  # read-only, derived
    version: int


def _dates(field: str) -> list[QueryParam]:
    return [
        QueryParam(f"{field}_before", date, f"{field} strictly before this date"),
        QueryParam(f"{field}_after", date, f"{field} on or after this date"),
    ]


COMMON = [
    QueryParam("district_id", int),
    QueryParam("vendor_id", int),
    QueryParam("vehicle_id", int),
    QueryParam("status", str, "active | lapsed | cancelled | ended"),
    QueryParam("renewal_type", str, "tacit | express | none"),
    *_dates("decide_by"),
    *_dates("current_term_end"),
]
LICENSE_FILTERS = [
    *COMMON,
    QueryParam("school_id", int),
    QueryParam("catalog_item_id", int),
]
CONTRACT_FILTERS = [
    *COMMON,
    QueryParam("kind", str, "maintenance | support | warranty_extension | ..."),
    QueryParam("coverage", str, "devices | category | site | none"),
    QueryParam("coverage_school_id", int),
]
ENUMS: dict[str, type[StrEnum]] = {
    "status": AgreementStatus,
    "renewal_type": RenewalType,
    "kind": ContractKind,
    "coverage": CoverageType,
}


def _list(model: Any, resource: type[BaseModel], params: list[QueryParam]) -> Response:
    """A cursor page of the agreements the caller may see, filtered by field."""
    values = filters(params)
    for name, enum in ENUMS.items():
        if name in values:
            try:
                values[name] = enum(values[name])
            except ValueError as exc:
                choices = ", ".join(m.value for m in enum)
                raise ValidationFailed({name: f"must be one of: {choices}"}) from exc
    stmt = apply_filters(scoped(select(model), model, get_user()), model, values)
    id_column: Any = col(model.id)
    result = id_page(
        get_session(),
        stmt,
        id_column,
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
    )
    return jsonify(
        {
            "items": [dump(resource, row) for row in result.items],
            "next_cursor": result.next_cursor,
        }
    )


# --- licenses --------------------------------------------------------------------


@operation(
    "/licenses",
    "GET",
    summary="List software licenses",
    tag="licenses",
    response=LicenseResource,
    many=True,
    query=LICENSE_FILTERS,
)
def list_licenses() -> Response:
    return _list(License, LicenseResource, LICENSE_FILTERS)


@operation(
    "/licenses/<int:license_id>",
    "GET",
    summary="Get a license",
    tag="licenses",
    response=LicenseResource,
)
def get_license(license_id: int) -> Response:
    lic = get_scoped(get_session(), License, license_id, get_user())
    return one(LicenseResource, lic)


@operation(
    "/licenses",
    "POST",
    summary="Add a license (district IT); its term fields are derived",
    tag="licenses",
    request=LicenseCreate,
    response=LicenseResource,
    status=201,
)
def create_license() -> Response:
    session = get_session()
    data = validate(LicenseCreate, json_body())
    lic = licenses.create_license(session, user=get_user(), data=data)
    session.commit()
    return one(LicenseResource, lic, status=201)


@operation(
    "/licenses/<int:license_id>",
    "PATCH",
    summary="Change a license (district IT); send the version you read",
    tag="licenses",
    request=LicenseUpdate,
    response=LicenseResource,
)
def patch_license(license_id: int) -> Response:
    session = get_session()
    user = get_user()
    lic = get_scoped(session, License, license_id, user)
    data = validate(LicenseUpdate, json_body())
    licenses.update_license(session, user=user, lic=lic, data=data)
    session.commit()
    return one(LicenseResource, lic)


@operation(
    "/licenses/<int:license_id>",
    "DELETE",
    summary="Delete a license created by mistake (district IT)",
    tag="licenses",
    status=204,
)
def delete_license(license_id: int) -> Response:
    return _delete(License, "license", license_id)


def _delete(model: Any, subject: str, ident: int) -> Response:
    session = get_session()
    user = get_user()
    obj = get_scoped(session, model, ident, user)
    agreements.delete_agreement(session, user=user, subject=subject, obj=obj)
    session.commit()
    return Response(status=204)


# --- service contracts -------------------------------------------------------------


@operation(
    "/contracts",
    "GET",
    summary="List service contracts",
    tag="contracts",
    response=ContractResource,
    many=True,
    query=CONTRACT_FILTERS,
)
def list_contracts() -> Response:
    return _list(ServiceContract, ContractResource, CONTRACT_FILTERS)


@operation(
    "/contracts/<int:contract_id>",
    "GET",
    summary="Get a service contract",
    tag="contracts",
    response=ContractResource,
)
def get_contract(contract_id: int) -> Response:
    found = get_scoped(get_session(), ServiceContract, contract_id, get_user())
    return one(ContractResource, found)


@operation(
    "/contracts",
    "POST",
    summary="Add a service contract (district IT); its term fields are derived",
    tag="contracts",
    request=ServiceContractCreate,
    response=ContractResource,
    status=201,
)
def create_contract() -> Response:
    session = get_session()
    data = validate(ServiceContractCreate, json_body())
    found = contracts.create_contract(session, user=get_user(), data=data)
    session.commit()
    return one(ContractResource, found, status=201)


@operation(
    "/contracts/<int:contract_id>",
    "PATCH",
    summary="Change a service contract (district IT); send the version you read",
    tag="contracts",
    request=ServiceContractUpdate,
    response=ContractResource,
)
def patch_contract(contract_id: int) -> Response:
    session = get_session()
    user = get_user()
    found = get_scoped(session, ServiceContract, contract_id, user)
    data = validate(ServiceContractUpdate, json_body())
    contracts.update_contract(session, user=user, contract=found, data=data)
    session.commit()
    return one(ContractResource, found)


@operation(
    "/contracts/<int:contract_id>",
    "DELETE",
    summary="Delete a service contract created by mistake (district IT)",
    tag="contracts",
    status=204,
)
def delete_contract(contract_id: int) -> Response:
    return _delete(ServiceContract, "contract", contract_id)
