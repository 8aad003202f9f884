"""The video side of the admin: jobs, videos and providers as staff run them."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from library.models import WatchProgress
from tests.builders import (
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import (
    AttemptStatus,
    CircuitState,
    ErrorKind,
    GenerationAttempt,
    JobStatus,
    ProviderAccount,
    ProviderCircuit,
    VideoJob,
)
from videos.providers.circuit import circuit_failure_record
from videos.services import job_rerender

pytestmark = pytest.mark.django_db

JOBS = reverse("admin:videos_videojob_changelist")
PROVIDERS = reverse("admin:videos_provideraccount_changelist")
VIDEOS = reverse("admin:videos_video_changelist")


@pytest.fixture
def staff(client):
    user = user_build(username="ops", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def learner():
    return user_build(username="maria", email="maria@example.com")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def log_messages(obj) -> list[str]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )
        .order_by("pk")
        .values_list("change_message", flat=True)
    )


def act(client, url, action, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], "index": 0, **extra}
    return client.post(url, data, follow=True)


def listed(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


# --- jobs ----------------------------------------------------------------------------------


def test_jobs_are_filtered_and_searched_by_what_staff_know(client, staff, learner):
    other = user_build(username="tom", email="tom@example.com")
    cert = certification_build(name="Cloud Practitioner")
    mine = video_job_build(learner=learner, certification=cert, status=JobStatus.FAILED)
    theirs = video_job_build(learner=other, provider="heygen", step="Rendering with heygen")
    old = video_job_build(learner=other, video_type="remediation")
    VideoJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    assert listed(client.get(JOBS, {"q": "maria@example.com"})) == {mine.pk}
    assert listed(client.get(JOBS, {"q": "tom"})) == {theirs.pk, old.pk}
    assert listed(client.get(JOBS, {"q": "Rendering with"})) == {theirs.pk}
    assert listed(client.get(JOBS, {"status__exact": "failed"})) == {mine.pk}
    assert listed(client.get(JOBS, {"video_type__exact": "remediation"})) == {old.pk}
    assert listed(client.get(JOBS, {"provider": "heygen"})) == {theirs.pk}
    assert listed(client.get(JOBS, {"certification__id__exact": cert.pk})) == {mine.pk}
    since = (timezone.now() - timedelta(days=7)).isoformat()
    assert listed(client.get(JOBS, {"created_at__gte": since})) == {mine.pk, theirs.pk}


def test_jobs_are_searched_by_their_video_title(client, staff, learner, media_root):
    job = video_job_build(learner=learner, status=JobStatus.READY)
    video_build(job=job, title="Networking, the weak spot")
    video_job_build(learner=learner)
    assert listed(client.get(JOBS, {"q": "weak spot"})) == {job.pk}


def test_a_job_page_shows_attempts_script_progress_and_history(client, staff, learner):
    job = video_job_build(
        learner=learner,
        status=JobStatus.RENDERING,
        progress=40,
        step="Rendering with studio",
        script={
            "script": {
                "title": "Your roadmap",
                "sections": [{"heading": "Welcome", "text": "Hello Maria, let us begin."}],
            },
            "writer": "template",
            "target_seconds": 95,
        },
        script_quality={
            "total": 81.5,
            "parts": {
                "coverage": {"score": 70.0, "note": "names 2 of 3 focus domains"},
                "length": {"score": 100.0, "note": "95 s in 60-120 s"},
            },
        },
    )
    GenerationAttempt.objects.create(
        job=job,
        provider="heygen",
        status=AttemptStatus.FAILED,
        error="HTTP 503 from HeyGen",
        error_kind=ErrorKind.RETRYABLE,
        seconds=3.25,
    )
    GenerationAttempt.objects.create(
        job=job,
        provider="studio",
        status=AttemptStatus.SUCCEEDED,
        cost=Decimal("0.1234"),
        qa_score=92.5,
        seconds=48.0,
    )
    act(client, JOBS, "cancel_jobs", [job])

    page = client.get(reverse("admin:videos_videojob_change", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # the attempts, in order, with provider, error, seconds, cost and QA score
    assert html.index("HTTP 503 from HeyGen") < html.index("0.1234")
    for text in ("heygen", "3.2", "48.0", "92.5", "Succeeded", "Failed"):
        assert text in html
    # the script and its quality parts
    for text in ("Your roadmap", "Hello Maria, let us begin.", "81.5", "names 2 of 3 focus"):
        assert text in html
    # live progress polled from a staff-only endpoint, and the history of what staff did
    assert reverse("admin:videos_videojob_progress", args=[job.pk]) in html
    assert "js/admin_job.js" in html
    assert "Cancelled: job #" in html and "ops" in html
    assert reverse("admin:videos_videojob_history", args=[job.pk]) in html


def test_job_progress_json_is_for_staff_only(client, learner):
    job = video_job_build(learner=learner, status=JobStatus.RENDERING, progress=55, step="Half")
    url = reverse("admin:videos_videojob_progress", args=[job.pk])
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(learner)  # the job's own learner is not staff
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(user_build(is_staff=True, is_superuser=True))
    assert client.get(url).json() == {
        "id": job.pk,
        "status": "rendering",
        "status_display": "Rendering",
        "progress": 55,
        "step": "Half",
        "active": True,
    }
    assert client.get(reverse("admin:videos_videojob_progress", args=[999999])).status_code == 404


def test_staff_cannot_add_jobs_by_hand(client, staff):
    assert client.get(reverse("admin:videos_videojob_add")).status_code == 403


def test_retry_requeues_failed_and_cancelled_jobs_and_says_what_it_skipped(
    client, staff, learner, rq_queues, django_capture_on_commit_callbacks
):
    failed = video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")
    cancelled = video_job_build(learner=learner, status=JobStatus.CANCELLED)
    running = video_job_build(learner=learner, status=JobStatus.RENDERING)
    ready = video_job_build(learner=learner, status=JobStatus.READY)

    with django_capture_on_commit_callbacks(execute=True):
        page = act(client, JOBS, "retry_jobs", [failed, cancelled, running, ready])

    assert messages_of(page) == [
        f"2 jobs queued again; 2 skipped: already running (#{running.pk}), "
        f"already ready (#{ready.pk})"
    ]
    for job in (failed, cancelled):
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED and job.error == ""
        assert log_messages(job) == [f"Retried: job #{job.pk} queued again"]
    queued = rq_queues["high"].job_ids  # priority 1 jobs go to the "high" queue
    assert sorted(queued) == sorted([failed.rq_job_id, cancelled.rq_job_id])
    for job in (running, ready):
        job.refresh_from_db()
        assert job.status in (JobStatus.RENDERING, JobStatus.READY)
        assert log_messages(job) == []


def test_cancel_stops_active_jobs_and_skips_finished_ones(client, staff, learner):
    queued = video_job_build(learner=learner)
    rendering = video_job_build(learner=learner, status=JobStatus.RENDERING)
    failed = video_job_build(learner=learner, status=JobStatus.FAILED)

    page = act(client, JOBS, "cancel_jobs", [queued, rendering, failed])

    assert messages_of(page) == [f"2 jobs cancelled; 1 skipped: already failed (#{failed.pk})"]
    assert set(VideoJob.objects.filter(status=JobStatus.CANCELLED)) == {queued, rendering}
    assert log_messages(rendering) == [f"Cancelled: job #{rendering.pk} cancelled"]
    assert log_messages(failed) == []


def test_an_action_that_does_nothing_says_why(client, staff, learner):
    ready = video_job_build(learner=learner, status=JobStatus.READY)
    page = act(client, JOBS, "cancel_jobs", [ready])
    assert messages_of(page) == [f"0 jobs cancelled; 1 skipped: already ready (#{ready.pk})"]


@pytest.fixture
def providers():
    ProviderAccount.objects.create(kind="heygen", name="HeyGen", priority=1)
    ProviderAccount.objects.create(kind="did", name="D-ID (off)", enabled=False)


def test_rerender_asks_for_a_provider_first(client, staff, learner, providers):
    job = video_job_build(learner=learner, status=JobStatus.FAILED)
    page = client.post(JOBS, {"action": "rerender_jobs", "_selected_action": [job.pk], "index": 0})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="HeyGen"' in html and 'value="studio"' in html  # enabled, and the built-in
    assert "D-ID (off)" not in html  # disabled providers are not offered
    assert f'name="_selected_action" value="{job.pk}"' in html
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED  # nothing happens before a provider is chosen


@pytest.mark.parametrize("provider", ["nope", "D-ID (off)", ""])
def test_rerender_refuses_a_provider_that_is_not_offered(
    client, staff, learner, providers, provider
):
    job = video_job_build(learner=learner, status=JobStatus.FAILED, error="boom")
    page = client.post(
        JOBS,
        {
            "action": "rerender_jobs",
            "_selected_action": [job.pk],
            "apply": "1",
            "provider": provider,
        },
    )
    assert page.status_code == 200
    assert b'class="errorlist"' in page.content
    job.refresh_from_db()
    assert (job.status, job.provider, job.parameters) == (JobStatus.FAILED, "", {})
    assert log_messages(job) == []


def test_rerender_forces_the_chosen_provider(client, staff, learner, providers, rq_queues):
    failed = video_job_build(
        learner=learner, status=JobStatus.FAILED, provider="studio", parameters={"quality": "480p"}
    )
    running = video_job_build(learner=learner, status=JobStatus.RENDERING)
    ready = video_job_build(
        learner=learner, status=JobStatus.READY, plan_key="overview", plan_fingerprint="f1"
    )

    page = client.post(
        JOBS,
        {
            "action": "rerender_jobs",
            "_selected_action": [failed.pk, running.pk, ready.pk],
            "apply": "1",
            "provider": "HeyGen",
        },
        follow=True,
    )

    copy = VideoJob.objects.exclude(pk__in=[failed.pk, running.pk, ready.pk]).get()
    assert messages_of(page) == [
        f"2 jobs sent to HeyGen; 1 skipped: already running (#{running.pk})"
    ]
    failed.refresh_from_db()
    assert failed.status == JobStatus.QUEUED and failed.provider == "HeyGen"
    assert failed.parameters == {"quality": "480p", "provider": "HeyGen"}
    # a ready job keeps its video: it is rendered again as a new job
    ready.refresh_from_db()
    assert ready.status == JobStatus.READY
    assert (copy.status, copy.provider, copy.parameters) == (
        JobStatus.QUEUED,
        "HeyGen",
        {"provider": "HeyGen"},
    )
    assert (copy.learner, copy.video_type, copy.plan_key) == (learner, ready.video_type, "")
    assert log_messages(failed) == [
        f"Re-rendered on HeyGen: job #{failed.pk} queued again on HeyGen"
    ]
    assert log_messages(ready) == [
        f"Re-rendered on HeyGen: job #{ready.pk} re-rendered as job #{copy.pk} on HeyGen"
    ]
    assert log_messages(running) == []


def test_rerender_service_refuses_an_unknown_provider(learner, providers):
    job = video_job_build(learner=learner, status=JobStatus.FAILED)
    result = job_rerender(job=job, provider_name="D-ID (off)")
    assert not result.done and "no enabled provider is named 'D-ID (off)'" in result.message
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.parameters == {}


# --- videos --------------------------------------------------------------------------------

QUALITY = {
    "checks": [
        {"name": "duration", "passed": True, "figure": 124.6, "detail": "within 10%"},
        {"name": "loudness", "passed": False, "figure": "-31.0 LUFS", "detail": "too quiet"},
        {"name": "speech", "passed": True, "figure": None, "detail": "no ASR", "skipped": True},
    ],
    "passed": False,
}


@pytest.fixture
def video(learner, media_root):
    job = video_job_build(learner=learner, status=JobStatus.READY)
    return video_build(
        job=job,
        title="Your roadmap",
        file=ContentFile(b"0123456789" * 10, name="v.mp4"),
        captions=ContentFile(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n", name="v.vtt"),
        duration_seconds=124.6,
        size_bytes=1_572_864,
        quality_report=QUALITY,
    )


def test_a_video_page_plays_it_with_captions_and_shows_quality_and_watching(
    client, staff, learner, video
):
    WatchProgress.objects.create(
        learner=learner, video=video, completed=True, downloads=2, seconds_watched=120
    )
    WatchProgress.objects.create(learner=staff, video=video, downloads=1, seconds_watched=5)

    page = client.get(reverse("admin:videos_video_change", args=[video.pk]))
    html = page.content.decode()

    media = reverse("admin:videos_video_media", args=[video.pk, "video"])
    captions = reverse("admin:videos_video_media", args=[video.pk, "captions"])
    assert "<video" in html and " controls" in html and f'src="{media}"' in html
    assert f'<track kind="captions" srclang="en" label="English" src="{captions}" default>' in html
    assert reverse("portal:video_media", args=[video.pk, "video"]) not in html  # owner-only URL
    assert "2 min 05 s" in html and "1.5\xa0MB" in html
    # each quality check with its figure and verdict
    for text in ("duration", "124.6", "loudness", "-31.0 LUFS", "too quiet", "Overall: failed"):
        assert text in html
    assert html.count("pg-admin-verdict--pass") == 1
    assert html.count("pg-admin-verdict--fail") == 1
    assert html.count("pg-admin-verdict--skipped") == 1
    # views, completion rate, downloads
    assert "<dt>Views</dt><dd>2</dd>" in html
    assert "<dt>Completion rate</dt><dd>50%</dd>" in html
    assert "<dt>Downloads</dt><dd>3</dd>" in html


def test_a_video_with_nobody_watching_yet(client, staff, video):
    html = client.get(reverse("admin:videos_video_change", args=[video.pk])).content.decode()
    assert "<dt>Views</dt><dd>0</dd>" in html and "<dt>Completion rate</dt><dd>—</dd>" in html


def test_admin_media_streams_ranges_to_staff_only(client, learner, video):
    url = reverse("admin:videos_video_media", args=[video.pk, "video"])
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(learner)  # the video's owner uses the portal, not this URL
    assert client.get(url).url.startswith(reverse("admin:login"))

    client.force_login(user_build(is_staff=True, is_superuser=True))
    whole = client.get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == b"0123456789" * 10
    part = client.get(url, HTTP_RANGE="bytes=10-14")
    assert part.status_code == 206 and part["Content-Range"] == "bytes 10-14/100"
    assert b"".join(part.streaming_content) == b"01234"
    assert client.get(url, HTTP_RANGE="bytes=500-").status_code == 416
    captions = client.get(reverse("admin:videos_video_media", args=[video.pk, "captions"]))
    assert captions["Content-Type"].startswith("text/vtt")
    assert b"Hello" in b"".join(captions.streaming_content)
    assert (
        client.get(reverse("admin:videos_video_media", args=[video.pk, "thumbnail"])).status_code
        == 404
    )
    assert (
        client.get(reverse("admin:videos_video_media", args=[video.pk, "secrets"])).status_code
        == 404
    )
    assert (
        client.get(reverse("admin:videos_video_media", args=[999999, "video"])).status_code == 404
    )
    assert not WatchProgress.objects.exists()  # staff watching is not the learner's watching


def test_hiding_a_video_from_the_list_takes_it_out_of_the_portal(client, learner, video):
    player = reverse("portal:video_player", args=[video.pk])
    client.force_login(learner)
    assert client.get(player).status_code == 200

    client.force_login(user_build(is_staff=True, is_superuser=True))
    page = client.post(
        VIDEOS,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": video.pk,
            "form-0-hidden": "on",
            "_save": "Save",
        },
    )
    assert page.status_code == 302
    video.refresh_from_db()
    assert video.hidden

    client.force_login(learner)
    assert client.get(player).status_code == 404


def test_hiding_a_video_on_its_page(client, staff, video):
    url = reverse("admin:videos_video_change", args=[video.pk])
    response = client.post(url, {"title": "Your roadmap", "focus_area": "", "hidden": "on"})
    assert response.status_code == 302
    video.refresh_from_db()
    assert video.hidden
    assert client.get(reverse("admin:videos_video_add")).status_code == 403


def test_video_list_shows_size_and_duration_for_people(client, staff, video):
    html = client.get(VIDEOS).content.decode()
    assert "2 min 05 s" in html and "1.5\xa0MB" in html


# --- providers -----------------------------------------------------------------------------

SECRET = "sk-live-0123456789wxyz"


@pytest.fixture
def heygen():
    return ProviderAccount.objects.create(
        kind="heygen", name="HeyGen", credentials={"api_key": SECRET, "webhook_secret": "whsec"}
    )


PROVIDER_FORM = {
    "kind": "heygen",
    "name": "HeyGen",
    "enabled": "on",
    "priority": 1,
    "base_url": "",
    "cost_per_minute": "0.5",
    "max_concurrency": 2,
    "new_credentials": "",
}


def test_provider_secrets_never_appear_in_any_admin_page(client, staff, heygen):
    change = reverse("admin:videos_provideraccount_change", args=[heygen.pk])
    client.post(change, {**PROVIDER_FORM, "new_credentials": json.dumps({"api_key": SECRET})})
    act(client, PROVIDERS, "health_check", [heygen])  # writes history too
    pages = [
        PROVIDERS,
        change,
        reverse("admin:videos_provideraccount_history", args=[heygen.pk]),
        reverse("admin:videos_provideraccount_delete", args=[heygen.pk]),
        reverse("admin:videos_provideraccount_rotate_keys"),
        reverse("admin:index"),
    ]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert SECRET.encode() not in page.content, url
    assert "api_key: ••••wxyz".encode() in client.get(change).content
    # a secret typed into a form with an error is not sent back either
    typed = "sk-typed-but-broken-9876"
    bad = client.post(change, {**PROVIDER_FORM, "new_credentials": '{"api_key": "' + typed})
    assert b"Not valid JSON" in bad.content and typed.encode() not in bad.content


def test_credentials_are_write_only_and_kept_when_left_blank(client, staff, heygen):
    url = reverse("admin:videos_provideraccount_change", args=[heygen.pk])
    assert client.post(url, PROVIDER_FORM).status_code == 302
    heygen.refresh_from_db()
    assert heygen.credentials == {"api_key": SECRET, "webhook_secret": "whsec"}
    bad = client.post(url, {**PROVIDER_FORM, "new_credentials": "[1, 2]"})
    assert b"Credentials must be a JSON object." in bad.content
    client.post(url, {**PROVIDER_FORM, "new_credentials": '{"api_key": "sk-new"}'})
    heygen.refresh_from_db()
    assert heygen.credentials == {"api_key": "sk-new"}
    assert heygen.cost_per_minute == Decimal("0.5")


def test_short_secrets_are_fully_masked(client, staff):
    account = ProviderAccount.objects.create(kind="did", name="D-ID", credentials={"k": "short"})
    page = client.get(reverse("admin:videos_provideraccount_change", args=[account.pk]))
    assert b"short" not in page.content and "k: ••••".encode() in page.content


def test_health_check_reports_each_provider_and_keeps_a_record(client, staff, settings):
    studio = ProviderAccount.objects.create(kind="studio", name="studio")
    # a real HTTP call to a port nothing listens on: the provider is down
    down = ProviderAccount.objects.create(
        kind="heygen", name="HeyGen", base_url="http://127.0.0.1:9", credentials={"api_key": "k"}
    )
    unknown = ProviderAccount.objects.create(kind="runway", name="Runway")
    settings.VIDEO_PROVIDER_CLASSES = {
        k: v for k, v in settings.VIDEO_PROVIDER_CLASSES.items() if k != "runway"
    }

    page = act(client, PROVIDERS, "health_check", [studio, down, unknown])

    by_name = {m.split(":")[0]: m for m in messages_of(page)}
    assert by_name["studio"].startswith("studio: healthy (") and "voice(s)" in by_name["studio"]
    assert by_name["HeyGen"].startswith("HeyGen: unhealthy (")
    assert by_name["Runway"] == "Runway: no provider adapter for kind 'runway'"
    assert log_messages(studio)[0].startswith("Health check: healthy (")
    assert log_messages(down)[0].startswith("Health check: unhealthy (")
    assert log_messages(unknown) == ["Health check failed: no provider adapter for kind 'runway'"]
    html = client.get(reverse("admin:videos_provideraccount_change", args=[down.pk])).content
    assert b"Health check: unhealthy (" in html and b"ops" in html  # who did what, on the page


def test_closing_circuits_says_which_were_open(client, staff, heygen, settings):
    studio = ProviderAccount.objects.create(kind="studio", name="studio")
    settings.CIRCUIT_FAILURE_THRESHOLD = 1
    circuit_failure_record(provider="studio", error="boom")
    assert b"Open (not used)" in client.get(PROVIDERS).content

    page = act(client, PROVIDERS, "circuit_close", [studio, heygen])

    assert messages_of(page) == ["1 circuit closed (studio); 1 skipped: already closed (HeyGen)"]
    assert ProviderCircuit.objects.get(provider="studio").state == CircuitState.CLOSED
    assert log_messages(studio) == ["Closed the circuit (was Open (not used))"]
    assert log_messages(heygen) == []


def test_selection_weights_are_shown_read_only(client, staff, heygen, settings):
    settings.PROVIDER_SELECTION_WEIGHTS = {
        "quality": 50,
        "reliability": 25,
        "speed": 15,
        "cost": 10,
    }
    for url in (PROVIDERS, reverse("admin:videos_provideraccount_change", args=[heygen.pk])):
        html = client.get(url).content.decode()
        assert "<th scope='row'>quality</th><td>50</td><td>50%</td>" in html.replace('"', "'")
        assert "<th scope='row'>cost</th><td>10</td><td>10%</td>" in html.replace('"', "'")
        assert 'name="weights' not in html  # nothing to edit


def stored_token(account: ProviderAccount) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM videos_provideraccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0].encode()


def test_rotating_keys_re_encrypts_credentials_under_the_newest_key(
    client, staff, heygen, settings
):
    url = reverse("admin:videos_provideraccount_rotate_keys")
    assert url.encode() in client.get(PROVIDERS).content  # the tool is on the list
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    page = client.get(url)
    assert b"<strong>2</strong> keys" in page.content and old.encode() not in page.content

    done = client.post(url, follow=True)

    assert messages_of(done) == [
        "1 provider account re-encrypted under the newest key; the older keys can now be "
        "removed from FIELD_ENCRYPTION_KEYS"
    ]
    assert json.loads(Fernet(new.encode()).decrypt(stored_token(heygen)))["api_key"] == SECRET
    assert log_messages(heygen) == ["Re-encrypted credentials under the newest key"]


def test_rotating_keys_changes_nothing_when_a_value_cannot_be_opened(
    client, staff, heygen, settings
):
    before = stored_token(heygen)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key was dropped
    page = client.post(reverse("admin:videos_provideraccount_rotate_keys"))
    assert page.status_code == 200
    (message,) = messages_of(page)
    assert message.startswith("Nothing re-encrypted:") and "cannot be decrypted" in message
    assert stored_token(heygen) == before
    assert not LogEntry.objects.exists()


def test_rotating_keys_is_for_staff_only(client, heygen):
    url = reverse("admin:videos_provideraccount_rotate_keys")
    client.force_login(user_build())
    assert client.post(url).url.startswith(reverse("admin:login"))
    assert not LogEntry.objects.exists()


def test_log_entries_name_the_actor_and_the_object(client, staff, learner):
    job = video_job_build(learner=learner, status=JobStatus.FAILED)
    act(client, JOBS, "retry_jobs", [job])
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id, entry.object_repr) == (staff, str(job.pk), str(job))
    assert entry.action_flag != ADDITION
