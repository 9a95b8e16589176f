"""Background work: RQ setup and enqueue-after-commit, the job-record runner, mail transport."""
