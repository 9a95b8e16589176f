"""A cooperative with three districts, a laptop with the issue's tiers and a license."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from lifecycle.db import get_db
from lifecycle.enums import (
    DeviceCategory,
    ItemKind,
    ObligationKind,
    ObligationState,
    PriceUnit,
    Role,
)
from lifecycle.models import (
    CatalogItem,
    Commitment,
    CommitmentUpdate,
    District,
    Obligation,
    PurchaseRound,
    RoundCreate,
    User,
)
from lifecycle.rounds import commit, services
from lifecycle.work.queue import drain
from tests import factories
from tests.api.conftest import token_for  # noqa: F401  (a fixture of these tests)

NEED_START = date(2027, 7, 1)
NEED_END = date(2028, 6, 30)


@dataclass
class RoundWorld:
    world: factories.World
    c: District
    c_it: User
    laptop: CatalogItem
    license: CatalogItem

    @property
    def districts(self) -> list[District]:
        return [self.world.a.district, self.world.b.district, self.c]

    @property
    def staff(self) -> User:
        return self.world.coop_staff


def make_obligation(session: Session, district: District, **kw: Any) -> Obligation:
    values: dict[str, Any] = {
        "district_id": district.id,
        "kind": ObligationKind.REFRESH,
        "subject_type": "device",
        "subject_id": factories._n(),
        "due_date": date(2027, 8, 1),
        "decide_by": date(2027, 8, 1),
        "estimated_cost": Decimal("520.00"),
        "fiscal_year": 2028,
        "category": "laptop",
        "quantity": 1,
        "state": ObligationState.UPCOMING,
    }
    values.update(kw)
    obligation = Obligation(**values)
    session.add(obligation)
    session.flush()
    return obligation


@pytest.fixture
def rw(db: Session, world: factories.World) -> RoundWorld:
    coop = world.coop
    c = factories.make_district(db, coop, name="Charlie ISD")
    c_it = factories.make_user(db, Role.DISTRICT_IT, c)
    vendor = factories.make_vendor(db)
    vehicle = factories.make_vehicle(db, coop, vendor)
    laptop = factories.make_catalog_item(
        db,
        vehicle,
        name="Latitude 3450 laptop",
        category=DeviceCategory.LAPTOP,
        list_price=Decimal("520.00"),
        min_order_qty=50,
        tiers=[(1, "520.00"), (250, "495.00"), (1000, "470.00")],
    )
    lic = factories.make_catalog_item(
        db,
        vehicle,
        name="Filtering seat",
        kind=ItemKind.LICENSE,
        category=None,
        unit=PriceUnit.SEAT,
        list_price=Decimal("4.00"),
        min_order_qty=2000,
        lifespan_months=None,
        term_months=12,
        tiers=[(1000, "3.50")],
    )
    db.commit()
    return RoundWorld(world, c, c_it, laptop, lic)


def in_days(n: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)


def new_round(app: Flask, rw: RoundWorld, **kw: Any) -> int:
    data = {
        "name": "Spring laptops",
        "need_start": NEED_START,
        "need_end": NEED_END,
        "closes_at": in_days(7),
        "catalog_item_ids": [rw.laptop.id, rw.license.id],
    } | kw
    with get_db(app).scope() as s:
        found = services.create_round(
            s, user=s.merge(rw.staff), data=RoundCreate.model_validate(data)
        )
        assert found.id is not None
        return found.id


def open_now(app: Flask, rw: RoundWorld, round_id: int) -> None:
    """Open the round and run its opening job."""
    with get_db(app).scope() as s:
        found = s.get(PurchaseRound, round_id)
        assert found is not None
        services.open_round(
            s, user=s.merge(rw.staff), round_id=round_id, version=found.version
        )
    drain(app)


def line_of(app: Flask, user: User, round_id: int, item: CatalogItem) -> Commitment:
    with get_db(app).scope() as s:
        for line in commit.own_lines(s, s.merge(user), round_id):
            if line.item.id == item.id:
                return line.commitment
    raise AssertionError("no such line")


def commit_qty(
    app: Flask, user: User, round_id: int, item: CatalogItem, qty: int, **kw: Any
) -> Commitment:
    found = line_of(app, user, round_id, item)
    assert found.id is not None
    with get_db(app).scope(actor_id=user.id, actor_label=user.email) as s:
        return commit.commit_line(
            s,
            user=s.merge(user),
            round_id=round_id,
            commitment_id=found.id,
            data=CommitmentUpdate(committed_qty=qty, version=found.version),
            **kw,
        )
