"""Alerts for staff after each finished provider attempt."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.builders import user_build, video_job_build
from tests.videos.test_slack import FakeSlack, closed_port_url
from videos.models import Alert, AlertKind, AttemptStatus, GenerationAttempt, JobStatus
from videos.monitoring import attempt_monitor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.ALERT_GENERATION_SECONDS = 90
    settings.ALERT_MIN_QA_SCORE = 80
    settings.ALERT_SUCCESS_RATE_WINDOW = 200
    settings.ALERT_MIN_SUCCESS_RATE = 0.995
    settings.ALERT_SLACK_WEBHOOK_URL = ""
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_SUBJECT_PREFIX = "[PresGen] "


@pytest.fixture
def learner():
    return user_build()


def attempt_finished(*, learner, provider="studio", seconds=30.0, qa_score=95.0, **fields):
    job = video_job_build(learner=learner)
    return GenerationAttempt.objects.create(
        job=job,
        provider=provider,
        status=fields.pop("status", AttemptStatus.SUCCEEDED),
        finished_at=timezone.now(),
        seconds=seconds,
        qa_score=qa_score,
        **fields,
    )


_clock = iter(range(1, 10**6))


def jobs_finished(*, learner, ready: int = 0, failed: int = 0) -> None:
    """Jobs that finished one after another, later than every job made before."""
    base = timezone.now() - timedelta(days=1)
    for status in [JobStatus.READY] * ready + [JobStatus.FAILED] * failed:
        video_job_build(
            learner=learner, status=status, finished_at=base + timedelta(seconds=next(_clock))
        )


def open_alerts(kind=None):
    alerts = Alert.objects.filter(resolved_at__isnull=True)
    return list(alerts.filter(kind=kind) if kind else alerts)


# --- slow generation and low quality ----------------------------------------------------


def test_a_slow_attempt_raises_one_alert_while_it_is_open(learner):
    [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, seconds=400))

    assert alert.kind == AlertKind.SLOW_GENERATION
    assert alert.provider == "studio"
    assert "400 s" in alert.message and "limit 90 s" in alert.message
    assert alert.details["seconds"] == 400

    assert attempt_monitor(attempt=attempt_finished(learner=learner, seconds=500)) == []
    assert len(open_alerts(AlertKind.SLOW_GENERATION)) == 1

    # Per provider: another provider being slow is its own alert.
    [other] = attempt_monitor(
        attempt=attempt_finished(learner=learner, provider="heygen", seconds=300)
    )
    assert other.provider == "heygen"

    # Once staff resolve it, the next slow attempt is news again.
    Alert.objects.filter(pk=alert.pk).update(resolved_at=timezone.now())
    assert len(attempt_monitor(attempt=attempt_finished(learner=learner, seconds=200))) == 1


def test_a_failed_attempt_that_was_slow_also_counts(learner):
    attempt = attempt_finished(
        learner=learner, seconds=120, qa_score=None, status=AttemptStatus.FAILED, error="timeout"
    )

    [alert] = attempt_monitor(attempt=attempt)

    assert alert.kind == AlertKind.SLOW_GENERATION and alert.job == attempt.job


def test_an_attempt_within_limits_raises_nothing(learner):
    assert attempt_monitor(attempt=attempt_finished(learner=learner, seconds=90, qa_score=80)) == []
    assert attempt_monitor(attempt=attempt_finished(learner=learner, seconds=None)) == []
    assert not Alert.objects.exists()


def test_low_quality_raises_one_alert_per_provider_while_open(learner):
    [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, qa_score=62.4))

    assert alert.kind == AlertKind.LOW_QUALITY
    assert "scored 62/100 (minimum 80)" in alert.message
    assert attempt_monitor(attempt=attempt_finished(learner=learner, qa_score=10)) == []
    assert len(open_alerts(AlertKind.LOW_QUALITY)) == 1


def test_a_slow_low_quality_attempt_raises_both(learner):
    alerts = attempt_monitor(attempt=attempt_finished(learner=learner, seconds=100, qa_score=50))

    assert sorted(a.kind for a in alerts) == [AlertKind.LOW_QUALITY, AlertKind.SLOW_GENERATION]


# --- success rate -----------------------------------------------------------------------


def test_one_early_failure_does_not_page_anyone(learner):
    jobs_finished(learner=learner, ready=5, failed=1)

    assert attempt_monitor(attempt=attempt_finished(learner=learner)) == []


def test_success_rate_alert_is_raised_once_and_resolves_when_the_rate_recovers(
    learner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ALERT_SUCCESS_RATE_WINDOW = 20
    jobs_finished(learner=learner, ready=19)
    assert attempt_monitor(attempt=attempt_finished(learner=learner)) == []

    jobs_finished(learner=learner, failed=1)  # 19 of the last 20: 95 %
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = attempt_monitor(attempt=attempt_finished(learner=learner))
    assert alert.kind == AlertKind.LOW_SUCCESS_RATE and alert.provider == ""
    assert "95.0% over the last 20 jobs" in alert.message
    assert alert.details["finished"] == 20 and alert.details["ready"] == 19

    jobs_finished(learner=learner, ready=5)  # still a failure in the window
    assert attempt_monitor(attempt=attempt_finished(learner=learner)) == []
    assert open_alerts() == [alert]

    jobs_finished(learner=learner, ready=15)  # the failure has left the window
    with django_capture_on_commit_callbacks(execute=True):
        assert attempt_monitor(attempt=attempt_finished(learner=learner)) == []
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert open_alerts() == []
    assert [m.subject for m in mailoutbox] == [
        f"[PresGen] {alert.message}",
        "[PresGen] Resolved: success rate back to 100.0% over the last 20 jobs",
    ]


def test_the_rate_counts_finished_jobs_only(learner, settings):
    settings.ALERT_SUCCESS_RATE_WINDOW = 20
    jobs_finished(learner=learner, ready=20)
    # Cancelled and unfinished jobs say nothing about the providers.
    video_job_build(learner=learner, status=JobStatus.CANCELLED, finished_at=timezone.now())
    video_job_build(learner=learner, status=JobStatus.RENDERING)

    assert attempt_monitor(attempt=attempt_finished(learner=learner)) == []


# --- delivery ---------------------------------------------------------------------------


def test_admins_are_emailed_after_commit_only(
    learner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, seconds=400))
    assert mailoutbox == []  # nothing said about a transaction that may still roll back

    for callback in callbacks:
        callback()
    [email] = mailoutbox
    assert email.to == ["ops@example.com"]
    assert email.subject == f"[PresGen] {alert.message}"
    assert alert.message in email.body


def test_the_presgen_tag_is_kept_under_djangos_default_subject_prefix(
    learner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EMAIL_SUBJECT_PREFIX = "[Django] "

    with django_capture_on_commit_callbacks(execute=True):
        [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, qa_score=10))

    assert mailoutbox[0].subject == f"[Django] [PresGen] {alert.message}"


def test_alerts_are_posted_to_slack_when_configured(
    learner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    with FakeSlack() as slack:
        settings.ALERT_SLACK_WEBHOOK_URL = slack.url
        with django_capture_on_commit_callbacks(execute=True):
            [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, seconds=400))

    [(_, _, body)] = slack.requests
    assert body == {"text": f"[PresGen] {alert.message}"}
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("failure", ["http-500", "connection-refused"])
def test_slack_being_down_breaks_no_alert(
    learner, settings, mailoutbox, caplog, django_capture_on_commit_callbacks, failure
):
    with FakeSlack(status=500, reply="internal_error") as slack:
        url = slack.url if failure == "http-500" else closed_port_url()
        settings.ALERT_SLACK_WEBHOOK_URL = url
        with caplog.at_level(logging.WARNING, logger="videos.monitoring"):
            with django_capture_on_commit_callbacks(execute=True):
                [alert] = attempt_monitor(attempt=attempt_finished(learner=learner, seconds=400))

    assert Alert.objects.get() == alert
    assert len(mailoutbox) == 1  # the email still went out
    assert "Could not post an alert to Slack" in caplog.text
    assert "secret-token" not in caplog.text  # the webhook URL is a secret


def test_no_admins_configured_is_fine(
    learner, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ADMINS = []

    with django_capture_on_commit_callbacks(execute=True):
        assert len(attempt_monitor(attempt=attempt_finished(learner=learner, seconds=400))) == 1

    assert mailoutbox == []
