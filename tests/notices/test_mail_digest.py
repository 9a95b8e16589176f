"""The weekly digest: one e-mail per person who wants it, once per ISO week."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lifecycle import get_settings
from lifecycle.db import get_db
from lifecycle.enums import Role
from lifecycle.notices.digest import week_key, write_weekly_digest
from lifecycle.scan.jobs import run_scan
from lifecycle.work.queue import drain
from tests import factories
from tests.notices.conftest import outbox, readable

MONDAY = date(2026, 9, 28)


@pytest.fixture
def app(mail_app):
    return mail_app


def arrange(db, world):
    a, b = world.a.district, world.b.district
    # Alpha: one license decided in 20 days, one in 60; 3 devices at AUE; one overdue
    for product, days in (("Soon Suite", 20), ("Later Lab", 60)):
        decide_by = MONDAY + timedelta(days=days)
        factories.make_license(
            db,
            a,
            product=product,
            term_start=decide_by.replace(year=decide_by.year - 1) + timedelta(days=1),
            price_per_seat=Decimal("2.00"),
            seats=100,
        )
    for _ in range(3):
        factories.make_device(db, a, aue_date=date(2026, 11, 30))
    factories.make_device(db, a, purchase_date=date(2022, 1, 1), lifespan_months=48)
    # Bravo: one contract in 45 days
    factories.make_contract(
        db, b, name="Bravo Network", term_start=date(2026, 1, 1), notice_days=50
    )
    db.commit()
    for district in (a, b):
        run_scan(db, district.id, MONDAY)
    db.commit()


def write(app, today=MONDAY):
    session = get_db(app).session()
    ids = write_weekly_digest(session, today=today, settings=get_settings(app))
    session.commit()
    session.close()
    return ids


def by_address(db):
    return {row.to_address: row for row in outbox(db)}


def test_each_person_with_the_digest_gets_one_per_week(app, db, world, inbox):
    arrange(db, world)
    world.a.finance.weekly_digest = False
    factories.make_user(db, Role.DISTRICT_IT, world.a.district, is_active=False)
    db.commit()
    inbox.start()

    ids = write(app)
    rows = by_address(db)
    # Alpha's IT and viewer, all three of Bravo, and the cooperative staff member
    assert len(ids) == len(rows) == 6
    assert world.coop_staff.email in rows
    assert world.a.finance.email not in rows and world.admin.email not in rows
    assert {r.dedupe_key for r in rows.values()} >= {
        f"digest:{world.a.it.id}:{week_key(MONDAY)}"
    }
    assert write(app) == []  # a second tick the same week writes nothing
    assert write(app, MONDAY + timedelta(days=3)) == []  # Thursday: same ISO week
    drain(app)
    assert len(inbox.messages) == 6


def test_the_district_digest_counts_30_90_and_overdue(app, db, world):
    arrange(db, world)
    write(app)
    text = by_address(db)[world.a.it.email].body_text
    assert "Your weekly Lifecycle digest for Alpha ISD" in text
    assert "Decisions due in the next 30 days: 1 (est. $200.00)" in text
    # the 60-day license and the 3 Chromebooks (AUE 30 Nov: 63 days) are within 90
    assert "Decisions due in the next 90 days: 5" in text
    assert "Overdue: 1" in text
    assert "- Soon Suite (license): decide by Oct 18, 2026" in text
    assert "- 3 Chromebooks: refresh, the first on Nov 30, 2026" in text
    assert "Bravo" not in text
    subject = by_address(db)[world.a.it.email].subject
    assert (
        subject == "Lifecycle weekly digest for Alpha ISD: 1 due in 30 days, 1 overdue"
    )


def test_coop_staff_get_upcoming_decisions_by_district(app, db, world):
    coop = factories.make_user(db, Role.COOP_STAFF, None)
    db.commit()
    arrange(db, world)
    write(app)
    rows = by_address(db)
    for person in (world.coop_staff, coop):
        text = rows[person.email].body_text
        assert "- Alpha ISD: 2 renewals, 5 decisions in all" in text
        assert "1 overdue" in text
        assert "- Bravo ISD: 1 renewals, 1 decisions in all" in text
        assert text.index("Alpha ISD") < text.index("Bravo ISD")  # busiest first
    assert rows[coop.email].district_id is None


def test_the_digest_mail_reads_well(app, db, world, inbox):
    arrange(db, world)
    inbox.start()
    write(app)
    drain(app)
    [message] = inbox.to(world.b.it.email)
    text = readable(message)
    assert "Subject: Lifecycle weekly digest for Bravo ISD" in text
    assert "Contract renewals: 1" in text
    assert "/contracts/" in text and "/notifications/preferences" in text


def test_the_cron_schedule_runs_the_digest_and_the_outbox_sweeper(app):
    from lifecycle.work.queue import get_redis, make_cron

    jobs = {job.func_name: job for job in make_cron(get_redis(app))._cron_jobs}
    assert jobs["jobs.tasks.weekly_digest"].cron == "0 12 * * 1"  # Monday morning
    assert jobs["jobs.tasks.weekly_digest"].queue_name == "mail"
    assert jobs["jobs.tasks.requeue_unsent_mail"].cron == "7,22,37,52 * * * *"


def test_the_digest_task_writes_and_enqueues_once(app, db, world, inbox):
    from jobs.tasks import requeue_unsent_mail, weekly_digest

    inbox.start()
    assert weekly_digest() == 7  # six district people and the cooperative staff member
    assert weekly_digest() == 0
    assert requeue_unsent_mail() == 0  # their send jobs are queued: nothing to sweep
    drain(app)
    assert len(inbox.messages) == 7
