"""What to watch next: reasons, order, and what is never recommended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import WatchProgress
from library.recommendations import Recommendation, recommendations_for
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def cert():
    # passing score 70; weakest first: gamma 30, alpha 40, beta 60; delta strong
    return certification_build(domains={"alpha": 30, "beta": 30, "gamma": 20, "delta": 20})


def ready_video(learner, cert, video_type, domain=None, **fields) -> Video:
    job = video_job_build(
        learner=learner,
        certification=cert,
        video_type=video_type,
        status=fields.pop("status", JobStatus.READY),
    )
    fields.setdefault("title", f"{video_type} {domain or ''}".strip())
    return video_build(job=job, domain=cert.domains.get(slug=domain) if domain else None, **fields)


def watch(learner, video, *, completed=False, position=10.0, ago_seconds=0) -> None:
    progress = WatchProgress.objects.create(
        learner=learner,
        video=video,
        position_seconds=position,
        seconds_watched=video.duration_seconds if completed else position,
        completed=completed,
    )
    WatchProgress.objects.filter(pk=progress.pk).update(
        updated_at=timezone.now() - timedelta(seconds=ago_seconds)
    )


def reasons(recommendations: list[Recommendation]) -> list[tuple[str, str]]:
    return [(r.video.title, r.reason) for r in recommendations]


def assess(learner, cert, overall=45):
    return assessment_build(
        learner=learner,
        certification=cert,
        scores={"alpha": 40, "beta": 60, "gamma": 30, "delta": 90},
        overall_score=overall,
    )


def test_nothing_to_recommend_without_videos(learner):
    assert recommendations_for(learner=learner) == []


def test_started_videos_come_first_most_recent_first(learner, cert):
    older = ready_video(learner, cert, "overview", title="older")
    newer = ready_video(learner, cert, "practice_session", title="newer")
    ready_video(learner, cert, "overview", title="untouched")
    watch(learner, older, ago_seconds=600)
    watch(learner, newer, ago_seconds=5)

    assert reasons(recommendations_for(learner=learner)) == [
        ("newer", "continue watching"),
        ("older", "continue watching"),
    ]


def test_remediation_for_the_weakest_areas_weakest_first(learner, cert):
    assess(learner, cert)
    ready_video(learner, cert, "remediation", "beta", title="beta fix")
    ready_video(learner, cert, "remediation", "alpha", title="alpha fix")
    ready_video(learner, cert, "remediation", "gamma", title="gamma fix")
    ready_video(learner, cert, "remediation", "delta", title="delta fix")  # strong: no

    assert reasons(recommendations_for(learner=learner)) == [
        ("gamma fix", "your weakest area: Gamma"),
        ("alpha fix", "your weakest area: Alpha"),
        ("beta fix", "your weakest area: Beta"),
    ]


def test_weak_areas_come_from_the_latest_assessment(learner, cert):
    assessment_build(
        learner=learner,
        certification=cert,
        scores={"alpha": 90, "beta": 90, "gamma": 20, "delta": 90},
        taken_at=timezone.now() - timedelta(days=30),
    )
    assessment_build(
        learner=learner,
        certification=cert,
        scores={"alpha": 20, "beta": 90, "gamma": 90, "delta": 90},
    )
    ready_video(learner, cert, "remediation", "gamma", title="gamma fix")
    ready_video(learner, cert, "remediation", "alpha", title="alpha fix")

    assert reasons(recommendations_for(learner=learner)) == [
        ("alpha fix", "your weakest area: Alpha"),
    ]


def test_practice_next_after_a_completed_remediation_of_the_same_domain(learner, cert):
    fix = ready_video(learner, cert, "remediation", "alpha", title="alpha fix")
    ready_video(learner, cert, "practice_session", "alpha", title="alpha practice")
    ready_video(learner, cert, "practice_session", "beta", title="beta practice")
    assert recommendations_for(learner=learner) == []

    watch(learner, fix, completed=True)

    assert reasons(recommendations_for(learner=learner)) == [
        ("alpha practice", "practice next"),
    ]


def test_exam_prep_from_fifty_percent_overall(learner, cert):
    ready_video(learner, cert, "exam_prep", title="exam prep")
    assess(learner, cert, overall=49)
    assert recommendations_for(learner=learner) == []

    assess(learner, cert, overall=50)
    assert reasons(recommendations_for(learner=learner)) == [("exam prep", "exam prep")]


def test_never_completed_hidden_unready_or_others_videos(learner, cert):
    assess(learner, cert, overall=80)
    done = ready_video(learner, cert, "remediation", "gamma", title="done")
    watch(learner, done, completed=True)
    ready_video(learner, cert, "remediation", "gamma", title="hidden", hidden=True)
    ready_video(learner, cert, "remediation", "gamma", title="rendering", status="rendering")
    hidden_started = ready_video(learner, cert, "overview", title="hidden started", hidden=True)
    watch(learner, hidden_started)
    done_prep = ready_video(learner, cert, "exam_prep", title="done prep")
    watch(learner, done_prep, completed=True)

    other = user_build()
    assess(other, cert, overall=80)
    theirs = ready_video(other, cert, "overview", title="theirs")
    watch(learner, theirs)  # even with a stray progress row, never another's video
    ready_video(other, cert, "remediation", "gamma", title="their fix")
    ready_video(other, cert, "exam_prep", title="their prep")

    assert recommendations_for(learner=learner) == []
    assert reasons(recommendations_for(learner=other)) == [
        ("their fix", "your weakest area: Gamma"),
        ("their prep", "exam prep"),
    ]


def test_each_video_once_in_reason_order_up_to_the_limit(learner, cert):
    assess(learner, cert, overall=60)
    started_fix = ready_video(learner, cert, "remediation", "gamma", title="started fix")
    watch(learner, started_fix)
    ready_video(learner, cert, "remediation", "alpha", title="alpha fix")
    done = ready_video(learner, cert, "remediation", "beta", title="beta fix")
    watch(learner, done, completed=True)
    ready_video(learner, cert, "practice_session", "beta", title="beta practice")
    ready_video(learner, cert, "exam_prep", title="prep")

    assert reasons(recommendations_for(learner=learner)) == [
        ("started fix", "continue watching"),
        ("alpha fix", "your weakest area: Alpha"),
        ("beta practice", "practice next"),
        ("prep", "exam prep"),
    ]
    assert reasons(recommendations_for(learner=learner, limit=2)) == [
        ("started fix", "continue watching"),
        ("alpha fix", "your weakest area: Alpha"),
    ]
    assert recommendations_for(learner=learner, limit=0) == []
