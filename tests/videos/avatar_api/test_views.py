from __future__ import annotations

import io
import json
import random
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.builders import user_build, video_build, video_job_build
from videos.avatar_api.services import PARAMETER_KEYS, token_id_for
from videos.models import AttemptStatus, GenerationAttempt, JobStatus, VideoJob

pytestmark = pytest.mark.django_db

API = "/api/v1/avatar"
SCRIPT = "# Welcome\n\nHello and welcome. This short video shows the API at work."


def _client(user=None) -> tuple[APIClient, Token]:
    token = Token.objects.create(user=user or user_build())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client, token


@pytest.fixture
def api(media_root) -> tuple[APIClient, Token]:
    return _client()


def _image(*, size=(320, 320), fmt="PNG", noise=False) -> io.BytesIO:
    if noise:  # incompressible: the file is about width * height * 3 bytes
        rng = random.Random(7)
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 160, 120))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    buffer.seek(0)
    buffer.name = f"portrait.{fmt.lower()}"
    return buffer


def _create(client: APIClient, **payload):
    payload.setdefault("script_content", SCRIPT)
    return client.post(f"{API}/videos", payload, format="json")


# --- authentication and ownership ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/videos"),
        ("get", "/videos/1"),
        ("get", "/videos/1/download"),
        ("post", "/videos/1/cancel"),
        ("get", "/videos/1/metrics"),
        ("get", "/models"),
        ("get", "/voices"),
        ("post", "/custom"),
    ],
)
def test_every_endpoint_needs_a_token(method, path):
    response = getattr(APIClient(), method)(f"{API}{path}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_refused_and_drfs_token_keyword_also_works(api):
    _, token = api
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert wrong.get(f"{API}/models").status_code == 401
    drf_style = APIClient()
    drf_style.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert drf_style.get(f"{API}/models").status_code == 200


def test_a_token_sees_only_its_own_videos(api):
    client, token = api
    video_id = _create(client).json()["video_id"]
    other, _ = _client()
    for method, path in [
        ("get", ""),
        ("get", "/download"),
        ("post", "/cancel"),
        ("get", "/metrics"),
    ]:
        assert getattr(other, method)(f"{API}/videos/{video_id}{path}").status_code == 404
    # The token's own user's videos made elsewhere (the portal) are not the API's either.
    portal_job = video_job_build(learner=token.user)
    assert client.get(f"{API}/videos/{portal_job.pk}").status_code == 404
    assert VideoJob.objects.get(pk=video_id).status == JobStatus.QUEUED


# --- making a video --------------------------------------------------------------------


def test_a_video_request_becomes_a_job_with_its_script_already_written(api):
    client, token = api
    response = _create(
        client,
        script_content="# Cloud basics\n\n## Start\n\nHello there. Today we look at the cloud."
        "\n\n## Close\n\nThanks for watching. See you next time.",
        avatar_config={"avatar_id": "motivational_coach", "expression": "encouraging"},
        voice_config={"voice_id": "joe", "speed": 1.1, "pitch": 1.5},
        video_config={"background": "#123", "slides": False, "captions": True},
        presentation_slides=[{"title": "Start"}],
        background_music="calm.mp3",
        target_duration_minutes=0.2,
        quality="480p",
        video_type="motivational",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert set(body["ignored"]) == {"presentation_slides", "background_music"}

    job = VideoJob.objects.get(pk=body["video_id"])
    assert job.learner == token.user and job.video_type == "motivational"
    params = job.parameters
    assert params["api_token_id"] == token_id_for(key=token.key)
    assert token.key not in json.dumps(params)  # the token itself is never stored
    assert {k: params.get(k) for k in PARAMETER_KEYS} == {
        "quality": "480p",
        "avatar_id": "motivational_coach",
        "avatar_image": None,
        "expression": "encouraging",
        "gesture_level": 0.5,
        "voice_id": "joe",
        "voice_speed": 1.1,
        "voice_pitch": 1.5,
        "background": "#112233",
        "slides": False,
        "captions": True,
    }
    script = job.script["script"]
    assert script["title"] == "Cloud basics"
    assert [s["heading"] for s in script["sections"]] == ["Start", "Close"]
    assert job.script["voice_speed"] == 1.1 and job.script["slides"] is False
    assert job.target_duration_seconds and job.target_duration_seconds < 15
    assert set(job.script_quality["parts"]) == {"length", "readability", "structure"}
    assert 0 < job.script_quality["total"] <= 100
    assert job.deadline_at is not None


def test_defaults_fill_in_what_the_client_leaves_out(api):
    client, _ = api
    response = _create(client)
    assert response.status_code == 201 and response.json()["ignored"] == []
    params = VideoJob.objects.get(pk=response.json()["video_id"]).parameters
    assert params["quality"] == "720p" and params["avatar_id"] == "professional_instructor"
    assert params["voice_id"] == "joe" and params["background"] == "#0f172a"


def test_the_same_idempotency_key_makes_one_video(api):
    client, _ = api
    first = client.post(
        f"{API}/videos", {"script_content": SCRIPT}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = client.post(
        f"{API}/videos", {"script_content": SCRIPT}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    other = client.post(
        f"{API}/videos", {"script_content": SCRIPT}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["video_id"] == again.json()["video_id"] != other.json()["video_id"]
    assert VideoJob.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"script_content": ""}, "script_content", "may not be blank"),
        ({"script_content": "   \n  "}, "script_content", "may not be blank"),
        ({"script_content": "# Only a heading"}, "script_content", "no narration"),
        ({"quality": "4k"}, "quality", "not a valid choice"),
        ({"quality": "VideoQuality.HIGH"}, "quality", "not a valid choice"),
        ({"video_type": "trailer"}, "video_type", "not a valid choice"),
        ({"target_duration_minutes": 0}, "target_duration_minutes", "greater than or equal"),
        ({"avatar_config": {"avatar_id": "nobody"}}, "avatar_config.avatar_id", "unknown avatar"),
        (
            {"avatar_config": {"avatar_id": "custom:" + "0" * 32}},
            "avatar_config.avatar_id",
            "unknown custom avatar",
        ),
        ({"avatar_config": {"gesture_level": 2}}, "avatar_config.gesture_level", "less than"),
        ({"voice_config": {"voice_id": "hal9000"}}, "voice_config.voice_id", "unknown voice"),
        ({"voice_config": {"speed": 5}}, "voice_config.speed", "less than"),
        ({"video_config": {"background": "blue"}}, "video_config.background", "not a colour"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(api, payload, field, message):
    client, _ = api
    payload = {"script_content": SCRIPT, **payload}
    response = client.post(f"{API}/videos", payload, format="json")
    assert response.status_code == 400
    errors = response.json()
    for part in field.split("."):
        errors = errors[part]
    assert any(message in error for error in errors), errors
    assert not VideoJob.objects.exists()


def test_script_content_is_required(api):
    client, _ = api
    response = client.post(f"{API}/videos", {"quality": "480p"}, format="json")
    assert response.status_code == 400 and "script_content" in response.json()


# --- status, download, cancel, metrics -------------------------------------------------


@pytest.mark.parametrize(
    ("job_status", "api_status"),
    [
        (JobStatus.QUEUED, "queued"),
        (JobStatus.SCRIPTING, "processing"),
        (JobStatus.RENDERING, "rendering"),
        (JobStatus.CHECKING, "rendering"),
        (JobStatus.STORING, "rendering"),
        (JobStatus.FAILED, "failed"),
        (JobStatus.CANCELLED, "cancelled"),
    ],
)
def test_job_statuses_map_to_api_statuses(api, job_status, api_status):
    client, _ = api
    video_id = _create(client).json()["video_id"]
    VideoJob.objects.filter(pk=video_id).update(
        status=job_status, progress=40, error="boom" if job_status == "failed" else ""
    )
    body = client.get(f"{API}/videos/{video_id}").json()
    assert body["status"] == api_status and body["progress"] == 40
    assert body["download_url"] is None and body["duration_seconds"] is None
    assert body["error"] == ("boom" if job_status == "failed" else None)
    assert client.get(f"{API}/videos/{video_id}/download").status_code == 404


def test_a_completed_video_is_described_and_streamed(api):
    client, _ = api
    video_id = _create(client).json()["video_id"]
    job = VideoJob.objects.get(pk=video_id)
    payload = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 300
    video_build(job=job, file=ContentFile(payload, name="video.mp4"), duration_seconds=12.5)
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.READY, progress=100)

    body = client.get(f"{API}/videos/{video_id}").json()
    assert body["status"] == "completed" and body["duration_seconds"] == 12.5
    assert body["download_url"] == f"http://testserver{API}/videos/{video_id}/download"
    assert body["created_at"]

    response = client.get(f"{API}/videos/{video_id}/download")
    assert response.status_code == 200 and response.streaming
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(payload))
    assert "attachment" in response.headers["Content-Disposition"]
    assert b"".join(response.streaming_content) == payload


def test_cancel_stops_an_active_video_but_not_a_finished_one(api):
    client, _ = api
    video_id = _create(client).json()["video_id"]
    response = client.post(f"{API}/videos/{video_id}/cancel")
    assert response.status_code == 200
    assert response.json()["cancelled"] is True and response.json()["status"] == "cancelled"
    assert VideoJob.objects.get(pk=video_id).status == JobStatus.CANCELLED
    # Cancelling again is harmless.
    assert client.post(f"{API}/videos/{video_id}/cancel").status_code == 200

    done_id = _create(client).json()["video_id"]
    VideoJob.objects.filter(pk=done_id).update(status=JobStatus.READY)
    response = client.post(f"{API}/videos/{done_id}/cancel")
    assert response.status_code == 409
    assert response.json()["cancelled"] is False and response.json()["status"] == "completed"


def test_metrics_report_the_render(api):
    client, _ = api
    video_id = _create(client).json()["video_id"]
    assert client.get(f"{API}/videos/{video_id}/metrics").json() == {
        "video_id": video_id,
        "status": "queued",
        "render_seconds": None,
        "qa_score": None,
        "quality_report": None,
        "provider": None,
        "attempts": 0,
        "script_quality": VideoJob.objects.get(pk=video_id).script_quality["total"],
    }
    job = VideoJob.objects.get(pk=video_id)
    GenerationAttempt.objects.create(
        job=job,
        provider="heygen",
        status=AttemptStatus.FAILED,
        qa_score=50,
        quality_report={"passed": False, "reasons": ["duration: too short"], "checks": []},
    )
    GenerationAttempt.objects.create(
        job=job,
        provider="studio",
        status=AttemptStatus.SUCCEEDED,
        seconds=4.2,
        qa_score=100,
        quality_report={
            "passed": True,
            "reasons": [],
            "checks": [
                {"name": "container", "passed": True, "skipped": False},
                {"name": "speech_recognition", "passed": True, "skipped": True},
            ],
        },
    )
    VideoJob.objects.filter(pk=job.pk).update(status=JobStatus.READY, provider="studio")
    body = client.get(f"{API}/videos/{video_id}/metrics").json()
    assert body["status"] == "completed" and body["attempts"] == 2
    assert (body["render_seconds"], body["qa_score"], body["provider"]) == (4.2, 100, "studio")
    assert body["quality_report"] == {"passed": True, "reasons": [], "checks": {"container": True}}


# --- models, voices, custom avatars ----------------------------------------------------


def test_models_and_voices_list_what_the_studio_offers(api):
    client, _ = api
    models = client.get(f"{API}/models").json()
    ids = [m["avatar_id"] for m in models]
    assert "professional_instructor" in ids and not any(m["custom"] for m in models)
    voices = client.get(f"{API}/voices").json()
    joe = next(v for v in voices if v["voice_id"] == "joe")
    assert joe["sample_rate"] == 22050 and joe["language"]


def test_a_custom_avatar_is_stored_listed_for_its_token_only_and_usable(api):
    client, token = api
    response = client.post(
        f"{API}/custom",
        {"image": _image(fmt="JPEG"), "name": "Me", "metadata": json.dumps({"team": "blue"})},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    avatar = response.json()
    assert avatar["avatar_id"].startswith("custom:") and avatar["metadata"] == {"team": "blue"}
    assert (avatar["width"], avatar["height"]) == (320, 320)

    mine = [m for m in client.get(f"{API}/models").json() if m["custom"]]
    assert [(m["avatar_id"], m["name"]) for m in mine] == [(avatar["avatar_id"], "Me")]
    # Another token of another user sees none of it, and cannot use it.
    other, _ = _client()
    assert not any(m["custom"] for m in other.get(f"{API}/models").json())
    refused = _create(other, avatar_config={"avatar_id": avatar["avatar_id"]})
    assert refused.status_code == 400 and "avatar_config" in refused.json()

    created = _create(client, avatar_config={"avatar_id": avatar["avatar_id"]})
    assert created.status_code == 201, created.json()
    params = VideoJob.objects.get(pk=created.json()["video_id"]).parameters
    assert params["avatar_id"] == avatar["avatar_id"]
    name = params["avatar_image_name"]
    assert name.startswith(f"avatars/{token.user.pk}/") and name.endswith(".png")
    assert params["avatar_image"] == default_storage.path(name)  # what the studio opens
    with default_storage.open(name) as stored, Image.open(stored) as image:
        assert image.format == "PNG" and image.size == (320, 320)  # re-encoded from the JPEG


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: _named(b"just some text, not an image", "me.png"), "not a PNG or JPEG"),
        (lambda: _image(fmt="GIF"), "upload a PNG or JPEG"),
        (lambda: _image(size=(200, 400)), "at least 256×256"),
        (lambda: _image(size=(4100, 300)), "at most 4096×4096"),
        (lambda: _named(_png_header(30_000, 30_000), "bomb.png"), "at most 4096×4096"),
        (lambda: _image(size=(1400, 1400), noise=True), "the limit is 5 MB"),
        (lambda: _named(_image().getvalue()[:300], "cut.png"), "cannot be read"),
    ],
)
def test_a_bad_custom_avatar_is_refused_with_the_reason(api, upload, message):
    client, _ = api
    response = client.post(f"{API}/custom", {"image": upload(), "name": "x"}, format="multipart")
    assert response.status_code == 400
    assert any(message in error for error in response.json()["image"]), response.json()
    assert not any(m["custom"] for m in client.get(f"{API}/models").json())


def test_custom_avatar_metadata_must_be_a_json_object(api):
    client, _ = api
    for metadata in ("{not json", "[1, 2]"):
        response = client.post(
            f"{API}/custom",
            {"image": _image(), "name": "x", "metadata": metadata},
            format="multipart",
        )
        assert response.status_code == 400 and "metadata" in response.json()


def _named(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a huge size (a decompression bomb's header, with no pixels)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
