"""The admin as an operations console: jobs, attempts, videos, providers, webhooks, alerts.

Every action reports what it did with counts and the reasons it skipped rows
("3 jobs queued again; 1 skipped: already running (#12)"), and writes one
LogEntry per object it changed, shown on the job and provider pages.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from library.models import Assessment, WatchProgress
from presgen.models import User
from videos.media import video_file_response
from videos.models import (
    ACTIVE_STATUSES,
    Alert,
    CircuitState,
    GenerationAttempt,
    ProviderAccount,
    ProviderCircuit,
    Video,
    VideoJob,
    WebhookEvent,
)
from videos.portal_views import MEDIA_KINDS
from videos.providers.base import ProviderError
from videos.providers.circuit import circuit_reset
from videos.providers.registry import provider_build, providers_enabled
from videos.services import ActionResult, job_cancel, job_rerender, job_retry, series_plan

ADMIN_CSS = {"all": ("css/admin.css",)}
AUDIT_ROWS = 10  # LogEntries shown on a job's or a provider's page
IDS_SHOWN = 10  # ids listed per skip reason in an action's message


# --- shared helpers ----------------------------------------------------------------------


def count_say(count: int, singular: str, plural: str | None = None) -> str:
    """'1 job', '3 jobs'."""
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def action_message(*, done: str, skipped: dict[str, list[str]]) -> str:
    """'3 jobs queued again; 2 skipped: already running (#4, #7), already ready (#9)'."""
    if not skipped:
        return done
    total = sum(len(names) for names in skipped.values())
    reasons = []
    for reason, names in skipped.items():
        shown = ", ".join(names[:IDS_SHOWN]) + (", …" if len(names) > IDS_SHOWN else "")
        reasons.append(f"{reason} ({shown})")
    return f"{done}; {total} skipped: {', '.join(reasons)}"


def audit_table(*, obj: Model) -> SafeString:
    """The object's last LogEntries (who did what, when), newest first."""
    if obj.pk is None:
        return mark_safe("—")
    entries = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
        )
        .select_related("user")
        .order_by("-action_time", "-pk")[:AUDIT_ROWS]
    )
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                entry.action_time.strftime("%Y-%m-%d %H:%M:%S"),
                entry.user.get_username(),
                entry.get_change_message() or entry.get_action_flag_display(),
            )
            for entry in entries
        ),
    )
    history = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
    if not rows:
        return format_html('Nothing yet. <a href="{}">Full history</a>', history)
    return format_html(
        '<table class="pg-admin-table"><thead><tr><th scope="col">When</th>'
        '<th scope="col">Who</th><th scope="col">What</th></tr></thead>'
        '<tbody>{}</tbody></table><p><a href="{}">Full history</a></p>',
        rows,
        history,
    )


def duration_say(seconds: float | None) -> str:
    """'45 s', '2 min 05 s', '1 h 02 min'."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


# --- jobs ----------------------------------------------------------------------------------


def job_skip_reason(job: VideoJob) -> str:
    if job.status in ACTIVE_STATUSES:
        return "already running"
    return f"already {job.get_status_display().lower()}"


class RerenderForm(forms.Form):
    provider = forms.ChoiceField(
        label="Render again on",
        widget=forms.RadioSelect,
        help_text="Only enabled providers are listed. The job uses this provider and no other.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        circuits = dict(ProviderCircuit.objects.values_list("provider", "state"))
        choices = []
        for provider, priority in sorted(providers_enabled(), key=lambda p: (p[1], p[0].name)):
            state = CircuitState(circuits.get(provider.name, CircuitState.CLOSED)).label
            choices.append(
                (provider.name, f"{provider.name} ({provider.kind}, priority {priority}) — {state}")
            )
        cast(forms.ChoiceField, self.fields["provider"]).choices = choices


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "learner",
        "video_type",
        "status",
        "progress_bar",
        "step",
        "provider",
        "certification",
        "created_at",
    )
    list_filter = ("status", "video_type", "provider", "certification", "created_at")
    search_fields = (
        "=id",
        "learner__username",
        "learner__email",
        "learner__display_name",
        "video__title",
        "step",
        "error",
    )
    date_hierarchy = "created_at"
    list_select_related = ("learner", "certification")
    actions = ("retry_jobs", "cancel_jobs", "rerender_jobs")
    fieldsets = (
        (None, {"fields": ("live_progress",)}),
        (
            "Job",
            {
                "fields": (
                    ("learner", "certification", "assessment"),
                    ("video_type", "priority", "status"),
                    ("provider", "retries", "error_kind"),
                    "error",
                    "parameters_view",
                    "plan_key",
                )
            },
        ),
        ("Attempts", {"fields": ("attempts_timeline",)}),
        ("Script", {"fields": ("script_view",)}),
        (
            "Times",
            {
                "fields": (
                    ("created_at", "started_at", "finished_at"),
                    ("next_run_at", "deadline_at", "updated_at"),
                )
            },
        ),
        ("History", {"fields": ("audit_log",)}),
    )

    class Media:
        css = ADMIN_CSS
        js = ("js/admin_job.js",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from planning and requests, which also queue them

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The pipeline owns a job's fields; staff act on jobs through the actions.
        return flatten_fieldsets(self.fieldsets)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="videos_videojob_progress",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """Staff only (admin_view): the job's status and progress, polled by admin_job.js."""
        job = self.get_object(request, unquote(object_id))
        if job is None or not self.has_view_permission(request, job):
            raise Http404("No such job.")
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "status_display": job.get_status_display(),
                "progress": job.progress,
                "step": job.step,
                "active": job.is_active,
            }
        )

    # -- columns and read-only fields

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, obj: VideoJob) -> SafeString:
        return format_html(
            '<progress class="pg-admin-progress" max="100" value="{}" aria-label="{}">'
            "{}%</progress> {}%",
            obj.progress,
            f"Job #{obj.pk} progress",
            obj.progress,
            obj.progress,
        )

    @admin.display(description="progress")
    def live_progress(self, obj: VideoJob) -> SafeString:
        url = reverse("admin:videos_videojob_progress", args=[obj.pk])
        return format_html(
            '<div class="pg-admin-live" data-job-progress-url="{}" data-active="{}">'
            '<progress class="pg-admin-progress pg-admin-progress--wide" max="100" value="{}"'
            ' aria-labelledby="job-progress-label">{}%</progress>'
            ' <span id="job-progress-label" aria-live="polite" data-job-progress-label>'
            "{} · {}% · {}</span></div>",
            url,
            "1" if obj.is_active else "0",
            obj.progress,
            obj.progress,
            obj.get_status_display(),
            obj.progress,
            obj.step or "—",
        )

    @admin.display(description="parameters")
    def parameters_view(self, obj: VideoJob) -> SafeString:
        return format_html(
            "<pre class='pg-admin-pre'>{}</pre>",
            json.dumps(obj.parameters, indent=2, sort_keys=True, default=str),
        )

    @admin.display(description="attempts")
    def attempts_timeline(self, obj: VideoJob) -> SafeString:
        attempts = list(obj.attempts.order_by("started_at", "pk"))
        if not attempts:
            return mark_safe("No provider attempt yet.")
        rows = format_html_join(
            "",
            '<tr class="pg-admin-attempt pg-admin-attempt--{}"><td><a href="{}">#{}</a></td>'
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    attempt.status,
                    reverse("admin:videos_generationattempt_change", args=[attempt.pk]),
                    attempt.pk,
                    attempt.provider,
                    _when(attempt.started_at),
                    _when(attempt.finished_at),
                    f"{attempt.seconds:.1f}" if attempt.seconds is not None else "—",
                    attempt.get_status_display(),
                    attempt.error or "—",
                    f"{attempt.cost:.4f}",
                    f"{attempt.qa_score:.1f}" if attempt.qa_score is not None else "—",
                )
                for attempt in attempts
            ),
        )
        return format_html(
            '<table class="pg-admin-table"><thead><tr><th scope="col">Attempt</th>'
            '<th scope="col">Provider</th><th scope="col">Started</th>'
            '<th scope="col">Finished</th><th scope="col">Seconds</th>'
            '<th scope="col">Status</th><th scope="col">Error</th>'
            '<th scope="col">Cost</th><th scope="col">QA score</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="script")
    def script_view(self, obj: VideoJob) -> SafeString:
        written = obj.script if isinstance(obj.script, dict) else {}
        script = written.get("script") if isinstance(written.get("script"), dict) else {}
        sections = [s for s in (script or {}).get("sections") or [] if isinstance(s, dict)]
        if not sections:
            return mark_safe("Not written yet.")
        quality = obj.script_quality if isinstance(obj.script_quality, dict) else {}
        parts = quality.get("parts") if isinstance(quality.get("parts"), dict) else {}
        part_rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (name, part.get("score", "—"), part.get("note", ""))
                for name, part in (parts or {}).items()
                if isinstance(part, dict)
            ),
        )
        section_items = format_html_join(
            "",
            "<li><strong>{}</strong><p>{}</p></li>",
            ((s.get("heading", ""), s.get("text", "")) for s in sections),
        )
        return format_html(
            "<p><strong>{}</strong> · written by {} · about {} s</p>"
            '<table class="pg-admin-table"><caption>Quality score {} / 100</caption>'
            '<thead><tr><th scope="col">Part</th><th scope="col">Score</th>'
            '<th scope="col">Note</th></tr></thead><tbody>{}</tbody></table>'
            '<ol class="pg-admin-script">{}</ol>',
            script.get("title", "") if script else "",
            written.get("writer", "—"),
            written.get("target_seconds", "—"),
            quality.get("total", "—"),
            part_rows,
            section_items,
        )

    @admin.display(description="recent changes")
    def audit_log(self, obj: VideoJob) -> SafeString:
        return audit_table(obj=obj)

    # -- actions

    def _jobs_act(
        self,
        request: HttpRequest,
        jobs: Iterable[VideoJob],
        *,
        act: Any,
        verb: str,
        log: str,
    ) -> None:
        done: list[VideoJob] = []
        skipped: dict[str, list[str]] = {}
        for job in jobs:
            result: ActionResult = act(job)
            if result.done:
                done.append(job)
                self.log_change(request, job, f"{log}: {result.message}")
            else:
                skipped.setdefault(job_skip_reason(job), []).append(f"#{job.pk}")
        message = action_message(done=f"{count_say(len(done), 'job')} {verb}", skipped=skipped)
        self.message_user(
            request, message, messages.SUCCESS if done and not skipped else messages.WARNING
        )

    @admin.action(description="Retry the selected failed or cancelled jobs")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[VideoJob]) -> None:
        self._jobs_act(
            request,
            queryset.order_by("pk"),
            act=lambda job: job_retry(job=job),
            verb="queued again",
            log="Retried",
        )

    @admin.action(description="Cancel the selected active jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[VideoJob]) -> None:
        self._jobs_act(
            request,
            queryset.order_by("pk"),
            act=lambda job: job_cancel(job=job),
            verb="cancelled",
            log="Cancelled",
        )

    @admin.action(description="Re-render the selected jobs on a provider…")
    def rerender_jobs(
        self, request: HttpRequest, queryset: QuerySet[VideoJob]
    ) -> TemplateResponse | None:
        jobs = list(queryset.select_related("learner").order_by("pk"))
        form = RerenderForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            name = form.cleaned_data["provider"]
            self._jobs_act(
                request,
                jobs,
                act=lambda job: job_rerender(job=job, provider_name=name),
                verb=f"sent to {name}",
                log=f"Re-rendered on {name}",
            )
            return None  # back to the list, with the message
        context = {
            **self.admin_site.each_context(request),
            "title": "Re-render on a provider",
            "opts": self.model._meta,
            "jobs": jobs,
            "form": form,
            "action": "rerender_jobs",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/videos/videojob/rerender.html", context)


# --- planning series (actions of AssessmentAdmin and UserAdmin) ---------------------------


def _plan_log(
    modeladmin: admin.ModelAdmin, request: HttpRequest, *, source: Model, jobs: list[VideoJob]
) -> None:
    """One LogEntry on what was planned from, one per job it made."""
    ids = ", ".join(f"#{job.pk}" for job in jobs)
    modeladmin.log_change(
        request, source, f"Planned the video series: {count_say(len(jobs), 'new job')} ({ids})"
    )
    for job in jobs:
        modeladmin.log_addition(request, job, f"Planned from {source._meta.verbose_name} {source}")


@admin.action(description="Plan the video series of the selected assessments")
def assessments_series_plan(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Assessment]
) -> None:
    """Plan each assessment's series; videos already planned with the same inputs are kept."""
    planned = 0
    created: list[VideoJob] = []
    skipped: dict[str, list[str]] = {}
    for assessment in queryset.select_related("learner", "certification").order_by("pk"):
        plan = series_plan(assessment=assessment)
        if not plan.created:
            skipped.setdefault("already planned", []).append(f"#{assessment.pk}")
            continue
        planned += 1
        created += plan.created
        _plan_log(modeladmin, request, source=assessment, jobs=plan.created)
    done = f"{count_say(planned, 'assessment')} planned: {count_say(len(created), 'new job')}"
    modeladmin.message_user(
        request,
        action_message(done=done, skipped=skipped),
        messages.SUCCESS if planned and not skipped else messages.WARNING,
    )


def assessments_latest(*, learner: User) -> list[Assessment]:
    """The learner's latest assessment in each certification."""
    latest: dict[int, Assessment] = {}
    rows = Assessment.objects.filter(learner=learner).select_related("certification")
    for assessment in rows.order_by("certification_id", "-taken_at", "-pk"):
        latest.setdefault(assessment.certification_id, assessment)
    return list(latest.values())


@admin.action(description="Plan video series from the selected learners' latest assessments")
def learners_series_plan(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]
) -> None:
    """Per learner and certification, plan the series of the latest assessment."""
    planned = 0
    used = 0
    created: list[VideoJob] = []
    skipped: dict[str, list[str]] = {}
    for learner in queryset.order_by("username"):
        assessments = assessments_latest(learner=learner)
        if not assessments:
            skipped.setdefault("no assessment", []).append(learner.get_username())
            continue
        made: list[VideoJob] = []
        for assessment in assessments:
            plan = series_plan(assessment=assessment)
            if plan.created:
                used += 1
                made += plan.created
                _plan_log(modeladmin, request, source=assessment, jobs=plan.created)
        if not made:
            skipped.setdefault("already planned", []).append(learner.get_username())
            continue
        planned += 1
        created += made
        modeladmin.log_change(
            request,
            learner,
            f"Planned video series from the latest assessments: "
            f"{count_say(len(made), 'new job')} ({', '.join(f'#{job.pk}' for job in made)})",
        )
    done = (
        f"{count_say(planned, 'learner')} planned: {count_say(len(created), 'new job')} "
        f"from {count_say(used, 'assessment')}"
    )
    modeladmin.message_user(
        request,
        action_message(done=done, skipped=skipped),
        messages.SUCCESS if planned and not skipped else messages.WARNING,
    )


@admin.register(GenerationAttempt)
class GenerationAttemptAdmin(admin.ModelAdmin):
    list_display = (
        "job",
        "provider",
        "status",
        "external_id",
        "started_at",
        "seconds",
        "cost",
        "qa_score",
    )
    list_filter = ("provider", "status", "error_kind")
    search_fields = ("external_id", "idempotency_key", "job__id")
    raw_id_fields = ("job",)
    readonly_fields = ("idempotency_key",)


# --- videos --------------------------------------------------------------------------------


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "learner",
        "video_type",
        "duration_human",
        "size_human",
        "provider",
        "created_at",
        "hidden",
    )
    list_editable = ("hidden",)
    list_filter = ("video_type", "provider", "hidden", "created_at")
    search_fields = ("title", "focus_area", "learner__username", "learner__email")
    list_select_related = ("learner",)
    fieldsets = (
        (None, {"fields": ("player",)}),
        ("Shown to the learner", {"fields": ("title", "focus_area", "hidden")}),
        (
            "Video",
            {
                "fields": (
                    ("learner", "job", "video_type"),
                    ("domain", "provider", "created_at"),
                    ("duration_human", "size_human", "resolution"),
                    "downloads",
                )
            },
        ),
        ("Quality report", {"fields": ("quality_table",)}),
        ("Watching", {"fields": ("watch_stats",)}),
    )
    readonly_fields = (
        "player",
        "learner",
        "job",
        "video_type",
        "domain",
        "provider",
        "created_at",
        "duration_human",
        "size_human",
        "resolution",
        "downloads",
        "quality_table",
        "watch_stats",
    )

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # videos are made by the pipeline, after the quality check

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/media/<str:kind>/",
                self.admin_site.admin_view(self.media_view),
                name="videos_video_media",
            ),
            *super().get_urls(),
        ]

    def media_view(
        self, request: HttpRequest, object_id: str, kind: str
    ) -> HttpResponse | StreamingHttpResponse:
        """Staff only (admin_view): a video's file, captions or thumbnail, with Range support.

        The portal's media URL is for the video's owner; staff watch here, and
        their downloads are not counted as the learner's.
        """
        if kind not in MEDIA_KINDS:
            raise Http404("No such media.")
        video = self.get_object(request, unquote(object_id))
        if video is None or not self.has_view_permission(request, video):
            raise Http404("No such video.")
        # Staff previews are not the learner's downloads.
        return video_file_response(request, video=video, field_name=MEDIA_KINDS[kind], count=False)

    def _media_url(self, obj: Video, kind: str) -> str:
        return reverse("admin:videos_video_media", args=[obj.pk, kind])

    @admin.display(description="video")
    def player(self, obj: Video) -> SafeString:
        track = (
            format_html(
                '<track kind="captions" srclang="en" label="English" src="{}" default>',
                self._media_url(obj, "captions"),
            )
            if obj.captions
            else ""
        )
        poster = (
            format_html(' poster="{}"', self._media_url(obj, "thumbnail")) if obj.thumbnail else ""
        )
        return format_html(
            '<video class="pg-admin-player" controls preload="metadata"{}'
            ' aria-label="{}"><source src="{}" type="video/mp4">{}</video>'
            '<p><a href="{}">Open the file</a>{}</p>',
            poster,
            obj.title,
            self._media_url(obj, "video"),
            track,
            self._media_url(obj, "video"),
            format_html(' · <a href="{}">Captions</a>', self._media_url(obj, "captions"))
            if obj.captions
            else "",
        )

    @admin.display(description="duration", ordering="duration_seconds")
    def duration_human(self, obj: Video) -> str:
        return duration_say(obj.duration_seconds)

    @admin.display(description="size", ordering="size_bytes")
    def size_human(self, obj: Video) -> str:
        return filesizeformat(obj.size_bytes)

    @admin.display(description="resolution")
    def resolution(self, obj: Video) -> str:
        return f"{obj.width}×{obj.height}"

    @admin.display(description="downloads by the learner")
    def downloads(self, obj: Video) -> int:
        return int(obj.progress.aggregate(n=Sum("downloads"))["n"] or 0)

    @admin.display(description="checks")
    def quality_table(self, obj: Video) -> SafeString:
        report = obj.quality_report if isinstance(obj.quality_report, dict) else {}
        checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
        if not checks:
            return mark_safe("No quality report stored.")

        def verdict(check: dict[str, Any]) -> tuple[str, str]:
            if check.get("skipped"):
                return "skipped", "Skipped"
            return ("pass", "Pass") if check.get("passed") else ("fail", "Fail")

        rows = format_html_join(
            "",
            '<tr><th scope="row">{}</th><td>{}</td>'
            '<td><span class="pg-admin-verdict pg-admin-verdict--{}">{}</span></td>'
            "<td>{}</td></tr>",
            (
                (
                    check.get("name", "?"),
                    "—" if check.get("figure") is None else check["figure"],
                    *verdict(check),
                    check.get("detail", ""),
                )
                for check in checks
            ),
        )
        overall = "passed" if report.get("passed", True) else "failed"
        return format_html(
            '<table class="pg-admin-table"><caption>Overall: {}</caption><thead><tr>'
            '<th scope="col">Check</th><th scope="col">Figure</th>'
            '<th scope="col">Result</th><th scope="col">Detail</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            overall,
            rows,
        )

    @admin.display(description="watch statistics")
    def watch_stats(self, obj: Video) -> SafeString:
        stats = WatchProgress.objects.filter(video=obj).aggregate(
            views=Count("id"),
            completed=Count("id", filter=Q(completed=True)),
            downloads=Sum("downloads"),
            watched=Sum("seconds_watched"),
        )
        views = int(stats["views"] or 0)
        rate = f"{stats['completed'] * 100 / views:.0f}%" if views else "—"
        return format_html(
            '<dl class="pg-admin-stats"><div><dt>Views</dt><dd>{}</dd></div>'
            "<div><dt>Completion rate</dt><dd>{}</dd></div>"
            "<div><dt>Downloads</dt><dd>{}</dd></div>"
            "<div><dt>Time watched</dt><dd>{}</dd></div></dl>",
            views,
            rate,
            int(stats["downloads"] or 0),
            duration_say(stats["watched"] or 0),
        )


# --- providers -----------------------------------------------------------------------------


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value back: not the stored secret, not one just typed into a bad form."""

    def format_value(self, value: Any) -> None:
        return None


class ProviderAccountForm(forms.ModelForm):
    base_url = forms.URLField(required=False, assume_scheme="https")
    # Write-only: the stored secret is never rendered back into the page.
    new_credentials = forms.CharField(
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text='JSON object, e.g. {"api_key": "..."}. Leave blank to keep the current ones. '
        "Never shown again, even when the form has an error.",
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


def selection_weights() -> list[tuple[str, int, str]]:
    """(part, weight, share of the total) of PROVIDER_SELECTION_WEIGHTS."""
    weights: dict[str, int] = settings.PROVIDER_SELECTION_WEIGHTS
    total = sum(weights.values())
    return [
        (name, weight, f"{weight * 100 / total:.0f}%" if total else "—")
        for name, weight in weights.items()
    ]


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
    readonly_fields = ("credentials_masked", "circuit_state", "weights_view", "audit_log")
    actions = ("health_check", "circuit_close")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("kind", "name"),
                    ("enabled", "priority"),
                    "base_url",
                    ("cost_per_minute", "max_concurrency"),
                )
            },
        ),
        ("Credentials", {"fields": ("credentials_masked", "new_credentials")}),
        ("Selection", {"fields": ("circuit_state", "weights_view")}),
        ("History", {"fields": ("audit_log",)}),
    )

    class Media:
        css = ADMIN_CSS

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "rotate-keys/",
                self.admin_site.admin_view(self.rotate_keys_view),
                name="videos_provideraccount_rotate_keys",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"selection_weights": selection_weights(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def rotate_keys_view(self, request: HttpRequest) -> HttpResponse:
        """Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key.

        Runs `manage.py rotate_field_keys`: all or nothing, so a row no key can
        open leaves everything as it was and says so.
        """
        if not self.has_change_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:videos_provideraccount_changelist")
        if request.method == "POST":
            out = io.StringIO()
            try:
                call_command("rotate_field_keys", stdout=out)
            except CommandError as error:
                # Stay here: the list itself cannot open the rows until the key is back.
                self.message_user(request, f"Nothing re-encrypted: {error}", messages.ERROR)
                return self._rotate_keys_page(request)
            accounts = list(ProviderAccount.objects.order_by("name"))
            for account in accounts:
                self.log_change(request, account, "Re-encrypted credentials under the newest key")
            self.message_user(
                request,
                f"{count_say(len(accounts), 'provider account')} re-encrypted under the newest "
                "key; the older keys can now be removed from FIELD_ENCRYPTION_KEYS",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist)
        return self._rotate_keys_page(request)

    def _rotate_keys_page(self, request: HttpRequest) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Rotate the credential encryption key",
            "opts": self.model._meta,
            "key_count": len(settings.FIELD_ENCRYPTION_KEYS),
            "account_count": ProviderAccount.objects.count(),
            "media": self.media,
        }
        return TemplateResponse(request, "admin/videos/provideraccount/rotate_keys.html", context)

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

    @admin.display(description="selection weights (all providers, from settings)")
    def weights_view(self, obj: ProviderAccount) -> SafeString:
        return weights_table(selection_weights())

    @admin.display(description="recent changes")
    def audit_log(self, obj: ProviderAccount) -> SafeString:
        return audit_table(obj=obj)

    @admin.action(description="Check health of the selected providers")
    def health_check(self, request: HttpRequest, queryset: QuerySet[ProviderAccount]) -> None:
        for account in queryset:
            try:
                health = provider_build(account=account).health()
            except (ProviderError, LookupError) as error:
                self.log_change(request, account, f"Health check failed: {error}")
                self.message_user(request, f"{account.name}: {error}", messages.ERROR)
                continue
            latency = f" in {health.latency_ms:.0f} ms" if health.latency_ms is not None else ""
            level = messages.SUCCESS if health.ok else messages.WARNING
            state = "healthy" if health.ok else "unhealthy"
            detail = f"{state}{latency} ({health.detail})"
            self.log_change(request, account, f"Health check: {detail}")
            self.message_user(request, f"{account.name}: {detail}", level)

    @admin.action(description="Close the circuit (use the provider again now)")
    def circuit_close(self, request: HttpRequest, queryset: QuerySet[ProviderAccount]) -> None:
        states = dict(ProviderCircuit.objects.values_list("provider", "state"))
        closed: list[str] = []
        skipped: dict[str, list[str]] = {}
        for account in queryset.order_by("name"):
            state = states.get(account.name, CircuitState.CLOSED)
            if state == CircuitState.CLOSED:
                skipped.setdefault("already closed", []).append(account.name)
                continue
            circuit_reset(provider=account.name)
            closed.append(account.name)
            self.log_change(
                request, account, f"Closed the circuit (was {CircuitState(state).label})"
            )
        done = count_say(len(closed), "circuit") + " closed"
        if closed:
            done += f" ({', '.join(closed)})"
        self.message_user(
            request,
            action_message(done=done, skipped=skipped),
            messages.SUCCESS if closed and not skipped else messages.WARNING,
        )


def weights_table(weights: list[tuple[str, int, str]]) -> SafeString:
    rows = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>", weights)
    return format_html(
        '<table class="pg-admin-table"><thead><tr><th scope="col">Part</th>'
        '<th scope="col">Weight</th><th scope="col">Share</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        rows,
    )


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
