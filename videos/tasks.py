"""RQ entry points: thin, take ids, and safe to run twice (the pipeline claims work)."""

from __future__ import annotations

import logging

from videos import pipeline, reconciler
from videos.avatar_api.callbacks import avatar_callback_deliver

log = logging.getLogger(__name__)


def job_run_task(job_id: int) -> str:
    outcome = pipeline.job_run(job_id=job_id)
    log.info("job #%s: %s", job_id, outcome)
    return outcome


def attempt_check_task(attempt_id: int) -> str:
    outcome = pipeline.attempt_check(attempt_id=attempt_id)
    log.info("attempt #%s: %s", attempt_id, outcome)
    return outcome


def reconcile_task() -> dict[str, int]:
    report = reconciler.jobs_reconcile()
    log.info("reconciled: %s", report)
    return report.as_dict()


def avatar_callback_task(job_id: int, attempt: int) -> str:
    return avatar_callback_deliver(job_id=job_id, attempt=attempt)
