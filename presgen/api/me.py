"""/api/v1/me: the caller's own profile (read, change), data export and account deletion.

`me` is always the authenticated user themselves (a staff service token cannot
name another learner here).
"""

from __future__ import annotations

import tempfile
import zoneinfo
from typing import Any, cast

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from presgen.api.errors import error_responses
from presgen.api.serializers_learner import FirstRendererNegotiation
from presgen.models import LEARNER_PROFILE_FIELDS, LearningStyle, User
from presgen.privacy import account_delete, account_export_write

# Exports larger than this spill from memory to a temporary file while they are written.
EXPORT_MEMORY_BYTES = 8 * 1024 * 1024


class MeSerializer(serializers.ModelSerializer):
    """The profile scripts are personalised from; the model's validators apply."""

    # May be empty (accounts made by an import); changed in the portal, where it is checked.
    email = serializers.CharField(read_only=True)
    time_zone = serializers.ChoiceField(
        choices=sorted(zoneinfo.available_timezones()),
        required=False,
        help_text="an IANA time zone, e.g. Europe/London",
    )

    learning_styles = serializers.ListField(
        child=serializers.ChoiceField(choices=LearningStyle.choices),
        allow_empty=True,
        max_length=len(LearningStyle.choices),
        required=False,
        help_text="any of the learning styles, each once",
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", *LEARNER_PROFILE_FIELDS]
        read_only_fields = ["id", "username", "email"]

    def validate_learning_styles(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # each once, in the order given


@extend_schema(tags=["me"])
class MeView(APIView):
    @extend_schema(
        summary="The caller's profile",
        responses={200: MeSerializer, **error_responses(401, 429)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        summary="Change the caller's profile (only the fields sent)",
        request=MeSerializer,
        responses={200: MeSerializer, **error_responses(400, 401, 429)},
    )
    def patch(self, request: Request) -> Response:
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    @extend_schema(
        summary="Delete the caller's account and everything in it",
        description="Videos (with their files, also on Google Drive), progress, playlists, "
        "notifications, assessments, tokens and sessions go with it. The video jobs stay, "
        "anonymised (no script, name or parameters), in the staff figures. This cannot be "
        "undone; download the export first.",
        responses={204: None, **error_responses(401, 429)},
    )
    def delete(self, request: Request) -> Response:
        account_delete(user=cast(User, request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _export_stream() -> Any:
    """Where an export is written: memory, spilling to a temporary file when it grows.

    FileResponse closes it once the response is sent.
    """
    return tempfile.SpooledTemporaryFile(max_size=EXPORT_MEMORY_BYTES)


@extend_schema(tags=["me"])
class MeExportView(APIView):
    renderer_classes = [JSONRenderer]  # errors; the zip itself bypasses the renderers
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="Download everything PresGen holds about the caller (a zip)",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the export, as an attachment"
            ),
            **error_responses(401, 429),
        },
    )
    def get(self, request: Request) -> Any:
        user = cast(User, request.user)
        stream = _export_stream()
        try:
            account_export_write(user=user, stream=stream)
            stream.seek(0)
        except BaseException:
            stream.close()
            raise
        day = timezone.localdate().isoformat()
        return FileResponse(
            stream,
            as_attachment=True,
            filename=f"presgen-export-{user.username}-{day}.zip",
            content_type="application/zip",
        )
