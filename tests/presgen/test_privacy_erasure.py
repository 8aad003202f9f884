"""Erasing a learner: rows, files, Drive copies, sessions and API records go; the staff
figures stay the same, kept on one anonymous account; nobody else's data changes."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from library.models import Notification, Playlist, PlaylistItem, WatchProgress
from presgen.api.tokens import api_token_create
from presgen.login_throttle import _key as login_failure_key
from presgen.login_throttle import login_failure_record
from presgen.models import ApiToken, IdempotencyKey, User
from presgen.privacy import (
    ERASED_USERNAME,
    ErasedLearnerConflict,
    account_delete,
    erased_learner_get,
)
from tests.builders import assessment_build, certification_build, user_build, video_build
from tests.videos.fake_drive import ROOT_FOLDER_ID, FakeDrive
from videos import gdrive
from videos import pipeline as pipeline_module
from videos.metrics import generation_metrics, jobs_failed_recent, jobs_per_day, jobs_slowest
from videos.models import (
    Alert,
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    Video,
    VideoJob,
)
from videos.providers.selection import provider_stats
from videos.storage_gdrive import GoogleDriveStorage, drive_path_of

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def erase(django_capture_on_commit_callbacks):
    """account_delete, with what it leaves for after the commit run as a commit would."""

    def run(user: User) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            account_delete(user=user)

    return run


@dataclass
class History:
    user: User
    ready: VideoJob
    failed: VideoJob
    video: Video


def _ago(job_or_attempt: Any, *, days: float) -> None:
    """Move an auto-dated row into the past (created_at/started_at are set on insert)."""
    moment = timezone.now() - timedelta(days=days)
    model = type(job_or_attempt)
    column = "created_at" if model is VideoJob else "started_at"
    model.objects.filter(pk=job_or_attempt.pk).update(**{column: moment})


def _history_build(*, username: str, first: str, last: str, slow_seconds: float) -> History:
    """A learner with a finished job of each outcome, their provider attempts and a video,
    every text naming them the way real data does (scripts, titles, errors, notes)."""
    user = user_build(
        username=username,
        email=f"{first.lower()}@{last.lower()}.example",
        first_name=first,
        last_name=last,
        display_name=f"{first} {last[0]}.",
        password=PASSWORD,
    )
    cert = certification_build(domains={"networking": 60, "security": 40})
    assessment = assessment_build(
        learner=user,
        certification=cert,
        scores={"networking": 50, "security": 80},
        raw_payload={"respondent": user.email, "name": f"{first} {last}"},
    )
    ready = VideoJob.objects.create(
        learner=user,
        certification=cert,
        assessment=assessment,
        video_type="remediation",
        status=JobStatus.READY,
        provider="studio",
        parameters={"domain": "networking", "topic": f"the {last} family network"},
        script={"title": f"{first}'s subnet plan", "segments": [f"Hello {first}!"]},
        script_quality={
            "total": 84.0,
            "parts": {"personalisation": {"score": 90.0, "note": f"greets {first} by name"}},
        },
        step=f"Storing {first}'s subnet plan",
        plan_key="remediation:networking",
        plan_fingerprint="f" * 64,
        started_at=timezone.now() - timedelta(days=3),
        finished_at=timezone.now() - timedelta(days=3),
    )
    _ago(ready, days=3)
    succeeded = GenerationAttempt.objects.create(
        job=ready,
        provider="studio",
        status=AttemptStatus.SUCCEEDED,
        seconds=41.5,
        qa_score=92.0,
        cost=Decimal("0.25"),
        quality_report={
            "checks": [
                {
                    "name": "speech_recognition",
                    "passed": True,
                    "figure": 0.94,
                    "detail": f"heard: hello {first.lower()}",
                    "skipped": False,
                }
            ],
            "seconds": 1.5,
            "passed": True,
            "reasons": [],
        },
    )
    _ago(succeeded, days=3)
    failed = VideoJob.objects.create(
        learner=user,
        certification=cert,
        video_type="motivational",
        status=JobStatus.FAILED,
        error=f"the script writer refused: '{first} {last}' is not a topic",
        error_kind="permanent",
        step="Failed",
        finished_at=timezone.now() - timedelta(days=2),
    )
    _ago(failed, days=2)
    slow = GenerationAttempt.objects.create(
        job=failed,
        provider="heygen",
        external_id=f"hg-{uuid.uuid4().hex}",  # the provider's id: kept, names nobody
        status=AttemptStatus.FAILED,
        seconds=slow_seconds,
        qa_score=40.0,
        cost=Decimal("1.5"),
        error=f"HeyGen rejected the script for {first}",
        error_kind="permanent",
    )
    _ago(slow, days=2)
    Alert.objects.create(
        kind="slow_generation",
        provider="heygen",
        job=failed,
        resolved_at=timezone.now(),  # one open alert per kind and provider
        message=f"Slow generation on heygen: job #{failed.pk} took {slow_seconds:.0f} s",
    )
    video = video_build(
        job=ready,
        title=f"{first}'s subnet plan",
        file=ContentFile(b"mp4 of " + username.encode(), name="video.mp4"),
        captions=ContentFile(f"WEBVTT\n\n00:00.000 --> 00:01.000\nHello {first}\n", name="c.vtt"),
        thumbnail=ContentFile(b"\xff\xd8\xff thumb", name="thumb.jpg"),
    )
    WatchProgress.objects.create(learner=user, video=video, position_seconds=10)
    playlist = Playlist.objects.create(learner=user, title=f"{first}'s exam week")
    PlaylistItem.objects.create(playlist=playlist, video=video)
    Notification.objects.create(learner=user, kind="video_ready", title=f"{first}, it is ready")
    api_token_create(user=user, name=f"{first}'s LMS")
    return History(user=user, ready=ready, failed=failed, video=video)


@pytest.fixture
def zephyrine(media_root) -> History:
    return _history_build(
        username="zquartzwood", first="Zephyrine", last="Quartzwood", slow_seconds=612.0
    )


@pytest.fixture
def robinia(media_root) -> History:
    return _history_build(username="roakhart", first="Robinia", last="Oakhart", slow_seconds=75.0)


@pytest.fixture
def staff() -> User:
    return user_build(username="support-desk", is_staff=True)


def _staff_records(*, staff: User, about: History) -> IdempotencyKey:
    """What a staff service's POST for a learner keeps: the whole answer, naming them."""
    now = timezone.now()
    return IdempotencyKey.objects.create(
        user=staff,
        key=uuid.uuid4().hex,
        fingerprint="0" * 64,
        method="POST",
        path="/api/v1/assessments",
        status_code=201,
        response_body={
            "id": 7,
            "learner": about.user.pk,
            "planned_jobs": [{"id": about.ready.pk, "learner": about.user.pk}],
        },
        created_at=now,
        expires_at=now + timedelta(days=1),
    )


def _staff_log(*, staff: User, history: History) -> None:
    """Admin history naming the learner: their account, their video, their job."""
    for obj, text in (
        (history.user, history.user.username),
        (history.video, history.video.title),
        (history.ready, str(history.ready)),
    ):
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_id=str(obj.pk),
            object_repr=text,
            action_flag=CHANGE,
            change_message='[{"changed": {"fields": ["Display name"]}}]',
        )


def _sessions_of(user_id: int) -> int:
    return sum(
        1
        for session in Session.objects.all()
        if session.get_decoded().get(SESSION_KEY) == str(user_id)
    )


def _rows(user_id: int) -> dict[str, int]:
    return {
        "users": User.objects.filter(pk=user_id).count(),
        "jobs": VideoJob.objects.filter(learner_id=user_id).count(),
        "attempts": GenerationAttempt.objects.filter(job__learner_id=user_id).count(),
        "videos": Video.objects.filter(learner_id=user_id).count(),
        "progress": WatchProgress.objects.filter(learner_id=user_id).count(),
        "playlists": Playlist.objects.filter(learner_id=user_id).count(),
        "notifications": Notification.objects.filter(learner_id=user_id).count(),
        "tokens": ApiToken.objects.filter(user_id=user_id).count(),
        "sessions": _sessions_of(user_id),
    }


HISTORY_ROWS = {
    "users": 1,
    "jobs": 2,
    "attempts": 2,
    "videos": 1,
    "progress": 1,
    "playlists": 1,
    "notifications": 1,
    "tokens": 1,
    "sessions": 1,
}


def _figures(*, since: datetime, until: datetime) -> dict[str, Any]:
    """What the staff dashboard and provider selection read from past jobs."""
    return {
        "metrics": generation_metrics(since=since, until=until),
        "per_day": jobs_per_day(since=since, until=until),
        "per_hour": jobs_per_day(since=since, until=until, hourly=True),
        "slowest": [
            (s.job.pk, s.seconds, s.attempts) for s in jobs_slowest(since=since, until=until)
        ],
        "failed": [job.pk for job in jobs_failed_recent(since=since, until=until)],
        "providers": provider_stats(),
    }


def _dump() -> str:
    out = io.StringIO()
    # Every table of the project (django_rq's one model is a view of Redis, no table).
    call_command("dumpdata", exclude=["django_rq"], stdout=out)
    return out.getvalue().lower()


def test_erasure_keeps_the_figures_and_leaves_no_trace_of_the_learner(
    zephyrine, robinia, staff, erase
):
    for history in (zephyrine, robinia):
        Client().force_login(history.user)
        _staff_log(staff=staff, history=history)
    about_z, about_r = (_staff_records(staff=staff, about=h) for h in (zephyrine, robinia))
    user_id = zephyrine.user.pk
    her_entries = [
        (ContentType.objects.get_for_model(type(row)).pk, str(row.pk))
        for row in (zephyrine.user, zephyrine.video, zephyrine.ready)
    ]
    since, until = timezone.now() - timedelta(days=10), timezone.now() + timedelta(hours=1)
    before = _figures(since=since, until=until)
    assert before["metrics"].attempts == 4 and before["metrics"].jobs_total == 4
    assert before["slowest"][0] == (zephyrine.failed.pk, 612.0, 1)
    dump = _dump()
    assert "zephyrine" in dump and "quartzwood" in dump  # the search below can find them
    assert _rows(user_id) == HISTORY_ROWS

    erase(zephyrine.user)

    # The staff figures are exactly what they were.
    assert _figures(since=since, until=until) == before
    # Nothing anywhere in the database names her any more.
    dump = _dump()
    for text in ("zephyrine", "quartzwood", "zquartzwood"):
        where = dump.find(text)
        assert where == -1, dump[max(0, where - 300) : where + 50]
    # Her rows are gone; her jobs and attempts live on under the anonymous account.
    assert _rows(user_id) == dict.fromkeys(HISTORY_ROWS, 0)
    erased = User.objects.get(username=ERASED_USERNAME)
    assert not erased.is_active and not erased.has_usable_password() and erased.email == ""
    kept = VideoJob.objects.get(pk=zephyrine.ready.pk)
    assert kept.learner == erased
    assert (kept.status, kept.video_type, kept.provider) == ("ready", "remediation", "studio")
    assert (kept.parameters, kept.script, kept.plan_key, kept.assessment) == ({}, {}, "", None)
    assert kept.script_quality == {"total": 84.0, "parts": {"personalisation": {"score": 90.0}}}
    assert kept.step == "Ready"
    attempt = kept.attempts.get()
    assert (attempt.seconds, attempt.qa_score, attempt.cost) == (41.5, 92.0, Decimal("0.25"))
    assert attempt.quality_report["checks"][0]["figure"] == 0.94
    assert VideoJob.objects.get(pk=zephyrine.failed.pk).error.startswith("(erased")
    assert not IdempotencyKey.objects.filter(pk=about_z.pk).exists()
    # The admin log keeps what staff did, without her name.
    entries = {(e.content_type_id, e.object_id): e for e in LogEntry.objects.filter(user=staff)}
    assert len(entries) == 6
    assert {entries[target].object_repr for target in her_entries} == {"(erased)"}

    # Robinia's data is untouched.
    assert _rows(robinia.user.pk) == HISTORY_ROWS
    assert "robinia" in dump and "oakhart" in dump
    assert IdempotencyKey.objects.filter(pk=about_r.pk).exists()
    assert VideoJob.objects.get(pk=robinia.ready.pk).script["segments"] == ["Hello Robinia!"]
    assert LogEntry.objects.filter(object_repr="Robinia's subnet plan").count() == 1
    with robinia.video.file.open("rb") as handle:
        assert handle.read() == b"mp4 of roakhart"


def test_erasure_removes_every_local_file_and_folder_of_the_learner(
    zephyrine, robinia, erase, media_root: Path
):
    names = [f.name for f in (zephyrine.video.file, zephyrine.video.captions)]
    # A file no row names (a render a worker stored just before it lost the job).
    stray = media_root / "videos" / str(zephyrine.user.pk) / ("e" * 32) / "video.mp4"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"stray render")

    erase(zephyrine.user)

    assert not (media_root / "videos" / str(zephyrine.user.pk)).exists()
    assert all(not (media_root / name).exists() for name in names)
    assert (media_root / robinia.video.file.name).read_bytes() == b"mp4 of roakhart"


def test_two_learners_with_the_same_plan_can_both_be_erased(media_root, erase):
    cert = certification_build()
    twins = [user_build(username=f"twin{n}") for n in (1, 2)]
    for twin in twins:
        VideoJob.objects.create(
            learner=twin,
            certification=cert,
            video_type="overview",
            status=JobStatus.READY,
            plan_key="overview",
            plan_fingerprint="a" * 64,
        )
    for twin in twins:
        erase(twin)
    assert VideoJob.objects.filter(learner=erased_learner_get()).count() == 2


# --- active jobs -----------------------------------------------------------------------


def test_an_active_job_is_cancelled_and_its_worker_stops(zephyrine, erase):
    job = VideoJob.objects.create(
        learner=zephyrine.user,
        video_type="overview",
        status=JobStatus.RENDERING,
        parameters={"topic": "Zephyrine's next steps"},
    )
    lease = pipeline_module.job_claim(job_id=job.pk)
    assert lease is not None  # a worker holds it
    # A remote render under way (its provider is unknown here: cancelling it is logged).
    attempt = GenerationAttempt.objects.create(
        job=job, provider="gone-provider", external_id="r-1", status=AttemptStatus.PROCESSING
    )

    erase(zephyrine.user)

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.learner.username == ERASED_USERNAME and job.parameters == {}
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.CANCELLED
    # The worker's next write fails: it stops, and nobody can claim the job again.
    with pytest.raises(pipeline_module.LeaseLost):
        pipeline_module._job_write(lease, progress=60)
    assert pipeline_module.job_claim(job_id=job.pk) is None


# --- sessions, tokens, sign-in counters ----------------------------------------------


def test_erasing_from_one_browser_signs_the_learner_out_everywhere(
    zephyrine, robinia, django_capture_on_commit_callbacks
):
    here, elsewhere, theirs = Client(), Client(), Client()
    for client in (here, elsewhere):
        assert client.login(username="zquartzwood", password=PASSWORD)
    theirs.force_login(robinia.user)
    assert elsewhere.get(reverse("profile")).status_code == 200
    assert _sessions_of(zephyrine.user.pk) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(reverse("profile_delete"), {"confirmation": "zquartzwood"})

    assert response.status_code == 302
    assert _sessions_of(zephyrine.user.pk) == 0  # the other browser's session is gone
    response = elsewhere.get(reverse("profile"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert theirs.get(reverse("profile")).status_code == 200


def test_the_api_tokens_and_records_go_and_a_staff_services_records_about_others_stay(
    zephyrine, robinia, staff, erase
):
    _, key = api_token_create(user=zephyrine.user, name="script")
    now = timezone.now()
    own = IdempotencyKey.objects.create(
        user=zephyrine.user,
        key="mine",
        fingerprint="0" * 64,
        method="POST",
        path="/api/v1/jobs",
        status_code=201,
        response_body={"id": zephyrine.ready.pk},
        created_at=now,
        expires_at=now + timedelta(days=1),
    )
    about_z, about_r = (_staff_records(staff=staff, about=h) for h in (zephyrine, robinia))
    # A staff record naming her by email only (an error answer, say) goes too.
    by_email = _staff_records(staff=staff, about=robinia)
    IdempotencyKey.objects.filter(pk=by_email.pk).update(
        key="by-email", response_body={"detail": "exists", "email": zephyrine.user.email}
    )

    erase(zephyrine.user)

    remaining = set(IdempotencyKey.objects.values_list("pk", flat=True))
    assert remaining == {about_r.pk}
    assert own.pk not in remaining and about_z.pk not in remaining
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me").status_code == 401


def test_the_sign_in_failure_counter_of_the_username_is_cleared(zephyrine, erase):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    login_failure_record(request=request, username="zquartzwood")
    assert cache.get(login_failure_key("user", "zquartzwood")) is not None

    erase(zephyrine.user)

    assert cache.get(login_failure_key("user", "zquartzwood")) is None


# --- the erased-learner account ------------------------------------------------------


def test_a_real_user_under_the_reserved_name_stops_the_erasure(zephyrine, erase):
    user_build(username=ERASED_USERNAME, password=PASSWORD)  # only the ORM can make this
    with pytest.raises(ErasedLearnerConflict):
        erase(zephyrine.user)
    assert _rows(zephyrine.user.pk)["jobs"] == 2
    assert (Path(zephyrine.video.file.path)).exists()


def test_the_erased_learner_account_itself_cannot_be_erased(erase):
    with pytest.raises(ErasedLearnerConflict):
        erase(erased_learner_get())
    assert User.objects.filter(username=ERASED_USERNAME).exists()


# --- Google Drive ----------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeDrive]:
    with FakeDrive() as server:
        yield server
    gdrive.folder_cache_clear()  # folder ids of this fake must not outlive it


@pytest.fixture
def drive_storage(fake, tmp_path, monkeypatch) -> GoogleDriveStorage:
    """Video files on (a fake) Google Drive, as with VIDEO_STORAGE=google_drive."""
    storage = GoogleDriveStorage(
        service_account_file=str(fake.service_account_write(path=tmp_path / "sa.json")),
        root_folder_id=ROOT_FOLDER_ID,
        api_url=fake.url,
        chunk_size=gdrive.CHUNK_MULTIPLE,
    )
    for name in ("file", "thumbnail", "captions"):
        monkeypatch.setattr(Video._meta.get_field(name), "storage", storage)
    return storage


def _drive_files_of(fake: FakeDrive, user_id: int) -> list[str]:
    with fake.lock:
        return [
            f.name
            for f in fake.files.values()
            if f.app_properties.get("learner_id") == str(user_id)
        ]


def test_erasure_removes_the_learners_drive_files_and_folder(
    drive_storage, fake, media_root, erase
):
    zephyrine = _history_build(
        username="zquartzwood", first="Zephyrine", last="Quartzwood", slow_seconds=600
    )
    robinia = _history_build(username="roakhart", first="Robinia", last="Oakhart", slow_seconds=60)
    user_id = zephyrine.user.pk
    # A copy no row names: a render stored by a worker that then lost its job.
    drive_storage.save(f"videos/{user_id}/{'e' * 32}/video.mp4", ContentFile(b"stray"))
    assert len(_drive_files_of(fake, user_id)) == 4
    assert fake.path_find(f"users/{user_id}") is not None

    erase(zephyrine.user)

    assert _drive_files_of(fake, user_id) == []
    assert fake.path_find(f"users/{user_id}") is None
    # Robinia's copies are all still there, byte for byte.
    video = robinia.video
    assert sorted(_drive_files_of(fake, robinia.user.pk)) == ["c.vtt", "thumb.jpg", "video.mp4"]
    assert fake.path_find(drive_path_of(video.file.name)).content == b"mp4 of roakhart"


def test_duplicate_drive_folders_of_a_learner_all_go(drive_storage, fake):
    drive_storage.save(f"videos/42/{'a' * 32}/video.mp4", ContentFile(b"one"))
    users = fake.path_find("users")
    duplicate = fake.folder_add(name="42", parent_id=users.id)  # a racing worker made another
    fake.folder_add(name="videos", parent_id=duplicate.id)

    assert drive_storage.learner_folder_delete(learner_id=42) == 2

    assert fake.path_find("users/42") is None
    assert drive_storage.learner_folder_delete(learner_id=42) == 0
    assert fake.path_find("users") is not None  # other learners' parent folder stays
