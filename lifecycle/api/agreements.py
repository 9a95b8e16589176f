"""API resources for licenses and service contracts (docs/architecture.md#the-json-api).

Responses carry the fields §6 lists and every other field a client can write, so what
a client reads it can send back; requests are validated by the same Create/Update
models the HTML forms use, and the same services do the writing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, SQLModel, select

from lifecycle.agreements import services as agreements
from lifecycle.agreements.contracts import services as contracts
from lifecycle.agreements.licenses import services as licenses
from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    body_as,
    date_range,
    filters,
    items_page,
    one,
    operation,
)
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import (
    AgreementStatus,
    ContractKind,
    CoverageType,
    DeviceCategory,
    RenewalType,
)
from lifecycle.models import (
    Agreement,
    License,
    LicenseCreate,
    LicenseUpdate,
    ServiceContract,
    ServiceContractCreate,
    ServiceContractUpdate,
    User,
)
from lifecycle.models.base import Money, Percent
from lifecycle.tenancy import get_scoped, scoped

DECIDE_BY = (
    "read-only, derived. The open renewal decision: the last day (inclusive) the "
    "district can still choose. Tacit: a term's end minus notice_days; once that notice "
    "date has passed the district is committed to the next term, so this is the next "
    "term's (or a later one's, when the notice is longer than a term). Express: the end "
    "of the last renewed term. Null when nothing is to decide (renewal none, lapsed, "
    "ended, cancelled). The renewal obligation of that decision carries the "
    "term_number whose end it is about."
)
TERM = "read-only, derived from term_start and the term lengths as of today"
STATUS = (
    "read-only: active | lapsed | cancelled | ended (cancel with "
    "POST /obligations/{id}/cancel)"
)
THRESHOLDS = (
    "days before decide_by to remind, e.g. [90, 60, 30]; null uses the district's"
)


class AgreementShown(BaseModel):
    """What licenses and contracts both show beyond their own fields."""

    vendor_id: int | None
    vehicle_id: int | None
    funding_source: str
    reminder_thresholds: list[int] | None = Field(description=THRESHOLDS)
    notes: str
    term_start: date
    initial_term_months: int
    renewal_term_months: int
    renewal_type: RenewalType
    notice_days: int
    status: AgreementStatus = Field(description=STATUS)
    current_term_number: int | None = Field(description=TERM)
    current_term_start: date | None = Field(description=TERM)
    current_term_end: date | None = Field(description=TERM)
    decide_by: date | None = Field(description=DECIDE_BY)
    version: int


class LicenseResource(AgreementShown):
    """A software license as the API shows it: every field a client can write
    (LicenseCreate / LicenseUpdate), then the derived, read-only ones."""

    id: int
    district_id: int
    product: str
    catalog_item_id: int | None
    school_id: int | None
    seats: int
    seats_used: int
    price_per_seat: Money


class ContractResource(AgreementShown):
    """A service contract as the API shows it: every field a client can write
    (ServiceContractCreate / ServiceContractUpdate), then the derived, read-only ones."""

    id: int
    district_id: int
    name: str
    kind: ContractKind
    coverage: CoverageType
    coverage_category: DeviceCategory | None
    coverage_school_id: int | None
    cost_per_period: Money
    escalator_pct: Percent = Field(
        description='percent a term\'s cost grows at each renewal, e.g. "3.00"'
    )
    erate_c2_eligible: bool


COMMON = [
    QueryParam("district_id", int),
    QueryParam("vendor_id", int),
    QueryParam("vehicle_id", int),
    QueryParam("funding_source", str),
    QueryParam("status", AgreementStatus),
    QueryParam("renewal_type", RenewalType),
    *date_range("decide_by"),
    *date_range("current_term_end"),
]
LICENSE_FILTERS = [
    *COMMON,
    QueryParam("school_id", int),
    QueryParam("catalog_item_id", int),
]
CONTRACT_FILTERS = [
    *COMMON,
    QueryParam("kind", ContractKind),
    QueryParam("coverage", CoverageType),
    QueryParam("coverage_school_id", int),
]


@dataclass(frozen=True)
class AgreementApi:
    """What differs between the license and the service-contract resources."""

    tag: str  # also the collection's path: /licenses
    subject: str  # one record, in endpoint names and deletes: "license"
    label: str  # one record, in summaries: "license", "service contract"
    labels: str  # the collection, in summaries: "software licenses"
    id_arg: str  # the path parameter: "license_id"
    model: type[Agreement]
    resource: type[BaseModel]
    create_model: type[SQLModel]
    update_model: type[SQLModel]
    query: list[QueryParam]
    create: Callable[[Session, User, Any], Agreement]
    update: Callable[[Session, User, Any, Any], Agreement]


def _register(api: AgreementApi) -> None:
    """The five operations of one agreement resource: list, get, add, change, delete."""
    many = f"/{api.tag}"
    each = f"{many}/<int:{api.id_arg}>"

    def listed() -> Response:
        """A cursor page of the agreements the caller may see, filtered by field."""
        values = filters(api.query)
        visible = scoped(select(api.model), api.model, get_user())
        stmt = apply_filters(visible, api.model, values, api.query)
        return items_page(get_session(), stmt, api.model, api.resource)

    def got(**ids: int) -> Response:
        found = get_scoped(get_session(), api.model, ids[api.id_arg], get_user())
        return one(api.resource, found)

    def created() -> Response:
        session = get_session()
        user = get_user()
        data = body_as(api.create_model, api.resource, district_id=user.district_id)
        found = api.create(session, user, data)
        session.commit()
        return one(api.resource, found, status=201)

    def patched(**ids: int) -> Response:
        session = get_session()
        user = get_user()
        found = get_scoped(session, api.model, ids[api.id_arg], user)
        data = body_as(api.update_model, api.resource, found)
        api.update(session, user, found, data)
        session.commit()
        return one(api.resource, found)

    def deleted(**ids: int) -> Response:
        session = get_session()
        user = get_user()
        found = get_scoped(session, api.model, ids[api.id_arg], user)
        agreements.delete_agreement(session, user=user, subject=api.subject, obj=found)
        session.commit()
        return Response(status=204)

    listed.__name__ = f"list_{api.tag}"
    got.__name__ = f"get_{api.subject}"
    created.__name__ = f"create_{api.subject}"
    patched.__name__ = f"patch_{api.subject}"
    deleted.__name__ = f"delete_{api.subject}"
    common: dict[str, Any] = {"tag": api.tag, "response": api.resource}
    operation(
        many, "GET", summary=f"List {api.labels}", many=True, query=api.query, **common
    )(listed)
    operation(each, "GET", summary=f"Get a {api.label}", **common)(got)
    operation(
        many,
        "POST",
        summary=f"Add a {api.label} (district IT); its term fields are derived",
        request=api.create_model,
        status=201,
        **common,
    )(created)
    operation(
        each,
        "PATCH",
        summary=f"Change a {api.label} (district IT); send the version you read",
        request=api.update_model,
        **common,
    )(patched)
    operation(
        each,
        "DELETE",
        summary=f"Delete a {api.label} created by mistake (district IT)",
        tag=api.tag,
        status=204,
    )(deleted)


_register(
    AgreementApi(
        tag="licenses",
        subject="license",
        label="license",
        labels="software licenses",
        id_arg="license_id",
        model=License,
        resource=LicenseResource,
        create_model=LicenseCreate,
        update_model=LicenseUpdate,
        query=LICENSE_FILTERS,
        create=lambda session, user, data: licenses.create_license(
            session, user=user, data=data
        ),
        update=lambda session, user, obj, data: licenses.update_license(
            session, user=user, lic=obj, data=data
        ),
    )
)
_register(
    AgreementApi(
        tag="contracts",
        subject="contract",
        label="service contract",
        labels="service contracts",
        id_arg="contract_id",
        model=ServiceContract,
        resource=ContractResource,
        create_model=ServiceContractCreate,
        update_model=ServiceContractUpdate,
        query=CONTRACT_FILTERS,
        create=lambda session, user, data: contracts.create_contract(
            session, user=user, data=data
        ),
        update=lambda session, user, obj, data: contracts.update_contract(
            session, user=user, contract=obj, data=data
        ),
    )
)
