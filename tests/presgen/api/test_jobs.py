"""/api/v1/jobs: request one video, follow its status, cancel and retry it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import assessment_build, video_job_build
from videos.models import JobStatus, Video, VideoJob

pytestmark = pytest.mark.django_db

URL = "/api/v1/jobs"


def _practice(**changes):
    payload = {
        "video_type": "practice_session",
        "certification": "cloud-101",
        "parameters": {"domain": "networking", "difficulty": "hard", "questions": 4},
    }
    payload.update(changes)
    return payload


# --- requesting a video ----------------------------------------------------------------------


def test_requesting_a_practice_session_queues_a_job(
    api, learner, cert, rq_queues, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, _practice(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    job = VideoJob.objects.get()
    assert body["id"] == job.pk and job.learner == learner
    assert body["video_type"] == "practice_session" and body["certification"] == "cloud-101"
    assert body["parameters"] == {"domain": "networking", "difficulty": "hard", "questions": 4}
    assert body["status"] == "queued" and body["progress"] == 0 and body["video"] is None
    assert body["url"].endswith(f"{URL}/{job.pk}")
    queued = [rq_job for queue in rq_queues.values() for rq_job in queue.jobs]
    assert [rq_job.args for rq_job in queued] == [(job.pk,)]


def test_nothing_is_queued_before_the_commit(api, cert, rq_queues):
    # Inside the test's transaction nothing commits, so nothing reaches Redis.
    assert api.post(URL, _practice(), format="json").status_code == 201

    assert sum(queue.count for queue in rq_queues.values()) == 0


def test_an_introduction_needs_no_certification(api, learner):
    response = api.post(URL, {"video_type": "introduction"}, format="json")

    assert response.status_code == 201
    assert response.json()["certification"] is None


def test_a_staff_service_requests_for_any_learner(service_api, learner, cert):
    response = service_api.post(URL, _practice(learner=learner.pk), format="json")

    assert response.status_code == 201
    assert VideoJob.objects.get().learner == learner


def test_a_learner_requesting_for_another_learner_is_404(api, other_learner, cert):
    response = api.post(URL, _practice(learner=other_learner.pk), format="json")

    assert response.status_code == 404
    assert not VideoJob.objects.exists()


def test_a_celebration_needs_a_passing_score(api, learner, cert):
    assessment_build(learner=learner, certification=cert, scores={"compute": 50})

    response = api.post(
        URL, {"video_type": "celebration", "certification": "cloud-101"}, format="json"
    )

    assert response.status_code == 400
    assert "passing score" in response.json()["error"]["fields"]["video_type"][0]
    assert not VideoJob.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"video_type": "blockbuster"}, "video_type"),
        ({"video_type": None}, "video_type"),
        ({"certification": "no-such-cert"}, "certification"),
        ({"certification": None}, "certification"),
        ({"parameters": {"domain": "cooking"}}, "parameters.domain"),
        ({"parameters": {"difficulty": "brutal"}}, "parameters.difficulty"),
        ({"parameters": {"questions": 0}}, "parameters.questions"),
        ({"parameters": {"questions": 11}}, "parameters.questions"),
        ({"parameters": {"questions": 2.5}}, "parameters.questions"),
        ({"parameters": {"questions": True}}, "parameters.questions"),
        ({"parameters": {"questions": 10**40}}, "parameters.questions"),
        ({"parameters": {"topic": "a\x00b"}}, "parameters.topic"),
        ({"parameters": {"topic": "a\ud800b"}}, "parameters.topic"),
        ({"parameters": {"avatar": "me"}}, "parameters.avatar"),
        ({"parameters": ["networking"]}, "parameters"),
        ({"learner": -3}, "learner"),
    ],
)
def test_bad_requests_are_400_naming_the_field(api, cert, changes, field):
    payload = _practice(**changes)
    if "certification" in changes and changes["certification"] is None:
        del payload["certification"]  # a practice session without a certification
    response = api.generic("POST", URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not VideoJob.objects.exists()


# --- reading ------------------------------------------------------------------------------


def test_list_shows_only_the_callers_jobs(api, learner, other_learner):
    mine = video_job_build(learner=learner)
    video_job_build(learner=other_learner)

    body = api.get(URL).json()

    assert body["count"] == 1 and [j["id"] for j in body["results"]] == [mine.pk]


def test_list_filters_by_status_type_and_assessment(api, learner, cert):
    assessment = assessment_build(learner=learner, certification=cert, scores={"compute": 40})
    failed = video_job_build(learner=learner, status=JobStatus.FAILED, assessment=assessment)
    video_job_build(learner=learner, status=JobStatus.READY)
    video_job_build(learner=learner, video_type="practice_session", priority=2)

    assert [j["id"] for j in api.get(URL, {"status": "failed"}).json()["results"]] == [failed.pk]
    by_type = api.get(URL, {"video_type": "practice_session"}).json()["results"]
    assert [j["video_type"] for j in by_type] == ["practice_session"]
    by_assessment = api.get(URL, {"assessment": assessment.pk}).json()["results"]
    assert [j["id"] for j in by_assessment] == [failed.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "exploded"}, "status"),
        ({"video_type": "x\x00"}, "video_type"),
        ({"assessment": "first"}, "assessment"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "-5"}, "page_size"),
    ],
)
def test_bad_list_queries_are_400(api, learner, query, field):
    video_job_build(learner=learner)

    response = api.get(URL, query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_lists_are_paginated(api, learner):
    jobs = [video_job_build(learner=learner) for _ in range(5)]

    first = api.get(URL, {"page_size": 2}).json()
    last = api.get(URL, {"page_size": 2, "page": 3}).json()
    beyond = api.get(URL, {"page_size": 2, "page": 4})

    assert first["count"] == 5 and first["previous"] is None and "page=2" in first["next"]
    assert [j["id"] for j in first["results"]] == [jobs[4].pk, jobs[3].pk]
    assert [j["id"] for j in last["results"]] == [jobs[0].pk] and last["next"] is None
    assert beyond.status_code == 404
    assert len(api.get(URL, {"page_size": 10_000}).json()["results"]) == 5


def test_detail_shows_status_progress_step_and_error(api, learner):
    job = video_job_build(
        learner=learner,
        status=JobStatus.FAILED,
        progress=40,
        step="Rendering",
        error="every provider failed",
        error_kind="permanent",
    )

    body = api.get(f"{URL}/{job.pk}").json()

    assert body["status"] == "failed" and body["status_display"] == "Failed"
    assert body["progress"] == 40 and body["step"] == "Rendering"
    assert body["error"] == "every provider failed" and body["error_kind"] == "permanent"


def test_internal_parameters_are_not_shown(api, learner):
    job = video_job_build(
        learner=learner, parameters={"domain": "compute", "cv": {"name": "Ada"}, "webhook_url": "x"}
    )

    assert api.get(f"{URL}/{job.pk}").json()["parameters"] == {"domain": "compute"}


def test_a_ready_job_links_its_video(api, learner, media_root):
    job = video_job_build(learner=learner, status=JobStatus.READY, progress=100)
    video = Video.objects.create(
        job=job,
        learner=learner,
        video_type="overview",
        title="Roadmap",
        file="videos/x.mp4",
        duration_seconds=30,
        size_bytes=3,
        width=1280,
        height=720,
    )

    body = api.get(f"{URL}/{job.pk}").json()

    assert body["video"] == video.pk
    assert body["video_url"] is None or body["video_url"].endswith(f"/videos/{video.pk}")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "/cancel"), ("post", "/retry"), ("put", ""), ("delete", "")],
)
def test_another_learners_job_is_404_for_every_method(api, other_learner, method, suffix):
    theirs = video_job_build(learner=other_learner, status=JobStatus.FAILED)

    response = getattr(api, method)(f"{URL}/{theirs.pk}{suffix}")

    assert response.status_code in (404, 405)
    if method == "get" or suffix:
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == JobStatus.FAILED


def test_a_staff_service_reads_any_learners_job(service_api, learner):
    job = video_job_build(learner=learner)

    assert service_api.get(f"{URL}/{job.pk}").json()["learner"] == learner.pk


# --- cancel and retry ---------------------------------------------------------------------


def test_cancel_an_active_job(api, learner):
    job = video_job_build(learner=learner, status=JobStatus.RENDERING, progress=30)

    response = api.post(f"{URL}/{job.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_cancelling_a_finished_job_is_a_conflict(api, learner):
    job = video_job_build(learner=learner, status=JobStatus.READY)

    response = api.post(f"{URL}/{job.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "ready" in response.json()["error"]["message"]
    job.refresh_from_db()
    assert job.status == JobStatus.READY


def test_retry_a_failed_job(api, learner, rq_queues, django_capture_on_commit_callbacks):
    job = video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}/{job.pk}/retry")

    assert response.status_code == 200
    assert response.json()["status"] == "queued" and response.json()["error"] == ""
    queued = [rq_job for queue in rq_queues.values() for rq_job in queue.jobs]
    assert [rq_job.args for rq_job in queued] == [(job.pk,)]


def test_retrying_an_active_job_is_a_conflict(api, learner):
    job = video_job_build(learner=learner, status=JobStatus.QUEUED)

    response = api.post(f"{URL}/{job.pk}/retry")

    assert response.status_code == 409


# --- queries do not grow with the rows ------------------------------------------------------


def _jobs_with_videos(learner, count):
    jobs = VideoJob.objects.bulk_create(
        VideoJob(learner=learner, video_type="overview", priority=1) for _ in range(count)
    )
    Video.objects.bulk_create(
        Video(
            job=job,
            learner=learner,
            video_type="overview",
            title="v",
            file="videos/v.mp4",
            duration_seconds=30,
            size_bytes=3,
            width=1280,
            height=720,
        )
        for job in jobs[::2]
    )


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_the_list_uses_as_many_queries_for_500_jobs_as_for_5(
    api, learner, other_learner, token_client
):
    _jobs_with_videos(learner, 5)
    _jobs_with_videos(other_learner, 500)
    other_api = token_client(other_learner)
    api.get(URL)  # first use of each token records it (once a minute at most)
    other_api.get(URL)

    few = _list_queries(api)
    many = _list_queries(other_api)

    assert other_api.get(URL).json()["count"] == 500
    assert few == many
