"""API resources for obligations (docs/architecture.md#the-json-api): list, get, and the actions on one.

Obligations are derived by the scan, so they are never created or edited field by field;
the actions are the same services the renewals page uses. Actions that change the
license, contract or device behind an obligation take that record's `version`, which
every obligation carries as `subject_version`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, jsonify
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from lifecycle.api.agreements import ContractResource, LicenseResource
from lifecycle.api.frame import (
    QueryParam,
    apply_filters,
    date_range,
    dump,
    filters,
    items_page,
    json_body,
    operation,
)
from lifecycle.auth import get_user
from lifecycle.db import get_session
from lifecycle.enums import ObligationKind, ObligationState
from lifecycle.models import (
    Device,
    License,
    Obligation,
    Reminder,
    ServiceContract,
)
from lifecycle.models.base import InputModel, Money
from lifecycle.renewals import actions
from lifecycle.tenancy import get_scoped, scoped

OBLIGATION_DECIDE_BY = (
    "The last day (inclusive) to decide. Renewals: the agreement's open decision for "
    "this term_number: the term's end minus notice_days (tacit), or the end of the "
    "last renewed term (express). Once a tacit term's notice date has passed the "
    "district is committed to the next term: that term's obligation keeps its past "
    "decide_by, and the next term's obligation holds the open decision. Refresh and "
    "warranty: the due date."
)


class ObligationRead(BaseModel):
    """An obligation as the API shows it: the documented fields, then what a client
    needs to act on it."""

    id: int
    district_id: int
    kind: ObligationKind
    subject_type: str = Field(description="device | license | contract")
    subject_id: int
    due_date: date = Field(
        description="refresh: the refresh due date; warranty: the warranty end; "
        "renewals: the day the next term starts"
    )
    decide_by: date = Field(description=OBLIGATION_DECIDE_BY)
    estimated_cost: Money
    fiscal_year: int
    state: ObligationState
    term_number: int = Field(
        description="renewals: the term whose end this decision is about (the "
        "agreement's current_term_number, or a later one it is committed to); "
        "0 for devices"
    )
    subject_version: int | None = Field(
        description="the version of the license, contract or device now: send it as "
        "`version` to renew, cancel or replace (null if the subject is gone)"
    )


def subject_versions(
    session: Session, obligations: list[Obligation]
) -> dict[tuple[str, int], int]:
    """The current version of each obligation's subject, in one query."""
    parts: list[sa.Select[*tuple[Any, ...]]] = []
    for subject_type, model in SUBJECTS.items():
        ids = {o.subject_id for o in obligations if o.subject_type == subject_type}
        if ids:
            parts.append(
                sa.select(
                    sa.literal(subject_type).label("subject_type"),
                    col(model.id).label("subject_id"),
                    col(model.version).label("version"),
                ).where(col(model.id).in_(ids))
            )
    if not parts:
        return {}
    rows = session.execute(sa.union_all(*parts)).all()
    return {(row.subject_type, row.subject_id): row.version for row in rows}


def shown(session: Session, obligations: list[Obligation]) -> list[dict[str, Any]]:
    """Obligations as the API shows them, with their subjects' versions."""
    versions = subject_versions(session, obligations)
    own = [name for name in ObligationRead.model_fields if name != "subject_version"]
    return [
        ObligationRead.model_validate(
            {
                **{name: getattr(o, name) for name in own},
                "subject_version": versions.get((o.subject_type, o.subject_id)),
            }
        ).model_dump(mode="json")
        for o in obligations
    ]


class SnoozeRequest(InputModel):
    until: date


class RenewRequest(InputModel):
    version: int = Field(description="the license's or contract's version")
    price_per_seat: Money | None = None
    seats: int | None = None
    cost_per_period: Money | None = None


class VersionRequest(InputModel):
    version: int = Field(description="the subject's version (subject_version)")


class RenewResult(BaseModel):
    """What renewing answers: the finished decision and the agreement as it is now."""

    obligation: ObligationRead
    agreement: LicenseResource | ContractResource = Field(
        description="the license (subject_type license) or contract, after renewing"
    )


FILTERS = [
    QueryParam("kind", ObligationKind),
    QueryParam("state", ObligationState),
    QueryParam("district_id", int),
    QueryParam("school_id", int),
    QueryParam("subject_type", str, "device | license | contract"),
    QueryParam("subject_id", int),
    QueryParam("fiscal_year", int),
    # `due_before` / `due_after` were the first names of the due_date range.
    *date_range("due_date", old=("due",)),
    *date_range("decide_by"),
]
SUBJECTS: dict[str, type[Device | License | ServiceContract]] = {
    "device": Device,
    "license": License,
    "contract": ServiceContract,
}
AGREEMENTS: dict[str, tuple[type[License | ServiceContract], type[BaseModel]]] = {
    "license": (License, LicenseResource),
    "contract": (ServiceContract, ContractResource),
}


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
    values = filters(FILTERS)
    stmt = apply_filters(
        scoped(select(Obligation), Obligation, get_user()), Obligation, values, FILTERS
    )
    return items_page(get_session(), stmt, Obligation, ObligationRead, present=shown)


@operation(
    "/obligations/<int:obligation_id>",
    "GET",
    summary="Get an obligation",
    tag="obligations",
    response=ObligationRead,
)
def get_obligation(obligation_id: int) -> Response:
    session = get_session()
    found = get_scoped(session, Obligation, obligation_id, get_user())
    return jsonify(shown(session, [found])[0])


def _act(
    obligation_id: int, action: str, request: type[BaseModel] | None = None
) -> Obligation:
    """Load the obligation (404 if not yours), then read the body, then act."""
    session = get_session()
    user = get_user()
    obligation = get_scoped(session, Obligation, obligation_id, user)
    body = json_body(request) if request is not None else {}
    actions.run(session, user=user, obligation=obligation, action=action, values=body)
    session.commit()
    return obligation


def _acted(
    obligation_id: int, action: str, request: type[BaseModel] | None = None
) -> Response:
    """Act, then answer the obligation as it is now."""
    obligation = _act(obligation_id, action, request)
    return jsonify(shown(get_session(), [obligation])[0])


@operation(
    "/obligations/<int:obligation_id>/acknowledge",
    "POST",
    summary="Acknowledge: stop the reminders for this term (IT; finance for renewals)",
    tag="obligations",
    response=ObligationRead,
)
def acknowledge_obligation(obligation_id: int) -> Response:
    return _acted(obligation_id, "acknowledge")


@operation(
    "/obligations/<int:obligation_id>/snooze",
    "POST",
    summary="Snooze reminders until a date (after today, at most a year ahead)",
    tag="obligations",
    request=SnoozeRequest,
    response=ObligationRead,
)
def snooze_obligation(obligation_id: int) -> Response:
    return _acted(obligation_id, "snooze", SnoozeRequest)


@operation(
    "/obligations/<int:obligation_id>/renew",
    "POST",
    summary="Renew an express license or contract for its next term; send its "
    "version. Answers the finished obligation and the agreement after renewing",
    tag="obligations",
    request=RenewRequest,
    response=RenewResult,
)
def renew_obligation(obligation_id: int) -> Response:
    obligation = _act(obligation_id, "renew", RenewRequest)
    session = get_session()
    model, resource = AGREEMENTS[obligation.subject_type]
    agreement = session.get(model, obligation.subject_id)
    return jsonify(
        {
            "obligation": shown(session, [obligation])[0],
            "agreement": dump(resource, agreement),
        }
    )


@operation(
    "/obligations/<int:obligation_id>/cancel",
    "POST",
    summary="Cancel (tacit, before decide-by) or let lapse (express); send its version",
    tag="obligations",
    request=VersionRequest,
    response=ObligationRead,
)
def cancel_obligation(obligation_id: int) -> Response:
    return _acted(obligation_id, "cancel", VersionRequest)


@operation(
    "/obligations/<int:obligation_id>/replace",
    "POST",
    summary="Mark a device refresh done: the device is retired; send its version",
    tag="obligations",
    request=VersionRequest,
    response=ObligationRead,
)
def replace_obligation(obligation_id: int) -> Response:
    return _acted(obligation_id, "replace", VersionRequest)


class ReminderRead(BaseModel):
    """One reminder sent about an obligation: its threshold was reached in this term."""

    id: int
    obligation_id: int
    term_number: int = Field(description="the term of the obligation it was about")
    threshold_days: int = Field(
        description="the threshold reached: this many days (or fewer) before decide_by"
    )
    sent_at: datetime = Field(
        validation_alias="created_at",
        description="when the scan sent it: the bell notification of each person "
        "told (the owner and the district's IT, and finance for renewals), and an "
        "e-mail to those who chose e-mail. Who was told is not recorded per reminder",
    )


@operation(
    "/obligations/<int:obligation_id>/reminders",
    "GET",
    summary="The reminders sent about an obligation, oldest first",
    tag="obligations",
    response=ReminderRead,
    many=True,
)
def list_obligation_reminders(obligation_id: int) -> Response:
    session = get_session()
    found = get_scoped(session, Obligation, obligation_id, get_user())
    filters([])  # no filters: an unknown parameter is a 422
    stmt = select(Reminder).where(col(Reminder.obligation_id) == found.id)
    return items_page(session, stmt, Reminder, ReminderRead)
