"""/api/v1/ for staff only: providers (state, recent figures, health check) and metrics.

A learner (or a learner-scoped token) gets 403 here. Provider credentials and
webhook secrets are never part of an answer.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from presgen.api.errors import Conflict, error_responses
from presgen.api.permissions import StaffScope
from videos.metrics import GenerationMetrics, ProviderMetrics, generation_metrics
from videos.models import CircuitState, ProviderAccount, ProviderCircuit, ProviderKind
from videos.providers.registry import STUDIO, provider_get

logger = logging.getLogger(__name__)

RECENT_DAYS_DEFAULT = 7
METRICS_DAYS_DEFAULT = 30


# --- reads ----------------------------------------------------------------------------------


def api_providers_list(*, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Every configured provider (and the built-in studio when it has no account row),
    with its circuit and its figures for [since, until). A fixed number of queries."""
    accounts = list(ProviderAccount.objects.order_by("priority", "name"))
    rows: list[dict[str, Any]] = [
        {
            "name": account.name,
            "kind": account.kind,
            "enabled": account.enabled,
            "priority": account.priority,
            "configured": True,
            "cost_per_minute": account.cost_per_minute,
            "max_concurrency": account.max_concurrency,
        }
        for account in accounts
    ]
    if not any(account.kind == ProviderKind.STUDIO for account in accounts):
        # The studio is always there without set-up (see videos.providers.registry).
        rows.append(
            {
                "name": STUDIO,
                "kind": ProviderKind.STUDIO,
                "enabled": True,
                "priority": 100,
                "configured": False,
                "cost_per_minute": 0,
                "max_concurrency": None,
            }
        )
    circuits = {circuit.provider: circuit for circuit in ProviderCircuit.objects.all()}
    figures = {row.provider: row for row in generation_metrics(since=since, until=until).providers}
    for row in rows:
        circuit = circuits.get(row["name"])
        row["circuit"] = {
            "state": circuit.state if circuit else CircuitState.CLOSED,
            "failures": circuit.failures if circuit else 0,
            "opened_at": circuit.opened_at if circuit else None,
            "last_error": circuit.last_error if circuit else "",
        }
        row["recent"] = figures.get(row["name"]) or ProviderMetrics(
            provider=row["name"],
            attempts=0,
            succeeded=0,
            failed=0,
            success_rate=None,
            median_seconds=None,
            p95_seconds=None,
            mean_qa_score=None,
            cost=Decimal(0),
        )
    return rows


# --- serializers --------------------------------------------------------------------------


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=False)


class ProviderFiguresSerializer(serializers.Serializer):
    attempts = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="succeeded / (succeeded + failed) attempts"
    )
    median_seconds = serializers.FloatField(allow_null=True)
    p95_seconds = serializers.FloatField(allow_null=True)
    mean_qa_score = serializers.FloatField(allow_null=True)
    cost = _money()


class ProviderMetricsSerializer(ProviderFiguresSerializer):
    provider = serializers.CharField()


class CircuitSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CircuitState.choices)
    failures = serializers.IntegerField(help_text="failures in the current window")
    opened_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)


class ProviderSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ProviderKind.choices)
    enabled = serializers.BooleanField()
    priority = serializers.IntegerField(help_text="lower is tried first")
    configured = serializers.BooleanField(
        help_text="false: the built-in studio, used without a provider account"
    )
    cost_per_minute = _money()
    max_concurrency = serializers.IntegerField(allow_null=True)
    circuit = CircuitSerializer()
    recent = ProviderFiguresSerializer(help_text="figures over the last `days` days")


class ProviderQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=366,
        default=RECENT_DAYS_DEFAULT,
        help_text=f"how many days the recent figures cover ({RECENT_DAYS_DEFAULT} unless given)",
    )


class HealthSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)
    latency_ms = serializers.FloatField(allow_null=True)
    extra = serializers.DictField(help_text="what the provider reports (credits, voices...)")
    checked_at = serializers.DateTimeField()


class MetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False,
        help_text=f"ISO 8601; default: {METRICS_DAYS_DEFAULT} days before `until`",
    )
    until = serializers.DateTimeField(
        required=False,
        help_text=f"ISO 8601; default: now (or {METRICS_DAYS_DEFAULT} days after a future `since`)",
    )
    provider = serializers.CharField(
        required=False, max_length=100, help_text="only this provider's attempts and jobs"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        period = timedelta(days=METRICS_DAYS_DEFAULT)
        since, until = attrs.get("since"), attrs.get("until")
        if until is None:
            # now, or a default-length period when only a future `since` is given
            until = timezone.now() if since is None else max(timezone.now(), since + period)
        if since is None:
            since = until - period
        if since >= until:
            raise ValidationError({"since": ["since must be before until."]})
        return {**attrs, "since": since, "until": until}


class JobsByStatusSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    scripting = serializers.IntegerField()
    rendering = serializers.IntegerField()
    checking = serializers.IntegerField()
    storing = serializers.IntegerField()
    ready = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class MetricsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    provider = serializers.CharField(allow_null=True)
    jobs_by_status = JobsByStatusSerializer(help_text="jobs created in the period")
    jobs_total = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="jobs: ready / (ready + failed); null when none finished"
    )
    attempts = serializers.IntegerField(help_text="provider attempts started in the period")
    median_seconds = serializers.FloatField(
        allow_null=True, help_text="generation seconds of succeeded attempts"
    )
    p95_seconds = serializers.FloatField(allow_null=True)
    mean_qa_score = serializers.FloatField(allow_null=True)
    cost = _money()
    cost_by_provider = serializers.DictField(child=_money())
    providers = ProviderMetricsSerializer(many=True)


def metrics_data(metrics: GenerationMetrics) -> dict[str, Any]:
    return {
        **asdict(metrics),
        "cost_by_provider": metrics.cost_by_provider,
    }


# --- views ------------------------------------------------------------------------------


@extend_schema(tags=["staff"])
class ProviderListView(GenericAPIView):
    """The video providers, their circuit breakers and recent figures (staff only)."""

    permission_classes = [StaffScope]
    serializer_class = ProviderSerializer
    pagination_class = None  # a handful of configured providers

    @extend_schema(
        summary="Providers with circuit state and recent figures",
        parameters=[ProviderQuerySerializer],
        responses={200: ProviderSerializer(many=True), **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        query = ProviderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        until = timezone.now()
        rows = api_providers_list(
            since=until - timedelta(days=query.validated_data["days"]), until=until
        )
        return Response(ProviderSerializer(rows, many=True).data)


@extend_schema(tags=["staff"])
class ProviderHealthView(GenericAPIView):
    """Run a provider's health check now (staff only)."""

    permission_classes = [StaffScope]
    serializer_class = HealthSerializer

    @extend_schema(
        summary="Run a provider's health check",
        parameters=[
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[^/]+$",
                description="the provider's name (e.g. studio)",
            )
        ],
        request=None,
        responses={200: HealthSerializer, **error_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, name: str) -> Response:
        if name != STUDIO and not ProviderAccount.objects.filter(name=name).exists():
            raise Http404("No such provider.")
        try:
            provider = provider_get(name=name)
        except LookupError:
            raise Conflict(f"No adapter is installed for provider {name!r}.") from None
        try:
            health = provider.health()
            result: dict[str, Any] = {
                "ok": health.ok,
                "detail": health.detail,
                "latency_ms": health.latency_ms,
                "extra": dict(health.extra),
            }
        except Exception as error:  # a check that blows up is a failed check, not a 500
            logger.exception("health check of provider %s raised", name)
            result = {
                "ok": False,
                "detail": f"the health check raised {type(error).__name__}",
                "latency_ms": None,
                "extra": {},
            }
        data = {
            "name": provider.name,
            "kind": provider.kind,
            **result,
            "checked_at": timezone.now(),
        }
        return Response(HealthSerializer(data).data)


@extend_schema(tags=["staff"])
class MetricsView(GenericAPIView):
    """Generation figures over a period (staff only)."""

    permission_classes = [StaffScope]
    serializer_class = MetricsSerializer

    @extend_schema(
        summary="Success rate, generation time, QA score and cost, by provider and period",
        parameters=[MetricsQuerySerializer],
        responses={200: MetricsSerializer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        chosen = query.validated_data
        metrics = generation_metrics(
            since=chosen["since"], until=chosen["until"], provider=chosen.get("provider") or None
        )
        return Response(MetricsSerializer(metrics_data(metrics)).data)
