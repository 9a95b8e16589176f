"""A district's lines in a round: what it sees and what it commits.

A district sees and changes only its own lines; another district's line id answers
404. A commit names the version it read (409 when stale) and is taken only while the
round accepts commitments: once the close time has passed, or the round closed
early, it is refused (409) and nothing changes. A commit and the close never cross:
the commit holds the round row's shared lock until it commits, the close its
exclusive lock, so a commit is either in the close's count or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from lifecycle.enums import Role
from lifecycle.models import (
    CatalogItem,
    Commitment,
    CommitmentUpdate,
    District,
    PurchaseRound,
    RoundItem,
    User,
    utcnow,
)
from lifecycle.rounds.notify import local_time
from lifecycle.rounds.services import accepting_commitments, get_round, lock_round
from lifecycle.web.errors import Conflict, Forbidden, NotFound
from lifecycle.web.records import claim_version

FIELDS = ("suggested_qty", "committed_qty")


@dataclass(frozen=True)
class OwnLine:
    """One of the district's lines: the item, the suggestion and what it committed."""

    commitment: Commitment
    round_item: RoundItem
    item: CatalogItem

    @property
    def quantity(self) -> int:
        """What counts at close: the committed quantity, 0 if never committed."""
        return self.commitment.committed_qty or 0


def own_lines(session: Session, user: User, round_id: int) -> list[OwnLine]:
    """The caller's district's lines of a round, by item name; none for coop staff."""
    get_round(session, user, round_id)
    if not Role(user.role).is_district or user.district_id is None:
        return []
    rows = session.exec(
        select(Commitment, RoundItem, CatalogItem)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .join(CatalogItem, col(CatalogItem.id) == col(RoundItem.catalog_item_id))
        .where(
            col(RoundItem.round_id) == round_id,
            col(Commitment.district_id) == user.district_id,
        )
        .order_by(col(CatalogItem.name), col(CatalogItem.sku))
    ).all()
    return [OwnLine(c, ri, ci) for c, ri, ci in rows]


def own_line(
    session: Session, user: User, round_id: int, commitment_id: int
) -> Commitment:
    """One of the district's own lines of this round, else 404."""
    get_round(session, user, round_id)
    found = session.exec(
        select(Commitment)
        .join(RoundItem, col(RoundItem.id) == col(Commitment.round_item_id))
        .where(
            col(Commitment.id) == commitment_id,
            col(RoundItem.round_id) == round_id,
            col(Commitment.district_id) == user.district_id,
        )
    ).first()
    if found is None or not Role(user.role).is_district:
        raise NotFound("No such line in this round.")
    return found


def refused_after_close(found: PurchaseRound, timezone: str = "UTC") -> Conflict:
    return Conflict(
        f"The round {found.name} closed at "
        f"{local_time(found.closes_at, timezone)}: quantities can no longer change.",
        extra={"round_state": found.state.value},
    )


def commit_line(
    session: Session,
    *,
    user: User,
    round_id: int,
    commitment_id: int,
    data: CommitmentUpdate,
    now: datetime | None = None,
) -> Commitment:
    """Set the district's committed quantity of one line (0: not this time)."""
    found = own_line(session, user, round_id, commitment_id)
    if Role(user.role) is not Role.DISTRICT_IT:
        raise Forbidden("Only district IT staff commit quantities.")
    # The claim first: on SQLite it takes the write lock, so the round read below is
    # the one the close would have to change first.
    claim_version(session, found, data.version, fields=FIELDS)
    the_round = lock_round(session, round_id, share=True)
    if not accepting_commitments(the_round, now or utcnow()):
        district = session.get(District, found.district_id)
        raise refused_after_close(the_round, district.timezone if district else "UTC")
    if found.committed_qty != data.committed_qty or found.committed_at is None:
        found.committed_qty = data.committed_qty
        found.committed_at = now or utcnow()
        found.committed_by_id = user.id
    session.flush()
    return found
