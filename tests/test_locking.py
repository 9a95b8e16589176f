"""Two saves of the same version at once: exactly one wins, the other gets a 409.

Each writer of a versioned record goes through web.records.claim_version. The second
writer's claim waits for the first one's commit (PostgreSQL: the row's lock; SQLite:
the database's write lock), then finds the version moved on. On PostgreSQL the test
checks that the second writer really was waiting, so it never passes on two saves that
merely ran one after the other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session

from lifecycle.admin.services import update_user
from lifecycle.agreements.contracts.services import update_contract
from lifecycle.agreements.licenses.services import update_license
from lifecycle.agreements.terms import set_cancelled
from lifecycle.catalog.editing import save_tiers, update_vehicle
from lifecycle.db import get_db
from lifecycle.inventory.devices import update_device
from lifecycle.models import (
    CatalogItem,
    ContractVehicle,
    ContractVehicleUpdate,
    Device,
    DeviceUpdate,
    District,
    DistrictUpdate,
    License,
    LicenseUpdate,
    School,
    SchoolUpdate,
    ServiceContract,
    ServiceContractUpdate,
    User,
    UserUpdate,
    Vendor,
    VendorUpdate,
)
from lifecycle.org.policy.services import PolicyInput, save_policy
from lifecycle.org.services import update_district, update_school, update_vendor
from lifecycle.web.errors import Conflict
from tests import factories
from tests.conftest import PG_SERVER_URL


def _until_the_other_writer_waits(session: Session) -> bool:
    """Hold the first save open until the second one waits for its lock (PostgreSQL
    says so); on SQLite, which cannot say, give it half a second."""
    if not PG_SERVER_URL:
        time.sleep(0.5)
        return True
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        waiting = session.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
        ).scalar_one()
        if waiting:
            return True
        time.sleep(0.02)
    return False


@dataclass(frozen=True)
class Kind:
    """A versioned record and how one writer saves it."""

    model: type[Any]
    # (session, record, version, writer number, the district's IT user, an admin)
    save: Callable[[Session, Any, int, int, User, User], Any]


KINDS = {
    "device": Kind(
        Device,
        lambda s, r, v, w, it, admin: update_device(
            s, user=it, device=r, data=DeviceUpdate(notes=f"w{w}", version=v)
        ),
    ),
    "license": Kind(
        License,
        lambda s, r, v, w, it, admin: update_license(
            s, user=it, lic=r, data=LicenseUpdate(notes=f"w{w}", version=v)
        ),
    ),
    "contract": Kind(
        ServiceContract,
        lambda s, r, v, w, it, admin: update_contract(
            s,
            user=it,
            contract=r,
            data=ServiceContractUpdate(notes=f"w{w}", version=v),
        ),
    ),
    "contract cancelled": Kind(
        ServiceContract,
        lambda s, r, v, w, it, admin: set_cancelled(
            s, user=it, subject="contract", obj=r, version=v, cancelled=True
        ),
    ),
    "user": Kind(
        User,
        lambda s, r, v, w, it, admin: update_user(
            s, user=r, data=UserUpdate(name=f"Writer {w}", version=v), actor=admin
        ),
    ),
    "district": Kind(
        District,
        lambda s, r, v, w, it, admin: update_district(
            s, district=r, data=DistrictUpdate(name=f"District {w}", version=v)
        ),
    ),
    "district policy": Kind(
        District,
        lambda s, r, v, w, it, admin: save_policy(
            s,
            user=it,
            district=r,
            data=PolicyInput(DistrictUpdate(inflation_pct=w + 1, version=v)),
        ),
    ),
    "school": Kind(
        School,
        lambda s, r, v, w, it, admin: update_school(
            s, user=it, school=r, data=SchoolUpdate(name=f"S{w}", version=v)
        ),
    ),
    "vehicle": Kind(
        ContractVehicle,
        lambda s, r, v, w, it, admin: update_vehicle(
            s, vehicle=r, data=ContractVehicleUpdate(title=f"Vehicle {w}", version=v)
        ),
    ),
    "price table": Kind(
        CatalogItem,
        lambda s, r, v, w, it, admin: save_tiers(
            s,
            item=r,
            version=v,
            rows=[
                {"min_qty": 1, "unit_price": "300.00"},
                {"min_qty": 10 + w, "unit_price": "290.00"},
            ],
        ),
    ),
    "vendor": Kind(
        Vendor,
        lambda s, r, v, w, it, admin: update_vendor(
            s, vendor=r, data=VendorUpdate(name=f"Vendor {w}", version=v)
        ),
    ),
}


def _arrange(db: Session, world: factories.World, kind: str) -> Any:
    district = world.a.district
    made: Any = {
        "device": lambda: factories.make_device(db, district),
        "license": lambda: factories.make_license(db, district),
        "contract": lambda: factories.make_contract(db, district),
        "contract cancelled": lambda: factories.make_contract(db, district),
        "user": lambda: world.a.viewer,
        "district": lambda: district,
        "district policy": lambda: district,
        "school": lambda: world.a.school,
        "vendor": lambda: factories.make_vendor(db),
        "vehicle": lambda: factories.make_vehicle(
            db, world.coop, factories.make_vendor(db)
        ),
        "price table": lambda: factories.make_catalog_item(
            db, factories.make_vehicle(db, world.coop, factories.make_vendor(db))
        ),
    }[kind]()
    db.commit()
    return made


def _race(
    app: Flask, kind: Kind, ident: int, version: int, world: factories.World
) -> dict[int, str]:
    """Both writers load the record at `version`; writer 0 saves and holds its
    transaction open while writer 1 saves; then writer 0 commits."""
    both_loaded = threading.Barrier(2, timeout=20)
    first_saved = threading.Event()
    outcome: dict[int | str, Any] = {}

    def writer(w: int) -> None:
        with app.app_context():
            session = get_db(app).session()
            try:
                record = session.get(kind.model, ident)
                it = session.get(User, world.a.it.id)
                admin = session.get(User, world.admin.id)
                assert it is not None and admin is not None
                both_loaded.wait()
                if w == 1:
                    assert first_saved.wait(20)
                kind.save(session, record, version, w, it, admin)
                session.flush()
                if w == 0:
                    first_saved.set()
                    outcome["waited"] = _until_the_other_writer_waits(session)
                session.commit()
                outcome[w] = "saved"
            except Conflict:
                session.rollback()
                outcome[w] = "conflict"
            except BaseException as exc:  # pragma: no cover - shown in the assert
                session.rollback()
                first_saved.set()
                outcome[w] = repr(exc)
            finally:
                session.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


@pytest.mark.parametrize("kind", list(KINDS))
def test_two_saves_of_the_same_version_one_wins_one_conflicts(app, db, world, kind):
    record = _arrange(db, world, kind)
    version = record.version

    outcome = _race(app, KINDS[kind], record.id, version, world)

    assert outcome == {0: "saved", 1: "conflict", "waited": True}
    db.rollback()
    db.expire_all()
    assert db.get(KINDS[kind].model, record.id).version == version + 1
