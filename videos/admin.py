import json
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from videos.models import (
    Alert,
    CircuitState,
    GenerationAttempt,
    ProviderAccount,
    ProviderCircuit,
    Video,
    VideoJob,
    WebhookEvent,
)
from videos.providers.base import ProviderError
from videos.providers.circuit import circuit_reset
from videos.providers.registry import provider_build


class GenerationAttemptInline(admin.TabularInline):
    model = GenerationAttempt
    extra = 0
    can_delete = False
    fields = ("provider", "status", "started_at", "finished_at", "seconds", "cost", "error")
    readonly_fields = fields
    show_change_link = True


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "learner",
        "video_type",
        "status",
        "progress",
        "step",
        "provider",
        "priority",
        "created_at",
    )
    list_filter = ("status", "video_type", "provider", "certification", "created_at")
    search_fields = ("learner__username", "learner__email", "id", "error")
    date_hierarchy = "created_at"
    list_select_related = ("learner",)
    raw_id_fields = ("learner", "assessment")
    readonly_fields = ("created_at", "updated_at", "started_at", "finished_at")
    inlines = [GenerationAttemptInline]


@admin.register(GenerationAttempt)
class GenerationAttemptAdmin(admin.ModelAdmin):
    list_display = ("job", "provider", "status", "external_id", "started_at", "seconds", "cost")
    list_filter = ("provider", "status", "error_kind")
    search_fields = ("external_id", "idempotency_key", "job__id")
    raw_id_fields = ("job",)
    readonly_fields = ("idempotency_key",)


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("title", "learner", "video_type", "duration_seconds", "provider", "hidden")
    list_filter = ("video_type", "provider", "hidden", "created_at")
    search_fields = ("title", "focus_area", "learner__username")
    raw_id_fields = ("job", "learner", "domain")
    list_select_related = ("learner",)


class ProviderAccountForm(forms.ModelForm):
    base_url = forms.URLField(required=False, assume_scheme="https")
    # Write-only: the stored secret is never rendered back into the page.
    new_credentials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='JSON object, e.g. {"api_key": "..."}. Leave blank to keep the current ones.',
    )

    class Meta:
        model = ProviderAccount
        fields = (
            "kind",
            "name",
            "enabled",
            "priority",
            "base_url",
            "cost_per_minute",
            "max_concurrency",
        )

    def clean_new_credentials(self) -> dict | None:
        raw = self.cleaned_data["new_credentials"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno})") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Credentials must be a JSON object.")
        return value

    def save(self, commit: bool = True) -> ProviderAccount:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_credentials") is not None:
            account.credentials = self.cleaned_data["new_credentials"]
        if commit:
            account.save()
        return account


def secret_mask(value: object) -> str:
    """Only the last 4 characters of a secret, and only when it is long enough to hide."""
    if isinstance(value, str) and len(value) >= 12:
        return f"••••{value[-4:]}"
    return "••••"


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = (
        "name",
        "kind",
        "enabled",
        "priority",
        "cost_per_minute",
        "max_concurrency",
        "circuit_state",
    )
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("credentials_masked", "circuit_state")
    actions = ("health_check", "circuit_close")

    @admin.display(description="stored credentials")
    def credentials_masked(self, obj: ProviderAccount) -> str:
        if not obj.pk or not obj.credentials:
            return "none"
        credentials = cast(dict[str, object], obj.credentials)  # decrypted JSON object
        return ", ".join(
            f"{key}: {secret_mask(value)}" for key, value in sorted(credentials.items())
        )

    @admin.display(description="circuit")
    def circuit_state(self, obj: ProviderAccount) -> str:
        circuit = ProviderCircuit.objects.filter(provider=obj.name).first()
        return circuit.get_state_display() if circuit else CircuitState.CLOSED.label

    @admin.action(description="Check health of the selected providers")
    def health_check(self, request: HttpRequest, queryset: QuerySet[ProviderAccount]) -> None:
        for account in queryset:
            try:
                health = provider_build(account=account).health()
            except (ProviderError, LookupError) as error:
                self.message_user(request, f"{account.name}: {error}", messages.ERROR)
                continue
            latency = f" in {health.latency_ms:.0f} ms" if health.latency_ms is not None else ""
            level = messages.SUCCESS if health.ok else messages.WARNING
            state = "healthy" if health.ok else "unhealthy"
            self.message_user(request, f"{account.name}: {state}{latency} ({health.detail})", level)

    @admin.action(description="Close the circuit (use the provider again now)")
    def circuit_close(self, request: HttpRequest, queryset: QuerySet[ProviderAccount]) -> None:
        for account in queryset:
            circuit_reset(provider=account.name)
        self.message_user(request, f"{queryset.count()} circuit(s) closed", messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("provider", "event_id", "received_at", "processed_at")
    list_filter = ("provider", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("event_id",)
    readonly_fields = ("received_at",)


@admin.register(ProviderCircuit)
class ProviderCircuitAdmin(admin.ModelAdmin):
    list_display = ("provider", "state", "failures", "opened_at", "updated_at")
    readonly_fields = ("last_error", "updated_at")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "provider", "message", "resolved_at")
    list_filter = ("kind", "provider", ("resolved_at", admin.EmptyFieldListFilter))
    raw_id_fields = ("job",)
