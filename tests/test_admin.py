"""Every model is in the admin: its pages load for staff and redirect everyone else."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from library.models import Notification, Playlist, PlaylistItem, WatchProgress
from library.services import demo_load
from tests.builders import user_build, video_build, video_job_build
from videos.models import (
    CircuitState,
    GenerationAttempt,
    ProviderAccount,
    ProviderCircuit,
    WebhookEvent,
)
from videos.providers.circuit import circuit_failure_record

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
        from django.apps import apps

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


def test_provider_secrets_are_never_shown(client, every_model):
    client.force_login(every_model.staff)
    account = ProviderAccount.objects.get(name="HeyGen")
    page = client.get(reverse("admin:videos_provideraccount_change", args=[account.pk]))
    assert b"sk-secret-1" not in page.content
    assert b"api_key: " in page.content


def test_credentials_are_write_only_and_kept_when_left_blank(client, every_model):
    client.force_login(every_model.staff)
    account = ProviderAccount.objects.get(name="HeyGen")
    form = {
        "kind": "heygen",
        "name": "HeyGen",
        "enabled": "on",
        "priority": 1,
        "base_url": "",
        "cost_per_minute": "0.5",
        "max_concurrency": 2,
        "new_credentials": "",
    }
    url = reverse("admin:videos_provideraccount_change", args=[account.pk])
    assert client.post(url, form).status_code == 302
    account.refresh_from_db()
    assert account.credentials == {"api_key": "sk-secret-1"}
    bad = client.post(url, {**form, "new_credentials": "{not json"})
    assert b"Not valid JSON" in bad.content
    client.post(url, {**form, "new_credentials": '{"api_key": "sk-new"}'})
    account.refresh_from_db()
    assert account.credentials == {"api_key": "sk-new"}


def test_long_secrets_show_only_their_last_four_characters(client, every_model):
    client.force_login(every_model.staff)
    account = ProviderAccount.objects.create(
        kind="heygen", name="HeyGen 2", credentials={"api_key": "sk-live-0123456789wxyz"}
    )
    page = client.get(reverse("admin:videos_provideraccount_change", args=[account.pk]))
    assert b"sk-live-0123456789wxyz" not in page.content
    assert "api_key: ••••wxyz".encode() in page.content


def test_staff_check_provider_health_and_close_a_circuit(client, every_model, settings):
    client.force_login(every_model.staff)
    studio = ProviderAccount.objects.create(kind="studio", name="studio")
    url = reverse("admin:videos_provideraccount_changelist")
    page = client.post(
        url, {"action": "health_check", "_selected_action": [studio.pk], "index": 0}, follow=True
    )
    (message,) = (str(m) for m in page.context["messages"])
    assert message.startswith("studio: healthy (") and "voice(s)" in message

    settings.CIRCUIT_FAILURE_THRESHOLD = 1
    circuit_failure_record(provider="studio", error="boom")
    assert b"Open (not used)" in client.get(url).content
    client.post(url, {"action": "circuit_close", "_selected_action": [studio.pk], "index": 0})
    assert ProviderCircuit.objects.get(provider="studio").state == CircuitState.CLOSED
