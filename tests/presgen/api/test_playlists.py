"""/api/v1/playlists: listing (generated ones too), create, rename, delete, reorder, add, remove."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from library.models import Playlist, PlaylistItem, WatchProgress
from library.playlists import playlist_create, playlist_video_add
from presgen.models import User
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video

pytestmark = pytest.mark.django_db


def ready_video(learner: User, title: str, **fields: Any) -> Video:
    job = video_job_build(
        learner=learner,
        status=JobStatus.READY,
        video_type=fields.pop("video_type", "overview"),
        certification=fields.pop("certification", None),
    )
    return video_build(job=job, title=title, **fields)


def error(response: Any) -> str:
    return response.json()["error"]["message"]


@pytest.fixture
def videos(media_root, learner: User) -> list[Video]:
    return [ready_video(learner, title) for title in ("One", "Two", "Three")]


@pytest.fixture
def mine(learner: User, videos: list[Video]) -> Playlist:
    playlist = playlist_create(learner=learner, title="Before the exam")
    for video in videos:
        playlist_video_add(playlist=playlist, video=video)
    return playlist


def titles(playlist: dict[str, Any]) -> list[str]:
    return [video["title"] for video in playlist["videos"]]


# --- reading --------------------------------------------------------------------------------


def test_the_list_has_the_generated_playlists_and_the_learners_own(api, learner, media_root):
    cert = certification_build(name="AWS CCP")
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40, "beta": 80})
    overview = ready_video(learner, "Overview", certification=cert)
    practice = ready_video(learner, "Practice", video_type="practice_session", certification=cert)
    WatchProgress.objects.create(learner=learner, video=overview, completed=True)
    playlist_create(learner=learner, title="Mine")
    playlist_create(learner=user_build(), title="Someone else's")

    response = api.get("/api/v1/playlists")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    by_title = {row["title"]: row for row in body["results"]}
    assert set(by_title) == {"Complete preparation: AWS CCP", "Quick review: AWS CCP", "Mine"}
    quick = by_title["Quick review: AWS CCP"]
    assert quick["generated"] is True
    assert quick["kind"] == "quick_review"
    assert quick["certification"] == {"slug": cert.slug, "name": "AWS CCP"}
    assert [v["id"] for v in quick["videos"]] == [overview.pk, practice.pk]
    assert [v["completed"] for v in quick["videos"]] == [True, False]
    assert (quick["video_count"], quick["completed_count"]) == (2, 1)
    assert by_title["Mine"]["generated"] is False
    assert by_title["Mine"]["videos"] == []


def test_the_detail_lists_the_visible_videos_in_order(api, mine, videos):
    videos[1].hidden = True
    videos[1].save()

    response = api.get(f"/api/v1/playlists/{mine.pk}")

    assert response.status_code == 200
    assert titles(response.json()) == ["One", "Three"]
    assert response.json()["videos"][0]["url"] == f"http://testserver/api/v1/videos/{videos[0].pk}"


def test_the_list_uses_the_same_number_of_queries_for_2_and_12_playlists(api, learner, videos):
    def add(count: int) -> None:
        for n in range(count):
            playlist = playlist_create(learner=learner, title=f"List {n}")
            for video in videos:
                playlist_video_add(playlist=playlist, video=video)

    def queries() -> int:
        api.get("/api/v1/playlists")  # warm up: the token's last use is noted once
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/playlists")
        assert response.status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(10)
    many = queries()

    assert few == many


# --- creating and renaming ---------------------------------------------------------------------


def test_create_makes_a_custom_playlist(api, learner):
    response = api.post("/api/v1/playlists", {"title": "  Weekend   review "})

    assert response.status_code == 201
    assert response.json()["title"] == "Weekend review"
    assert response.json()["generated"] is False
    assert Playlist.objects.get(pk=response.json()["id"]).learner == learner


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"title": "   "}, "Give the playlist a name."),
        ({"title": ""}, "may not be blank"),
        ({"title": "x" * 201}, "no more than 200 characters"),
        ({"title": None}, "may not be null"),
    ],
)
def test_a_bad_name_is_400_and_creates_nothing(api, learner, payload, message):
    response = api.post("/api/v1/playlists", payload)

    assert response.status_code == 400
    assert message in response.json()["error"]["fields"]["title"][0]
    assert not Playlist.objects.filter(learner=learner).exists()


def test_a_missing_name_is_a_field_error(api):
    response = api.post("/api/v1/playlists", {})

    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_rename(api, mine, method):
    blank = getattr(api, method)(f"/api/v1/playlists/{mine.pk}", {"title": " "})
    assert blank.status_code == 400

    response = getattr(api, method)(f"/api/v1/playlists/{mine.pk}", {"title": "Final week"})

    assert response.status_code == 200
    assert response.json()["title"] == "Final week"
    mine.refresh_from_db()
    assert mine.title == "Final week"


def test_a_patch_without_a_title_changes_nothing(api, mine):
    response = api.patch(f"/api/v1/playlists/{mine.pk}", {})

    assert response.status_code == 200
    assert response.json()["title"] == "Before the exam"


def test_a_put_needs_the_title(api, mine):
    response = api.put(f"/api/v1/playlists/{mine.pk}", {})

    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]


def test_delete(api, mine):
    response = api.delete(f"/api/v1/playlists/{mine.pk}")

    assert response.status_code == 204
    assert not Playlist.objects.filter(pk=mine.pk).exists()


# --- order and contents ----------------------------------------------------------------------


def test_reorder(api, mine, videos):
    order = [videos[2].pk, videos[0].pk, videos[1].pk]

    response = api.post(f"/api/v1/playlists/{mine.pk}/reorder", {"video_ids": order})

    assert response.status_code == 200
    assert titles(response.json()) == ["Three", "One", "Two"]
    assert list(mine.items.order_by("position").values_list("video_id", flat=True)) == order


@pytest.mark.parametrize(
    "order",
    [
        lambda v: [v[0].pk, v[1].pk],  # one missing
        lambda v: [v[0].pk, v[0].pk, v[1].pk, v[2].pk],  # twice
        lambda v: [v[0].pk, v[1].pk, 999_999],  # not in it
    ],
)
def test_a_bad_order_is_400_and_changes_nothing(api, mine, videos, order):
    response = api.post(f"/api/v1/playlists/{mine.pk}/reorder", {"video_ids": order(videos)})

    assert response.status_code == 400
    assert "exactly once" in error(response)
    assert [v.pk for v in videos] == list(
        mine.items.order_by("position").values_list("video_id", flat=True)
    )


def test_a_malformed_order_is_a_field_error(api, mine):
    response = api.post(f"/api/v1/playlists/{mine.pk}/reorder", {"video_ids": "1,2,3"})

    assert response.status_code == 400
    assert "video_ids" in response.json()["error"]["fields"]


def test_add_and_remove_a_video(api, learner, mine, videos):
    extra = ready_video(learner, "Four")

    added = api.post(f"/api/v1/playlists/{mine.pk}/videos", {"video_id": extra.pk})

    assert added.status_code == 201
    assert titles(added.json()) == ["One", "Two", "Three", "Four"]

    removed = api.delete(f"/api/v1/playlists/{mine.pk}/videos/{videos[1].pk}")

    assert removed.status_code == 204
    assert titles(api.get(f"/api/v1/playlists/{mine.pk}").json()) == ["One", "Three", "Four"]


def test_adding_a_video_twice_is_400(api, mine, videos):
    response = api.post(f"/api/v1/playlists/{mine.pk}/videos", {"video_id": videos[0].pk})

    assert response.status_code == 400
    assert "already in this playlist" in error(response)
    assert mine.items.count() == 3


def test_another_learners_video_cannot_be_added_and_is_answered_like_a_missing_one(api, mine):
    theirs = ready_video(user_build(), "Theirs")

    for video_id in (theirs.pk, 999_999):
        response = api.post(f"/api/v1/playlists/{mine.pk}/videos", {"video_id": video_id})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"video_id": ["No such video."]}
    assert mine.items.count() == 3


def test_removing_a_video_that_is_not_in_it_is_400(api, learner, mine):
    elsewhere = ready_video(learner, "Elsewhere")

    response = api.delete(f"/api/v1/playlists/{mine.pk}/videos/{elsewhere.pk}")

    assert response.status_code == 400
    assert "is not in this playlist" in error(response)


# --- generated playlists refuse edits ------------------------------------------------------


def test_a_generated_playlist_refuses_every_edit_with_400(api, learner, media_root):
    cert = certification_build(name="AWS CCP")
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40})
    video = ready_video(learner, "Overview", certification=cert)
    extra = ready_video(learner, "Extra")
    generated = {row["kind"]: row for row in api.get("/api/v1/playlists").json()["results"]}
    pk = generated["quick_review"]["id"]
    base = f"/api/v1/playlists/{pk}"

    answers = [
        api.put(base, {"title": "Mine now"}),
        api.patch(base, {"title": "Mine now"}),
        api.delete(base),
        api.post(f"{base}/reorder", {"video_ids": [video.pk]}),
        api.post(f"{base}/videos", {"video_id": extra.pk}),
        api.delete(f"{base}/videos/{video.pk}"),
    ]

    for response in answers:
        assert response.status_code == 400, response.content
        assert "is made for you and kept up to date" in error(response)
    playlist = Playlist.objects.get(pk=pk)
    assert playlist.title == "Quick review: AWS CCP"
    assert list(playlist.items.values_list("video_id", flat=True)) == [video.pk]


# --- another learner, every method -----------------------------------------------------------


def test_another_learner_gets_404_on_every_playlist_endpoint_and_changes_nothing(
    other_learner, other_api, mine, videos
):
    intruder = other_api
    own_video = ready_video(other_learner, "Intruder's")
    base = f"/api/v1/playlists/{mine.pk}"
    answers = {
        "GET": intruder.get(base),
        "PUT": intruder.put(base, {"title": "Taken"}),
        "PATCH": intruder.patch(base, {"title": "Taken"}),
        "DELETE": intruder.delete(base),
        "POST reorder": intruder.post(f"{base}/reorder", {"video_ids": [v.pk for v in videos]}),
        "POST videos": intruder.post(f"{base}/videos", {"video_id": own_video.pk}),
        "DELETE videos": intruder.delete(f"{base}/videos/{videos[0].pk}"),
    }

    for name, response in answers.items():
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] == "not_found"
    mine.refresh_from_db()
    assert mine.title == "Before the exam"
    assert list(mine.items.order_by("position").values_list("video_id", flat=True)) == [
        v.pk for v in videos
    ]
    assert not PlaylistItem.objects.filter(video=own_video).exists()


def test_a_staff_service_may_manage_a_named_learners_playlist(service_api, mine, learner):
    staff = service_api

    response = staff.patch(f"/api/v1/playlists/{mine.pk}?learner={learner.pk}", {"title": "Set"})

    assert response.status_code == 200
    assert staff.get(f"/api/v1/playlists/{mine.pk}").status_code == 404  # not without naming
