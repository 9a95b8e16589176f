"""The periodic schedule, loaded by `lifecycle cron` (exactly one runs) and the embedded worker.

Periodic jobs only find what is due and enqueue idempotent work, so a duplicate tick or a
second scheduler never duplicates a side effect (docs/operations.md#periodic-jobs).
"""

from rq import cron

from jobs.tasks import (
    close_due_rounds,
    forget_ended_sign_ins,
    nightly_scans,
    requeue_lost_jobs,
    requeue_unsent_mail,
    weekly_digest,
)

cron.register(
    requeue_lost_jobs,
    queue_name="default",
    interval=120,
    job_timeout=300,
    result_ttl=600,
)
# 02:15 UTC (late evening in US time zones): scan every district for the new day.
cron.register(
    nightly_scans,
    queue_name="default",
    cron="15 2 * * *",
    job_timeout=600,
    result_ttl=86_400,
)
# Unsent e-mails whose send job Redis lost (the outbox row stays; its job is re-made).
# A cron string, not an interval: the first sweep waits for its slot instead of firing
# when the scheduler starts.
cron.register(
    requeue_unsent_mail,
    queue_name="mail",
    cron="7,22,37,52 * * * *",
    job_timeout=300,
    result_ttl=3600,
)
# Mondays 12:00 UTC (6–8 am in US time zones): the weekly digest, once per ISO week.
cron.register(
    weekly_digest,
    queue_name="mail",
    cron="0 12 * * 1",
    job_timeout=1800,
    result_ttl=7 * 86_400,
)
# 03:40 UTC daily: forget sign-ins past their lifetime (refused already; this keeps the
# table to the live ones).
cron.register(
    forget_ended_sign_ins,
    queue_name="default",
    cron="40 3 * * *",
    job_timeout=300,
    result_ttl=86_400,
)
# Open rounds past their close time whose close job Redis lost (or never got): close
# them now. Each close has one job id, so this never doubles a close. A cron string:
# the first sweep waits for its minute instead of firing when the scheduler starts.
cron.register(
    close_due_rounds,
    queue_name="default",
    cron="* * * * *",
    job_timeout=300,
    result_ttl=600,
)
