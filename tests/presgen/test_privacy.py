"""A learner's own data: the zip of all of it, and deleting the account with it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from library.models import (
    Assessment,
    DomainScore,
    Notification,
    Playlist,
    PlaylistItem,
    WatchProgress,
)
from presgen.api.tokens import api_token_create
from presgen.models import ApiToken, IdempotencyKey, User
from presgen.privacy import EXPORT_FILES, EXPORT_SECTIONS, account_delete, account_export_write
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import Alert, GenerationAttempt, Video, VideoJob

PASSWORD = "a-long-test-password"
# Bigger than the 1 MB copy chunk, so the copy really goes in several pieces.
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 5000
CAPTIONS = b"WEBVTT\n\n00:00.000 --> 00:02.000\nHello Kim\n"
THUMBNAIL = b"\x89PNG\r\n\x1a\nthumbnail"
# What the PresGen-Avatar API keeps of a token (a digest of its key): never exported.
TOKEN_DIGEST = "5f2b" * 8


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Every learner here has a password; the real hasher is slow by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Learner:
    user: User
    video: Video
    hidden: Video
    avatar_names: list[str]


def _learner_build(*, username: str, title: str) -> Learner:
    user = user_build(
        username=username,
        email=f"{username}@example.com",
        display_name=username.title(),
        experience_level="5-10",
        learning_styles=["visual"],
        preferred_avatar="motivational_coach",
        time_zone="Europe/Berlin",
        password=PASSWORD,
    )
    cert = certification_build(domains={"networking": 60, "security": 40})
    assessment = assessment_build(
        learner=user, certification=cert, scores={"networking": 55, "security": 82}
    )
    job = video_job_build(
        learner=user,
        certification=cert,
        assessment=assessment,
        video_type="remediation",
        status="ready",
        parameters={"domain": "networking"},
    )
    video = video_build(
        job=job,
        title=title,
        file=ContentFile(VIDEO_BYTES + username.encode(), name="video.mp4"),
        captions=ContentFile(CAPTIONS, name="captions.vtt"),
        thumbnail=ContentFile(THUMBNAIL, name="thumbnail.png"),
        size_bytes=len(VIDEO_BYTES),
    )
    hidden = video_build(
        job=video_job_build(
            learner=user,
            video_type="overview",
            status="ready",
            # Made through the PresGen-Avatar API: the token's digest and a server path.
            parameters={
                "api_token_id": TOKEN_DIGEST,
                "avatar_image": "/srv/presgen/media/avatars/abc.png",
                "quality": "720p",
            },
        ),
        title="Withdrawn by staff",
        file=ContentFile(b"hidden video", name="video.mp4"),
        hidden=True,
    )
    WatchProgress.objects.create(
        learner=user, video=video, position_seconds=12.5, seconds_watched=12.5
    )
    playlist = Playlist.objects.create(learner=user, title="Before the exam")
    PlaylistItem.objects.create(playlist=playlist, video=video, position=0)
    Notification.objects.create(
        learner=user,
        kind="video_ready",
        title=f"{title} is ready",
        url=f"/watch/{video.pk}/",
        read_at=timezone.now() - timedelta(hours=1),
    )
    # Custom presenter portraits uploaded through the PresGen-Avatar API.
    avatar_names = [
        default_storage.save(f"avatars/{user.pk}/abc.png", ContentFile(b"\x89PNG portrait")),
        default_storage.save(
            f"avatars/{user.pk}/abc.json",
            ContentFile(
                json.dumps(
                    {
                        "avatar_id": "custom:abc",
                        "name": "Me, in a suit",
                        "metadata": {"style": "formal"},
                        "image": f"avatars/{user.pk}/abc.png",
                        "token_id": TOKEN_DIGEST,
                    }
                ).encode()
            ),
        ),
    ]
    return Learner(user=user, video=video, hidden=hidden, avatar_names=avatar_names)


def _stored(learner: Learner) -> list[tuple[str, str]]:
    """(storage alias, name) of every file the learner owns."""
    files = [("default", name) for name in learner.avatar_names]
    for video in (learner.video, learner.hidden):
        for field_file in (video.file, video.captions, video.thumbnail):
            if field_file.name:
                files.append(("videos", field_file.name))
    return files


def _exists(alias: str, name: str) -> bool:
    return storages[alias].exists(name)


def _zip_read(data: bytes) -> tuple[zipfile.ZipFile, dict[str, object]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    documents = {name: json.loads(archive.read(name)) for name in EXPORT_FILES}
    return archive, documents


@pytest.fixture
def kim(media_root) -> Learner:
    return _learner_build(username="kim", title="Networking: subnets, step by step")


@pytest.fixture
def robin(media_root) -> Learner:
    return _learner_build(username="robin", title="Robin's security review")


# --- export ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_export_holds_the_learners_data_as_json_and_their_video_files(kim, robin):
    stream = io.BytesIO()
    account_export_write(user=kim.user, stream=stream)
    archive, docs = _zip_read(stream.getvalue())

    profile = docs["profile.json"]
    assert profile["username"] == "kim"
    assert profile["email"] == "kim@example.com"
    assert profile["display_name"] == "Kim"
    assert profile["experience_level"] == "5-10"
    assert profile["learning_styles"] == ["visual"]
    assert profile["preferred_avatar"] == "motivational_coach"
    assert profile["time_zone"] == "Europe/Berlin"
    assert "password" not in profile
    for name in archive.namelist():
        assert kim.user.password.encode() not in archive.read(name), name

    [assessment] = docs["assessments.json"]
    assert assessment["overall_score"] == pytest.approx(68.5)
    scores = {s["domain"]: s["score"] for s in assessment["domain_scores"]}
    assert scores == {"networking": 55.0, "security": 82.0}

    jobs = docs["jobs.json"]
    assert sorted(j["video_type"] for j in jobs) == ["overview", "remediation"]
    remediation = next(j for j in jobs if j["video_type"] == "remediation")
    assert remediation["parameters"] == {"domain": "networking"}
    assert remediation["assessment_id"] == assessment["id"]
    assert remediation["made_through_avatar_api"] is False
    overview = next(j for j in jobs if j["video_type"] == "overview")
    assert overview["parameters"] == {"quality": "720p"}
    assert overview["made_through_avatar_api"] is True

    # The video staff withdrew is held all the same: it is in, marked so.
    video, withdrawn = docs["videos.json"]
    assert withdrawn["id"] == kim.hidden.pk
    assert withdrawn["withdrawn_by_staff"] is True
    assert archive.read(withdrawn["files"]["video"]) == b"hidden video"
    assert video["withdrawn_by_staff"] is False
    assert video["id"] == kim.video.pk
    assert video["title"] == "Networking: subnets, step by step"
    stem = f"videos/{kim.video.pk}-networking-subnets-step-by-step"
    assert video["files"] == {
        "video": f"{stem}.mp4",
        "captions": f"{stem}.vtt",
        "thumbnail": f"{stem}.png",
    }
    assert video["missing_files"] == []
    assert archive.read(f"{stem}.mp4") == VIDEO_BYTES + b"kim"
    assert archive.read(f"{stem}.vtt") == CAPTIONS
    assert archive.read(f"{stem}.png") == THUMBNAIL

    [progress] = docs["progress.json"]
    assert progress["video_id"] == kim.video.pk
    assert progress["position_seconds"] == 12.5
    [playlist] = docs["playlists.json"]
    assert playlist["title"] == "Before the exam"
    assert [item["video_id"] for item in playlist["items"]] == [kim.video.pk]
    [note] = docs["notifications.json"]
    assert note["title"] == "Networking: subnets, step by step is ready"
    assert note["read_at"] is not None

    # The portrait, and what the sidecar says about it, but not the sidecar's token id.
    assert archive.read("avatars/abc.png") == b"\x89PNG portrait"
    assert "avatars/abc.json" not in archive.namelist()
    [avatar] = docs["avatars.json"]
    assert avatar["name"] == "Me, in a suit"
    assert avatar["metadata"] == {"style": "formal"}
    assert avatar["image"] == "avatars/abc.png"

    # Nothing of another learner's, and no key digest.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"robin" not in everything.lower()
    assert TOKEN_DIGEST.encode() not in everything


@pytest.mark.django_db
def test_the_export_of_a_new_learner_is_a_zip_of_empty_lists(media_root):
    user = user_build(username="fresh")
    stream = io.BytesIO()
    account_export_write(user=user, stream=stream)
    archive, docs = _zip_read(stream.getvalue())
    assert docs["profile.json"]["username"] == "fresh"
    for name in EXPORT_FILES[1:]:
        assert docs[name] == [], name
    assert not any(name.startswith("videos/") for name in archive.namelist())


@pytest.mark.django_db
def test_the_export_says_which_video_files_storage_no_longer_has(kim):
    storages["videos"].delete(kim.video.captions.name)
    stream = io.BytesIO()
    account_export_write(user=kim.user, stream=stream)
    archive, docs = _zip_read(stream.getvalue())
    video = next(v for v in docs["videos.json"] if v["id"] == kim.video.pk)
    assert video["missing_files"] == [video["files"]["captions"]]
    assert video["files"]["captions"] not in archive.namelist()
    assert archive.read(video["files"]["video"]) == VIDEO_BYTES + b"kim"


@pytest.mark.django_db
def test_the_export_page_downloads_the_zip(client, kim, robin):
    client.force_login(kim.user)
    response = client.get(reverse("profile_export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="presgen-kim-{timezone.localdate().isoformat()}.zip"' in disposition
    assert "no-store" in response["Cache-Control"]
    data = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(data)
    _, docs = _zip_read(data)
    assert docs["profile.json"]["username"] == "kim"
    assert [v["id"] for v in docs["videos.json"]] == [kim.video.pk, kim.hidden.pk]


@pytest.mark.django_db
def test_the_export_page_needs_a_login(client):
    response = client.get(reverse("profile_export"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def _models_about_a_learner() -> set[str]:
    """Every model with a row about a learner: a FK/one-to-one to the user, or to such a model.

    Walked from the model graph (through tables of many-to-many fields included),
    so a model added later is found without anyone listing it.
    """
    reached: set[type[Model]] = {User}
    grown = True
    while grown:
        grown = False
        for model in apps.get_models(include_auto_created=True):
            if model in reached or model._meta.proxy:
                continue
            if any(
                field.concrete
                and (field.many_to_one or field.one_to_one)
                and field.related_model in reached
                for field in model._meta.get_fields()
            ):
                reached.add(model)
                grown = True
    return {model._meta.label_lower for model in reached}


def test_the_walk_finds_the_models_it_must():
    # The walk itself must work, or the test below would pass on an empty set.
    found = _models_about_a_learner()
    assert {"library.assessment", "library.domainscore", "videos.generationattempt"} <= found
    assert "library.certification" not in found  # pointed at, not pointing


# How the export shows a row of each model, for a learner with one of everything.
EVIDENCE: dict[str, Callable[[dict[str, Any]], bool]] = {
    "presgen.user": lambda d: d["profile.json"]["username"] == "kim",
    "presgen.user_groups": lambda d: d["profile.json"]["groups"] == ["Beta testers"],
    "presgen.user_user_permissions": lambda d: (
        d["profile.json"]["permissions"] == ["library.view_certification"]
    ),
    "sessions.session": lambda d: len(d["sessions.json"]) == 1,
    "presgen.apitoken": lambda d: any(t.get("name") == "my LMS" for t in d["api_tokens.json"]),
    "authtoken.token": lambda d: any(t["kind"] == "avatar_api" for t in d["api_tokens.json"]),
    "presgen.idempotencykey": lambda d: (
        {r["by"] for r in d["api_requests.json"]} == {"you", "a staff service"}
    ),
    "admin.logentry": lambda d: (
        {e["role"] for e in d["admin_log.json"]} == {"by_you", "about_your_account"}
    ),
    "library.assessment": lambda d: len(d["assessments.json"]) == 1,
    "library.domainscore": lambda d: len(d["assessments.json"][0]["domain_scores"]) == 2,
    "videos.videojob": lambda d: len(d["jobs.json"]) == 2,
    "videos.generationattempt": lambda d: any(
        a["provider"] == "studio" and a["qa_score"] == 91.5
        for j in d["jobs.json"]
        for a in j["attempts"]
    ),
    "videos.alert": lambda d: any(
        a["kind"] == "slow_generation" for j in d["jobs.json"] for a in j["alerts"]
    ),
    "videos.video": lambda d: len(d["videos.json"]) == 2,
    "library.watchprogress": lambda d: len(d["progress.json"]) == 1,
    "library.playlist": lambda d: len(d["playlists.json"]) == 1,
    "library.playlistitem": lambda d: len(d["playlists.json"][0]["items"]) == 1,
    "library.notification": lambda d: len(d["notifications.json"]) == 1,
}


def _one_of_everything(kim: Learner, robin: Learner, client) -> None:
    """Give kim a row of every model the walk finds (beyond what _learner_build makes)."""
    user = kim.user
    user.groups.add(Group.objects.create(name="Beta testers"))
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="library", codename="view_certification")
    )
    Client().force_login(user)  # a stored session
    client.force_login(robin.user)  # ... and someone else's, on another browser
    api_token_create(user=user, name="my LMS")
    Token.objects.create(user=user)
    now = timezone.now()
    job = kim.video.job
    for owner, body in (
        (user, {"id": job.pk, "learner": user.pk}),
        (user_build(username="assess-service", is_staff=True), {"learner": user.pk}),
    ):
        IdempotencyKey.objects.create(
            user=owner,
            key=f"key-{owner.pk}",
            fingerprint="0" * 64,
            method="POST",
            path="/api/v1/jobs",
            status_code=201,
            response_body=body,
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Playlist),
        object_id="1",
        object_repr="a playlist kim changed as staff",
        action_flag=CHANGE,
        change_message="[]",
    )
    LogEntry.objects.create(
        user=user_build(username="support"),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr="kim",
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Time zone"]}}]',
    )
    GenerationAttempt.objects.create(
        job=job, provider="studio", status="succeeded", seconds=42.0, qa_score=91.5
    )
    Alert.objects.create(kind="slow_generation", provider="studio", job=job, message="slow")


@pytest.mark.django_db
def test_every_model_about_a_learner_has_its_section_in_the_export(kim, robin, client):
    models = _models_about_a_learner()
    # Sessions name their user inside their encoded data, not by a foreign key.
    assert set(EXPORT_SECTIONS) == models | {"sessions.session"}
    assert set(EVIDENCE) == set(EXPORT_SECTIONS)
    assert set(EXPORT_SECTIONS.values()) <= set(EXPORT_FILES)

    _one_of_everything(kim, robin, client)
    stream = io.BytesIO()
    account_export_write(user=kim.user, stream=stream)
    archive, docs = _zip_read(stream.getvalue())

    missing = [label for label, shown in EVIDENCE.items() if not shown(docs)]
    assert missing == []
    everything = b"".join(archive.read(name) for name in archive.namelist())
    # Secrets and other people stay out: keys, their digests, staff names, other sessions.
    for token in ApiToken.objects.filter(user=kim.user):
        assert token.key_hash.encode() not in everything
    assert Token.objects.get(user=kim.user).key.encode() not in everything
    assert b"support" not in everything and b"assess-service" not in everything
    assert b"robin" not in everything.lower()


# --- delete ---------------------------------------------------------------------------


def _rows(user_id: int) -> dict[str, int]:
    return {
        "users": User.objects.filter(pk=user_id).count(),
        "jobs": VideoJob.objects.filter(learner_id=user_id).count(),
        "videos": Video.objects.filter(learner_id=user_id).count(),
        "assessments": Assessment.objects.filter(learner_id=user_id).count(),
        "scores": DomainScore.objects.filter(assessment__learner_id=user_id).count(),
        "progress": WatchProgress.objects.filter(learner_id=user_id).count(),
        "playlists": Playlist.objects.filter(learner_id=user_id).count(),
        "items": PlaylistItem.objects.filter(playlist__learner_id=user_id).count(),
        "notifications": Notification.objects.filter(learner_id=user_id).count(),
    }


FULL = {
    "users": 1,
    "jobs": 2,
    "videos": 2,
    "assessments": 1,
    "scores": 2,
    "progress": 1,
    "playlists": 1,
    "items": 1,
    "notifications": 1,
}
NONE = dict.fromkeys(FULL, 0)


@pytest.mark.django_db(transaction=True)
def test_deleting_an_account_removes_its_rows_and_files_and_nobody_elses(kim, robin, media_root):
    kim_id = kim.user.pk
    assert _rows(kim_id) == FULL
    account_delete(user=kim.user)

    assert _rows(kim_id) == NONE
    for alias, name in _stored(kim):
        assert not _exists(alias, name), name
    # No empty per-video folders are left behind either.
    assert not (media_root / "videos" / str(kim_id)).exists()
    assert not (media_root / "avatars" / str(kim_id)).exists()

    assert _rows(robin.user.pk) == FULL
    for alias, name in _stored(robin):
        assert _exists(alias, name), name


def _delete_then_fail(user: User) -> None:
    with transaction.atomic():
        account_delete(user=user)
        raise RuntimeError("something later in the same transaction failed")


@pytest.mark.django_db(transaction=True)
def test_a_delete_rolled_back_loses_nothing(kim):
    kim_id = kim.user.pk
    with pytest.raises(RuntimeError, match="later in the same transaction"):
        _delete_then_fail(kim.user)
    assert _rows(kim_id) == FULL
    for alias, name in _stored(kim):
        assert _exists(alias, name), name


@pytest.mark.django_db(transaction=True)
def test_a_file_already_gone_does_not_stop_the_delete(kim):
    kim_id = kim.user.pk
    storages["videos"].delete(kim.video.file.name)
    account_delete(user=kim.user)
    assert _rows(kim_id) == NONE
    for alias, name in _stored(kim):
        assert not _exists(alias, name), name


# --- the delete page ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_delete_page_needs_a_login(client):
    response = client.get(reverse("profile_delete"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_the_delete_page_says_what_goes_and_asks_for_confirmation(client, kim):
    client.force_login(kim.user)
    response = client.get(reverse("profile_delete"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Delete your account" in page
    assert 'for="id_confirmation"' in page
    assert 'type="password"' in page
    assert f'href="{reverse("profile_export")}"' in page
    assert f'href="{reverse("profile")}"' in page  # a way out
    assert "sign-ins on every other device" in page  # what goes, sessions included
    assert "nothing that names or describes you" in page  # and what stays, said plainly


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("typed", ["", "kimberly", "KIM ", "a-long-test-passwordX", "robin"])
def test_a_wrong_confirmation_deletes_nothing(client, kim, robin, typed):
    client.force_login(kim.user)
    response = client.post(reverse("profile_delete"), {"confirmation": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_confirmation_error"' in page
    assert "nothing was deleted" in page
    field = re.search(r'<input[^>]*name="confirmation"[^>]*>', page).group(0)
    assert "value=" not in field  # what was typed is never sent back
    assert _rows(kim.user.pk) == FULL
    for alias, name in _stored(kim):
        assert _exists(alias, name), name
    assert client.session.get(SESSION_KEY) == str(kim.user.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("typed", ["kim", PASSWORD])
def test_confirming_deletes_the_account_logs_out_and_says_so(client, kim, robin, typed):
    kim_id = kim.user.pk
    client.force_login(kim.user)
    response = client.post(reverse("profile_delete"), {"confirmation": typed}, follow=True)
    assert response.redirect_chain[0] == (reverse("home"), 302)
    assert not response.context["user"].is_authenticated
    assert "Your account, your videos and all your data are deleted." in (response.content.decode())
    assert SESSION_KEY not in client.session
    assert _rows(kim_id) == NONE
    for alias, name in _stored(kim):
        assert not _exists(alias, name), name
    assert _rows(robin.user.pk) == FULL
    for alias, name in _stored(robin):
        assert _exists(alias, name), name
    # The old session no longer gets in.
    assert client.get(reverse("profile")).status_code == 302


def test_the_stored_files_are_in_media_root(media_root: Path):
    # The tests above check files through storage; make sure that is the temp media root.
    assert Path(storages["videos"].path("x")).parent == media_root
    assert Path(default_storage.path("x")).parent == media_root
