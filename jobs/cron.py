"""The periodic schedule, loaded by `lifecycle cron` (exactly one runs) and the embedded worker.

Periodic jobs only find what is due and enqueue idempotent work, so a duplicate tick or a
second scheduler never duplicates a side effect (DESIGN §4).
"""

from rq import cron

from jobs.tasks import requeue_lost_jobs

cron.register(
    requeue_lost_jobs,
    queue_name="default",
    interval=120,
    job_timeout=300,
    result_ttl=600,
)
