"""Request and response shapes of the PresGen-Avatar API."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import serializers

from videos.avatar_api.services import (
    AVATAR_METADATA_MAX_CHARS,
    CUSTOM_PREFIX,
    VideoSpec,
    custom_avatar_get,
)
from videos.studio.narration import voices_available
from videos.studio.presenter import avatars_available
from videos.studio.script_text import ScriptError, script_parse
from videos.studio.theme import color_parse
from videos.studio.types import Quality, VideoType

EXPRESSIONS = ("friendly", "encouraging", "focused")


class AvatarConfigSerializer(serializers.Serializer):
    avatar_id = serializers.CharField(max_length=80, default="professional_instructor")
    expression = serializers.ChoiceField(choices=EXPRESSIONS, default="friendly")
    gesture_level = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.5)

    def validate_avatar_id(self, value: str) -> str:
        if value.startswith(CUSTOM_PREFIX):
            request = self.context["request"]
            avatar = custom_avatar_get(
                user=request.user,
                token_id=self.context["token_id"],
                avatar_id=value.removeprefix(CUSTOM_PREFIX),
            )
            if avatar is None:
                raise serializers.ValidationError(
                    f"unknown custom avatar {value!r}; upload one with POST custom"
                )
            return value
        known = avatars_available()
        if value not in known:
            raise serializers.ValidationError(
                f"unknown avatar {value!r}; choose from {', '.join(sorted(known))} "
                f"or a custom:<id> you uploaded"
            )
        return value


class VoiceConfigSerializer(serializers.Serializer):
    voice_id = serializers.CharField(max_length=120, default="joe")
    speed = serializers.FloatField(min_value=0.5, max_value=2.0, default=1.0)
    pitch = serializers.FloatField(min_value=-6.0, max_value=6.0, default=0.0)

    def validate_voice_id(self, value: str) -> str:
        known = voices_available(voices_dir=settings.STUDIO_VOICES_DIR)
        if value not in known:
            raise serializers.ValidationError(
                f"unknown voice {value!r}; choose from {', '.join(sorted(known))}"
            )
        return value


class VideoConfigSerializer(serializers.Serializer):
    background = serializers.CharField(max_length=9, default="#0f172a")
    slides = serializers.BooleanField(default=True)
    captions = serializers.BooleanField(default=True)

    def validate_background(self, value: str) -> str:
        try:
            red, green, blue = color_parse(value)
        except ValueError:
            raise serializers.ValidationError(
                f"{value!r} is not a colour; use #rrggbb (for example #0f172a)"
            ) from None
        return f"#{red:02x}{green:02x}{blue:02x}"


class VideoCreateSerializer(serializers.Serializer):
    script_content = serializers.CharField(
        max_length=60_000, help_text="the narration, as plain text or Markdown (# starts a section)"
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    avatar_config = AvatarConfigSerializer(required=False)
    voice_config = VoiceConfigSerializer(required=False)
    video_config = VideoConfigSerializer(required=False)
    presentation_slides = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=200,
        help_text="accepted for compatibility; slides are made from the script's sections",
    )
    background_music = serializers.JSONField(
        required=False, allow_null=True, help_text="accepted for compatibility; not used"
    )
    target_duration_minutes = serializers.FloatField(
        min_value=0.1, max_value=60, required=False, allow_null=True
    )
    quality = serializers.ChoiceField(choices=[q.value for q in Quality], default="720p")
    webhook_url = serializers.URLField(
        required=False,
        max_length=500,
        help_text="called (Standard Webhooks signature) when the video completes or fails",
    )
    video_type = serializers.ChoiceField(
        choices=[v.value for v in VideoType], default=VideoType.OVERVIEW.value
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            script_parse(
                text=attrs["script_content"],
                video_type=attrs["video_type"],
                title=attrs.get("title", ""),
            )
        except ScriptError as error:
            raise serializers.ValidationError({"script_content": [str(error)]}) from None
        return attrs

    def spec(self) -> VideoSpec:
        data = self.validated_data
        avatar = data.get("avatar_config") or AvatarConfigSerializer().to_internal_value({})
        voice = data.get("voice_config") or VoiceConfigSerializer().to_internal_value({})
        video = data.get("video_config") or VideoConfigSerializer().to_internal_value({})
        ignored = tuple(
            name
            for name in ("presentation_slides", "background_music")
            if data.get(name) not in (None, [], "", {})
        )
        return VideoSpec(
            script_content=data["script_content"],
            title=data.get("title", ""),
            video_type=data["video_type"],
            quality=data["quality"],
            avatar_id=avatar["avatar_id"],
            expression=avatar["expression"],
            gesture_level=avatar["gesture_level"],
            voice_id=voice["voice_id"],
            voice_speed=voice["speed"],
            voice_pitch=voice["pitch"],
            background=video["background"],
            slides=video["slides"],
            captions=video["captions"],
            target_duration_minutes=data.get("target_duration_minutes"),
            webhook_url=data.get("webhook_url", ""),
            ignored=ignored,
        )


class VideoCreatedSerializer(serializers.Serializer):
    video_id = serializers.CharField()
    status = serializers.CharField()
    ignored = serializers.ListField(child=serializers.CharField())


class VideoStatusSerializer(serializers.Serializer):
    video_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["queued", "processing", "rendering", "completed", "failed", "cancelled"]
    )
    progress = serializers.IntegerField()
    step = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    download_url = serializers.URLField(allow_null=True)


class VideoMetricsSerializer(serializers.Serializer):
    video_id = serializers.CharField()
    status = serializers.CharField()
    render_seconds = serializers.FloatField(allow_null=True)
    qa_score = serializers.FloatField(allow_null=True)
    quality_report = serializers.DictField(allow_null=True)
    provider = serializers.CharField(allow_null=True)
    attempts = serializers.IntegerField()
    script_quality = serializers.FloatField(allow_null=True)


class CancelSerializer(serializers.Serializer):
    video_id = serializers.CharField()
    status = serializers.CharField()
    cancelled = serializers.BooleanField()
    message = serializers.CharField()


class AvatarModelSerializer(serializers.Serializer):
    avatar_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    custom = serializers.BooleanField()


class VoiceSerializer(serializers.Serializer):
    voice_id = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    sample_rate = serializers.IntegerField()


class CustomAvatarCreateSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="PNG or JPEG, at most 5 MB, 256–4096 pixels a side")
    name = serializers.CharField(max_length=100)
    metadata = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="a JSON object"
    )

    def validate_metadata(self, value: str) -> dict[str, Any]:
        if not value.strip():
            return {}
        if len(value) > AVATAR_METADATA_MAX_CHARS:
            raise serializers.ValidationError(
                f"metadata is limited to {AVATAR_METADATA_MAX_CHARS} characters"
            )
        try:
            data = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("metadata must be valid JSON") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("metadata must be a JSON object")
        return data


class CustomAvatarSerializer(serializers.Serializer):
    avatar_id = serializers.CharField()
    name = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()
