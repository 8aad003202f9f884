"""Storage that fails while a checked video is being stored: a full disk.

The job fails its attempt with a reason a learner can read and is retried
with backoff (or, once the retries are spent, can be retried by the learner);
no Video row is written and nothing the failed store wrote is left behind.
"""

from __future__ import annotations

import errno
import os
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from tests.builders import overview_job_build
from tests.videos import fake_providers
from videos.models import AttemptStatus, ErrorKind, JobStatus, Video, VideoJob
from videos.pipeline import attempt_check
from videos.providers.base import RemoteState
from videos.queueing import queue_for
from videos.services import job_retry
from videos.tasks import job_run_task

pytestmark = pytest.mark.django_db(transaction=True)

NO_SPACE = "could not store the video: no space left on device"


class FullDiskStorage(FileSystemStorage):
    """Local media on a disk that fills up while writing the files named in `full_for`.

    As on a real full disk, part of the file reaches the disk before the
    write fails with ENOSPC (and Django's FileSystemStorage does not remove it).
    """

    def __init__(self, *, location: Path, full_for: set[str]) -> None:
        super().__init__(location=location)
        self.full_for = full_for

    def _save(self, name: str, content: File) -> str:
        if PurePosixPath(name).name not in self.full_for:
            return super()._save(name, content)
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.read()
        path.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


@pytest.fixture
def disk(media_root: Path, monkeypatch) -> FullDiskStorage:
    storage = FullDiskStorage(location=media_root, full_for=set())
    for field_name in ("file", "captions", "thumbnail"):
        monkeypatch.setattr(Video._meta.get_field(field_name), "storage", storage)
    return storage


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _render(job: VideoJob, provider: str) -> str:
    """Run the job once; a remote render is finished by its provider and checked."""
    outcome = job_run_task(job.pk)
    if provider == "remote":
        attempt = job.attempts.get(status=AttemptStatus.SUBMITTED)
        fake_providers.REMOTE_RENDERS[attempt.external_id] = RemoteState.COMPLETED
        outcome = attempt_check(attempt_id=attempt.pk)
    return outcome


@pytest.mark.parametrize("provider", ["good", "remote"])
def test_a_full_disk_while_storing_the_video_is_a_clear_retryable_failure(
    pipeline, settings, disk, media_root, rq_queues, provider
):
    settings.JOB_RETRY_BASE_SECONDS = 30
    pipeline.providers(provider)
    job = overview_job_build()
    disk.full_for = {"video.mp4"}

    outcome = _render(job, provider)

    assert outcome == f"retrying in 30 s: {NO_SPACE}"
    job.refresh_from_db()
    assert (job.status, job.error, job.error_kind) == (
        JobStatus.QUEUED,
        NO_SPACE,
        ErrorKind.RETRYABLE,
    )
    assert job.step == f"Retrying in 30 s: {NO_SPACE}"
    assert job.retries == 1 and job.next_run_at > timezone.now() + timedelta(seconds=20)
    scheduled = rq_queues[queue_for(priority=job.priority)].scheduled_job_registry.get_job_ids()
    assert job.rq_job_id in scheduled  # the retry waits in Redis for its backoff
    attempt = job.attempts.get()
    assert (attempt.status, attempt.error) == (AttemptStatus.FAILED, NO_SPACE)
    assert attempt.error_kind == ""  # not the provider's fault
    assert not Video.objects.exists()
    assert _files(media_root) == []  # not even the half-written video

    # Space is freed; the retry comes due and stores the video.
    disk.full_for = set()
    VideoJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now())
    assert _render(job, provider).startswith("ready")
    video = Video.objects.get(job=job)
    assert all(f.storage.exists(f.name) for f in (video.file, video.captions, video.thumbnail))


def test_a_full_disk_at_the_thumbnail_removes_the_video_already_stored_and_the_learner_can_retry(
    pipeline, settings, disk, media_root, mailoutbox
):
    settings.JOB_MAX_RETRIES = 1
    pipeline.providers("good")
    job = overview_job_build()
    disk.full_for = {"thumbnail.jpg"}  # the video and captions are written first

    pipeline.drain()  # no backoff in these tests: the retry runs and fails too

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == f"{NO_SPACE} (gave up after 2 tries)"
    assert job.error_kind == ErrorKind.RETRYABLE and "internal error" not in job.error
    assert not Video.objects.exists()
    assert _files(media_root) == []
    assert [a.error for a in job.attempts.all()] == [NO_SPACE, NO_SPACE]
    assert mailoutbox and NO_SPACE in mailoutbox[-1].body

    disk.full_for = set()
    assert job_retry(job=job).done
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY, job.error
    assert Video.objects.filter(job=job).count() == 1
