"""API resources for obligations (docs/architecture.md#the-json-api): list, get, and the actions on one.

Obligations are derived by the scan, so they are never created or edited field by field;
the actions are the same services the renewals page uses. Actions that change the
license, contract or device behind an obligation take that record's `version`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from flask import Response
from pydantic import BaseModel
from sqlmodel import select

from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    date_range,
    enum_values,
    filters,
    items_page,
    json_body,
    one,
    operation,
)
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import ObligationKind, ObligationState
from lifecycle.models import Obligation
from lifecycle.models.base import InputModel, Money
from lifecycle.renewals import actions
from lifecycle.tenancy import get_scoped, scoped


class ObligationRead(BaseModel):
    """An obligation as the API shows it: exactly the documented fields."""

    id: int
    district_id: int
    kind: ObligationKind
    subject_type: str
    subject_id: int
    due_date: date
    decide_by: date
    estimated_cost: Money
    fiscal_year: int
    state: ObligationState


class SnoozeRequest(InputModel):
    until: date


class RenewRequest(InputModel):
    version: int
    price_per_seat: Money | None = None
    seats: int | None = None
    cost_per_period: Money | None = None


class VersionRequest(InputModel):
    version: int


FILTERS = [
    QueryParam("kind", str, "refresh | warranty | license_renewal | contract_renewal"),
    QueryParam("state", str, "upcoming | notified | acknowledged | snoozed | ..."),
    QueryParam("district_id", int),
    QueryParam("school_id", int),
    QueryParam("subject_type", str, "device | license | contract"),
    QueryParam("subject_id", int),
    QueryParam("fiscal_year", int),
    # `due_before` / `due_after` filter due_date (field-named filters, docs/architecture.md#the-json-api).
    QueryParam("due_before", date, "due_date strictly before this date"),
    QueryParam("due_after", date, "due_date on or after this date"),
    *date_range("decide_by"),
]
ENUMS: dict[str, type[StrEnum]] = {"kind": ObligationKind, "state": ObligationState}


@operation(
    "/obligations",
    "GET",
    summary="List obligations (refreshes, warranty ends, renewals) derived by the scan",
    tag="obligations",
    response=ObligationRead,
    many=True,
    query=FILTERS,
)
def list_obligations() -> Response:
    values = enum_values(filters(FILTERS), ENUMS)
    for short in ("due_before", "due_after"):
        if short in values:
            values[short.replace("due_", "due_date_")] = values.pop(short)
    stmt = apply_filters(
        scoped(select(Obligation), Obligation, get_user()), Obligation, values
    )
    return items_page(get_session(), stmt, Obligation, ObligationRead)


@operation(
    "/obligations/<int:obligation_id>",
    "GET",
    summary="Get an obligation",
    tag="obligations",
    response=ObligationRead,
)
def get_obligation(obligation_id: int) -> Response:
    found = get_scoped(get_session(), Obligation, obligation_id, get_user())
    return one(ObligationRead, found)


def _act(
    obligation_id: int, action: str, request: type[BaseModel] | None = None
) -> Response:
    """Load the obligation (404 if not yours), then read the body, then act."""
    session = get_session()
    user = get_user()
    obligation = get_scoped(session, Obligation, obligation_id, user)
    body = json_body(request) if request is not None else {}
    actions.run(session, user=user, obligation=obligation, action=action, values=body)
    session.commit()
    return one(ObligationRead, obligation)


@operation(
    "/obligations/<int:obligation_id>/acknowledge",
    "POST",
    summary="Acknowledge: stop the reminders for this term (IT; finance for renewals)",
    tag="obligations",
    response=ObligationRead,
)
def acknowledge_obligation(obligation_id: int) -> Response:
    return _act(obligation_id, "acknowledge")


@operation(
    "/obligations/<int:obligation_id>/snooze",
    "POST",
    summary="Snooze reminders until a date (after today, at most a year ahead)",
    tag="obligations",
    request=SnoozeRequest,
    response=ObligationRead,
)
def snooze_obligation(obligation_id: int) -> Response:
    return _act(obligation_id, "snooze", SnoozeRequest)


@operation(
    "/obligations/<int:obligation_id>/renew",
    "POST",
    summary="Renew an express license or contract for its next term; send its version",
    tag="obligations",
    request=RenewRequest,
    response=ObligationRead,
)
def renew_obligation(obligation_id: int) -> Response:
    return _act(obligation_id, "renew", RenewRequest)


@operation(
    "/obligations/<int:obligation_id>/cancel",
    "POST",
    summary="Cancel (tacit, before decide-by) or let lapse (express); send its version",
    tag="obligations",
    request=VersionRequest,
    response=ObligationRead,
)
def cancel_obligation(obligation_id: int) -> Response:
    return _act(obligation_id, "cancel", VersionRequest)


@operation(
    "/obligations/<int:obligation_id>/replace",
    "POST",
    summary="Mark a device refresh done: the device is retired; send its version",
    tag="obligations",
    request=VersionRequest,
    response=ObligationRead,
)
def replace_obligation(obligation_id: int) -> Response:
    return _act(obligation_id, "replace", VersionRequest)
