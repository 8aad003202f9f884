"""/api/v1/videos: the learner's own visible videos, their media (with Range) and progress."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from library.models import WatchProgress
from presgen.models import User
from tests.builders import certification_build, user_build, video_build, video_job_build
from videos.models import JobStatus, Video, VideoJob

pytestmark = pytest.mark.django_db

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nWelcome.\n"
MP4 = bytes(range(256)) * 4  # 1024 bytes standing in for a video


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ready_video(learner: User, **fields: Any) -> Video:
    job = video_job_build(
        learner=learner,
        status=JobStatus.READY,
        video_type=fields.pop("video_type", "overview"),
        certification=fields.pop("certification", None),
    )
    return video_build(job=job, **fields)


@pytest.fixture
def cert():
    return certification_build(slug="aws-ccp", domains={"networking": 60, "security": 40})


@pytest.fixture
def video(media_root, learner: User, cert) -> Video:
    return ready_video(
        learner,
        title="Networking: a first look",
        video_type="remediation",
        certification=cert,
        domain=cert.domains.get(slug="networking"),
        file=ContentFile(MP4, name="clip.mp4"),
        captions=ContentFile(VTT.encode(), name="captions.vtt"),
        thumbnail=ContentFile(b"\xff\xd8\xff\xe0", name="thumb.jpg"),
        duration_seconds=30,
        size_bytes=len(MP4),
    )


# --- list and detail ----------------------------------------------------------------------


def test_the_list_shows_the_learners_visible_videos_newest_first(api, learner, video, cert):
    newer = ready_video(learner, title="Practice", video_type="practice_session")
    ready_video(learner, title="Hidden by staff", hidden=True)
    ready_video(user_build(), title="Someone else's")

    listed = rows(api.get("/api/v1/videos"))

    assert [row["title"] for row in listed] == ["Practice", "Networking: a first look"]
    assert listed[0]["id"] == newer.pk
    detail = listed[1]
    assert detail["type"] == "remediation"
    assert detail["domain"] == {
        "slug": "networking",
        "name": "Networking",
        "certification": "aws-ccp",
    }
    assert detail["certification"] == {"slug": "aws-ccp", "name": cert.name}
    assert detail["duration_seconds"] == 30
    assert detail["size_bytes"] == len(MP4)
    assert detail["progress"] == {
        "position_seconds": 0.0,
        "seconds_watched": 0.0,
        "completed": False,
        "completed_at": None,
        "state": "not_started",
    }
    base = f"http://testserver/api/v1/videos/{video.pk}"
    assert detail["url"] == base
    assert detail["file"] == f"{base}/file"
    assert detail["captions"] == f"{base}/captions"
    assert detail["thumbnail"] == f"{base}/thumbnail"
    # A video without captions or a thumbnail says so instead of linking to a 404.
    assert listed[0]["captions"] is None
    assert listed[0]["thumbnail"] is None


def test_the_detail_has_the_learners_progress(api, learner, video):
    WatchProgress.objects.create(
        learner=learner, video=video, position_seconds=12.5, seconds_watched=10
    )
    # Another learner's progress row on the same video (impossible in the portal) is not shown.
    WatchProgress.objects.create(
        learner=user_build(), video=video, position_seconds=29, seconds_watched=29, completed=True
    )

    response = api.get(f"/api/v1/videos/{video.pk}")

    assert response.status_code == 200
    assert response.json()["progress"]["position_seconds"] == 12.5
    assert response.json()["progress"]["seconds_watched"] == 10
    assert response.json()["progress"]["state"] == "in_progress"
    assert response.json()["progress"]["completed"] is False


def test_filters_by_type_domain_certification_and_watched(api, learner, video, cert):
    other_cert = certification_build(domains={"networking": 100})
    elsewhere = ready_video(
        learner,
        title="Other cert",
        video_type="remediation",
        certification=other_cert,
        domain=other_cert.domains.get(),
    )
    practice = ready_video(learner, title="Practice", video_type="practice_session")
    done = ready_video(learner, title="Done", video_type="overview")
    WatchProgress.objects.create(learner=learner, video=done, seconds_watched=30, completed=True)
    WatchProgress.objects.create(learner=learner, video=practice, position_seconds=3)

    def titles(query: str) -> set[str]:
        return {row["title"] for row in rows(api.get(f"/api/v1/videos?{query}"))}

    assert titles("type=practice_session") == {"Practice"}
    assert titles("domain=networking") == {video.title, elsewhere.title}
    assert titles("domain=networking&certification=aws-ccp") == {video.title}
    assert titles("watched=true") == {"Done"}
    assert titles("watched=in_progress") == {"Practice"}
    assert titles("watched=not_started") == {video.title, elsewhere.title}
    assert titles("watched=false") == {video.title, elsewhere.title, "Practice"}
    assert titles("type=overview&watched=false") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=cartoon", "type"),
        ("watched=maybe", "watched"),
        ("domain=not%20a%20slug", "domain"),
        ("learner=abc", "learner"),
    ],
)
def test_bad_filters_are_400_with_the_field_named(api, video, query, field):
    response = api.get(f"/api/v1/videos?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_another_learners_hidden_or_missing_video_is_404(api, learner, video):
    hidden = ready_video(learner, hidden=True)
    theirs = ready_video(user_build())

    for pk in (hidden.pk, theirs.pk, 999_999, "abc"):
        response = api.get(f"/api/v1/videos/{pk}")
        assert response.status_code == 404, pk
        assert response.json()["error"]["code"] == "not_found"


def test_without_credentials_it_is_401(video):
    response = APIClient().get("/api/v1/videos")

    assert response.status_code == 401
    assert response["WWW-Authenticate"]


def test_a_staff_service_may_read_a_named_learners_videos(token_client, video, learner):
    staff = token_client(user_build(is_staff=True), scope="staff")

    listed = rows(staff.get(f"/api/v1/videos?learner={learner.pk}"))
    assert [row["id"] for row in listed] == [video.pk]
    assert staff.get(f"/api/v1/videos/{video.pk}?learner={learner.pk}").status_code == 200
    # Without naming the learner the service acts for its own (empty) library.
    assert rows(staff.get("/api/v1/videos")) == []
    assert staff.get(f"/api/v1/videos/{video.pk}").status_code == 404


def test_a_learner_cannot_name_another_learner(api, video):
    other = user_build()
    ready_video(other)

    assert api.get(f"/api/v1/videos?learner={other.pk}").status_code == 404


def test_a_staff_users_learner_scoped_token_is_only_a_learner(token_client, video, learner):
    staff_as_learner = token_client(user_build(is_staff=True), scope="learner")

    assert staff_as_learner.get(f"/api/v1/videos?learner={learner.pk}").status_code == 404


def test_the_list_uses_the_same_number_of_queries_for_5_and_500_videos(api, learner, cert):
    domain = cert.domains.get(slug="networking")

    def add(count: int) -> None:
        jobs = VideoJob.objects.bulk_create(
            VideoJob(learner=learner, video_type="remediation", status="ready", certification=cert)
            for _ in range(count)
        )
        videos = Video.objects.bulk_create(
            Video(
                job=job,
                learner=learner,
                video_type="remediation",
                title=f"Video {job.pk}",
                domain=domain,
                file=f"videos/{job.pk}.mp4",
                captions=f"videos/{job.pk}.vtt",
                duration_seconds=60,
                size_bytes=1000,
                width=1280,
                height=720,
            )
            for job in jobs
        )
        WatchProgress.objects.bulk_create(
            WatchProgress(learner=learner, video=video, position_seconds=5) for video in videos[::2]
        )

    def queries() -> tuple[int, int]:
        api.get("/api/v1/videos?page_size=100")  # warm up: the token's last use is noted once
        with CaptureQueriesContext(connection) as captured:
            response = api.get("/api/v1/videos?page_size=100&watched=false")
        return len(captured), len(response.json()["results"])

    add(5)
    few, few_rows = queries()
    add(495)
    many, many_rows = queries()

    assert (few_rows, many_rows) == (5, 100)
    assert few == many


# --- media -----------------------------------------------------------------------------------


def test_the_file_streams_whole_and_by_range_with_a_token(api, video):
    whole = api.get(f"/api/v1/videos/{video.pk}/file", HTTP_ACCEPT="video/mp4")

    assert whole.status_code == 200
    assert whole["Content-Type"] == "video/mp4"
    assert whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == MP4

    part = api.get(f"/api/v1/videos/{video.pk}/file", HTTP_RANGE="bytes=100-199")

    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(MP4)}"
    assert b"".join(part.streaming_content) == MP4[100:200]

    past_the_end = api.get(f"/api/v1/videos/{video.pk}/file", HTTP_RANGE="bytes=5000-")

    assert past_the_end.status_code == 416
    assert past_the_end["Content-Range"] == f"bytes */{len(MP4)}"


def test_head_answers_the_size_without_a_body(api, video):
    response = api.head(f"/api/v1/videos/{video.pk}/file")

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(MP4))
    assert response.content == b""


def test_captions_and_thumbnail_have_their_types(api, video):
    captions = api.get(f"/api/v1/videos/{video.pk}/captions")
    thumbnail = api.get(f"/api/v1/videos/{video.pk}/thumbnail")

    assert captions.status_code == 200
    assert captions["Content-Type"] == "text/vtt; charset=utf-8"
    assert b"".join(captions.streaming_content).decode() == VTT
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"


def test_a_download_is_an_attachment_and_is_counted(api, learner, video):
    response = api.get(f"/api/v1/videos/{video.pk}/file?download=1")

    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert 'attachment; filename="networking-a-first-look.mp4"' in response["Content-Disposition"]
    assert WatchProgress.objects.get(learner=learner, video=video).downloads == 1


def test_missing_media_is_404_in_the_api_error_shape(api, learner, media_root):
    bare = ready_video(learner)  # no captions, no thumbnail

    for kind in ("captions", "thumbnail"):
        response = api.get(f"/api/v1/videos/{bare.pk}/{kind}")
        assert response.status_code == 404
        assert response.json()["error"]["status"] == 404


def test_media_without_credentials_is_401(video):
    assert APIClient().get(f"/api/v1/videos/{video.pk}/file").status_code == 401


# --- progress --------------------------------------------------------------------------------


def test_a_progress_save_records_position_and_watched_seconds(api, learner, video):
    response = api.post(
        f"/api/v1/videos/{video.pk}/progress", {"position_seconds": 12, "seconds_watched": 8}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["video"], body["position_seconds"], body["seconds_watched"]) == (video.pk, 12, 8)
    assert body["completed"] is False
    saved = WatchProgress.objects.get(learner=learner, video=video)
    assert (saved.position_seconds, saved.seconds_watched) == (12, 8)


def test_watching_nearly_all_of_it_completes_the_video(api, video):
    url = f"/api/v1/videos/{video.pk}/progress"
    api.put(url, {"position_seconds": 15, "seconds_watched": 15})

    response = api.put(url, {"position_seconds": 30, "seconds_watched": 15})

    assert response.status_code == 200
    assert response.json()["completed"] is True
    assert response.json()["completed_at"]
    assert [row["title"] for row in rows(api.get("/api/v1/videos?watched=true"))] == [video.title]


def test_a_claimed_watch_time_beyond_what_could_have_played_is_capped(api, video):
    response = api.post(
        f"/api/v1/videos/{video.pk}/progress", {"position_seconds": 30, "seconds_watched": 30}
    )

    assert response.status_code == 200
    assert response.json()["position_seconds"] == 30
    assert response.json()["seconds_watched"] < 30  # a fresh row credits at most its slack
    assert response.json()["completed"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "position_seconds"),
        ({"position_seconds": "soon"}, "position_seconds"),
        ({"position_seconds": "NaN"}, "position_seconds"),
        ({"position_seconds": 3, "seconds_watched": -1}, "seconds_watched"),
        ({"position_seconds": 3, "seconds_watched": "Infinity"}, "seconds_watched"),
    ],
)
def test_bad_progress_is_400_and_saves_nothing(api, learner, video, payload, field):
    response = api.post(f"/api/v1/videos/{video.pk}/progress", payload)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not WatchProgress.objects.filter(learner=learner, video=video).exists()


# --- another learner, every method ------------------------------------------------------------


def test_another_learner_gets_404_on_every_video_endpoint_and_changes_nothing(other_api, video):
    intruder = other_api
    base = f"/api/v1/videos/{video.pk}"
    attempts = [
        ("get", base, None),
        ("get", f"{base}/file", None),
        ("head", f"{base}/file", None),
        ("get", f"{base}/captions", None),
        ("get", f"{base}/thumbnail", None),
        ("post", f"{base}/progress", {"position_seconds": 5, "seconds_watched": 5}),
        ("put", f"{base}/progress", {"position_seconds": 5, "seconds_watched": 5}),
    ]

    for method, url, data in attempts:
        response = getattr(intruder, method)(url, data) if data else getattr(intruder, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)

    assert not WatchProgress.objects.filter(video=video).exists()
