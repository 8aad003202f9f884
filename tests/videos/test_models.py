import itertools

import pytest

from tests.builders import integrity_rejected, user_build, video_build, video_job_build
from videos.models import (
    FINAL_STATUSES,
    JOB_TRANSITIONS,
    GenerationAttempt,
    JobStatus,
    Video,
    VideoJob,
    WebhookEvent,
)

pytestmark = pytest.mark.django_db


def test_priority_progress_and_status_are_checked_by_the_database():
    learner = user_build()
    assert integrity_rejected(lambda: video_job_build(learner=learner, priority=5))
    assert integrity_rejected(lambda: video_job_build(learner=learner, priority=0))
    assert integrity_rejected(lambda: video_job_build(learner=learner, progress=101))
    assert integrity_rejected(lambda: video_job_build(learner=learner, status="exploded"))
    assert video_job_build(learner=learner, priority=4, progress=100).pk


def test_one_video_per_job(media_root):
    job = video_job_build(learner=user_build())

    video_build(job=job)
    assert integrity_rejected(lambda: video_build(job=job))
    assert Video.objects.filter(job=job).count() == 1


def test_a_webhook_event_is_stored_once_per_provider():
    WebhookEvent.objects.create(provider="heygen", event_id="evt-1", payload={})
    assert integrity_rejected(
        lambda: WebhookEvent.objects.create(provider="heygen", event_id="evt-1", payload={})
    )
    WebhookEvent.objects.create(provider="did", event_id="evt-1", payload={})


def test_attempt_ids_are_unique_per_provider_and_idempotency_keys_are_unique():
    job = video_job_build(learner=user_build())
    first = GenerationAttempt.objects.create(job=job, provider="heygen", external_id="v1")
    assert integrity_rejected(
        lambda: GenerationAttempt.objects.create(job=job, provider="heygen", external_id="v1")
    )
    # Attempts not yet submitted have no external id and are not constrained.
    GenerationAttempt.objects.create(job=job, provider="heygen")
    GenerationAttempt.objects.create(job=job, provider="heygen")
    assert integrity_rejected(
        lambda: GenerationAttempt.objects.create(
            job=job, provider="did", idempotency_key=first.idempotency_key
        )
    )


def test_state_machine_moves_forward_and_final_states_only_retry():
    assert set(JOB_TRANSITIONS) == set(JobStatus.values)
    forward = ["queued", "scripting", "rendering", "checking", "storing", "ready"]
    for current, following in itertools.pairwise(forward):
        assert following in JOB_TRANSITIONS[current]
    assert JOB_TRANSITIONS[JobStatus.READY] == frozenset()
    for status in FINAL_STATUSES - {JobStatus.READY}:
        assert JOB_TRANSITIONS[status] == {JobStatus.QUEUED}
    assert VideoJob().status == JobStatus.QUEUED
