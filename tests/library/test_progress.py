from datetime import timedelta

import pytest
from django.utils import timezone

from library.models import WatchProgress
from library.progress import (
    MAX_PLAYBACK_RATE,
    SAVE_SLACK_SECONDS,
    watch_download_count,
    watch_progress_record,
    watch_seconds_cap,
)
from tests.builders import user_build, video_build, video_job_build

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0)


@pytest.fixture
def video(media_root):
    return video_build(job=video_job_build(learner=user_build()), duration_seconds=100)


def record(video, *, at: float, position: float, watched: float) -> WatchProgress:
    """One save `at` seconds after START."""
    return watch_progress_record(
        learner=video.learner,
        video=video,
        position_seconds=position,
        seconds_watched_delta=watched,
        now=START + timedelta(seconds=at),
    )


def test_a_first_save_creates_the_row_with_position_and_watched_seconds(video):
    progress = record(video, at=0, position=4.5, watched=4.5)
    stored = WatchProgress.objects.get(learner=video.learner, video=video)
    assert (stored.position_seconds, stored.seconds_watched) == (4.5, 4.5)
    assert stored.pk == progress.pk and stored.updated_at == START
    assert not stored.completed and stored.completed_at is None


def test_a_client_claiming_1000_seconds_in_one_5_second_save_is_capped(video):
    record(video, at=0, position=5, watched=5)
    progress = record(video, at=5, position=10, watched=1000)
    cap = (5 + SAVE_SLACK_SECONDS) * MAX_PLAYBACK_RATE
    assert progress.seconds_watched == 5 + cap
    assert cap < 95  # so the claim did not complete a 100-second video
    assert not progress.completed


def test_the_first_save_of_a_new_row_gets_only_the_slack(video):
    progress = record(video, at=0, position=3, watched=1000)
    assert progress.seconds_watched == watch_seconds_cap(elapsed_seconds=0)


def test_dragging_to_the_end_does_not_complete_the_video(video):
    record(video, at=0, position=5, watched=5)
    progress = record(video, at=6, position=100, watched=0)
    assert progress.position_seconds == 100
    assert not progress.completed and progress.completed_at is None


def test_completion_needs_95_percent_actually_watched_and_is_stamped_once(video):
    at = 0
    progress = record(video, at=at, position=10, watched=10)
    for _ in range(8):  # 90 seconds watched, 10 s of wall time per save
        at += 10
        progress = record(video, at=at, position=progress.position_seconds + 10, watched=10)
    assert progress.seconds_watched == 90 and not progress.completed
    at += 4
    progress = record(video, at=at, position=94, watched=4)
    assert progress.seconds_watched == 94 and not progress.completed
    at += 1
    progress = record(video, at=at, position=95, watched=1)
    completed_at = START + timedelta(seconds=at)
    assert progress.completed and progress.completed_at == completed_at
    at += 10
    again = record(video, at=at, position=5, watched=5)  # watching it again later
    stored = WatchProgress.objects.get(pk=progress.pk)
    assert again.completed and stored.completed and stored.completed_at == completed_at
    assert stored.position_seconds == 5


@pytest.mark.parametrize(
    ("position", "expected"), [(-5, 0), (0, 0), (42.5, 42.5), (100, 100), (10**9, 100)]
)
def test_the_position_is_clamped_to_the_video(video, position, expected):
    assert record(video, at=0, position=position, watched=0).position_seconds == expected


def test_a_negative_watched_delta_adds_nothing(video):
    record(video, at=0, position=5, watched=5)
    assert record(video, at=5, position=5, watched=-50).seconds_watched == 5


@pytest.mark.parametrize(
    ("position", "watched"), [(float("nan"), 1), (1, float("inf")), (float("-inf"), 0)]
)
def test_non_finite_numbers_are_refused(video, position, watched):
    with pytest.raises(ValueError, match="finite"):
        record(video, at=0, position=position, watched=watched)
    assert not WatchProgress.objects.exists()


def test_progress_is_per_learner(media_root):
    job = video_job_build(learner=user_build())
    video = video_build(job=job, duration_seconds=10)
    other = user_build()
    watch_progress_record(learner=other, video=video, position_seconds=3, seconds_watched_delta=3)
    assert WatchProgress.objects.get().learner == other
    assert not WatchProgress.objects.filter(learner=video.learner).exists()


def test_a_download_counts_and_leaves_the_watch_clock_alone(video):
    record(video, at=0, position=5, watched=5)
    watch_download_count(learner=video.learner, video=video)
    watch_download_count(learner=video.learner, video=video)
    stored = WatchProgress.objects.get()
    assert stored.downloads == 2 and stored.updated_at == START


def test_a_download_before_any_watching_creates_the_row(video):
    watch_download_count(learner=video.learner, video=video)
    stored = WatchProgress.objects.get()
    assert (stored.downloads, stored.seconds_watched, stored.completed) == (1, 0, False)
