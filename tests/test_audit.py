"""The audit trail records every create, update and delete with before → after."""

from __future__ import annotations

from sqlmodel import col, select

from lifecycle.db import get_db
from lifecycle.models import AuditEvent, School
from tests import factories


def events(db, entity_type, entity_id):
    db.expire_all()
    return db.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == entity_type,
            col(AuditEvent.entity_id) == entity_id,
        )
        .order_by(col(AuditEvent.id))
    ).all()


def test_create_update_delete_are_recorded_with_actor_and_changes(app, db, world):
    session = get_db(app).session()
    session.info.update(actor_id=world.a.it.id, actor_label=world.a.it.email)
    school = School(district_id=world.a.district.id, name="Cedar Elementary", code="CE")
    session.add(school)
    session.commit()
    school.name = "Cedar Creek Elementary"
    school.code = "CE"  # unchanged value: not a change
    session.commit()
    session.delete(school)
    session.commit()

    created, updated, deleted = events(db, "school", school.id)
    assert (created.action, updated.action, deleted.action) == (
        "create",
        "update",
        "delete",
    )
    assert created.actor_id == world.a.it.id and created.actor_label == world.a.it.email
    assert created.district_id == world.a.district.id
    assert created.changes["name"] == [None, "Cedar Elementary"]
    assert updated.changes == {"name": ["Cedar Elementary", "Cedar Creek Elementary"]}
    assert deleted.changes["name"] == ["Cedar Creek Elementary", None]


def test_every_change_moves_the_version_on(app, db, world):
    school = world.a.school
    assert school.version == 1
    school.name = "Renamed High"
    db.commit()
    assert school.version == 2
    school.name = "Renamed High"  # no real change
    db.commit()
    assert school.version == 2


def test_secrets_are_masked_in_the_trail(app, db, world):
    user = world.a.viewer
    user.password_hash = "new-hash-value"
    db.commit()
    (event,) = [e for e in events(db, "user", user.id) if e.action == "update"]
    assert event.changes["password_hash"] == ["•••", "•••"]
    assert "new-hash-value" not in str(event.changes)


def test_a_rolled_back_change_leaves_no_event(app, db, world):
    before = len(events(db, "school", world.a.school.id))
    world.a.school.name = "Never saved"
    db.flush()
    db.rollback()
    assert len(events(db, "school", world.a.school.id)) == before


def test_money_and_dates_are_stored_as_text_in_the_trail(app, db, world):
    device = factories.make_device(db, world.a.district)
    db.commit()
    (event,) = events(db, "device", device.id)
    assert event.changes["purchase_cost"] == [None, "289.00"]
    assert event.changes["purchase_date"] == [None, "2023-07-15"]
    assert event.changes["category"] == [None, "chromebook"]
