"""The RQ worker PresGen runs: `manage.py rqworker --worker-class videos.worker.PresGenWorker`.

RQ forks a work horse per job. Loading the Piper voice in the parent before
it forks means every render shares the loaded model (copy-on-write) instead
of paying ~2 s and ~150 MB to load it again per job.
"""

from __future__ import annotations

import logging
from typing import Any

from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker

from presgen.embedded_redis import die_with_parent
from videos.studio.narration import voice_load

log = logging.getLogger(__name__)

# RQ notices a dead worker's job during maintenance (default every 600 s); the
# reconciler does too, from the job's lease. Both run often enough that a job
# whose worker was killed is running again within two minutes.
MAINTENANCE_INTERVAL_SECONDS = 30


class PresGenWorker(Worker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL_SECONDS)
        super().__init__(*args, **kwargs)
        try:
            voice_load(voice_id="joe")
        except Exception as error:  # rendering reports the real problem per job
            log.warning("could not preload the studio voice: %s", error)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # RQ puts the work horse in its own process group, out of reach of a
        # signal to the worker's group: if the worker is killed, the horse
        # would render on as an orphan. Die with the worker instead; the
        # job's lease runs out and the reconciler runs it again.
        die_with_parent()
        super().main_work_horse(job, queue)
