"""The learner's assessment history (portal): every result, and one result in detail.

Thin views over library.selectors and library.charts. A learner sees only their
own assessments: another learner's assessment id is a 404, never a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from library.charts import Bar, Chart, TrendPoint, domain_bar_chart, score_trend_chart
from library.models import Assessment
from library.selectors import (
    STRONG_MARGIN,
    CertificationHistory,
    assessment_report,
    learner_assessment_history,
)
from presgen.models import User
from presgen.ownership import owned_or_404


@dataclass(frozen=True)
class HistorySection:
    history: CertificationHistory
    trend: Chart | None  # drawn from two assessments on


def _trend(history: CertificationHistory) -> Chart | None:
    if len(history.rows) < 2:
        return None
    certification = history.certification
    return score_trend_chart(
        points=[
            TrendPoint(
                day=timezone.localdate(row.assessment.taken_at), value=row.assessment.overall_score
            )
            for row in history.oldest_first
        ],
        pass_line=certification.passing_score,
        chart_id=f"trend-{certification.pk}",
        title=f"{certification.name}: overall score over time",
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def assessment_list(request: HttpRequest) -> HttpResponse:
    histories = learner_assessment_history(learner=cast(User, request.user))
    sections = [HistorySection(history=history, trend=_trend(history)) for history in histories]
    return render(request, "library/assessments.html", {"sections": sections})


@login_required
@require_http_methods(["GET", "HEAD"])
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = owned_or_404(
        Assessment.objects.select_related("certification"), user=request.user, pk=pk
    )
    report = assessment_report(assessment=assessment)
    certification = assessment.certification
    chart = (
        domain_bar_chart(
            bars=[Bar(label=d.score.domain.name, value=d.score.score) for d in report.domains],
            pass_line=certification.passing_score,
            strong_from=certification.passing_score + STRONG_MARGIN,
            chart_id=f"domains-{assessment.pk}",
            title=f"{certification.name}: score by domain",
        )
        if report.domains
        else None
    )
    return render(request, "library/assessment_detail.html", {"report": report, "chart": chart})
