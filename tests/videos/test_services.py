from __future__ import annotations

from decimal import Decimal

import pytest

from library.services import demo_load
from presgen.privacy import account_delete, erased_learner_get
from tests.builders import assessment_build, user_build
from tests.videos.scriptwriting.test_cv import docx_build
from videos.models import JobStatus, VideoJob
from videos.queueing import job_timeout_for
from videos.scriptwriting import cv_parse, script_write
from videos.services import (
    VideoRequestError,
    job_cancel,
    job_rerender,
    job_retry,
    video_request,
)

pytestmark = pytest.mark.django_db


def _refused(**request) -> VideoRequestError:
    with pytest.raises(VideoRequestError) as caught:
        video_request(**request)
    assert not VideoJob.objects.exists()  # nothing half made
    return caught.value


def test_bad_requests_name_the_field_at_fault(rq_queues):
    demo = demo_load()
    base = {"learner": demo.learner, "certification": demo.certification}
    error = _refused(**base, video_type="music_video")
    assert error.field == "video_type"
    error = _refused(**base, video_type="practice_session", parameters={"domain": "astrology"})
    assert error.field == "domain" and "astrology" in str(error)
    error = _refused(**base, video_type="practice_session", parameters={"difficulty": "extreme"})
    assert error.field == "difficulty"
    error = _refused(**base, video_type="practice_session", parameters={"questions": 50})
    assert error.field == "questions"
    error = _refused(learner=demo.learner, video_type="practice_session")
    assert error.field == "certification"


def test_a_celebration_needs_a_passing_score(rq_queues):
    demo = demo_load()  # the demo learner scored 64%, below the 70% pass mark
    error = _refused(
        learner=demo.learner, certification=demo.certification, video_type="celebration"
    )
    assert "70" in str(error)
    assessment_build(
        learner=demo.learner,
        certification=demo.certification,
        scores={"security-identity": 80},
        overall_score=Decimal(82),
    )
    job = video_request(
        learner=demo.learner, certification=demo.certification, video_type="celebration"
    )
    assert job.assessment.overall_score == Decimal(82)
    assert "82" in " ".join(s.text for s in script_write(job=job).script.sections)


def test_a_professional_introduction_from_an_uploaded_cv(rq_queues):
    learner = user_build(display_name="Maria Lopez", experience_level="10+")
    cv = cv_parse(
        filename="maria.docx",
        data=docx_build(
            [
                "Maria Lopez",
                "Senior nurse practitioner",
                "2009 - 2024 Charge nurse, City Hospital: patient care, triage, clinical audits",
                "Skills: patient care, triage, electronic health records",
            ]
        ),
    )
    job = video_request(learner=learner, video_type="introduction", cv=cv)
    assert job.parameters["cv"]["industry"] == "healthcare"
    written = script_write(job=job)
    text = written.narration_text
    assert "Maria" in text and " I " in f" {text} "  # first person
    assert 30 <= written.target_seconds <= 120


def test_retry_and_cancel_report_what_they_did(rq_queues):
    demo = demo_load()
    job = video_request(
        learner=demo.learner, certification=demo.certification, video_type="practice_session"
    )
    assert not job_retry(job=job).done  # queued: nothing to retry
    result = job_cancel(job=job)
    assert result.done and "cancelled" in result.message
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None
    result = job_retry(job=job)
    assert result.done
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.error == "" and job.deadline_at


@pytest.mark.django_db(transaction=True)
def test_an_erased_or_deactivated_learners_jobs_are_not_rendered_again(rq_queues):
    demo = demo_load()
    job = video_request(
        learner=demo.learner, certification=demo.certification, video_type="practice_session"
    )
    account_delete(user=demo.learner)  # the job is kept, anonymised and cancelled
    kept = VideoJob.objects.get(pk=job.pk)
    assert kept.learner == erased_learner_get() and kept.status == JobStatus.CANCELLED
    for result in (job_retry(job=kept), job_rerender(job=kept, provider_name="studio")):
        assert not result.done and "inactive or erased account" in result.message
    kept.refresh_from_db()
    assert kept.status == JobStatus.CANCELLED

    other = video_request(
        learner=user_build(), certification=demo.certification, video_type="practice_session"
    )
    job_cancel(job=other)
    other.learner.is_active = False
    other.learner.save(update_fields=["is_active"])
    assert not job_retry(job=other).done


def test_the_rq_timeout_grows_with_the_video_and_the_quality():
    short = job_timeout_for(target_seconds=60, quality="720p")
    long = job_timeout_for(target_seconds=600, quality="720p")
    assert short >= 180 and long > short + 400  # RQ's 180 s default would kill a long render
    assert job_timeout_for(target_seconds=600, quality="1080p") > long
