"""Reads on the video side."""

from __future__ import annotations

from django.db.models import QuerySet

from presgen.models import User
from videos.models import VideoJob


def learner_jobs_list(*, learner: User) -> QuerySet[VideoJob]:
    """The learner's video jobs in series order, with their videos (never another learner's)."""
    return (
        VideoJob.objects.filter(learner=learner)
        .exclude(video__hidden=True)
        .select_related("video", "certification")
        .order_by("-assessment__taken_at", "priority", "pk")
    )
