"""Actions on one obligation: state, audit, permissions, versions, and what the scan does next."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from lifecycle.agreements.rules import term
from lifecycle.enums import (
    AgreementStatus,
    DeviceStatus,
    ObligationKind,
    ObligationState,
)
from lifecycle.models import AuditEvent, License, Obligation, TermRecord
from lifecycle.renewals import actions
from lifecycle.web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.renewals.test_actions_data import arrange, find, scan


def events(db, obligation_id):
    db.expire_all()
    return db.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity_type) == "obligation",
            col(AuditEvent.entity_id) == obligation_id,
        )
        .order_by(col(AuditEvent.id))
    ).all()


@pytest.fixture
def arranged(db, world):
    return arrange(db, world.a.district, school_id=world.a.school.id)


def test_the_scan_arranged_one_obligation_of_each_kind(db, arranged):
    assert arranged.refresh(db).state == ObligationState.UPCOMING
    assert arranged.warranty(db).kind == ObligationKind.WARRANTY
    assert arranged.license_renewal(db).decide_by == arranged.license.current_term_end
    assert arranged.contract_renewal(db).kind == ObligationKind.CONTRACT_RENEWAL


def test_acknowledge_stops_reminders_for_the_term_and_is_audited(db, world, arranged):
    ob = arranged.license_renewal(db)
    actions.acknowledge(db, user=world.a.finance, obligation=ob)
    db.commit()
    ob = find(db, "license", arranged.license.id)
    assert ob.state == ObligationState.ACKNOWLEDGED
    assert ob.acknowledged_by_id == world.a.finance.id
    assert ob.acknowledged_at is not None
    (event,) = events(db, ob.id)
    assert event.action == "acknowledge"
    assert event.changes["state"] == ["upcoming", "acknowledged"]
    assert event.district_id == world.a.district.id
    # the scan keeps the decision acknowledged (it re-derives values, not the state)
    scan(db, world.a.district, arranged.today)
    assert (
        find(db, "license", arranged.license.id).state == ObligationState.ACKNOWLEDGED
    )


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        ("it", "refresh", True),
        ("finance", "refresh", False),
        ("viewer", "refresh", False),
        ("it", "license", True),
        ("finance", "license", True),
        ("viewer", "license", False),
    ],
)
def test_who_may_act(db, world, arranged, role, kind, allowed):
    user = getattr(world.a, role)
    ob = arranged.refresh(db) if kind == "refresh" else arranged.license_renewal(db)
    if allowed:
        actions.acknowledge(db, user=user, obligation=ob)
        assert ob.state == ObligationState.ACKNOWLEDGED
    else:
        with pytest.raises(Forbidden):
            actions.acknowledge(db, user=user, obligation=ob)


def test_cooperative_staff_read_but_do_not_act(db, world, arranged):
    with pytest.raises(Forbidden):
        actions.acknowledge(
            db, user=world.coop_staff, obligation=arranged.license_renewal(db)
        )


def test_another_districts_obligation_is_not_found(db, world, arranged):
    with pytest.raises(NotFound):
        actions.acknowledge(db, user=world.b.it, obligation=arranged.refresh(db))


def test_snooze_needs_a_future_date_within_a_year(db, world, arranged):
    ob = arranged.warranty(db)
    today = arranged.today
    for bad in (today, today - timedelta(days=1), today + timedelta(days=367), None):
        with pytest.raises(ValidationFailed) as caught:
            actions.snooze(db, user=world.a.it, obligation=ob, until=bad, today=today)
        assert "until" in caught.value.fields
    until = today + timedelta(days=14)
    actions.snooze(db, user=world.a.it, obligation=ob, until=until, today=today)
    db.commit()
    ob = arranged.warranty(db)
    assert (ob.state, ob.snoozed_until) == (ObligationState.SNOOZED, until)
    assert events(db, ob.id)[-1].changes["snoozed_until"] == [None, until.isoformat()]
    # the scan wakes it on that day, not before
    scan(db, world.a.district, until - timedelta(days=1))
    assert arranged.warranty(db).state == ObligationState.SNOOZED
    scan(db, world.a.district, until)
    woken = arranged.warranty(db)
    assert (woken.state, woken.snoozed_until) == (ObligationState.UPCOMING, None)


def test_renewing_an_express_license_records_its_next_term_and_the_scan_derives_the_next(
    db, world, arranged
):
    lic = arranged.license
    ob = arranged.license_renewal(db)
    version = db.get(License, lic.id).version
    actions.renew(
        db,
        user=world.a.finance,
        obligation=ob,
        data=actions.RenewInput(
            version=version, seats=120, price_per_seat=Decimal("5.25")
        ),
        today=arranged.today,
    )
    db.commit()
    db.expire_all()
    lic = db.get(License, lic.id)
    first, second = (term(lic.term_start, 12, 12, k) for k in (1, 2))
    # today is still in term 1, at its seats and price; term 2 is decided
    assert lic.current_term_number == 1
    assert (lic.current_term_start, lic.current_term_end) == (first.start, first.end)
    assert (lic.seats, lic.price_per_seat) == (100, Decimal("5.00"))
    assert (lic.decision_term_number, lic.decide_by) == (2, second.end)
    assert lic.version > version
    record = db.exec(
        select(TermRecord).where(col(TermRecord.subject_id) == lic.id)
    ).one()
    assert (record.term_number, record.price, record.seats) == (
        2,
        Decimal("630.00"),
        120,
    )
    assert record.recorded_by_id == world.a.finance.id
    assert find(db, "license", lic.id, term=1).state == ObligationState.DONE
    assert events(db, ob.id)[-1].action == "renew"

    scan(db, world.a.district, arranged.today)
    assert lic.status == AgreementStatus.ACTIVE
    assert find(db, "license", lic.id, term=1).state == ObligationState.DONE
    nxt = find(db, "license", lic.id, term=2)
    assert nxt.state == ObligationState.UPCOMING
    assert nxt.decide_by == second.end
    assert nxt.due_date == second.end + timedelta(days=1)
    # the scan does not lapse it when the first term ends: it has renewed, and from
    # then on the license holds the renewed seats and price
    scan(db, world.a.district, second.start + timedelta(days=3))
    db.expire_all()
    entered = db.get(License, lic.id)
    assert entered.status == AgreementStatus.ACTIVE
    assert (entered.current_term_number, entered.seats) == (2, 120)
    assert entered.price_per_seat == Decimal("5.25")


def test_renew_with_a_stale_version_is_a_conflict(db, world, arranged):
    ob = arranged.license_renewal(db)
    stale = db.get(License, arranged.license.id).version - 1
    with pytest.raises(Conflict):
        actions.renew(
            db,
            user=world.a.it,
            obligation=ob,
            data=actions.RenewInput(version=stale),
        )


def test_a_tacit_contract_is_not_renewed_by_hand(db, world, arranged):
    ob = arranged.contract_renewal(db)
    with pytest.raises(Conflict):
        actions.renew(
            db,
            user=world.a.it,
            obligation=ob,
            data=actions.RenewInput(version=arranged.contract.version),
        )


def test_renewing_a_contract_escalates_its_cost_unless_given(db, world, arranged):
    from lifecycle.enums import RenewalType
    from lifecycle.models import ServiceContract

    contract = db.get(ServiceContract, arranged.contract.id)
    contract.renewal_type = RenewalType.EXPRESS
    db.commit()
    scan(db, world.a.district, arranged.today)
    ob = arranged.contract_renewal(db)
    actions.renew(
        db,
        user=world.a.it,
        obligation=ob,
        data=actions.RenewInput(version=contract.version),
        today=arranged.today,
    )
    db.commit()
    db.expire_all()
    contract = db.get(ServiceContract, arranged.contract.id)
    # today's term keeps its price; the renewed term 2 is recorded at × 1.03
    assert (contract.current_term_number, contract.decision_term_number) == (1, 2)
    assert contract.cost_per_period == Decimal("12000.00")
    (record,) = db.exec(
        select(TermRecord).where(col(TermRecord.subject_id) == contract.id,
                                 col(TermRecord.subject_type) == "contract")
    ).all()  # fmt: skip
    assert (record.term_number, record.price) == (2, Decimal("12360.00"))


def test_cancelling_a_tacit_contract_before_its_notice_date(db, world, arranged):
    from lifecycle.models import ServiceContract

    ob = arranged.contract_renewal(db)
    version = arranged.contract.version
    actions.cancel(
        db,
        user=world.a.finance,
        obligation=ob,
        data=actions.VersionInput(version=version),
        today=arranged.today,
    )
    db.commit()
    db.expire_all()
    contract = db.get(ServiceContract, arranged.contract.id)
    assert contract.status == AgreementStatus.CANCELLED
    assert contract.decide_by is None
    assert arranged.contract_renewal(db).state == ObligationState.LAPSED
    assert events(db, ob.id)[-1].action == "cancel"
    # it stays cancelled: the scan neither renews it nor derives another decision
    scan(db, world.a.district, contract.current_term_end + timedelta(days=5))
    rows = db.exec(
        select(Obligation).where(col(Obligation.subject_id) == contract.id,
                                 col(Obligation.subject_type) == "contract")
    ).all()  # fmt: skip
    assert [r.state for r in rows] == [ObligationState.LAPSED]
    db.expire_all()
    assert db.get(ServiceContract, contract.id).status == AgreementStatus.CANCELLED


def test_a_tacit_contract_past_its_notice_date_cannot_be_cancelled(db, world, arranged):
    ob = arranged.contract_renewal(db)
    with pytest.raises(Conflict, match="notice date passed"):
        actions.cancel(
            db,
            user=world.a.it,
            obligation=ob,
            data=actions.VersionInput(version=arranged.contract.version),
            today=ob.decide_by + timedelta(days=1),
        )


def test_letting_an_express_license_lapse(db, world, arranged):
    ob = arranged.license_renewal(db)
    actions.cancel(
        db,
        user=world.a.it,
        obligation=ob,
        data=actions.VersionInput(version=arranged.license.version),
        today=arranged.today,
    )
    db.commit()
    assert arranged.license_renewal(db).state == ObligationState.LAPSED
    assert events(db, ob.id)[-1].action == "let_lapse"
    db.expire_all()
    assert db.get(License, arranged.license.id).status == AgreementStatus.CANCELLED


def test_cancel_with_a_stale_version_is_a_conflict(db, world, arranged):
    with pytest.raises(Conflict):
        actions.cancel(
            db,
            user=world.a.it,
            obligation=arranged.license_renewal(db),
            data=actions.VersionInput(version=arranged.license.version + 5),
        )


def test_mark_replaced_retires_the_device_and_closes_its_obligations(
    db, world, arranged
):
    from lifecycle.models import Device

    ob = arranged.refresh(db)
    device = db.get(Device, arranged.device.id)
    with pytest.raises(Conflict):
        actions.mark_replaced(
            db,
            user=world.a.it,
            obligation=ob,
            data=actions.VersionInput(version=device.version + 1),
        )
    actions.mark_replaced(
        db,
        user=world.a.it,
        obligation=ob,
        data=actions.VersionInput(version=device.version),
    )
    db.commit()
    db.expire_all()
    assert db.get(Device, device.id).status == DeviceStatus.RETIRED
    assert arranged.refresh(db).state == ObligationState.DONE
    assert arranged.warranty(db).state == ObligationState.RETIRED
    (event,) = events(db, ob.id)
    assert event.action == "mark_replaced"
    assert event.changes["device_status"] == ["in_service", "retired"]
    device_events = db.exec(
        select(AuditEvent).where(
            col(AuditEvent.entity_type) == "device",
            col(AuditEvent.entity_id) == device.id,
            col(AuditEvent.action) == "update",
        )
    ).all()
    assert device_events and device_events[-1].changes["status"][1] == "retired"
    # the scan keeps it done
    scan(db, world.a.district, arranged.today)
    assert arranged.refresh(db).state == ObligationState.DONE


def test_a_closed_obligation_takes_no_more_actions(db, world, arranged):
    ob = arranged.refresh(db)
    ob.state = ObligationState.DONE
    db.commit()
    assert (
        actions.available(
            world.a.it, ob, renewal_type=None, current_term=None, today=arranged.today
        )
        == ()
    )
    with pytest.raises(Conflict):
        actions.acknowledge(db, user=world.a.it, obligation=ob)


def test_available_actions_follow_kind_and_renewal_type(db, world, arranged):
    def avail(ob, rt=None, current=None):
        return actions.available(
            world.a.it, ob, renewal_type=rt, current_term=current, today=arranged.today
        )

    lic, con = arranged.license, arranged.contract
    assert avail(arranged.refresh(db)) == ("acknowledge", "snooze", "replace")
    assert avail(arranged.warranty(db)) == ("acknowledge", "snooze")
    assert avail(arranged.license_renewal(db), lic.renewal_type, 1) == (
        "acknowledge", "snooze", "renew", "cancel",
    )  # fmt: skip
    assert avail(arranged.contract_renewal(db), con.renewal_type, 1) == (
        "acknowledge", "snooze", "cancel",
    )  # fmt: skip
    assert (
        actions.available(
            world.a.viewer,
            arranged.license_renewal(db),
            renewal_type=lic.renewal_type,
            current_term=1,
            today=arranged.today,
        )
        == ()
    )
