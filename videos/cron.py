"""RQ cron configuration: `manage.py rqcron videos.cron` (run_local starts it)."""

from rq import cron

from videos.tasks import reconcile_task

cron.register(reconcile_task, "low", interval=30, job_timeout=300, name="reconcile_jobs")
