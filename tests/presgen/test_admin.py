"""The admin as a whole: every model is in it, staff only; the RQ dashboard; planning by learner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from library.models import Notification, Playlist, PlaylistItem, WatchProgress
from library.services import demo_load
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import GenerationAttempt, ProviderAccount, VideoJob, WebhookEvent
from videos.planning import series_items_plan

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def every_model(media_root, rq_queues):
    """At least one row of every registered model, so list columns and change pages render."""
    demo = demo_load()
    job = video_job_build(learner=demo.learner, certification=demo.certification)
    GenerationAttempt.objects.create(job=job, provider="studio", external_id="s-1", seconds=12)
    video = video_build(job=job)
    playlist = Playlist.objects.create(learner=demo.learner, title="Mine")
    PlaylistItem.objects.create(playlist=playlist, video=video)
    WatchProgress.objects.create(learner=demo.learner, video=video, position_seconds=3)
    Notification.objects.create(learner=demo.learner, kind="video_ready", title="Ready")
    ProviderAccount.objects.create(
        kind="heygen", name="HeyGen", credentials={"api_key": "sk-secret-1"}
    )
    WebhookEvent.objects.create(provider="heygen", event_id="e1", payload={})
    return demo


def test_every_app_model_is_registered():
    labels = {m._meta.label for m in MODELS}
    for app in ("presgen", "library", "videos"):
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label in labels, f"{model._meta.label} is not in the admin"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_staff_can_open_list_add_and_change_pages(client, every_model, model):
    client.force_login(every_model.staff)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
    # search works too, not just the bare list
    assert client.get(reverse(f"{prefix}_changelist"), {"q": "a"}).status_code == 200
    request = RequestFactory().get("/")
    request.user = every_model.staff
    can_add = admin.site._registry[model].has_add_permission(request)
    assert client.get(reverse(f"{prefix}_add")).status_code == (200 if can_add else 403)
    # Unmanaged models (django-rq's dashboard entry) have no table to pick a row from.
    obj = model._default_manager.first() if model._meta.managed else None
    if obj is not None:
        assert client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_learners_and_visitors_are_sent_to_the_admin_login(client, model):
    info = (model._meta.app_label, model._meta.model_name)
    url = reverse("admin:{}_{}_changelist".format(*info))
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(user_build())
    assert client.get(url).url.startswith(reverse("admin:login"))


# --- queues --------------------------------------------------------------------------------

RQ_PAGES = [
    reverse("django_rq:home"),
    reverse("django_rq:jobs", args=[0]),
    reverse("django_rq:failed_jobs", args=[0]),
    reverse("django_rq:workers", args=[0]),
]


@pytest.mark.parametrize("url", RQ_PAGES)
def test_the_rq_dashboard_is_for_staff_only(client, rq_queues, url):
    assert url.startswith("/admin/rq/")
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(user_build())
    assert client.get(url).url.startswith(reverse("admin:login"))
    client.force_login(user_build(is_staff=True))
    assert client.get(url).status_code == 200


def test_the_rq_figures_need_staff_or_a_token(client, rq_queues, settings):
    settings.RQ_API_TOKEN = ""
    url = reverse("django_rq:home_json")
    assert client.get(url).status_code == 401
    client.force_login(user_build())
    assert client.get(url).status_code == 401
    client.force_login(user_build(is_staff=True))
    assert "queues" in client.get(url).json()


def test_the_admin_home_links_the_queues(client, rq_queues):
    client.force_login(user_build(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:index"))
    html = page.content.decode()
    assert f'href="{reverse("django_rq:home")}"' in html
    assert "Queues and workers" in html
    assert client.get(reverse("django_rq:home")).status_code == 200


# --- planning by learner -------------------------------------------------------------------


def test_plan_series_from_each_learners_latest_assessments(client, rq_queues):
    staff = user_build(is_staff=True, is_superuser=True)
    client.force_login(staff)
    cloud = certification_build(domains={"compute": 50, "storage": 50})
    security = certification_build(domains={"iam": 100})
    maria = user_build(username="maria")
    old = assessment_build(
        learner=maria,
        certification=cloud,
        scores={"compute": 30, "storage": 40},
        taken_at=timezone.now() - timedelta(days=30),
    )
    latest = assessment_build(
        learner=maria, certification=cloud, scores={"compute": 60, "storage": 80}
    )
    sec = assessment_build(learner=maria, certification=security, scores={"iam": 45})
    nobody = user_build(username="nobody")
    expected = len(series_items_plan(assessment=latest)) + len(series_items_plan(assessment=sec))

    page = client.post(
        reverse("admin:presgen_user_changelist"),
        {"action": "learners_series_plan", "_selected_action": [maria.pk, nobody.pk], "index": 0},
        follow=True,
    )

    assert [str(m) for m in page.context["messages"]] == [
        f"1 learner planned: {expected} new jobs from 2 assessments; "
        "1 skipped: no assessment (nobody)"
    ]
    jobs = VideoJob.objects.filter(learner=maria)
    assert jobs.count() == expected
    assert set(jobs.values_list("assessment", flat=True)) == {latest.pk, sec.pk}
    assert not jobs.filter(assessment=old).exists()
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(maria), object_id=str(maria.pk)
    )
    assert entry.user == staff
    assert entry.change_message.startswith(
        f"Planned video series from the latest assessments: {expected} new jobs (#"
    )
    additions = LogEntry.objects.filter(
        action_flag=ADDITION, content_type=ContentType.objects.get_for_model(VideoJob)
    )
    assert additions.count() == expected

    again = client.post(
        reverse("admin:presgen_user_changelist"),
        {"action": "learners_series_plan", "_selected_action": [maria.pk], "index": 0},
        follow=True,
    )
    assert [str(m) for m in again.context["messages"]] == [
        "0 learners planned: 0 new jobs from 0 assessments; 1 skipped: already planned (maria)"
    ]
    assert VideoJob.objects.filter(learner=maria).count() == expected
