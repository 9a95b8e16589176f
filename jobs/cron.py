"""The periodic schedule, loaded by `lifecycle cron` (exactly one runs) and the embedded worker.

Periodic jobs only find what is due and enqueue idempotent work, so a duplicate tick or a
second scheduler never duplicates a side effect (DESIGN §4).
"""

from rq import cron

from jobs.tasks import nightly_scans, requeue_lost_jobs

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
