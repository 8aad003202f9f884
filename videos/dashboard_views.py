"""The staff dashboard in the admin (/admin/dashboard/): how generation is going.

Staff only: `admin.site.admin_view` sends anyone else to the admin's login, and a
staff member also needs the permission to view jobs. The period comes from the
query string (`?period=7d`, or `?period=custom&since=2025-03-01&until=2025-03-31`);
bad dates are named on the page, answered with HTTP 400, and the default period
is shown instead.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from videos.dashboard import (
    CUSTOM,
    CUSTOM_MAX_DAYS,
    DEFAULT_PERIOD,
    PERIODS,
    Period,
    dashboard_build,
    period_custom,
    period_recent,
)
from videos.dashboard_charts import (
    cost_text,
    dashboard_charts_build,
    number_text,
    percent_text,
    score_text,
    seconds_text,
)
from videos.models import JobStatus

VIEW_PERMISSION = "videos.view_videojob"


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        choices=[*((key, label) for key, (label, _) in PERIODS.items()), (CUSTOM, "Custom dates")],
        required=False,
        initial=DEFAULT_PERIOD,
    )
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Custom dates only.",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Included.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period") or ""
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        dates_given = bool(since or until or self.errors.get("since") or self.errors.get("until"))
        if period != CUSTOM and not (period == "" and dates_given):
            # A preset period does not use the date fields: what they hold does not matter.
            for name in ("since", "until"):
                self.errors.pop(name, None)
            return data
        data["period"] = CUSTOM
        if self.errors:  # a date that did not parse is already named
            return data
        if since is None:
            self.add_error("since", "Choose the first day of the period.")
        if until is None:
            self.add_error("until", "Choose the last day of the period.")
        if since is None or until is None:
            return data
        today = timezone.localdate()
        if since > until:
            self.add_error("until", "The last day cannot be before the first day.")
        elif until > today:
            self.add_error("until", "The last day cannot be after today.")
        elif (until - since).days + 1 > CUSTOM_MAX_DAYS:
            self.add_error("since", f"A custom period is at most {CUSTOM_MAX_DAYS} days long.")
        return data

    def period_chosen(self) -> Period:
        """The period of a valid form."""
        data = self.cleaned_data
        if data.get("period") == CUSTOM:
            return period_custom(since_day=data["since"], until_day=data["until"])
        return period_recent(key=data.get("period") or DEFAULT_PERIOD)


def _failed_jobs_url(period: Period) -> str:
    query = urlencode(
        {
            "status__exact": JobStatus.FAILED,
            "created_at__gte": period.since.isoformat(sep=" "),
            "created_at__lt": period.until.isoformat(sep=" "),
        }
    )
    return f"{reverse('admin:videos_videojob_changelist')}?{query}"


def _dashboard(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied("Viewing the dashboard needs the permission to view jobs.")
    status = 200
    if request.GET:
        form = PeriodForm(request.GET)
        if form.is_valid():
            period = form.period_chosen()
        else:
            period = period_recent(key=DEFAULT_PERIOD)
            status = 400
    else:
        form = PeriodForm(initial={"period": DEFAULT_PERIOD})
        period = period_recent(key=DEFAULT_PERIOD)
    dashboard = dashboard_build(period=period)
    metrics = dashboard.metrics
    summary = [
        ("Jobs", number_text(metrics.jobs_total)),
        ("Success rate", percent_text(metrics.success_rate)),
        ("Median generation time", seconds_text(metrics.median_seconds)),
        ("95th percentile", seconds_text(metrics.p95_seconds)),
        ("Mean QA score", score_text(metrics.mean_qa_score)),
        ("Cost", cost_text(metrics.cost)),
        ("Provider attempts", number_text(metrics.attempts)),
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "form": form,
        "dashboard": dashboard,
        "period": period,
        "shown_until": period.until - timedelta(microseconds=1),
        "summary": summary,
        "charts": dashboard_charts_build(dashboard=dashboard),
        "provider_rows": [
            (
                row.provider,
                number_text(row.attempts),
                number_text(row.succeeded),
                number_text(row.failed),
                percent_text(row.success_rate),
                seconds_text(row.median_seconds),
                seconds_text(row.p95_seconds),
                score_text(row.mean_qa_score),
                cost_text(row.cost),
            )
            for row in metrics.providers
        ],
        "slowest_rows": [
            (slow.job, seconds_text(slow.seconds), slow.attempts) for slow in dashboard.slowest
        ],
        "jobs_failed": number_text(metrics.jobs_by_status[JobStatus.FAILED]),
        "failed_jobs_url": _failed_jobs_url(period),
        "open_alerts_url": f"{reverse('admin:videos_alert_changelist')}?resolved_at__isempty=1",
    }
    return TemplateResponse(request, "admin/dashboard.html", context, status=status)


dashboard = admin.site.admin_view(_dashboard)
