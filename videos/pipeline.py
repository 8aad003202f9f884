"""Running a video job: script → provider → quality check → storage → Video.

The database is the source of truth. A worker first claims the job with a
lease (a conditional update: only one worker can win it), renews the lease
whenever it reports progress, and makes every later write conditional on
still holding it. A worker that died or hung loses its lease; the next worker
picks the job up where it stood, and the old one, if it wakes, finds its
writes matching no row and stops. One Video per job is also enforced by the
database, so even a job run twice ends with one Video.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from library.models import Domain
from videos import monitoring, notifications
from videos.models import (
    ACTIVE_STATUSES,
    AttemptStatus,
    ErrorKind,
    GenerationAttempt,
    JobStatus,
    ProviderKind,
    Video,
    VideoJob,
    VideoType,
)
from videos.providers.base import (
    FailureKind,
    Provider,
    ProviderError,
    RemoteState,
    RenderOutput,
    RenderRequest,
)
from videos.providers.circuit import (
    circuit_allows,
    circuit_failure_record,
    circuit_success_record,
)
from videos.providers.registry import provider_get, providers_enabled
from videos.providers.selection import Needs, provider_capable, providers_rank
from videos.quality import QualityReport, video_check
from videos.queueing import attempt_check_enqueue, job_enqueue
from videos.scriptwriting import ScriptWriteError, WrittenScript, script_write
from videos.studio.presenter import avatars_available
from videos.studio.types import AvatarConfig, Quality, VideoConfig, VoiceConfig

log = logging.getLogger(__name__)

ACTIVE_ATTEMPTS = (AttemptStatus.PENDING, AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING)
# Where each stage sits on the learner's progress bar.
PROGRESS_SCRIPTED = 10
PROGRESS_RENDERED = 85
PROGRESS_CHECKED = 92
HEARTBEAT_SECONDS = 2.0  # at most one progress write per this many seconds
RETRY_MAX_DELAY_SECONDS = 3600
# Remote status checks: soon at first, then less often (seconds).
CHECK_DELAYS = (10, 20, 30, 60, 120, 300)
EXPRESSION_BY_TYPE: dict[str, str] = {
    VideoType.MOTIVATIONAL: "encouraging",
    VideoType.CELEBRATION: "encouraging",
    VideoType.PRACTICE_SESSION: "focused",
    VideoType.EXAM_PREP: "focused",
}


class LeaseLost(Exception):
    """Another worker owns the job now (or it was cancelled): stop touching it."""


class StoreFailed(Exception):
    """The checked video could not be written to storage (a full disk, storage down)."""


@dataclass
class Lease:
    job_id: int
    token: uuid.UUID
    last_beat: float = 0.0


# --- claiming and writing under the lease -----------------------------------------


def job_claim(*, job_id: int) -> Lease | None:
    """Take the job if it is active, due and nobody holds a live lease on it."""
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        VideoJob.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now + timedelta(seconds=1)))
        .update(
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS),
            updated_at=now,
        )
    )
    return Lease(job_id, token, time.monotonic()) if claimed else None


def _job_write(lease: Lease, **fields: Any) -> None:
    """Update the job if we still hold it; renews the lease."""
    now = timezone.now()
    fields.setdefault("lease_expires_at", now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    fields["updated_at"] = now
    if not VideoJob.objects.filter(pk=lease.job_id, lease_token=lease.token).update(**fields):
        raise LeaseLost(f"job #{lease.job_id} is no longer ours")
    lease.last_beat = time.monotonic()


def _job_release(lease: Lease, **fields: Any) -> None:
    _job_write(lease, lease_token=None, lease_expires_at=None, **fields)


def _progress_reporter(lease: Lease, *, low: int, high: int) -> Callable[[int], None]:
    """A render progress callback (0-100) mapped onto low..high of the job's bar."""
    last = [-1]

    def report(percent: int) -> None:
        value = low + (high - low) * max(0, min(100, percent)) // 100
        due = time.monotonic() - lease.last_beat >= HEARTBEAT_SECONDS
        if value != last[0] and due:
            _job_write(lease, progress=value)
            last[0] = value

    return report


# --- the job ------------------------------------------------------------------------


def job_run(*, job_id: int) -> str:
    """Advance the job as far as it can go now; returns what happened (for logs)."""
    lease = job_claim(job_id=job_id)
    if lease is None:
        return "not claimable (finished, cancelled, not due, or held by another worker)"
    try:
        return _job_advance(lease)
    except LeaseLost as lost:
        return str(lost)
    except Exception as error:  # a bug must not leave the job stuck: retry it later
        log.exception("job #%s crashed", job_id)
        try:
            return _job_retry_later(lease, reason=f"internal error: {error!r}", retry_after=None)
        except LeaseLost as lost:
            return str(lost)


def _job_advance(lease: Lease) -> str:
    job = VideoJob.objects.select_related("learner", "certification").get(pk=lease.job_id)
    now = timezone.now()
    if job.deadline_at and now > job.deadline_at:
        return _job_fail(
            lease,
            job=job,
            reason="it was not finished in time; please try again",
            kind=ErrorKind.RETRYABLE,
        )

    # Resume whatever an earlier worker left behind.
    for attempt in job.attempts.filter(status__in=ACTIVE_ATTEMPTS):
        resumed = _attempt_resume(lease, attempt=attempt)
        if resumed:
            return resumed

    if job.status == JobStatus.QUEUED:
        _job_write(
            lease,
            status=JobStatus.SCRIPTING,
            step="Writing your script",
            progress=2,
            started_at=now,
            next_run_at=None,
        )
        job.status, job.started_at = JobStatus.SCRIPTING, now

    if not job.script:
        try:
            written = script_write(job=job)
        except ScriptWriteError as error:
            return _job_fail(lease, job=job, reason=str(error), kind=ErrorKind.PERMANENT)
        job.script = written.as_dict()
        job.script_quality = written.quality.as_dict()
        job.target_duration_seconds = written.target_seconds
        _job_write(
            lease,
            script=job.script,
            script_quality=job.script_quality,
            target_duration_seconds=written.target_seconds,
            progress=PROGRESS_SCRIPTED,
            step="Script written",
        )
    written = WrittenScript.from_dict(job.script)
    return _render_loop(lease, job=job, written=written)


def _attempt_resume(lease: Lease, *, attempt: GenerationAttempt) -> str:
    """An attempt still open from an earlier run: wait for a remote one, drop a local one."""
    try:
        provider = provider_get(name=attempt.provider)
    except LookupError:
        _attempt_fail(attempt, reason="its provider was removed", kind=ErrorKind.PROVIDER_DOWN)
        return ""
    if provider.capabilities.local:
        # Local renders die with their worker; the files went with its temp folder.
        _attempt_fail(attempt, reason="the worker stopped during the render", kind="")
        return ""
    if attempt.status == AttemptStatus.PENDING:
        # The worker stopped between storing the attempt and hearing back from
        # the provider. Most vendors do not deduplicate submits, so this attempt
        # is never sent again (that could render twice); it is closed, without
        # blaming the provider, and the job goes on with a fresh attempt.
        _attempt_fail(
            attempt, reason="the worker stopped while submitting; not sent again", kind=""
        )
        return ""
    _job_release(lease, status=JobStatus.RENDERING, step=f"Rendering with {attempt.provider}")
    attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=0)
    return f"waiting for {attempt.provider} render {attempt.external_id}"


def _render_request(*, job: VideoJob, written: WrittenScript, key: str) -> RenderRequest:
    """The provider request: the learner's preferences, unless the job asks otherwise.

    Jobs made through the PresGen-Avatar API carry their own avatar, voice
    and video settings in `job.parameters` (avatar_id, avatar_image,
    voice_id, voice_speed, voice_pitch, background, slides, captions).
    """
    learner, params = job.learner, job.parameters
    avatar_id = params.get("avatar_id") or learner.preferred_avatar
    if avatar_id not in avatars_available():
        avatar_id = AvatarConfig().avatar_id
    image = params.get("avatar_image") or None
    defaults = VideoConfig()
    return RenderRequest(
        idempotency_key=key,
        script=written.script,
        avatar=AvatarConfig(
            avatar_id=avatar_id,
            expression=params.get("expression")
            or EXPRESSION_BY_TYPE.get(job.video_type, "friendly"),
            gesture_level=float(params.get("gesture_level", written.gesture_level)),
            image_path=image,
        ),
        voice=VoiceConfig(
            voice_id=params.get("voice_id") or learner.preferred_voice or "joe",
            speed=float(params.get("voice_speed", written.voice_speed)),
            pitch=float(params.get("voice_pitch", 0.0)),
            think_pause=float(written.think_seconds or VoiceConfig().think_pause),
        ),
        video=VideoConfig(
            background=params.get("background") or defaults.background,
            slides=bool(params.get("slides", written.slides)),
            captions=bool(params.get("captions", True)),
        ),
        quality=params.get("quality", settings.VIDEO_QUALITY),
        target_seconds=written.target_seconds,
        custom_avatar=image is not None,
    )


def _needs(*, job: VideoJob, written: WrittenScript) -> Needs:
    return Needs(
        duration_seconds=written.target_seconds,
        quality=job.parameters.get("quality", settings.VIDEO_QUALITY),
        captions=bool(job.parameters.get("captions", True)),
        custom_avatar=bool(job.parameters.get("avatar_image")),
    )


def _providers_failed_this_run(*, job: VideoJob) -> frozenset[str]:
    """Providers that failed this job since it last left the queue.

    Attempts cut short by a dead worker or a cancellation (no error kind) say
    nothing against the provider, so it may be tried again.
    """
    since = job.started_at or job.created_at
    return frozenset(
        job.attempts.filter(status=AttemptStatus.FAILED, started_at__gte=since)
        .exclude(error_kind="")
        .values_list("provider", flat=True)
    )


def _kinds_excluded(*, job: VideoJob) -> frozenset[str]:
    # A job another PresGen sent us through the PresGen-Avatar API is never
    # sent on through that API again: two PresGens would pass it back and forth.
    if job.parameters.get("source") == "avatar_api":
        return frozenset({ProviderKind.PRESGEN_AVATAR})
    return frozenset()


def _render_loop(lease: Lease, *, job: VideoJob, written: WrittenScript) -> str:
    """Try providers best first until one makes a video that passes the check."""
    needs = _needs(job=job, written=written)
    last_error: ProviderError | None = None
    while True:
        tried = _providers_failed_this_run(job=job)
        candidates = providers_rank(
            needs=needs, exclude=tried, exclude_kinds=_kinds_excluded(job=job)
        )
        forced = _provider_forced(job=job)
        if forced:
            candidates = [c for c in candidates if c.provider.name == forced]
        chosen = next((c for c in candidates if circuit_allows(provider=c.provider.name)), None)
        if chosen is None:
            return _no_provider_left(lease, job=job, needs=needs, last_error=last_error)
        provider = chosen.provider
        attempt = GenerationAttempt.objects.create(
            job=job, provider=provider.name, status=AttemptStatus.PENDING
        )  # the idempotency key is stored before the provider hears of it
        _job_write(
            lease,
            status=JobStatus.RENDERING,
            provider=provider.name,
            step=f"Rendering with {provider.name}",
            progress=PROGRESS_SCRIPTED,
        )
        outcome = _attempt_run(lease, job=job, written=written, provider=provider, attempt=attempt)
        if isinstance(outcome, str):
            return outcome
        last_error = outcome  # this provider failed: the loop tries the next one


def _attempt_run(
    lease: Lease,
    *,
    job: VideoJob,
    written: WrittenScript,
    provider: Provider,
    attempt: GenerationAttempt,
) -> str | ProviderError:
    """Submit to one provider; a string is the job's outcome, an error means try the next."""
    request = _render_request(job=job, written=written, key=str(attempt.idempotency_key))
    started = time.monotonic()
    with _workdir() as workdir:
        try:
            submission = provider.submit(
                request,
                workdir=workdir,
                on_progress=_progress_reporter(
                    lease, low=PROGRESS_SCRIPTED, high=PROGRESS_RENDERED
                ),
            )
        except ProviderError as error:
            _attempt_fail(
                attempt, reason=str(error), kind=error.kind, seconds=time.monotonic() - started
            )
            if error.kind == FailureKind.PERMANENT:
                return _job_fail(lease, job=job, reason=str(error), kind=ErrorKind.PERMANENT)
            return error
        except LeaseLost:
            _attempt_fail(attempt, reason="the job was cancelled or taken over", kind="")
            raise
        GenerationAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.PENDING).update(
            external_id=submission.external_id, status=AttemptStatus.SUBMITTED
        )
        attempt.external_id, attempt.status = submission.external_id, AttemptStatus.SUBMITTED
        if submission.output is None:
            # Remote: no worker waits. A status check (or the webhook) continues.
            GenerationAttempt.objects.filter(pk=attempt.pk).update(
                next_check_at=timezone.now() + timedelta(seconds=CHECK_DELAYS[0])
            )
            _job_release(lease, step=f"Rendering with {provider.name}")
            attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=CHECK_DELAYS[0])
            return f"submitted to {provider.name} as {submission.external_id}"
        return _output_finish(
            lease,
            job=job,
            written=written,
            attempt=attempt,
            output=submission.output,
            seconds=time.monotonic() - started,
        )


@contextmanager
def _workdir() -> Iterator[Path]:
    root = Path(settings.RENDER_WORK_DIR)
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="job-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _provider_forced(*, job: VideoJob) -> str:
    """The provider staff chose for this job ("re-render on…" in the admin), or ""."""
    return str(job.parameters.get("provider") or "")


def _no_provider_left(
    lease: Lease, *, job: VideoJob, needs: Needs, last_error: ProviderError | None
) -> str:
    if last_error is not None:
        return _job_retry_later(lease, reason=str(last_error), retry_after=last_error.retry_after)
    tried = _providers_failed_this_run(job=job)
    if tried:
        failures = job.attempts.filter(status=AttemptStatus.FAILED, provider__in=tried)
        reasons = "; ".join(dict.fromkeys(a.error for a in failures.order_by("-started_at")))
        return _job_retry_later(lease, reason=reasons or "every provider failed", retry_after=None)
    forced = _provider_forced(job=job)
    capable = [
        p
        for p, _ in providers_enabled()
        if provider_capable(provider=p, needs=needs) and (not forced or p.name == forced)
    ]
    if not capable:
        which = (
            f"the chosen provider {forced!r} is not enabled or" if forced else "no enabled provider"
        )
        return _job_fail(
            lease,
            job=job,
            reason=f"{which} can make a {needs.quality} video of {needs.duration_seconds} s",
            kind=ErrorKind.PERMANENT,
        )
    # Capable providers exist but are all busy or resting (circuit open).
    return _job_retry_later(
        lease,
        reason="every provider is busy or unavailable right now",
        retry_after=settings.CIRCUIT_COOLDOWN_SECONDS,
        count=False,
    )


# --- check, store, finish ------------------------------------------------------------


def _qa_score(report: QualityReport) -> float:
    if not report.checks:
        return 0.0
    return round(100 * sum(check.passed for check in report.checks) / len(report.checks), 1)


def _output_finish(
    lease: Lease,
    *,
    job: VideoJob,
    written: WrittenScript,
    attempt: GenerationAttempt,
    output: RenderOutput,
    seconds: float,
) -> str | ProviderError:
    """Check the rendered files; store them as the learner's Video if they pass."""
    _job_write(
        lease, status=JobStatus.CHECKING, step="Checking quality", progress=PROGRESS_RENDERED
    )
    quality = Quality(job.parameters.get("quality", settings.VIDEO_QUALITY))
    report = video_check(
        video_path=output.video_path,
        expected_duration=output.expected_duration or job.target_duration_seconds,
        # A remote provider times speech its own way: hold it to the script's
        # length more loosely than the studio, which times itself.
        duration_tolerance=0.1 if output.expected_duration else 0.5,
        expected_size=quality.size,
        captions_path=output.captions_path,
        script_text=written.narration_text,
    )
    qa_score = _qa_score(report)
    GenerationAttempt.objects.filter(pk=attempt.pk).update(
        qa_score=qa_score, quality_report=report.as_dict(), cost=output.cost
    )
    attempt.qa_score = qa_score
    if not report.passed:
        reason = "the video failed the quality check: " + "; ".join(report.reasons)
        _attempt_fail(
            attempt, reason=reason, kind=ErrorKind.RETRYABLE, seconds=seconds, provider_fault=False
        )
        _job_write(lease, status=JobStatus.RENDERING, step="Trying another provider")
        return ProviderError(reason, kind=FailureKind.RETRYABLE)

    _job_write(lease, status=JobStatus.STORING, step="Saving your video", progress=PROGRESS_CHECKED)
    try:
        video = _video_store(
            lease,
            job=job,
            written=written,
            attempt=attempt,
            output=output,
            report=report,
            seconds=seconds,
        )
    except StoreFailed as failed:
        # Our storage failed, not the provider: the attempt closes without
        # blame (the same provider may render it again) and the job waits
        # with backoff for the disk or the storage service to recover.
        reason = str(failed)
        log.error("job #%s: %s", job.pk, reason)
        _attempt_fail(attempt, reason=reason, kind="", seconds=seconds, provider_fault=False)
        return _job_retry_later(lease, reason=reason, retry_after=None)
    circuit_success_record(provider=attempt.provider)
    # `_video_store` set the attempt's outcome on it as it wrote it: no re-read.
    monitoring.attempt_monitor(attempt=attempt)
    return f"ready: video #{video.pk}"


def _video_store(
    lease: Lease,
    *,
    job: VideoJob,
    written: WrittenScript,
    attempt: GenerationAttempt,
    output: RenderOutput,
    report: QualityReport,
    seconds: float,
) -> Video:
    domain = None
    # Remediation and practice videos are about one domain: the library files them under it.
    if (
        job.video_type in {VideoType.REMEDIATION, VideoType.PRACTICE_SESSION}
        and job.certification_id
    ):
        domain = Domain.objects.filter(
            certification_id=job.certification_id, slug=job.parameters.get("domain", "")
        ).first()
    width, height = Quality(job.parameters.get("quality", settings.VIDEO_QUALITY)).size
    video = Video(
        job=job,
        learner_id=job.learner_id,
        video_type=job.video_type,
        title=written.script.title[:200],
        focus_area=domain.name if domain else "",
        domain=domain,
        duration_seconds=output.duration,
        size_bytes=output.video_path.stat().st_size,
        width=width,
        height=height,
        provider=attempt.provider,
        quality_report=report.as_dict(),
    )
    # Files go to storage before the row (a Drive upload must not hold the
    # database's write lock); if they or the row cannot be written they are removed.
    stored: list[FieldFile] = []
    try:
        for field_name, path, name in (
            ("file", output.video_path, "video.mp4"),
            ("captions", output.captions_path, "captions.vtt"),
            ("thumbnail", output.thumbnail_path, "thumbnail.jpg"),
        ):
            if path is not None:
                stored.append(_file_store(video=video, field_name=field_name, path=path, name=name))
    except Exception as error:  # OSError from a disk, DriveError from Drive, ...
        _files_delete(stored)
        raise StoreFailed(f"could not store the video: {_store_error_text(error)}") from error
    except BaseException:  # the work horse is being stopped: leave nothing behind
        _files_delete(stored)
        raise
    try:
        now = timezone.now()
        with transaction.atomic():
            _job_release(
                lease,
                status=JobStatus.READY,
                step="Ready",
                progress=100,
                error="",
                error_kind=ErrorKind.NONE,
                finished_at=now,
            )
            video.save()
            GenerationAttempt.objects.filter(pk=attempt.pk).update(
                status=AttemptStatus.SUCCEEDED, finished_at=now, seconds=round(seconds, 3)
            )
            # One read for the notification: the job as now stored, its video, and
            # the learner as they are now (email choice changed, or account erased,
            # during the render).
            final = VideoJob.objects.select_related("learner", "video").get(pk=job.pk)
            notifications.job_outcome_notify(job=final)
    except (LeaseLost, IntegrityError) as error:
        _files_delete(stored)
        raise LeaseLost(f"job #{job.pk} was stored by another worker") from error
    except BaseException:
        _files_delete(stored)
        raise
    # What was just committed, so the caller need not read the attempt again.
    attempt.status, attempt.finished_at = AttemptStatus.SUCCEEDED, now
    attempt.seconds = round(seconds, 3)
    return video


def _file_store(*, video: Video, field_name: str, path: Path, name: str) -> FieldFile:
    """Write one file to the video's storage under a name chosen before the write.

    Knowing the name first matters when the write fails halfway (a disk that
    fills up mid-file): Django's FileSystemStorage leaves the partial file
    behind, and only its name lets us remove it.
    """
    field_file: FieldFile = getattr(video, field_name)
    storage, max_length = field_file.storage, field_file.field.max_length
    target = storage.get_available_name(
        field_file.field.generate_filename(video, name), max_length=max_length
    )
    try:
        with open(path, "rb") as handle:
            saved = storage.save(target, File(handle), max_length=max_length)
    except BaseException:
        _files_delete([FieldFile(video, field_file.field, target)])
        raise
    setattr(video, field_name, saved)  # a committed FieldFile for the row
    return getattr(video, field_name)


def _files_delete(files: list[FieldFile]) -> None:
    """Best effort: a storage that just failed may fail to delete too; that is logged."""
    for field_file in files:
        if not field_file.name:
            continue
        try:
            field_file.storage.delete(field_file.name)
        except Exception:
            log.exception("could not remove %s from storage", field_file.name)


def _store_error_text(error: Exception) -> str:
    """Why, as the learner reads it: "no space left on device", not "OSError(28, ...)"."""
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno).lower()
    return str(error) or type(error).__name__


def _attempt_fail(
    attempt: GenerationAttempt,
    *,
    reason: str,
    kind: str,
    seconds: float | None = None,
    provider_fault: bool | None = None,
) -> None:
    GenerationAttempt.objects.filter(pk=attempt.pk, status__in=ACTIVE_ATTEMPTS).update(
        status=AttemptStatus.FAILED,
        error=reason[:4000],
        error_kind=kind,
        finished_at=timezone.now(),
        seconds=round(seconds, 3) if seconds is not None else None,
    )
    # Only the provider's own faults count against its circuit; a bad script
    # or a dead worker says nothing about its health, and a failed quality
    # check lowers its QA score in selection instead.
    if provider_fault is None:
        provider_fault = kind in (FailureKind.RETRYABLE, FailureKind.PROVIDER_DOWN)
    if provider_fault:
        circuit_failure_record(provider=attempt.provider, error=reason)
    attempt.refresh_from_db()
    monitoring.attempt_monitor(attempt=attempt)


def _job_fail(lease: Lease, *, job: VideoJob, reason: str, kind: str) -> str:
    with transaction.atomic():
        _job_release(
            lease,
            status=JobStatus.FAILED,
            step="Failed",
            error=reason,
            error_kind=kind,
            finished_at=timezone.now(),
            next_run_at=None,
        )
        job.refresh_from_db()
        notifications.job_outcome_notify(job=job)
    return f"failed: {reason}"


def _job_retry_later(
    lease: Lease, *, reason: str, retry_after: float | None, count: bool = True
) -> str:
    """Back to the queue with backoff, or failed once the retries are spent."""
    job = VideoJob.objects.select_related("learner").get(pk=lease.job_id)
    if count and job.retries >= settings.JOB_MAX_RETRIES:
        tries = job.retries + 1
        return _job_fail(
            lease,
            job=job,
            reason=f"{reason} (gave up after {tries} tries)",
            kind=ErrorKind.RETRYABLE,
        )
    delay = retry_after
    if delay is None:
        delay = min(settings.JOB_RETRY_BASE_SECONDS * 2**job.retries, RETRY_MAX_DELAY_SECONDS)
    delay = max(0.0, float(delay))
    with transaction.atomic():
        _job_release(
            lease,
            status=JobStatus.QUEUED,
            step=f"Retrying in {delay:.0f} s: {reason}"[:200],
            error=reason,
            error_kind=ErrorKind.RETRYABLE,
            retries=job.retries + (1 if count else 0),
            next_run_at=timezone.now() + timedelta(seconds=delay),
        )
        job.refresh_from_db()
        job_enqueue(
            job=job,
            delay_seconds=delay,
            quality=job.parameters.get("quality", settings.VIDEO_QUALITY),
        )
    return f"retrying in {delay:.0f} s: {reason}"


# --- remote attempts ----------------------------------------------------------------


def attempt_check(*, attempt_id: int) -> str:
    """Ask a remote provider how a render is going; finish the job when it is done."""
    attempt = GenerationAttempt.objects.select_related("job").filter(pk=attempt_id).first()
    if attempt is None or attempt.status not in (
        AttemptStatus.SUBMITTED,
        AttemptStatus.PROCESSING,
    ):
        return "nothing to check"
    try:
        provider = provider_get(name=attempt.provider)
        status = provider.status(attempt.external_id)
    except LookupError:
        _attempt_fail(attempt, reason="its provider was removed", kind=ErrorKind.PROVIDER_DOWN)
        return _job_continue(job=attempt.job)
    except ProviderError as error:
        if error.kind == FailureKind.PERMANENT:
            _attempt_fail(attempt, reason=str(error), kind=error.kind)
            return _job_continue(job=attempt.job)
        return _check_again(attempt, delay=error.retry_after)
    if status.state in (RemoteState.QUEUED, RemoteState.PROCESSING):
        GenerationAttempt.objects.filter(pk=attempt.pk, status=attempt.status).update(
            status=AttemptStatus.PROCESSING
        )
        if status.progress is not None:
            span = PROGRESS_RENDERED - PROGRESS_SCRIPTED
            VideoJob.objects.filter(pk=attempt.job_id, status=JobStatus.RENDERING).update(
                progress=PROGRESS_SCRIPTED + span * max(0, min(100, status.progress)) // 100
            )
        return _check_again(attempt, delay=None)
    if status.state in (RemoteState.FAILED, RemoteState.CANCELLED):
        _attempt_fail(
            attempt,
            reason=status.error or f"{attempt.provider} reported the render {status.state}",
            kind=ErrorKind.RETRYABLE,
        )
        return _job_continue(job=attempt.job)
    return attempt_complete(attempt_id=attempt.pk)


def _check_again(attempt: GenerationAttempt, *, delay: float | None) -> str:
    if delay is None:
        delay = CHECK_DELAYS[min(attempt.checks, len(CHECK_DELAYS) - 1)]
    GenerationAttempt.objects.filter(pk=attempt.pk).update(
        checks=attempt.checks + 1, next_check_at=timezone.now() + timedelta(seconds=delay)
    )
    attempt_check_enqueue(attempt_id=attempt.pk, delay_seconds=delay)
    return f"checking again in {delay:.0f} s"


def _job_continue(*, job: VideoJob) -> str:
    """After a remote attempt failed: let a worker pick the next provider."""
    with transaction.atomic():
        job.refresh_from_db()
        if job.status in ACTIVE_STATUSES:
            job_enqueue(job=job, quality=job.parameters.get("quality", settings.VIDEO_QUALITY))
    return f"job #{job.pk} continues with the next provider"


def attempt_complete(*, attempt_id: int) -> str:
    """A remote render finished (status check or webhook): download, check, store.

    Safe to call many times at once: only the worker that claims the job
    downloads; the others find it held or finished.
    """
    attempt = GenerationAttempt.objects.select_related("job").get(pk=attempt_id)
    if attempt.status not in (AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING):
        return "already handled"
    lease = job_claim(job_id=attempt.job_id)
    if lease is None:
        job = attempt.job
        job.refresh_from_db()
        if job.status in ACTIVE_STATUSES:
            # Held by another worker right now: look again shortly.
            return _check_again(attempt, delay=HEARTBEAT_SECONDS * 5)
        return "job no longer active"
    # Another worker may have closed this attempt between our read and our claim
    # (e.g. it failed the quality check and the job moved on to another
    # provider, releasing the lease): read it again now that the job is ours.
    open_attempt = GenerationAttempt.objects.filter(
        pk=attempt.pk, status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING]
    )
    if not open_attempt.exists():
        _job_release(lease)
        return "already handled"
    job = VideoJob.objects.select_related("learner", "certification").get(pk=attempt.job_id)
    written = WrittenScript.from_dict(job.script)
    provider = provider_get(name=attempt.provider)
    started = time.monotonic()
    try:
        _job_write(lease, step=f"Downloading from {attempt.provider}", progress=PROGRESS_RENDERED)
        with _workdir() as workdir:
            try:
                output = provider.fetch(attempt.external_id, workdir=workdir)
            except ProviderError as error:
                if error.kind == FailureKind.PERMANENT:
                    _attempt_fail(attempt, reason=str(error), kind=error.kind)
                    _job_release(lease)
                    return _job_continue(job=job)
                _job_release(lease)
                return _check_again(attempt, delay=error.retry_after)
            seconds = (timezone.now() - attempt.started_at).total_seconds()
            outcome = _output_finish(
                lease, job=job, written=written, attempt=attempt, output=output, seconds=seconds
            )
        if isinstance(outcome, str):
            return outcome
        return _render_loop(lease, job=job, written=written)
    except LeaseLost as lost:
        return str(lost)
    finally:
        log.debug("attempt %s handled in %.1f s", attempt_id, time.monotonic() - started)
