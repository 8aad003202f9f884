from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from library.knowledge_base import knowledge_base_parse
from library.models import Notification
from library.services import demo_load, knowledge_base_import
from presgen.models import User
from tests.builders import assessment_build, certification_build, user_build
from tests.videos import fake_providers
from videos import pipeline as pipeline_module
from videos.models import (
    Alert,
    AlertKind,
    AttemptStatus,
    CircuitState,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    ProviderCircuit,
    Video,
    VideoJob,
)
from videos.providers.base import RemoteState
from videos.services import job_cancel, job_retry, series_plan, video_request
from videos.tasks import attempt_check_task, job_run_task

pytestmark = pytest.mark.django_db(transaction=True)


def _one_job(*, learner=None) -> VideoJob:
    """Plans a series whose only weak domain is iam and returns its overview job."""
    cert = certification_build(domains={"iam": 60, "network": 40})
    learner = learner or user_build(email="ada@example.com")
    assessment = assessment_build(
        learner=learner, certification=cert, scores={"iam": 40, "network": 90}
    )
    plan = series_plan(assessment=assessment)
    for job in plan.created:  # keep the test to one job
        if job.video_type != "overview":
            VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
    return next(j for j in plan.created if j.video_type == "overview")


def test_a_job_becomes_a_checked_stored_video(pipeline, mailoutbox):
    pipeline.providers("good")
    job = _one_job()
    pipeline.drain()

    job.refresh_from_db()
    assert (job.status, job.progress, job.error) == (JobStatus.READY, 100, "")
    video = Video.objects.get(job=job)
    assert video.learner == job.learner and video.provider == "good"
    assert video.file.read(8)[4:8] == b"ftyp"  # an MP4, stored through the storage API
    assert video.captions.read().startswith(b"WEBVTT")
    assert video.thumbnail.read(3) == b"\xff\xd8\xff"  # a JPEG
    assert str(job.learner_id) in video.file.name and "video.mp4" in video.file.name
    assert video.quality_report["passed"] is True
    attempt = job.attempts.get()
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.qa_score == 100
    assert attempt.seconds is not None and attempt.cost == Decimal("0.1000")
    # The script and its quality score parts are stored on the job.
    assert job.script["script"]["sections"] and job.target_duration_seconds
    assert set(job.script_quality["parts"]) == {
        "length",
        "coverage",
        "personalisation",
        "readability",
        "structure",
    }
    note = Notification.objects.get(learner=job.learner, kind="video_ready")
    assert str(video.pk) in note.url
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]


def test_a_learner_who_turns_email_off_during_the_render_gets_no_email(
    pipeline, mailoutbox, monkeypatch
):
    pipeline.providers("good")
    job = _one_job()
    check = pipeline_module.video_check

    def check_while_the_learner_changes_their_mind(**kwargs):
        User.objects.filter(pk=job.learner_id).update(email_notifications=False)
        return check(**kwargs)

    monkeypatch.setattr(pipeline_module, "video_check", check_while_the_learner_changes_their_mind)
    pipeline.drain()

    assert VideoJob.objects.get(pk=job.pk).status == JobStatus.READY
    assert Notification.objects.filter(learner_id=job.learner_id, kind="video_ready").exists()
    assert mailoutbox == []


def test_a_slow_successful_attempt_raises_the_slow_generation_alert(pipeline, settings):
    settings.ALERT_GENERATION_SECONDS = 0  # every render is "slow"
    pipeline.providers("good")
    job = _one_job()
    pipeline.drain()

    attempt = GenerationAttempt.objects.get(job=job, status=AttemptStatus.SUCCEEDED)
    alert = Alert.objects.get(kind=AlertKind.SLOW_GENERATION)
    assert (alert.provider, alert.job_id) == ("good", job.pk)
    assert alert.details["seconds"] == attempt.seconds


def test_a_job_run_twice_makes_one_video_and_one_submission(pipeline):
    pipeline.providers("good")
    job = _one_job()
    assert "ready" in job_run_task(job.pk)
    assert "not claimable" in job_run_task(job.pk)
    pipeline.drain()  # the job's own RQ entry runs a third time
    assert Video.objects.filter(job=job).count() == 1
    assert GenerationAttempt.objects.filter(job=job).count() == 1


def test_a_worker_that_lost_its_lease_stops_without_writing(pipeline):
    pipeline.providers("good")
    job = _one_job()
    stale = pipeline_module.job_claim(job_id=job.pk)
    assert stale is not None
    # The worker hangs past its lease; another worker takes the job and finishes it.
    VideoJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert "ready" in pipeline_module.job_run(job_id=job.pk)
    with pytest.raises(pipeline_module.LeaseLost):
        pipeline_module._job_write(stale, progress=1)
    job.refresh_from_db()
    assert job.status == JobStatus.READY and job.progress == 100


def test_a_failing_provider_falls_back_and_its_circuit_opens_then_half_opens(pipeline, settings):
    settings.CIRCUIT_FAILURE_THRESHOLD = 2
    pipeline.providers("down", "good")
    jobs = [_one_job() for _ in range(3)]
    pipeline.drain()

    assert all(Video.objects.filter(job=j, provider="good").exists() for j in jobs)
    down_attempts = GenerationAttempt.objects.filter(provider="down")
    # Two failures open the circuit; the third job goes straight to "good".
    assert down_attempts.count() == 2
    assert all("503" in a.error for a in down_attempts)
    circuit = ProviderCircuit.objects.get(provider="down")
    assert circuit.state == CircuitState.OPEN

    # After the cool-down one trial is allowed; it fails and the circuit opens again.
    ProviderCircuit.objects.filter(pk=circuit.pk).update(
        opened_at=timezone.now() - timedelta(seconds=settings.CIRCUIT_COOLDOWN_SECONDS + 1)
    )
    fourth = _one_job()
    pipeline.drain()
    assert Video.objects.filter(job=fourth, provider="good").exists()
    assert GenerationAttempt.objects.filter(provider="down").count() == 3
    circuit.refresh_from_db()
    assert circuit.state == CircuitState.OPEN


def test_a_half_open_trial_that_succeeds_closes_the_circuit(pipeline, settings):
    pipeline.providers("good")
    ProviderCircuit.objects.create(
        provider="good",
        state=CircuitState.OPEN,
        failures=3,
        opened_at=timezone.now() - timedelta(seconds=settings.CIRCUIT_COOLDOWN_SECONDS + 1),
    )
    job = _one_job()
    pipeline.drain()
    assert Video.objects.filter(job=job).exists()
    assert ProviderCircuit.objects.get(provider="good").state == CircuitState.CLOSED


def test_a_retryable_error_is_retried_and_then_succeeds(pipeline):
    pipeline.providers("flaky")
    job = _one_job()
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY and job.retries == 1
    attempts = list(job.attempts.order_by("started_at"))
    assert [a.status for a in attempts] == [AttemptStatus.FAILED, AttemptStatus.SUCCEEDED]
    assert attempts[0].error_kind == "retryable" and "timed out" in attempts[0].error
    # One submission per attempt: every attempt has its own idempotency key.
    assert len({a.idempotency_key for a in attempts}) == 2


def test_a_permanent_error_fails_at_once_and_tells_the_learner(pipeline, mailoutbox):
    pipeline.providers("rejecting", "good")
    job = _one_job()
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_kind == "permanent"
    assert "script too long" in job.error
    assert job.attempts.count() == 1  # not retried, not sent elsewhere
    assert not Video.objects.filter(job=job).exists()
    note = Notification.objects.get(learner=job.learner, kind="video_failed")
    assert "script too long" in note.body
    assert len(mailoutbox) == 1


def test_a_provider_that_keeps_failing_is_given_up_with_the_reason(pipeline, settings):
    settings.JOB_MAX_RETRIES = 1
    settings.CIRCUIT_FAILURE_THRESHOLD = 100
    pipeline.providers("down")
    job = _one_job()
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "503" in job.error and "gave up after 2 tries" in job.error
    assert job.attempts.count() == 2
    assert Notification.objects.filter(learner=job.learner, kind="video_failed").count() == 1


def test_a_video_failing_the_quality_check_is_never_shown_and_the_next_provider_is_tried(
    pipeline,
):
    pipeline.providers("wrong_length", "good")
    job = _one_job()
    pipeline.drain()
    bad, _good = job.attempts.order_by("started_at")
    assert bad.provider == "wrong_length" and bad.status == AttemptStatus.FAILED
    assert "quality check" in bad.error and "duration" in bad.error
    assert bad.quality_report["passed"] is False and bad.qa_score < 100
    video = Video.objects.get(job=job)
    assert video.provider == "good"
    assert not Video.objects.filter(provider="wrong_length").exists()
    # The quality failure is not held against the provider's availability.
    assert not ProviderCircuit.objects.filter(provider="wrong_length", failures__gt=0).exists()


def test_a_remote_render_does_not_hold_a_worker_and_finishes_on_a_status_check(pipeline, rq_queues):
    pipeline.providers("remote")
    job = _one_job()
    pipeline.drain()
    job.refresh_from_db()
    attempt = job.attempts.get()
    assert job.status == JobStatus.RENDERING and job.lease_token is None
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.external_id.startswith("remote-")
    scheduled = rq_queues["default"].scheduled_job_registry.get_job_ids()
    assert any(i.startswith(f"attempt-{attempt.pk}-") for i in scheduled)

    assert "checking again" in attempt_check_task(attempt.pk)  # still processing
    fake_providers.REMOTE_RENDERS[attempt.external_id] = RemoteState.COMPLETED
    assert "ready" in attempt_check_task(attempt.pk)
    assert attempt_check_task(attempt.pk) == "nothing to check"  # a late duplicate
    job.refresh_from_db()
    assert job.status == JobStatus.READY
    assert Video.objects.filter(job=job).count() == 1


def test_a_cancelled_job_is_not_rendered_and_can_be_retried(pipeline):
    pipeline.providers("good")
    job = _one_job()
    assert job_cancel(job=job).done
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and not job.attempts.exists()
    assert not job_cancel(job=job).done  # already cancelled: nothing to do

    result = job_retry(job=job)
    assert result.done, result.message
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY


def test_a_practice_session_on_request(pipeline):
    pipeline.providers("good")
    demo = demo_load()
    job = video_request(
        learner=demo.learner,
        video_type="practice_session",
        certification=demo.certification,
        parameters={"domain": "security-identity", "difficulty": "medium", "questions": 2},
    )
    pipeline.drain()
    job.refresh_from_db()
    assert job.status == JobStatus.READY, job.error
    text = " ".join(s["text"] for s in job.script["script"]["sections"])
    assert "[Pause for thinking]" in text


SMALL_KNOWLEDGE_BASE = """
certification:
  slug: tiny-cert
  name: Tiny Cloud Certificate
  passing_score: 70
  exam_minutes: 30
  exam_strategies:
    - Read the question twice.
  domains:
    - slug: identity
      name: Identity
      weight: 60
      concepts:
        - slug: least-privilege
          title: Least privilege
          summary: Give each person only the access they need.
          examples: [An intern can read reports but not delete them.]
          analogies: [A hotel key opens one room, not every room.]
    - slug: storage
      name: Storage
      weight: 40
      concepts:
        - slug: backups
          title: Backups
          summary: Keep copies of data somewhere else.
          examples: [A nightly copy goes to another region.]
          analogies: [A spare house key kept at a friend's home.]
"""


def test_an_assessment_becomes_a_series_of_real_studio_videos(pipeline, mailoutbox):
    """End to end: plan, write, render with the studio at 480p, check, store, notify."""
    cert = knowledge_base_import(data=knowledge_base_parse(text=SMALL_KNOWLEDGE_BASE)).certification
    learner = user_build(display_name="Grace", email="grace@example.com")
    assessment = assessment_build(
        learner=learner,
        certification=cert,
        scores={"identity": 45, "storage": 85},
        overall_score=Decimal(60),
    )
    plan = series_plan(assessment=assessment)
    assert [j.video_type for j in plan.jobs] == [
        "overview",
        "remediation",
        "motivational",
        "exam_prep",
    ]
    pipeline.drain()

    for job in plan.jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.READY, (job.video_type, job.error)
        video = job.video
        assert video.provider == "studio" and (video.width, video.height) == (854, 480)
        assert video.quality_report["passed"] is True
        # The video is about as long as the script was planned to be.
        assert abs(video.duration_seconds - job.target_duration_seconds) < 0.35 * (
            job.target_duration_seconds
        )
        assert video.file.size == video.size_bytes > 0
        assert video.captions.read().startswith(b"WEBVTT") and video.thumbnail.size > 0
    remediation = next(j for j in plan.jobs if j.video_type == "remediation")
    assert remediation.video.domain.slug == "identity"
    assert "Least privilege" in remediation.video.captions.open().read().decode()
    notes = Notification.objects.filter(learner=learner, kind="video_ready")
    assert notes.count() == len(plan.jobs)
    assert [m.to for m in mailoutbox] == [["grace@example.com"]] * len(plan.jobs)


def test_a_remote_submit_cut_short_by_a_dead_worker_is_never_sent_again(pipeline):
    pipeline.providers("remote")
    job = _one_job()
    # A worker stored the attempt (and its key), then died before hearing back.
    cut_short = GenerationAttempt.objects.create(
        job=job, provider="remote", status=AttemptStatus.PENDING
    )
    VideoJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RENDERING,
        started_at=timezone.now() - timedelta(minutes=2),
        lease_token="00000000-0000-0000-0000-000000000003",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert "submitted" in job_run_task(job.pk)
    cut_short.refresh_from_db()
    assert cut_short.status == AttemptStatus.FAILED and "not sent again" in cut_short.error
    assert f"remote-{cut_short.idempotency_key}" not in fake_providers.REMOTE_RENDERS
    fresh = job.attempts.exclude(pk=cut_short.pk).get()
    assert fresh.status == AttemptStatus.SUBMITTED
    # The provider is not blamed for a worker that died.
    assert not ProviderCircuit.objects.filter(provider="remote", failures__gt=0).exists()


def test_a_provider_chosen_by_staff_renders_the_job_even_if_another_ranks_first(pipeline):
    pipeline.providers("good")
    ProviderAccount.objects.create(kind="good", name="good-backup", priority=9)
    job = _one_job()
    VideoJob.objects.filter(pk=job.pk).update(
        parameters={**job.parameters, "provider": "good-backup"}
    )
    pipeline.drain()

    assert Video.objects.get(job=job).provider == "good-backup"
    assert list(job.attempts.values_list("provider", flat=True)) == ["good-backup"]


def test_a_chosen_provider_that_is_not_enabled_fails_the_job_with_the_reason(pipeline):
    pipeline.providers("good")
    job = _one_job()
    VideoJob.objects.filter(pk=job.pk).update(parameters={**job.parameters, "provider": "gone"})
    pipeline.drain()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "the chosen provider 'gone' is not enabled" in job.error
    assert not Video.objects.filter(job=job).exists()
