import json

from django import forms
from django.contrib import admin

from videos.models import (
    Alert,
    GenerationAttempt,
    ProviderAccount,
    ProviderCircuit,
    Video,
    VideoJob,
    WebhookEvent,
)


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


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ("name", "kind", "enabled", "priority", "cost_per_minute", "max_concurrency")
    list_filter = ("kind", "enabled")
    search_fields = ("name",)
    readonly_fields = ("credentials_masked",)

    @admin.display(description="stored credentials")
    def credentials_masked(self, obj: ProviderAccount) -> str:
        if not obj.pk or not obj.credentials:
            return "none"
        return ", ".join(f"{key}: ••••••" for key in sorted(obj.credentials))


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
