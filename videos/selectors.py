"""Reads on the video side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from django.db.models import Exists, FileField, OuterRef, Q

from library.models import Domain, WatchProgress
from presgen.models import User
from videos.models import ACTIVE_STATUSES, JobStatus, Video, VideoJob


@dataclass(frozen=True)
class SeriesItem:
    job: VideoJob
    label: str  # what the video is about, for learners: "Remediation: Security and Identity"


def learner_series_list(*, learner: User, limit: int = 50) -> list[SeriesItem]:
    """The learner's video jobs in series order (never another learner's), with labels."""
    jobs = list(
        VideoJob.objects.filter(learner=learner)
        .exclude(video__hidden=True)
        .select_related("video", "certification")
        .order_by("-assessment__taken_at", "priority", "pk")[:limit]
    )
    slugs = {job.parameters.get("domain") for job in jobs} - {None}
    names: dict[tuple[int | None, str], str] = {
        (d.certification_id, d.slug): d.name
        for d in Domain.objects.filter(
            certification__in={j.certification_id for j in jobs}, slug__in=slugs
        )
    }
    items = []
    for job in jobs:
        label = job.get_video_type_display()
        domain = names.get((job.certification_id, job.parameters.get("domain")))
        if job.status == "ready" and hasattr(job, "video"):
            label = job.video.title
        elif domain:
            label = f"{label}: {domain}"
        items.append(SeriesItem(job, label))
    return items


# --- the learner's library page ------------------------------------------------------

# Library sections, in page order: (video type, section heading).
LIBRARY_SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("remediation", "Remediation"),
    ("practice_session", "Practice"),
    ("motivational", "Motivational"),
    ("exam_prep", "Exam prep"),
    ("celebration", "Celebration"),
    ("introduction", "Introduction"),
)


class WatchedState:
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    WATCHED = "watched"
    CHOICES: tuple[tuple[str, str], ...] = (
        ("not_started", "Not started"),
        ("in_progress", "In progress"),
        ("watched", "Watched"),
    )


def duration_clock(seconds: float) -> str:
    """A duration to the nearest second: 0:13, 12:00, 1:02:03."""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class LibraryVideo:
    video: Video
    watched: str  # a WatchedState value
    percent: int  # how far the learner got, 0-100

    @property
    def duration_clock(self) -> str:
        return duration_clock(self.video.duration_seconds)


@dataclass(frozen=True)
class LibrarySection:
    video_type: str
    heading: str
    videos: list[LibraryVideo]


@dataclass(frozen=True)
class LibraryJob:
    job: VideoJob
    label: str


@dataclass(frozen=True)
class LearnerLibrary:
    sections: list[LibrarySection]  # only sections with videos, in LIBRARY_SECTIONS order
    active_jobs: list[LibraryJob]
    failed_jobs: list[LibraryJob]
    domains: list[Domain]  # the domains of the learner's own videos and jobs, for the filter
    has_anything: bool  # any visible video or job at all, whatever the filters
    filtered: bool

    @property
    def is_empty(self) -> bool:
        return not (self.sections or self.active_jobs or self.failed_jobs)


def _job_domains(jobs: list[VideoJob]) -> dict[tuple[int | None, str], Domain]:
    slugs = {job.parameters.get("domain") for job in jobs} - {None}
    if not slugs:
        return {}
    return {
        (d.certification_id, d.slug): d
        for d in Domain.objects.filter(
            certification__in={j.certification_id for j in jobs}, slug__in=slugs
        )
    }


def _job_label(job: VideoJob, domain: Domain | None) -> str:
    label = job.get_video_type_display()
    return f"{label}: {domain.name}" if domain else label


def learner_job_labels(jobs: list[VideoJob]) -> list[LibraryJob]:
    """The jobs with learner-facing labels ("Remediation: Security and Identity")."""
    domains = _job_domains(jobs)
    return [
        LibraryJob(
            job, _job_label(job, domains.get((job.certification_id, job.parameters.get("domain"))))
        )
        for job in jobs
    ]


def learner_active_jobs(*, learner: User) -> list[LibraryJob]:
    """The learner's jobs still being made (never another learner's), oldest first."""
    jobs = list(
        VideoJob.objects.filter(learner=learner, status__in=ACTIVE_STATUSES).order_by(
            "priority", "created_at", "pk"
        )
    )
    return learner_job_labels(jobs)


def learner_library_list(
    *,
    learner: User,
    query: str = "",
    video_type: str = "",
    domain: int | None = None,
    watched: str = "",
) -> LearnerLibrary:
    """The learner's own visible videos by type, and their unfinished jobs, filtered.

    `query` matches a video's title, focus area or domain name (a job's label);
    `video_type` a VideoType value; `domain` a Domain pk; `watched` a
    WatchedState value (jobs are never watched: that filter leaves them out).
    Empty values do not filter. Hidden videos and other learners' are never listed.
    """
    query = query.strip()
    filtered = bool(query or video_type or domain is not None or watched)
    own_progress = WatchProgress.objects.filter(learner=learner, video=OuterRef("pk"))
    videos = (
        Video.objects.filter(learner=learner, hidden=False)
        .select_related("domain")
        .annotate(
            watch_done=Exists(own_progress.filter(completed=True)),
            watch_started=Exists(own_progress.filter(position_seconds__gt=0)),
        )
    )
    has_videos = videos.exists()
    domain_ids = set(videos.exclude(domain=None).values_list("domain_id", flat=True))
    if query:
        videos = videos.filter(
            Q(title__icontains=query)
            | Q(focus_area__icontains=query)
            | Q(domain__name__icontains=query)
        )
    if video_type:
        videos = videos.filter(video_type=video_type)
    if domain is not None:
        videos = videos.filter(domain_id=domain)
    if watched == WatchedState.WATCHED:
        videos = videos.filter(watch_done=True)
    elif watched == WatchedState.IN_PROGRESS:
        videos = videos.filter(watch_done=False, watch_started=True)
    elif watched == WatchedState.NOT_STARTED:
        videos = videos.filter(watch_done=False, watch_started=False)
    video_list = list(videos.order_by("-created_at", "-pk"))
    positions = dict(
        WatchProgress.objects.filter(learner=learner, video__in=video_list).values_list(
            "video_id", "position_seconds"
        )
    )
    by_type: dict[str, list[LibraryVideo]] = {}
    for video in video_list:
        if video.watch_done:
            state, percent = WatchedState.WATCHED, 100
        elif video.watch_started:
            share = positions.get(video.pk, 0.0) / video.duration_seconds
            state, percent = WatchedState.IN_PROGRESS, min(max(int(share * 100), 1), 99)
        else:
            state, percent = WatchedState.NOT_STARTED, 0
        by_type.setdefault(video.video_type, []).append(LibraryVideo(video, state, percent))
    sections = [
        LibrarySection(video_type=kind, heading=heading, videos=by_type[kind])
        for kind, heading in LIBRARY_SECTIONS
        if kind in by_type
    ]

    jobs = list(
        VideoJob.objects.filter(
            learner=learner, status__in=[*ACTIVE_STATUSES, JobStatus.FAILED]
        ).order_by("priority", "created_at", "pk")
    )
    job_domains = _job_domains(jobs)
    domain_ids |= {d.pk for d in job_domains.values()}
    active: list[LibraryJob] = []
    failed: list[LibraryJob] = []
    for job in jobs:
        job_domain = job_domains.get((job.certification_id, job.parameters.get("domain")))
        item = LibraryJob(job, _job_label(job, job_domain))
        if watched:
            continue
        if video_type and job.video_type != video_type:
            continue
        if domain is not None and (job_domain is None or job_domain.pk != domain):
            continue
        if query and query.casefold() not in item.label.casefold():
            continue
        (failed if job.status == JobStatus.FAILED else active).append(item)

    return LearnerLibrary(
        sections=sections,
        active_jobs=active,
        failed_jobs=failed,
        domains=list(Domain.objects.filter(pk__in=domain_ids).order_by("name", "pk")),
        has_anything=has_videos or bool(jobs),
        filtered=filtered,
    )


# --- files the database points at ----------------------------------------------------

VIDEO_FILE_FIELDS = ("file", "captions", "thumbnail")


@dataclass(frozen=True)
class MissingFile:
    """A Video row naming a file its storage does not have (ids only: no personal data)."""

    video_id: int
    learner_id: int
    field: str  # "file", "captions" or "thumbnail"
    name: str  # the storage name ("" when a video has no file at all)


def videos_missing_files(*, chunk_size: int = 500) -> Iterator[MissingFile]:
    """Every Video whose file, captions or thumbnail is missing from storage.

    Streams the rows (`.iterator()`), so memory stays flat however many
    videos there are; one `exists()` per stored file. Captions and thumbnail
    are optional (blank is fine); a video without its file is reported.
    """
    storages = {
        name: cast(FileField, Video._meta.get_field(name)).storage for name in VIDEO_FILE_FIELDS
    }
    rows = Video.objects.order_by("pk").values_list("pk", "learner_id", *VIDEO_FILE_FIELDS)
    for video_id, learner_id, *names in rows.iterator(chunk_size=chunk_size):
        for field, name in zip(VIDEO_FILE_FIELDS, names, strict=True):
            if name and storages[field].exists(name):
                continue
            if name or field == "file":
                yield MissingFile(video_id, learner_id, field, name or "")
