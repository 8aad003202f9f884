from __future__ import annotations

import logging
from typing import cast

import django_rq
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from library.recommendations import recommendations_for
from library.selectors import learner_home_summary
from presgen.models import User
from videos.selectors import learner_series_list

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_staff and not request.GET.get("as_learner"):
        return redirect("admin:index")
    learner = cast(User, request.user)  # login_required: never anonymous here
    return render(
        request,
        "home.html",
        {
            "summary": learner_home_summary(learner=learner),
            "series": learner_series_list(learner=learner),
            "recommendations": recommendations_for(learner=learner),
        },
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make run`: the database and Redis answer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    try:
        django_rq.get_connection("default").ping()
        checks["redis"] = "ok"
    except Exception as exc:
        logger.warning("healthz: redis check failed: %s", type(exc).__name__)
        checks["redis"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )
