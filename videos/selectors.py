"""Reads on the video side."""

from __future__ import annotations

from dataclasses import dataclass

from library.models import Domain
from presgen.models import User
from videos.models import VideoJob


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
