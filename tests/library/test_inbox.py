"""The learner's notifications: listing, counting unread, marking read (library/inbox.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from library.inbox import notification_list, notification_mark_read, notification_unread_count
from library.models import Notification, NotificationKind
from tests.builders import user_build, video_build, video_job_build
from videos.models import JobStatus
from videos.notifications import job_outcome_notify

pytestmark = pytest.mark.django_db


def notice(learner, title="Your video is ready", *, age_minutes=0, read=False, **fields):
    """A notification created `age_minutes` ago (read now when `read`)."""
    fields.setdefault("kind", NotificationKind.VIDEO_READY)
    created = Notification.objects.create(learner=learner, title=title, **fields)
    when = timezone.now() - timedelta(minutes=age_minutes)
    Notification.objects.filter(pk=created.pk).update(
        created_at=when, read_at=timezone.now() if read else None
    )
    created.refresh_from_db()
    return created


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def other():
    return user_build()


def test_list_is_the_learners_own_newest_first(learner, other):
    old = notice(learner, "old", age_minutes=30)
    new = notice(learner, "new", age_minutes=1)
    middle = notice(learner, "middle", age_minutes=10, read=True)
    notice(other, "someone else's")

    assert list(notification_list(learner=learner)) == [new, middle, old]


def test_list_unread_only_leaves_out_read_ones(learner):
    unread = notice(learner, "unread", age_minutes=5)
    notice(learner, "read", read=True)

    assert list(notification_list(learner=learner, unread_only=True)) == [unread]


def test_list_of_a_learner_with_none_is_empty(learner, other):
    notice(other)

    assert list(notification_list(learner=learner)) == []


def test_unread_count_counts_only_the_learners_unread(learner, other):
    notice(learner)
    notice(learner)
    notice(learner, read=True)
    notice(other)

    assert notification_unread_count(learner=learner) == 2
    assert notification_unread_count(learner=other) == 1


def test_mark_read_by_ids_marks_just_those(learner):
    first, second, third = notice(learner), notice(learner), notice(learner)

    changed = notification_mark_read(learner=learner, notification_ids=[first.pk, third.pk])

    assert changed == 2
    assert notification_unread_count(learner=learner) == 1
    assert list(notification_list(learner=learner, unread_only=True)) == [second]


def test_mark_read_ignores_other_learners_ids(learner, other):
    mine = notice(learner)
    theirs = notice(other)

    changed = notification_mark_read(learner=learner, notification_ids=[mine.pk, theirs.pk])

    assert changed == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notification_unread_count(learner=other) == 1


def test_mark_read_ignores_ids_that_do_not_exist(learner):
    mine = notice(learner)

    assert notification_mark_read(learner=learner, notification_ids=[mine.pk + 1000]) == 0
    assert notification_unread_count(learner=learner) == 1


def test_mark_read_with_no_ids_marks_all_the_learners_unread(learner, other):
    notice(learner)
    notice(learner)
    notice(learner, read=True)
    notice(other)

    assert notification_mark_read(learner=learner) == 2
    assert notification_unread_count(learner=learner) == 0
    assert notification_unread_count(learner=other) == 1


def test_mark_read_with_an_empty_list_marks_nothing(learner):
    notice(learner)

    assert notification_mark_read(learner=learner, notification_ids=[]) == 0
    assert notification_unread_count(learner=learner) == 1


def test_mark_read_again_changes_nothing_and_keeps_the_first_read_time(learner):
    read_yesterday = notice(learner)
    yesterday = timezone.now() - timedelta(days=1)
    Notification.objects.filter(pk=read_yesterday.pk).update(read_at=yesterday)
    unread = notice(learner)

    assert notification_mark_read(learner=learner, notification_ids=[unread.pk]) == 1
    unread.refresh_from_db()
    first_read_at = unread.read_at

    assert notification_mark_read(learner=learner, notification_ids=[unread.pk]) == 0
    assert notification_mark_read(learner=learner) == 0
    unread.refresh_from_db()
    read_yesterday.refresh_from_db()
    assert unread.read_at == first_read_at
    assert read_yesterday.read_at == yesterday


def test_a_ready_video_shows_up_unread_in_the_list(learner, media_root):
    job = video_job_build(learner=learner, status=JobStatus.READY)
    video = video_build(job=job, title="Networking basics")

    job_outcome_notify(job=job)

    assert notification_unread_count(learner=learner) == 1
    (made,) = notification_list(learner=learner, unread_only=True)
    assert "Networking basics" in made.title
    assert made.url == reverse("portal:video_player", args=[video.pk])
