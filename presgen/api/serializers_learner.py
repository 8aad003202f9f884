"""What the learner-side API endpoints share: brief nested shapes and a few helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from library.models import Certification, Domain
from presgen.api.permissions import api_learner
from presgen.models import User
from videos.models import Video

# Ids are 64-bit: larger numbers are refused as bad input, never sent to the database.
ID_MAX = 2**63 - 1


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id in a request (1 to 2**63 - 1)."""
    return serializers.IntegerField(min_value=1, max_value=ID_MAX, **kwargs)


LEARNER_PARAMETER = OpenApiParameter(
    "learner",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description="Staff-scoped callers only: act for this learner (by id). Anyone else may "
    "name only themselves; another learner is answered as not found.",
)


def request_learner(request: Request) -> User:
    """The learner a request acts for: the caller, or `?learner=` for a staff-scoped caller."""
    return api_learner(request, learner_id=request.query_params.get("learner"))


def schema_generation(view: APIView) -> bool:
    """True while drf-spectacular builds the schema (no real request, no user)."""
    return bool(getattr(view, "swagger_fake_view", False))


class DomainBriefSerializer(serializers.ModelSerializer):
    certification: serializers.SlugRelatedField[Certification] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Domain
        fields = ["slug", "name", "certification"]
        read_only_fields = fields


class CertificationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["slug", "name"]
        read_only_fields = fields


class VideoBriefSerializer(serializers.ModelSerializer):
    """A video named inside another object (a playlist, a recommendation)."""

    type = serializers.CharField(source="video_type", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api-video-detail", read_only=True)

    class Meta:
        model = Video
        fields = ["id", "url", "title", "type", "duration_seconds"]
        read_only_fields = fields


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignores Accept: for endpoints that answer with a file (errors still come as JSON)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)
