"""Playlist services: generated playlists from ready videos, custom playlists, progress."""

from __future__ import annotations

import pytest

from library.models import Playlist, PlaylistKind, WatchProgress
from library.playlists import (
    PlaylistError,
    learner_certifications,
    playlist_create,
    playlist_delete,
    playlist_progress,
    playlist_rename,
    playlist_reorder,
    playlist_video_add,
    playlist_video_remove,
    playlist_videos,
    playlists_generated_sync,
)
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def ready_video(learner, certification=None, video_type="overview", **fields) -> Video:
    job = video_job_build(
        learner=learner,
        certification=certification,
        video_type=video_type,
        status=fields.pop("status", JobStatus.READY),
    )
    fields.setdefault("title", f"{video_type} {job.pk}")
    return video_build(job=job, **fields)


def titles(playlist: Playlist) -> list[str]:
    return [video.title for video in playlist_videos(playlist=playlist)]


def completed(learner, video) -> None:
    WatchProgress.objects.create(
        learner=learner, video=video, seconds_watched=30, position_seconds=30, completed=True
    )


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def cert():
    return certification_build()


# --- generated playlists -----------------------------------------------------------


def test_generated_playlists_follow_the_type_sequence_then_creation(learner, cert):
    ready_video(learner, cert, "motivational", title="M")
    ready_video(learner, cert, "practice_session", title="P1")
    ready_video(learner, cert, "remediation", title="R1")
    ready_video(learner, cert, "exam_prep", title="E")
    ready_video(learner, cert, "overview", title="O")
    ready_video(learner, cert, "remediation", title="R2")
    ready_video(learner, cert, "celebration", title="C")  # in neither playlist

    complete, quick = playlists_generated_sync(learner=learner, certification=cert)

    assert complete.kind == PlaylistKind.COMPLETE_PREPARATION
    assert titles(complete) == ["O", "R1", "R2", "P1", "E", "M"]
    assert quick.kind == PlaylistKind.QUICK_REVIEW
    assert titles(quick) == ["O", "P1"]
    assert cert.name in complete.title


def test_generated_playlists_hold_only_ready_visible_own_videos_of_the_certification(learner, cert):
    ready_video(learner, cert, "overview", title="mine")
    ready_video(learner, cert, "overview", title="hidden", hidden=True)
    ready_video(learner, cert, "overview", title="failed", status=JobStatus.FAILED)
    ready_video(learner, certification_build(), "overview", title="other cert")
    ready_video(user_build(), cert, "overview", title="someone else's")

    complete, quick = playlists_generated_sync(learner=learner, certification=cert)

    assert titles(complete) == ["mine"]
    assert titles(quick) == ["mine"]


def test_generated_sync_is_idempotent_and_picks_up_changes(learner, cert):
    first = ready_video(learner, cert, "practice_session", title="P")
    playlists_generated_sync(learner=learner, certification=cert)
    complete, _ = playlists_generated_sync(learner=learner, certification=cert)
    assert Playlist.objects.filter(learner=learner).count() == 2
    assert list(complete.items.values_list("video_id", "position")) == [(first.pk, 0)]

    ready_video(learner, cert, "overview", title="O")
    first.hidden = True
    first.save()
    complete, quick = playlists_generated_sync(learner=learner, certification=cert)

    assert Playlist.objects.filter(learner=learner).count() == 2
    assert titles(complete) == ["O"]
    assert complete.items.count() == 1
    assert titles(quick) == ["O"]


def test_generated_playlists_cannot_be_renamed_edited_or_deleted(learner, cert):
    video = ready_video(learner, cert, "overview")
    complete, _ = playlists_generated_sync(learner=learner, certification=cert)

    with pytest.raises(PlaylistError, match="cannot be renamed"):
        playlist_rename(playlist=complete, title="Mine now")
    with pytest.raises(PlaylistError, match="cannot be deleted"):
        playlist_delete(playlist=complete)
    with pytest.raises(PlaylistError, match="cannot be edited"):
        playlist_video_remove(playlist=complete, video=video)
    with pytest.raises(PlaylistError, match="cannot be reordered"):
        playlist_reorder(playlist=complete, video_ids=[video.pk])
    complete.refresh_from_db()
    assert complete.title.startswith("Complete preparation")
    assert titles(complete) == [video.title]


def test_learner_certifications_come_from_assessments_and_jobs(learner, cert):
    other = certification_build()
    assessment_build(learner=learner, certification=cert, scores={"alpha": 50})
    video_job_build(learner=learner, certification=other)
    video_job_build(learner=user_build(), certification=certification_build())

    assert set(learner_certifications(learner=learner)) == {cert, other}


# --- custom playlists ---------------------------------------------------------------


def test_create_rename_and_delete_a_custom_playlist(learner):
    playlist = playlist_create(learner=learner, title="  Before   the exam ")
    assert playlist.kind == PlaylistKind.CUSTOM
    assert playlist.title == "Before the exam"

    playlist_rename(playlist=playlist, title="Night before")
    playlist.refresh_from_db()
    assert playlist.title == "Night before"

    playlist_delete(playlist=playlist)
    assert not Playlist.objects.filter(pk=playlist.pk).exists()


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_playlist_needs_a_reasonable_name(learner, title):
    with pytest.raises(PlaylistError):
        playlist_create(learner=learner, title=title)
    assert not Playlist.objects.exists()


def test_add_appends_own_videos_once(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    one = ready_video(learner, title="one")
    two = ready_video(learner, title="two")
    playlist_video_add(playlist=playlist, video=two)
    playlist_video_add(playlist=playlist, video=one)
    assert titles(playlist) == ["two", "one"]

    with pytest.raises(PlaylistError, match="already in this playlist"):
        playlist_video_add(playlist=playlist, video=one)
    assert playlist.items.count() == 2


def test_add_refuses_other_learners_hidden_and_unready_videos(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    for video in (
        ready_video(user_build()),
        ready_video(learner, hidden=True),
        ready_video(learner, status=JobStatus.RENDERING),
    ):
        with pytest.raises(PlaylistError, match="only add your own videos"):
            playlist_video_add(playlist=playlist, video=video)
    assert playlist.items.count() == 0


def test_remove_closes_the_gap(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    videos = [ready_video(learner, title=name) for name in "abc"]
    for video in videos:
        playlist_video_add(playlist=playlist, video=video)

    playlist_video_remove(playlist=playlist, video=videos[1])

    assert list(playlist.items.values_list("video__title", "position")) == [("a", 0), ("c", 1)]
    with pytest.raises(PlaylistError, match="not in this playlist"):
        playlist_video_remove(playlist=playlist, video=videos[1])


def test_reorder_takes_a_permutation_of_the_items(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    a, b, c = (ready_video(learner, title=name) for name in "abc")
    for video in (a, b, c):
        playlist_video_add(playlist=playlist, video=video)

    playlist_reorder(playlist=playlist, video_ids=[c.pk, a.pk, b.pk])

    assert titles(playlist) == ["c", "a", "b"]
    assert list(playlist.items.values_list("position", flat=True)) == [0, 1, 2]


@pytest.mark.parametrize(
    "order",
    [
        lambda a, b, c, x: [a, b],  # missing one
        lambda a, b, c, x: [a, b, c, x],  # an extra one
        lambda a, b, c, x: [a, a, b, c],  # a duplicate
        lambda a, b, c, x: [a, b, x],  # a stranger in place of one
    ],
)
def test_reorder_refuses_anything_but_a_permutation(learner, order):
    playlist = playlist_create(learner=learner, title="Mine")
    a, b, c, x = (ready_video(learner, title=name) for name in "abcx")
    for video in (a, b, c):
        playlist_video_add(playlist=playlist, video=video)

    with pytest.raises(ValueError, match="each video of the playlist exactly once"):
        playlist_reorder(playlist=playlist, video_ids=order(a.pk, b.pk, c.pk, x.pk))
    assert titles(playlist) == ["a", "b", "c"]


# --- progress -----------------------------------------------------------------------


def test_progress_counts_completed_and_points_at_the_first_unfinished(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    a, b, c = (ready_video(learner, title=name) for name in "abc")
    for video in (a, b, c):
        playlist_video_add(playlist=playlist, video=video)

    assert playlist_progress(playlist=playlist, learner=learner) == (0, 3, a)

    completed(learner, a)
    completed(learner, c)
    WatchProgress.objects.create(learner=learner, video=b, position_seconds=10)
    assert playlist_progress(playlist=playlist, learner=learner) == (2, 3, b)

    completed_b = WatchProgress.objects.get(video=b)
    completed_b.completed = True
    completed_b.save()
    assert playlist_progress(playlist=playlist, learner=learner) == (3, 3, None)


def test_progress_is_the_learners_own(learner):
    playlist = playlist_create(learner=learner, title="Mine")
    video = ready_video(learner)
    playlist_video_add(playlist=playlist, video=video)
    other = user_build()
    completed(other, video)  # not a real situation, but progress is per learner

    assert playlist_progress(playlist=playlist, learner=learner) == (0, 1, video)


def test_progress_of_an_empty_playlist(learner):
    playlist = playlist_create(learner=learner, title="Empty")
    assert playlist_progress(playlist=playlist, learner=learner) == (0, 0, None)
