"""RQ cron configuration: `manage.py rqcron videos.cron` (run_local starts it).

Every 15 s: a job whose worker died (SIGKILL, a frozen VM) is found once its
lease (JOB_LEASE_SECONDS, 75 s after its last heartbeat) has run out, so it
runs again within 75 + 15 s plus a dequeue; `make chaos` measures it. A pass
is a few indexed queries, so running it often costs next to nothing.
"""

from rq import cron

from videos.tasks import reconcile_task

RECONCILE_INTERVAL_SECONDS = 15

cron.register(
    reconcile_task,
    "low",
    interval=RECONCILE_INTERVAL_SECONDS,
    job_timeout=300,
    name="reconcile_jobs",
)
