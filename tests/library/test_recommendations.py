"""What to watch next: reasons, order, and what is never recommended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import WatchProgress
from library.recommendations import (
    AlreadyBeingMade,
    Recommendation,
    recommendation_request,
    recommendations_for,
)
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video, VideoJob
from videos.services import VideoRequestError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def cert():
    # passing score 70; weakest first: gamma 30, alpha 40, beta 60; delta strong
    return certification_build(
        name="Cloud Basics", domains={"alpha": 30, "beta": 30, "gamma": 20, "delta": 20}
    )


def ready_video(learner, cert, video_type, domain=None, **fields) -> Video:
    job = video_job_build(
        learner=learner,
        certification=cert,
        video_type=video_type,
        status=fields.pop("status", JobStatus.READY),
        assessment=fields.pop("assessment", None),
        parameters=fields.pop("parameters", {}),
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
    """(title, reason) of each recommendation; a video to request reads "request: <title>"."""
    return [
        (r.title if r.action == "watch" else f"request: {r.title}", r.reason)
        for r in recommendations
    ]


def assess(learner, cert, overall=45, **fields):
    return assessment_build(
        learner=learner,
        certification=cert,
        scores=fields.pop("scores", {"alpha": 40, "beta": 60, "gamma": 30, "delta": 90}),
        overall_score=overall,
        **fields,
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
        overall_score=40,
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

    # two completed videos: the only recommendation is to ask for a practice session
    assert reasons(recommendations_for(learner=learner)) == [
        (
            "request: Practice session: Gamma",
            "you have watched 2 videos: practise your weakest area, Gamma",
        )
    ]
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


def test_rewatch_a_completed_video_whose_domain_is_still_weak_after_a_newer_assessment(
    learner, cert
):
    first = assess(learner, cert, taken_at=timezone.now() - timedelta(days=30))
    alpha = ready_video(learner, cert, "remediation", "alpha", title="alpha fix", assessment=first)
    gamma = ready_video(learner, cert, "remediation", "gamma", title="gamma fix", assessment=first)
    watch(learner, alpha, completed=True)
    watch(learner, gamma, completed=True)
    # watched after the only assessment: nothing to re-watch yet
    assert [r for r in recommendations_for(learner=learner) if r.action == "watch"] == []

    latest = assess(learner, cert, scores={"alpha": 50, "beta": 60, "gamma": 90, "delta": 90})
    beta = ready_video(learner, cert, "remediation", "beta", title="beta fix", assessment=latest)
    watch(learner, beta, completed=True)  # made from the latest assessment: just watched

    assert reasons(recommendations_for(learner=learner)) == [
        ("alpha fix", "still weak after your latest assessment: Alpha"),
        (
            "request: Practice session: Alpha",
            "you have watched 3 videos: practise your weakest area, Alpha",
        ),
    ]


def test_rewatch_also_finds_a_practice_session_by_the_domain_it_asked_for(learner, cert):
    first = assess(learner, cert, taken_at=timezone.now() - timedelta(days=30))
    practice = ready_video(
        learner,
        cert,
        "practice_session",
        title="gamma drill",
        assessment=first,
        parameters={"domain": "gamma"},
    )
    watch(learner, practice, completed=True)
    assess(learner, cert)

    assert reasons(recommendations_for(learner=learner)) == [
        ("gamma drill", "still weak after your latest assessment: Gamma"),
    ]


def test_a_practice_session_is_proposed_after_two_completed_videos(learner, cert):
    assess(learner, cert)
    watch(learner, ready_video(learner, cert, "overview", title="roadmap"), completed=True)
    assert recommendations_for(learner=learner) == []

    watch(learner, ready_video(learner, cert, "motivational", title="pep"), completed=True)
    (proposal,) = recommendations_for(learner=learner)
    assert proposal.action == "request" and proposal.video is None
    assert proposal.proposal is not None
    assert (proposal.proposal.video_type, proposal.proposal.domain.slug) == (
        "practice_session",
        "gamma",
    )
    assert proposal.reason == "you have watched 2 videos: practise your weakest area, Gamma"

    # one being made already, or already made: nothing to ask for
    job = video_job_build(
        learner=learner,
        certification=cert,
        video_type="practice_session",
        parameters={"domain": "gamma"},
        status=JobStatus.RENDERING,
    )
    assert recommendations_for(learner=learner) == []
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.READY)
    assert recommendations_for(learner=learner) == []
    # one that failed does not count: ask again
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    assert reasons(recommendations_for(learner=learner)) == [
        (
            "request: Practice session: Gamma",
            "you have watched 2 videos: practise your weakest area, Gamma",
        )
    ]


def test_exam_prep_is_proposed_when_the_score_allows_and_none_exists(learner, cert):
    assess(learner, cert, overall=49)
    assert recommendations_for(learner=learner) == []

    assess(learner, cert, overall=55)
    assert reasons(recommendations_for(learner=learner)) == [
        ("request: Exam prep: Cloud Basics", "your latest score (55%) is ready for exam prep"),
    ]
    video_job_build(learner=learner, certification=cert, video_type="exam_prep")  # queued
    assert recommendations_for(learner=learner) == []


def test_at_most_five_recommendations_watch_first(learner, cert):
    assess(learner, cert, overall=60)
    for n in range(4):
        watch(learner, ready_video(learner, cert, "overview", title=f"started {n}"))
    for n in range(2):
        watch(learner, ready_video(learner, cert, "overview", title=f"done {n}"), completed=True)

    recommendations = recommendations_for(learner=learner)
    assert len(recommendations) == 5
    assert [r.action for r in recommendations] == ["watch"] * 4 + ["request"]
    assert recommendations[4].title == "Practice session: Gamma"


@pytest.mark.usefixtures("rq_queues")
def test_requesting_a_recommended_video_makes_one_job_and_refuses_a_second(learner, cert):
    assess(learner, cert, overall=55)
    gamma = cert.domains.get(slug="gamma")
    job = recommendation_request(
        learner=learner, video_type="practice_session", certification=cert, domain=gamma
    )
    assert (job.video_type, job.parameters, job.status) == (
        "practice_session",
        {"domain": "gamma"},
        JobStatus.QUEUED,
    )
    with pytest.raises(AlreadyBeingMade) as refused:
        recommendation_request(
            learner=learner, video_type="practice_session", certification=cert, domain=gamma
        )
    assert "already being made" in str(refused.value) and refused.value.job == job

    prep = recommendation_request(learner=learner, video_type="exam_prep", certification=cert)
    assert prep.video_type == "exam_prep" and prep.assessment is not None
    assert VideoJob.objects.filter(learner=learner).count() == 2


@pytest.mark.usefixtures("rq_queues")
def test_requesting_a_recommended_video_refuses_what_does_not_fit(learner, cert):
    other_cert = certification_build(domains={"omega": 100})

    def refused(**request) -> VideoRequestError:
        with pytest.raises(VideoRequestError) as caught:
            recommendation_request(learner=learner, **request)
        return caught.value

    assert refused(video_type="exam_prep", certification=cert).field == "certification"
    assess(learner, cert, overall=45)
    error = refused(video_type="exam_prep", certification=cert)
    assert error.field == "video_type" and "45%" in str(error)
    assert refused(video_type="celebration", certification=cert).field == "video_type"
    assert refused(video_type="practice_session", certification=cert).field == "domain"
    omega = other_cert.domains.get()
    assert (
        refused(video_type="practice_session", certification=cert, domain=omega).field == "domain"
    )
    assert not VideoJob.objects.exists()
