"""Reminders after the scan (docs/rules.md#reminders): worked examples through the real scan."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import col, select

from lifecycle.enums import (
    DeviceCategory,
    ObligationKind,
    ObligationState,
    RenewalType,
    Role,
)
from lifecycle.models import Obligation
from lifecycle.notices.reminders import send_due_reminders
from tests import factories
from tests.notices.conftest import (
    notifications_of,
    outbox,
    reminder_rows,
    scan_and_remind,
    statements,
)

# An express license from 1 Jan 2026, yearly: term 1 ends (and must be decided) 31 Dec 2026.
DECIDE_BY = date(2026, 12, 31)


def days_before(n: int) -> date:
    return DECIDE_BY - timedelta(days=n)


def make_license(db, world, **kw):
    values = {
        "product": "Reading Plus",
        "term_start": date(2026, 1, 1),
        "initial_term_months": 12,
        "renewal_term_months": 12,
        "renewal_type": RenewalType.EXPRESS,
        "seats": 500,
        "price_per_seat": Decimal("4.50"),
    }
    values.update(kw)
    lic = factories.make_license(db, world.a.district, **values)
    db.commit()
    return lic


def obligation_of(db, subject_type, subject_id):
    db.expire_all()
    return db.exec(
        select(Obligation).where(
            col(Obligation.subject_type) == subject_type,
            col(Obligation.subject_id) == subject_id,
        )
    ).one()


def thresholds_sent(db):
    return [t for _, _, t in reminder_rows(db)]


def test_95_days_before_the_decide_by_date_the_120_day_reminder_goes_out(db, world):
    lic = make_license(db, world)
    run = scan_and_remind(db, world.a.district.id, days_before(95))

    ob = obligation_of(db, "license", lic.id)
    assert ob.decide_by == DECIDE_BY
    assert reminder_rows(db) == [(ob.id, 1, 120)]
    assert run.sent == 1
    assert ob.state == ObligationState.NOTIFIED


def test_before_the_first_threshold_nothing_is_due(db, world):
    make_license(db, world)
    run = scan_and_remind(db, world.a.district.id, days_before(121))
    assert run.sent == 0 and reminder_rows(db) == []
    assert notifications_of(db, world.a.it.id) == []


def test_a_late_scan_sends_only_the_most_urgent_threshold_never_a_burst(db, world):
    make_license(db, world)
    # The scheduler was down until 25 days before: 120, 90 and 60 were all missed.
    run = scan_and_remind(db, world.a.district.id, days_before(25))
    assert thresholds_sent(db) == [30]
    assert run.sent == 1
    [note] = notifications_of(db, world.a.it.id)
    assert note.reminder_count == 1


def test_each_threshold_is_sent_once_as_the_days_go_by(db, world):
    make_license(db, world)
    for n in (95, 94, 90, 89, 60, 45, 30, 29, 7, 1, 0):
        scan_and_remind(db, world.a.district.id, days_before(n))
    assert thresholds_sent(db) == [120, 90, 60, 30, 7]
    assert len(notifications_of(db, world.a.it.id)) == 5


def test_a_rerun_the_same_day_sends_nothing(db, world):
    make_license(db, world)
    first = scan_and_remind(db, world.a.district.id, days_before(95))
    again = scan_and_remind(db, world.a.district.id, days_before(95))
    assert (first.sent, again.sent) == (1, 0)
    assert (again.notifications, again.outbox_ids) == (0, [])
    assert len(notifications_of(db, world.a.it.id)) == 1
    assert len(outbox(db)) == 2  # IT and finance, once each


def test_when_the_most_urgent_was_sent_nothing_staler_is_sent(db, world):
    make_license(db, world)
    scan_and_remind(db, world.a.district.id, days_before(25))  # late: 30 only
    run = scan_and_remind(db, world.a.district.id, days_before(20))
    assert run.sent == 0
    assert thresholds_sent(db) == [30]  # never 60, 90 or 120 afterwards


def test_after_the_decide_by_date_no_reminder_is_sent(db, world):
    make_license(db, world, renewal_type=RenewalType.TACIT, notice_days=30)
    # tacit: decide by 30 days before the term end (1 Dec 2026); now it is too late
    run = scan_and_remind(db, world.a.district.id, date(2026, 12, 5))
    assert run.sent == 0


def test_a_tacit_contract_counts_down_to_its_notice_date(db, world):
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=date(2026, 1, 1),
        renewal_type=RenewalType.TACIT,
        notice_days=60,
    )
    db.commit()
    # term ends 31 Dec 2026; decide by 1 Nov 2026; 60 days before that is 2 Sep 2026
    scan_and_remind(db, world.a.district.id, date(2026, 9, 2))
    ob = obligation_of(db, "contract", contract.id)
    assert ob.decide_by == date(2026, 11, 1)
    assert reminder_rows(db) == [(ob.id, 1, 60)]


def test_acknowledged_and_snoozed_obligations_get_no_reminders(db, world):
    acknowledged = make_license(db, world, product="Acknowledged")
    snoozed = make_license(db, world, product="Snoozed")
    scan_and_remind(
        db, world.a.district.id, days_before(130)
    )  # obligations, no reminder
    ack = obligation_of(db, "license", acknowledged.id)
    ack.state = ObligationState.ACKNOWLEDGED
    snz = obligation_of(db, "license", snoozed.id)
    snz.state = ObligationState.SNOOZED
    snz.snoozed_until = days_before(20)
    db.commit()

    assert scan_and_remind(db, world.a.district.id, days_before(95)).sent == 0
    assert scan_and_remind(db, world.a.district.id, days_before(25)).sent == 0
    # the snooze ends: reminders resume with the most urgent threshold then due
    run = scan_and_remind(db, world.a.district.id, days_before(20))
    assert run.sent == 1
    assert reminder_rows(db) == [(snz.id, 1, 30)]


def test_a_license_override_replaces_the_district_thresholds(db, world):
    own = make_license(db, world, product="Own rules", reminder_thresholds=[45, 10])
    district = make_license(db, world, product="District rules")
    scan_and_remind(db, world.a.district.id, days_before(50))
    own_ob = obligation_of(db, "license", own.id)
    district_ob = obligation_of(db, "license", district.id)
    assert reminder_rows(db) == [(district_ob.id, 1, 60)]
    for n in (44, 9, 7):
        scan_and_remind(db, world.a.district.id, days_before(n))
    assert sorted(reminder_rows(db)) == sorted(
        [
            (district_ob.id, 1, 60),
            (own_ob.id, 1, 45),
            (district_ob.id, 1, 30),
            (own_ob.id, 1, 10),
            (district_ob.id, 1, 7),
        ]
    )


def test_licenses_and_contracts_share_an_override_list(db, world):
    """One list of thresholds for a license and a contract; a list equal to the
    district's is no override at all."""
    lic = make_license(db, world, product="Own rules", reminder_thresholds=[50, 5])
    same = make_license(
        db, world, product="Spelled out", reminder_thresholds=[120, 60, 30, 7]
    )
    contract = factories.make_contract(
        db,
        world.a.district,
        term_start=date(2026, 1, 1),
        renewal_type=RenewalType.EXPRESS,
        reminder_thresholds=[5, 50],
    )
    db.commit()
    scan_and_remind(db, world.a.district.id, days_before(55))
    assert reminder_rows(db) == [(obligation_of(db, "license", same.id).id, 1, 60)]
    scan_and_remind(db, world.a.district.id, days_before(50))
    sent = {(ob, t) for ob, _, t in reminder_rows(db)}
    assert sent == {
        (obligation_of(db, "license", same.id).id, 60),
        (obligation_of(db, "license", lic.id).id, 50),
        (obligation_of(db, "contract", contract.id).id, 50),
    }


def test_district_thresholds_are_the_district_setting(db, world):
    world.a.district.reminder_thresholds = [100, 14]
    db.commit()
    make_license(db, world)
    scan_and_remind(db, world.a.district.id, days_before(95))
    assert thresholds_sent(db) == [100]


def test_a_new_term_is_reminded_again(db, world):
    lic = make_license(db, world, renewal_type=RenewalType.TACIT, notice_days=0)
    scan_and_remind(db, world.a.district.id, days_before(5))
    # the term renewed; the next decision (31 Dec 2027) has its own thresholds
    scan_and_remind(db, world.a.district.id, date(2027, 12, 31) - timedelta(days=100))
    terms = sorted((term, t) for _, term, t in reminder_rows(db))
    assert terms == [(1, 7), (2, 120)]
    assert lic.id is not None


def test_a_device_cohort_is_one_line_for_it_and_nothing_for_finance(db, world):
    for _ in range(5):
        factories.make_device(
            db,
            world.a.district,
            category=DeviceCategory.CHROMEBOOK,
            purchase_date=date(2024, 7, 1),
            aue_date=date(2027, 6, 30),
        )
    db.commit()
    run = scan_and_remind(db, world.a.district.id, date(2027, 6, 1))
    assert run.sent == 5
    [note] = notifications_of(db, world.a.it.id)
    assert note.title == "5 Chromebooks reach AUE on Jun 30, 2027"
    assert note.reminder_count == 5
    assert note.link.startswith("/renewals")
    assert notifications_of(db, world.a.finance.id) == []
    assert notifications_of(db, world.a.viewer.id) == []
    states = {
        o.state
        for o in db.exec(
            select(Obligation).where(col(Obligation.kind) == ObligationKind.REFRESH)
        )
    }
    assert states == {ObligationState.NOTIFIED}


def test_recipients_are_the_owner_and_the_deciding_roles_of_that_district(db, world):
    lic = make_license(db, world)
    inactive = factories.make_user(
        db, Role.DISTRICT_IT, world.a.district, is_active=False
    )
    factories.make_license(
        db, world.b.district, product="Bravo's", term_start=date(2026, 1, 1)
    )
    db.commit()
    scan_and_remind(db, world.a.district.id, days_before(130))
    obligation_of(db, "license", lic.id).owner_id = world.a.viewer.id
    db.commit()
    scan_and_remind(db, world.a.district.id, days_before(95))

    for user in (world.a.it, world.a.finance, world.a.viewer):
        [note] = notifications_of(db, user.id)
        assert note.title == "1 renewal to decide by Dec 31, 2026"
        assert note.district_id == world.a.district.id
    for user in (inactive, world.b.it, world.b.finance, world.coop_staff, world.admin):
        assert notifications_of(db, user.id) == []
    assert {m.to_address for m in outbox(db)} == {
        world.a.it.email,
        world.a.finance.email,
        world.a.viewer.email,
    }


def test_one_notification_per_person_summarises_the_whole_run(db, world):
    for name in ("Reading Plus", "Math Lab", "Typing Club"):
        make_license(db, world, product=name)
    factories.make_device(
        db,
        world.a.district,
        warranty_end=days_before(0),
        purchase_date=date(2025, 1, 1),
    )
    db.commit()
    scan_and_remind(db, world.a.district.id, days_before(95))
    [it_note] = notifications_of(db, world.a.it.id)
    assert it_note.title == (
        "3 renewals to decide by Dec 31, 2026; 1 Chromebook warranty ends on Dec 31, 2026"
    )
    assert it_note.reminder_count == 4
    assert "License renewal: decide on Math Lab by Dec 31, 2026" in it_note.body
    [finance_note] = notifications_of(db, world.a.finance.id)
    assert finance_note.reminder_count == 3
    assert "warranty" not in finance_note.body


def test_an_unchanged_rescan_sends_zero_reminders(db, world):
    make_license(db, world)
    factories.make_device(db, world.a.district, aue_date=date(2027, 1, 1))
    db.commit()
    scan_and_remind(db, world.a.district.id, days_before(95))
    before = (len(reminder_rows(db)), len(outbox(db)))
    for _ in range(3):
        run = scan_and_remind(db, world.a.district.id, days_before(95))
        assert run.summary() == {
            "reminders_sent": 0,
            "reminder_notifications": 0,
            "reminder_emails": 0,
        }
    assert (len(reminder_rows(db)), len(outbox(db))) == before


def test_the_same_run_twice_in_one_transaction_sends_once(db, world):
    make_license(db, world)
    district_id = world.a.district.id
    from lifecycle.scan.jobs import run_scan

    run_scan(db, district_id, days_before(95))
    first = send_due_reminders(db, district_id=district_id, today=days_before(95))
    second = send_due_reminders(db, district_id=district_id, today=days_before(95))
    db.commit()
    assert (first.sent, second.sent) == (1, 0)
    assert len(notifications_of(db, world.a.it.id)) == 1


def test_reminders_cost_the_same_statements_for_3_or_60_devices(app, db, world):
    """Set-based: no query per device, however big the AUE cliff."""

    def add(n):
        for _ in range(n):
            factories.make_device(db, world.a.district, aue_date=date(2027, 6, 1))
        db.commit()

    def count(today):
        from lifecycle.scan.jobs import run_scan

        run_scan(db, world.a.district.id, today)
        db.commit()
        with statements(app) as seen:
            run = send_due_reminders(db, district_id=world.a.district.id, today=today)
            db.commit()
        return run, len(seen)

    add(3)
    few_run, few = count(date(2027, 3, 1))
    add(57)
    many_run, many = count(date(2027, 4, 1))  # 90 days: all 60 reminded again
    assert (few_run.sent, many_run.sent) == (3, 60)
    assert many == few, (few, many)
