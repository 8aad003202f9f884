"""Named builders for test data: each makes one valid object, overridable by keyword."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from library.models import Assessment, Certification, Domain, DomainScore
from presgen.models import User
from videos.models import Video, VideoJob

_seq = itertools.count(1)


def user_build(**fields: Any) -> User:
    n = next(_seq)
    fields.setdefault("username", f"learner{n}")
    fields.setdefault("display_name", f"Learner {n}")
    password = fields.pop("password", "a-long-test-password")
    user = User(**fields)
    user.set_password(password)
    user.save()
    return user


def certification_build(*, domains: dict[str, int] | None = None, **fields: Any) -> Certification:
    """A certification with domains {slug: exam weight}."""
    n = next(_seq)
    fields.setdefault("slug", f"cert-{n}")
    fields.setdefault("name", f"Certification {n}")
    cert = Certification.objects.create(**fields)
    for position, (slug, weight) in enumerate((domains or {"alpha": 60, "beta": 40}).items()):
        Domain.objects.create(
            certification=cert,
            slug=slug,
            name=slug.title(),
            weight=Decimal(weight),
            position=position,
        )
    return cert


def assessment_build(
    *, learner: User, certification: Certification, scores: dict[str, int], **fields: Any
) -> Assessment:
    """An assessment with per-domain scores {domain slug: score}."""
    fields.setdefault("overall_score", Decimal(sum(scores.values()) / max(len(scores), 1)))
    fields.setdefault("taken_at", timezone.now())
    assessment = Assessment.objects.create(learner=learner, certification=certification, **fields)
    for slug, score in scores.items():
        DomainScore.objects.create(
            assessment=assessment, domain=certification.domains.get(slug=slug), score=Decimal(score)
        )
    return assessment


def video_job_build(*, learner: User, **fields: Any) -> VideoJob:
    fields.setdefault("video_type", "overview")
    fields.setdefault("priority", 1)
    return VideoJob.objects.create(learner=learner, **fields)


def video_build(*, job: VideoJob, **fields: Any) -> Video:
    """A finished Video for a job; needs a MEDIA_ROOT (the `media_root` fixture)."""
    fields.setdefault("title", "Your roadmap")
    fields.setdefault("file", ContentFile(b"mp4", name="v.mp4"))
    return Video.objects.create(
        job=job,
        learner=job.learner,
        video_type=job.video_type,
        duration_seconds=fields.pop("duration_seconds", 30),
        size_bytes=fields.pop("size_bytes", 3),
        width=fields.pop("width", 1280),
        height=fields.pop("height", 720),
        **fields,
    )


def overview_job_build() -> VideoJob:
    """One learner's series planned (only domain iam weak) with all but its overview job
    cancelled: tests of one remote render start from it."""
    from videos.models import JobStatus
    from videos.services import series_plan

    cert = certification_build(domains={"iam": 60, "network": 40})
    learner = user_build(email="ada@example.com")
    assessment = assessment_build(
        learner=learner, certification=cert, scores={"iam": 40, "network": 90}
    )
    plan = series_plan(assessment=assessment)
    for job in plan.created:  # keep the test to one job
        if job.video_type != "overview":
            VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
    return next(j for j in plan.created if j.video_type == "overview")


def integrity_rejected(create: Any) -> bool:
    """True when the database refuses what `create()` writes."""
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False
