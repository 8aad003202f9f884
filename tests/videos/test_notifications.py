"""What the learner is told when a video is ready, fails, or a whole series is done."""

from __future__ import annotations

import logging
import socket

import pytest
from django.db import transaction
from django.utils import timezone

from library.models import Notification, NotificationKind
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import ErrorKind, JobStatus, VideoJob
from videos.notifications import job_outcome_notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    return user_build(email="ada@example.com", display_name="Ada")


def job_ready(*, learner, title="Networking in the cloud", **fields) -> VideoJob:
    """A job the pipeline just finished, with its Video."""
    job = video_job_build(
        learner=learner, status=JobStatus.READY, progress=100, finished_at=timezone.now(), **fields
    )
    video_build(job=job, title=title)
    return job


def job_failed(*, learner, error="the provider refused the script", **fields) -> VideoJob:
    fields.setdefault("error_kind", ErrorKind.PERMANENT)
    return video_job_build(
        learner=learner, status=JobStatus.FAILED, finished_at=timezone.now(), error=error, **fields
    )


def job_final(job: VideoJob, *, status: str, title: str = "A video") -> VideoJob:
    """Finish a job that was planned earlier, as the pipeline would."""
    job.status = status
    job.finished_at = timezone.now()
    if status == JobStatus.FAILED:
        job.error = "the avatar service timed out"
        job.error_kind = ErrorKind.RETRYABLE
    job.save()
    if status == JobStatus.READY:
        video_build(job=job, title=title)
    return job


# --- per video ---------------------------------------------------------------------------


def test_a_ready_video_gives_one_notification_linking_to_the_video(media_root, learner):
    job = job_ready(learner=learner, title="Networking in the cloud")

    [notification] = job_outcome_notify(job=job)

    assert notification.kind == NotificationKind.VIDEO_READY
    assert notification.title == "Your video is ready: Networking in the cloud"
    assert notification.url == f"/videos/{job.video.pk}/"
    assert notification.body
    assert notification.read_at is None
    assert list(Notification.objects.filter(learner=learner)) == [notification]


def test_a_failed_video_says_why_in_plain_words_and_that_it_can_be_retried(learner):
    job = job_failed(
        learner=learner,
        video_type="remediation",
        error="HTTP 503 from the provider: service unavailable.\n  trace id 42",
        error_kind=ErrorKind.RETRYABLE,
    )

    [notification] = job_outcome_notify(job=job)

    assert notification.kind == NotificationKind.VIDEO_FAILED
    assert notification.title == "We could not make your remediation video"
    assert notification.url == "/library/"  # where the learner can try again
    assert "temporary problem" in notification.body
    # The reason is kept, on one line, and the learner learns they can retry.
    assert "HTTP 503 from the provider: service unavailable. trace id 42" in notification.body
    assert "retry" in notification.body


def test_a_failure_without_details_still_tells_the_learner_something(learner):
    job = job_failed(learner=learner, error="", error_kind=ErrorKind.NONE)

    [notification] = job_outcome_notify(job=job)

    assert notification.body.startswith("Something went wrong")


def test_notifying_twice_creates_one_notification_and_one_email(
    media_root, learner, mailoutbox, django_capture_on_commit_callbacks
):
    job = job_ready(learner=learner)

    # Two workers finishing the same job: the second insert hits the unique
    # dedupe key and gets the first notification back.
    with django_capture_on_commit_callbacks(execute=True):
        first = job_outcome_notify(job=job)
        second = job_outcome_notify(job=job)

    assert [n.pk for n in first] == [n.pk for n in second]
    assert Notification.objects.filter(learner=learner).count() == 1
    assert len(mailoutbox) == 1


def test_a_retried_job_that_fails_again_is_news(learner):
    job = job_failed(learner=learner)
    job_outcome_notify(job=job)

    job.retries += 1
    job.error = "the provider refused the script again"
    job.save()
    job_outcome_notify(job=job)

    assert Notification.objects.filter(learner=learner).count() == 2


def test_a_cancelled_job_is_not_announced(learner):
    job = video_job_build(learner=learner, status=JobStatus.CANCELLED)

    assert job_outcome_notify(job=job) == []
    assert not Notification.objects.exists()


def test_a_ready_job_without_its_video_is_a_programming_error(learner):
    job = video_job_build(learner=learner, status=JobStatus.READY)

    with pytest.raises(ValueError, match="no video"):
        job_outcome_notify(job=job)


# --- email -------------------------------------------------------------------------------


def test_the_email_has_text_and_html_with_greeting_and_absolute_link(
    media_root, learner, mailoutbox, django_capture_on_commit_callbacks
):
    job = job_ready(learner=learner, title="Networking in the cloud")

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = job_outcome_notify(job=job)

    [email] = mailoutbox
    assert email.to == ["ada@example.com"]
    assert email.subject == "Your video is ready: Networking in the cloud"
    link = f"http://localhost:8000/videos/{job.video.pk}/"
    assert "Hello Ada," in email.body and link in email.body
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "Hello Ada," in html and f'href="{link}"' in html
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_links_use_the_public_url_when_the_project_sets_one(
    media_root, learner, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.PUBLIC_URL = "https://presgen.example.com/"
    job = job_failed(learner=learner)

    with django_capture_on_commit_callbacks(execute=True):
        job_outcome_notify(job=job)

    [email] = mailoutbox
    assert email.subject == "We could not make your overview video"
    assert "https://presgen.example.com/library/" in email.body
    assert "the provider refused the script" in email.body


def test_text_stays_plain_and_html_is_escaped(
    media_root, learner, mailoutbox, django_capture_on_commit_callbacks
):
    job = job_ready(learner=learner, title="Q&A: <b>routing</b>")

    with django_capture_on_commit_callbacks(execute=True):
        job_outcome_notify(job=job)

    [email] = mailoutbox
    assert '"Q&A: <b>routing</b>"' in email.body
    html = email.alternatives[0][0]
    assert "Q&amp;A: &lt;b&gt;routing&lt;/b&gt;" in html and "<b>routing" not in html


@pytest.mark.parametrize(
    "account", [{"email_notifications": False}, {"email": ""}], ids=["opted-out", "no-address"]
)
def test_no_email_when_the_learner_does_not_want_or_cannot_get_one(
    media_root, mailoutbox, django_capture_on_commit_callbacks, account
):
    learner = user_build(**{"email": "ada@example.com", **account})
    job = job_ready(learner=learner)

    with django_capture_on_commit_callbacks(execute=True):
        [notification] = job_outcome_notify(job=job)

    assert mailoutbox == []
    notification.refresh_from_db()
    assert notification.emailed_at is None


def test_no_email_when_the_transaction_rolls_back(
    media_root, learner, mailoutbox, django_capture_on_commit_callbacks
):
    job = job_ready(learner=learner)

    def notify_then_lose_the_lease() -> None:
        with transaction.atomic():
            job_outcome_notify(job=job)
            raise RuntimeError("the worker lost its lease")

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            notify_then_lose_the_lease()

    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_smtp_down_is_logged_and_breaks_nothing(
    media_root, learner, settings, caplog, django_capture_on_commit_callbacks
):
    with socket.socket() as sock:  # a local port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    job = job_ready(learner=learner)

    with caplog.at_level(logging.ERROR, logger="videos.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            [notification] = job_outcome_notify(job=job)

    assert "Could not email notification" in caplog.text
    notification.refresh_from_db()
    assert notification.emailed_at is None  # a later sweep can tell it was never sent


# --- series digest -----------------------------------------------------------------------


@pytest.fixture
def digest_series(learner):
    """A digest learner's assessment with three planned jobs."""
    learner.series_digest = True
    learner.save()
    cert = certification_build(name="Cloud Foundations")
    assessment = assessment_build(
        learner=learner, certification=cert, scores={"alpha": 40, "beta": 80}
    )
    jobs = [
        video_job_build(learner=learner, assessment=assessment, video_type=kind, priority=p)
        for p, kind in [(1, "overview"), (2, "remediation"), (3, "motivational")]
    ]
    return assessment, jobs


def test_a_digest_learner_is_told_once_when_the_last_job_of_the_series_is_final(
    media_root, learner, digest_series, mailoutbox, django_capture_on_commit_callbacks
):
    _, (overview, remediation, motivational) = digest_series

    with django_capture_on_commit_callbacks(execute=True):
        assert job_outcome_notify(job=job_final(overview, status=JobStatus.READY)) == []
        assert job_outcome_notify(job=job_final(remediation, status=JobStatus.FAILED)) == []
    assert not Notification.objects.exists() and mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        [series] = job_outcome_notify(
            job=job_final(motivational, status=JobStatus.READY, title="Keep going")
        )
        # Another worker reporting an earlier job of the same series: still one message.
        assert job_outcome_notify(job=overview) == [series]

    assert list(Notification.objects.all()) == [series]
    assert series.kind == NotificationKind.SERIES_FINISHED
    assert series.title == "Your video series is ready: 2 videos ready, 1 failed"
    assert "Cloud Foundations" in series.body
    [email] = mailoutbox
    assert email.to == ["ada@example.com"] and email.subject == series.title
    assert "Keep going" in email.body and "A video" in email.body
    assert "the avatar service timed out" in email.body
    assert "http://localhost:8000/library/" in email.alternatives[0][0]


def test_a_series_without_failures_does_not_mention_them(media_root, digest_series):
    _, jobs = digest_series
    for job in jobs:
        job_final(job, status=JobStatus.READY)

    [series] = job_outcome_notify(job=jobs[-1])

    assert series.title == "Your video series is ready: 3 videos ready"


def test_a_digest_learners_job_outside_a_series_is_announced_on_its_own(
    media_root, learner, digest_series
):
    job = job_ready(learner=learner, title="Practice: subnets")

    [notification] = job_outcome_notify(job=job)

    assert notification.kind == NotificationKind.VIDEO_READY
