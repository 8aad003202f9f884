"""What the script writer hands to the rest of the pipeline, with JSON round-trips.

`WrittenScript.as_dict()` is what is stored in `VideoJob.script`; `from_dict` reads
it back defensively (a stored script may predate a field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from videos.studio.types import PAUSE_MARKER, Script, Section, VideoType

INDUSTRIES = ("technology", "healthcare", "finance", "education", "general")


class ScriptWriteError(Exception):
    """The inputs make a script impossible (a permanent job error).

    The message is shown to staff and learners as is, so it says what to change.
    """


@dataclass(frozen=True)
class ScriptQuality:
    total: float  # 0..100
    # {"length"|"coverage"|"personalisation"|"readability"|"structure":
    #  {"score": 0..100, "note": str}}
    parts: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "parts": {
                name: {"score": float(part.get("score", 0)), "note": str(part.get("note", ""))}
                for name, part in self.parts.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScriptQuality:
        parts = data.get("parts") if isinstance(data, Mapping) else None
        return cls(
            total=_float(data.get("total") if isinstance(data, Mapping) else None),
            parts={
                str(name): {
                    "score": _float(part.get("score")),
                    "note": str(part.get("note", "")),
                }
                for name, part in (parts.items() if isinstance(parts, Mapping) else ())
                if isinstance(part, Mapping)
            },
        )


@dataclass(frozen=True)
class CvProfile:
    """What a CV says about its owner, as far as simple heuristics can tell."""

    name: str = ""
    headline: str = ""
    years_experience: int | None = None
    skills: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    industry: str = "general"  # one of INDUSTRIES

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "headline": self.headline,
            "years_experience": self.years_experience,
            "skills": list(self.skills),
            "roles": list(self.roles),
            "industry": self.industry,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CvProfile:
        """Read a stored profile; anything malformed becomes empty, never an error."""
        if not isinstance(data, Mapping):
            return cls()
        years = data.get("years_experience")
        if isinstance(years, bool) or not isinstance(years, int | float) or years < 0:
            years = None
        industry = str(data.get("industry") or "general").strip().lower()
        return cls(
            name=_text(data.get("name")),
            headline=_text(data.get("headline")),
            years_experience=int(years) if years is not None else None,
            skills=_texts(data.get("skills")),
            roles=_texts(data.get("roles")),
            industry=industry if industry in INDUSTRIES else "general",
        )


@dataclass(frozen=True)
class WrittenScript:
    script: Script
    target_seconds: int  # from the words at 150 words per minute (after speed)
    voice_speed: float  # 0.9 slow/new .. 1.1+ fast/senior
    gesture_level: float  # visual learners get livelier gestures
    slides: bool  # always True; visual learners also get more slide content
    writer: str  # "template" | "llm"
    quality: ScriptQuality
    fallback_reason: str = ""

    @property
    def narration_text(self) -> str:
        return " ".join(section.text for section in self.script.sections)

    @property
    def think_seconds(self) -> int:
        """Seconds of silence the script planned for each PAUSE_MARKER (0 without pauses).

        The renderer's VoiceConfig.think_pause should be set from this."""
        for section in self.script.sections:
            seconds = section.slide.get("think_seconds")
            if PAUSE_MARKER in section.text and isinstance(seconds, int | float):
                return int(seconds)
        return 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "script": script_as_dict(script=self.script),
            "target_seconds": self.target_seconds,
            "voice_speed": self.voice_speed,
            "gesture_level": self.gesture_level,
            "slides": self.slides,
            "writer": self.writer,
            "quality": self.quality.as_dict(),
            "fallback_reason": self.fallback_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WrittenScript:
        if not isinstance(data, Mapping) or not isinstance(data.get("script"), Mapping):
            raise ValueError("not a written script: the 'script' object is missing")
        quality = data.get("quality")
        return cls(
            script=script_from_dict(data=data["script"]),
            target_seconds=int(_float(data.get("target_seconds"))),
            voice_speed=_float(data.get("voice_speed"), default=1.0),
            gesture_level=_float(data.get("gesture_level"), default=0.5),
            slides=bool(data.get("slides", True)),
            writer=str(data.get("writer") or "template"),
            quality=ScriptQuality.from_dict(quality if isinstance(quality, Mapping) else {}),
            fallback_reason=str(data.get("fallback_reason") or ""),
        )


def script_as_dict(*, script: Script) -> dict[str, Any]:
    return {
        "video_type": str(script.video_type),
        "title": script.title,
        "learner_name": script.learner_name,
        "sections": [
            {"heading": s.heading, "text": s.text, "slide": dict(s.slide)} for s in script.sections
        ],
    }


def script_from_dict(*, data: Mapping[str, Any]) -> Script:
    try:
        kind = VideoType(str(data.get("video_type")))
    except ValueError:
        raise ValueError(f"unknown video type {data.get('video_type')!r}") from None
    sections = tuple(
        Section(
            heading=_text(raw.get("heading")),
            text=_text(raw.get("text")),
            slide=dict(raw["slide"]) if isinstance(raw.get("slide"), Mapping) else {},
        )
        for raw in data.get("sections") or []
        if isinstance(raw, Mapping)
    )
    if not sections:
        raise ValueError("a script needs at least one section")
    return Script(
        video_type=kind,
        title=_text(data.get("title")),
        sections=sections,
        learner_name=_text(data.get("learner_name")),
    )


def _float(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()]
