"""Named builders for test data: each makes one valid object, overridable by keyword."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from library.models import Assessment, Certification, Domain, DomainScore
from presgen.models import User
from videos.models import VideoJob

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
