"""/api/v1/me: the caller's profile, their data export and deleting the account."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from library.models import WatchProgress
from presgen.models import User
from tests.builders import user_build, video_build, video_job_build
from videos.models import JobStatus, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner() -> User:
    return user_build(username="ada", email="ada@example.com", display_name="Ada")


PROFILE_FIELDS = [
    "display_name",
    "experience_level",
    "learning_styles",
    "preferred_pace",
    "preferred_avatar",
    "preferred_voice",
    "time_zone",
    "email_notifications",
    "series_digest",
]


def profile(user: User) -> dict[str, Any]:
    user.refresh_from_db()
    return {name: getattr(user, name) for name in PROFILE_FIELDS}


def test_get_the_profile(api, learner):
    response = api.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": learner.pk,
        "username": "ada",
        "email": "ada@example.com",
        "display_name": "Ada",
        "experience_level": "1-3",
        "learning_styles": [],
        "preferred_pace": "normal",
        "preferred_avatar": "professional_instructor",
        "preferred_voice": "joe",
        "time_zone": "UTC",
        "email_notifications": True,
        "series_digest": False,
    }


def test_patch_changes_only_the_fields_sent(api, learner):
    response = api.patch(
        "/api/v1/me",
        {
            "display_name": "Ada L.",
            "learning_styles": ["visual", "hands_on", "visual"],
            "preferred_pace": "slow",
            "time_zone": "Europe/London",
            "series_digest": True,
        },
    )

    assert response.status_code == 200
    assert response.json()["learning_styles"] == ["visual", "hands_on"]
    assert profile(learner) == {
        "display_name": "Ada L.",
        "experience_level": "1-3",
        "learning_styles": ["visual", "hands_on"],
        "preferred_pace": "slow",
        "preferred_avatar": "professional_instructor",
        "preferred_voice": "joe",
        "time_zone": "Europe/London",
        "email_notifications": True,
        "series_digest": True,
    }


def test_username_and_email_cannot_be_changed_here(api, learner):
    response = api.patch("/api/v1/me", {"username": "root", "email": "root@example.com"})

    assert response.status_code == 200
    learner.refresh_from_db()
    assert (learner.username, learner.email) == ("ada", "ada@example.com")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"learning_styles": ["telepathy"]}, "learning_styles[0]"),
        ({"learning_styles": "visual"}, "learning_styles"),
        ({"experience_level": "ancient"}, "experience_level"),
        ({"preferred_pace": "warp"}, "preferred_pace"),
        ({"display_name": "x" * 121}, "display_name"),
        ({"preferred_avatar": ""}, "preferred_avatar"),
        ({"preferred_voice": "v" * 65}, "preferred_voice"),
        ({"email_notifications": "sometimes"}, "email_notifications"),
    ],
)
def test_bad_input_is_400_with_the_field_and_changes_nothing(api, learner, payload, field):
    before = profile(learner)

    response = api.patch("/api/v1/me", {"display_name": "Changed", **payload})

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"], response.json()
    assert profile(learner) == before


def test_me_needs_credentials():
    client = APIClient()

    assert client.get("/api/v1/me").status_code == 401
    assert client.patch("/api/v1/me", {"display_name": "x"}).status_code == 401
    assert client.delete("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me/export").status_code == 401


def test_the_export_is_a_zip_of_the_callers_own_data(api, learner, media_root):
    job = video_job_build(learner=learner, status=JobStatus.READY)
    video = video_build(job=job, title="Mine", file=ContentFile(b"my-mp4", name="v.mp4"))
    WatchProgress.objects.create(learner=learner, video=video, position_seconds=3)
    other = user_build(username="grace")
    video_build(job=video_job_build(learner=other, status=JobStatus.READY), title="Theirs")

    response = api.get("/api/v1/me/export", HTTP_ACCEPT="application/zip")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="presgen-export-ada-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("profile.json"))["username"] == "ada"
    assert [v["title"] for v in json.loads(archive.read("videos.json"))] == ["Mine"]
    assert b"grace" not in b"".join(archive.read(name) for name in archive.namelist())


def test_delete_removes_the_account_and_its_token_stops_working(api, learner, media_root):
    video_build(job=video_job_build(learner=learner, status=JobStatus.READY))
    bystander = user_build()
    video_build(job=video_job_build(learner=bystander, status=JobStatus.READY))

    response = api.delete("/api/v1/me")

    assert response.status_code == 204
    assert not User.objects.filter(pk=learner.pk).exists()
    assert not Video.objects.filter(learner_id=learner.pk).exists()
    assert Video.objects.filter(learner=bystander).count() == 1
    assert api.get("/api/v1/me").status_code == 401
