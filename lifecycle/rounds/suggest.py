"""Opening a round: every member district's suggested lines from its own obligations.

One statement writes a line for every (member district, round item): the units of the
district's open obligations due in the need window whose catalog item is the round
item's. The scan has already put the right item on each obligation (docs/rules.md):
a device refresh carries the replacement item of the district's policy for the
category, else the device's own model; a license renewal carries the license's item
and its seats as the quantity. Districts with no such need get a line of 0, which
they may raise like any other.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from lifecycle.enums import ObligationKind, ObligationState, RoundState
from lifecycle.models import (
    Commitment,
    District,
    Obligation,
    PurchaseRound,
    RoundItem,
    UtcDateTime,
    utcnow,
)
from lifecycle.rounds.notify import local_time, tell_districts
from lifecycle.rounds.services import lock_round
from lifecycle.sqlfuncs import insert_ignore

# The kinds a round can buy, and the states of a need nobody has ordered yet.
SUGGESTED_KINDS = (ObligationKind.REFRESH, ObligationKind.LICENSE_RENEWAL)
NEED_STATES = (
    ObligationState.UPCOMING,
    ObligationState.NOTIFIED,
    ObligationState.ACKNOWLEDGED,
    ObligationState.SNOOZED,
    ObligationState.IN_ROUND,
)


def _suggestions(found: PurchaseRound) -> Any:
    need = (
        sa.select(
            col(Obligation.district_id).label("district_id"),
            col(Obligation.catalog_item_id).label("item_id"),
            sa.func.sum(col(Obligation.quantity)).label("qty"),
        )
        .where(
            col(Obligation.kind).in_([k.value for k in SUGGESTED_KINDS]),
            col(Obligation.state).in_([s.value for s in NEED_STATES]),
            col(Obligation.due_date) >= found.need_start,
            col(Obligation.due_date) <= found.need_end,
            col(Obligation.catalog_item_id).in_(
                sa.select(col(RoundItem.catalog_item_id)).where(
                    col(RoundItem.round_id) == found.id
                )
            ),
        )
        .group_by(col(Obligation.district_id), col(Obligation.catalog_item_id))
        .subquery("need")
    )
    now = utcnow()
    stamp = UtcDateTime()
    return (
        sa.select(
            col(RoundItem.id).label("round_item_id"),
            col(District.id).label("district_id"),
            sa.func.coalesce(need.c.qty, 0).label("suggested_qty"),
            sa.literal(1).label("version"),
            sa.literal(now, stamp).label("created_at"),
            sa.literal(now, stamp).label("updated_at"),
        )
        .select_from(RoundItem)
        .join(District, col(District.cooperative_id) == found.cooperative_id)
        .outerjoin(
            need,
            sa.and_(
                need.c.district_id == col(District.id),
                need.c.item_id == col(RoundItem.catalog_item_id),
            ),
        )
        .where(col(RoundItem.round_id) == found.id)
    )


def write_suggestions(session: Session, round_id: int) -> dict[str, Any]:
    """The opening job's work, all in one transaction: lines, then the notices.

    Run twice (a retry, a worker killed half way and the job run again) it finds the
    round suggested already, or finds nothing written by the killed run, and so
    writes every line and tells every district exactly once."""
    found = lock_round(session, round_id, share=False)
    if found.state is not RoundState.OPEN or found.suggested_at is not None:
        return {"message": "Nothing to do: the suggestions were written already."}
    columns = [
        "round_item_id",
        "district_id",
        "suggested_qty",
        "version",
        "created_at",
        "updated_at",
    ]
    session.execute(
        insert_ignore(session, Commitment).from_select(columns, _suggestions(found))
    )
    lines, units, districts = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(col(Commitment.suggested_qty)), 0),
            sa.func.count(sa.distinct(col(Commitment.district_id))).filter(
                col(Commitment.suggested_qty) > 0
            ),
        )
        .select_from(Commitment)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .where(col(RoundItem.round_id) == round_id)
    ).one()
    found.suggested_at = utcnow()
    told = tell_districts(
        session,
        round_id=round_id,
        event="opened",
        district_ids=None,
        link=f"/rounds/{round_id}",
        message=lambda district: (
            f"Purchase round open: {found.name}",
            f"The cooperative's round {found.name} is open for commitments until "
            f"{local_time(found.closes_at, district.timezone)}. Your suggested "
            "quantities come from your needs due "
            f"{found.need_start:%b %-d, %Y} – {found.need_end:%b %-d, %Y}; "
            "review them and commit what you will buy.",
        ),
    )
    session.flush()
    return {
        "message": (
            f"Round opened: {int(units):,} suggested units for {int(districts)} "
            f"districts; {told} people told."
        ),
        "lines": int(lines),
        "suggested_units": int(units),
        "districts_with_needs": int(districts),
        "people_told": told,
    }
