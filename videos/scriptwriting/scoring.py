"""A 0-100 quality score for a script, in five parts a reviewer can read.

length           estimated seconds against the video type's usual range
coverage         the focus domains / concepts / questions are named in the narration
personalisation  the learner's name in the opening and the close, level-specific advice,
                 their own scores
readability      words per sentence, and nothing a voice cannot read (markdown, URLs)
structure        intro -> body -> close; practice questions pause before the answer
"""

from __future__ import annotations

import math
import re
from typing import Any

from videos.studio.types import PAUSE_MARKER, Script, VideoType, VoiceConfig

from .context import ScriptContext
from .speech import (
    WORDS_PER_MINUTE,
    name_say,
    normalise,
    number_say,
    sentences_split,
    unspeakable_find,
    words_count,
)
from .types import ScriptQuality

# Typical lengths in seconds (the seed design's targets).
TARGET_SECONDS: dict[VideoType, tuple[int, int]] = {
    VideoType.OVERVIEW: (60, 120),
    VideoType.REMEDIATION: (90, 180),
    VideoType.MOTIVATIONAL: (45, 90),
    VideoType.EXAM_PREP: (60, 120),
    VideoType.CELEBRATION: (30, 60),
    VideoType.INTRODUCTION: (45, 90),
}
# Practice grows with the questions asked: per question (think pause included), plus
# the opening and the close.
PRACTICE_PER_QUESTION = (20, 55)
PRACTICE_FRAME = (10, 30)
WEIGHTS = {
    "length": 0.20,
    "coverage": 0.25,
    "personalisation": 0.20,
    "readability": 0.15,
    "structure": 0.20,
}
COMFORTABLE_SENTENCE = 20  # words; spoken sentences beyond ~20 words lose listeners
UNREADABLE_SENTENCE = 40
_OPENING = re.compile(r"\b(hi|hello|welcome|congratulations|let's|today)\b", re.IGNORECASE)
_CLOSING = re.compile(
    r"\b(next|good luck|keep|well done|thank|let's get started|you've got this|"
    r"look forward|see you|practis|plan)\w*",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    {"the", "and", "for", "with", "that", "this", "from", "into", "your", "their", "what"}
    | {"which", "when", "where", "does", "than", "then", "each", "most", "best", "more", "less"}
    | {"only", "also", "have", "been", "will", "would", "should", "could", "about"}
)


def target_range(*, video_type: VideoType, questions: int = 3) -> tuple[int, int]:
    if video_type == VideoType.PRACTICE_SESSION:
        n = max(1, questions)
        return (
            PRACTICE_FRAME[0] + PRACTICE_PER_QUESTION[0] * n,
            PRACTICE_FRAME[1] + PRACTICE_PER_QUESTION[1] * n,
        )
    return TARGET_SECONDS[video_type]


def script_seconds_estimate(*, script: Script, voice_speed: float, think_seconds: int) -> int:
    """Words at 150 a minute (scaled by the voice speed), plus think and section pauses."""
    words = sum(words_count(s.text) for s in script.sections)
    speaking = words / WORDS_PER_MINUTE * 60 / max(voice_speed, 0.1)
    pauses = sum(s.text.count(PAUSE_MARKER) for s in script.sections) * think_seconds
    gaps = max(0, len(script.sections) - 1) * VoiceConfig().section_pause
    return max(1, math.ceil(speaking + pauses + gaps))


def script_score(*, script: Script, context: ScriptContext, target_seconds: int) -> ScriptQuality:
    parts = {
        "length": _length(script=script, context=context, seconds=target_seconds),
        "coverage": _coverage(script=script, context=context),
        "personalisation": _personalisation(script=script, context=context),
        "readability": _readability(script=script),
        "structure": _structure(script=script, context=context),
    }
    total = sum(WEIGHTS[name] * part["score"] for name, part in parts.items())
    return ScriptQuality(total=round(total, 1), parts=parts)


def _part(score: float, note: str) -> dict[str, Any]:
    return {"score": round(min(100.0, max(0.0, score)), 1), "note": note}


def _length(*, script: Script, context: ScriptContext, seconds: int) -> dict[str, Any]:
    low, high = target_range(video_type=script.video_type, questions=len(context.questions))
    note = f"{seconds} s against a usual {low}–{high} s"
    if seconds < low:
        return _part(100 * seconds / low, f"{note}: too short")
    if seconds > high:
        return _part(100 * (1 - (seconds - high) / high), f"{note}: too long")
    return _part(100, note)


def coverage_terms(*, context: ScriptContext) -> list[str]:
    """What a script of this type must name to be about the right things."""
    kind = context.video_type
    if kind == VideoType.OVERVIEW:
        return [d.name for d in context.domains]
    if kind == VideoType.REMEDIATION:
        focus = [context.focus_domain.name] if context.focus_domain else []
        return focus + [k.title for k in context.concepts]
    if kind == VideoType.PRACTICE_SESSION:
        return [q.question for q in context.questions] + [q.answer for q in context.questions]
    if kind == VideoType.MOTIVATIONAL:
        terms = [d.name for d in context.strong_areas[:3]]
        return terms + [d.name for d in context.weak_areas[:1]] or [context.certification_name]
    if kind == VideoType.EXAM_PREP:
        return [context.certification_name, *context.exam_strategies[:3]]
    if kind == VideoType.CELEBRATION:
        return [context.certification_name, number_say(context.overall_score or 0)]
    cv = context.cv
    name = name_say(cv.name if cv else "") or context.learner_full_name
    return [name] + (cv.skills[:3] if cv else [])


def _covered(term: str, text: str, words: set[str]) -> bool:
    wanted = normalise(term)
    if not wanted or wanted in text:
        return True
    # Paraphrase (an LLM's) still counts when most of the term's content words are there.
    content = [w for w in wanted.split() if len(w) > 3 and w not in _STOPWORDS]
    return bool(content) and sum(w in words for w in content) / len(content) >= 0.7


def _coverage(*, script: Script, context: ScriptContext) -> dict[str, Any]:
    terms = [t for t in coverage_terms(context=context) if t]
    if not terms:
        return _part(100, "nothing specific to cover")
    text = normalise(" ".join(s.text for s in script.sections))
    words = set(text.split())
    missing = [t for t in terms if not _covered(t, text, words)]
    note = f"{len(terms) - len(missing)} of {len(terms)} focus items named"
    if missing:
        note += "; missing: " + "; ".join(t[:60] for t in missing[:4])
    return _part(100 * (len(terms) - len(missing)) / len(terms), note)


def _personalisation(*, script: Script, context: ScriptContext) -> dict[str, Any]:
    kind = context.video_type
    first, last = script.sections[0].text, script.sections[-1].text
    all_text = " ".join(s.text for s in script.sections)
    name = context.learner_name
    if kind == VideoType.INTRODUCTION:
        name = name_say(context.cv.name if context.cv else "") or context.learner_full_name
        first_name = name.split()[0] if name else ""
        cv = context.cv
        mentions = [*(cv.skills[:4] if cv else []), *(cv.roles[:2] if cv else [])]
        checks = [
            ("own name in the opening", 35, bool(name) and name.lower() in first.lower()),
            ("name in the close", 15, bool(first_name) and first_name.lower() in last.lower()),
            (
                "experience mentioned",
                25,
                bool(re.search(r"\bexperience\b|\bcareer\b", all_text, re.IGNORECASE)),
            ),
            (
                "skills or roles from the CV",
                25,
                any(normalise(m) in normalise(all_text) for m in mentions) if mentions else True,
            ),
        ]
    else:
        checks = [
            ("name in the opening", 30, _has(name, first)),
            ("name in the close", 20, _has(name, last)),
        ]
        own_scores = kind in {
            VideoType.OVERVIEW,
            VideoType.REMEDIATION,
            VideoType.MOTIVATIONAL,
            VideoType.CELEBRATION,
        } or (kind == VideoType.EXAM_PREP and context.overall_score is not None)
        advice = kind != VideoType.CELEBRATION
        weight = 50 // (int(own_scores) + int(advice))
        if own_scores:
            checks.append(("their own scores", weight, _mentions_scores(context, all_text)))
        if advice:
            checks.append(("experience-level study advice", weight, _has_advice(context, all_text)))
    total = sum(w for _, w, _ in checks)
    got = sum(w for _, w, ok in checks if ok)
    missing = [label for label, _, ok in checks if not ok]
    note = "all present" if not missing else "missing: " + ", ".join(missing)
    return _part(100 * got / total, note)


def _has(name: str, text: str) -> bool:
    return bool(name) and re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) is not None


def _mentions_scores(context: ScriptContext, text: str) -> bool:
    numbers = [context.overall_score] + [d.score for d in context.domains]
    spoken = {number_say(n) for n in numbers if n is not None}
    found = set(re.findall(r"\b\d+(?:\.\d)?\b", text))
    return bool(spoken & found)


def _has_advice(context: ScriptContext, text: str) -> bool:
    low, high = context.study_hours
    if re.search(rf"\b{low}\s*(?:to|-|–)\s*{high}\b", text):
        return True
    advice = normalise(context.study_advice)
    return bool(advice) and advice[:60] in normalise(text)


def _readability(*, script: Script) -> dict[str, Any]:
    text = " ".join(s.text for s in script.sections)
    sentences = sentences_split(text)
    if not sentences:
        return _part(0, "no sentences")
    lengths = [words_count(s) for s in sentences]
    average = sum(lengths) / len(lengths)
    long_share = sum(n > 35 for n in lengths) / len(lengths)
    span = UNREADABLE_SENTENCE - COMFORTABLE_SENTENCE
    score = 100 - 100 * max(0.0, average - COMFORTABLE_SENTENCE) / span - 50 * long_share
    note = f"{average:.1f} words per sentence"
    if long_share:
        note += f"; {round(long_share * 100)}% of sentences over 35 words"
    problems = unspeakable_find(text)
    if problems:
        score -= 30 * len(problems)
        note += "; not speakable: " + ", ".join(problems)
    return _part(score, note)


def _structure(*, script: Script, context: ScriptContext) -> dict[str, Any]:
    sections = script.sections
    notes = []
    score = 0.0
    if len(sections) >= 3:
        score += 30
    else:
        score += 15 * (len(sections) - 1)
        notes.append(f"only {len(sections)} section(s); want intro, body and close")
    if _OPENING.search(sections[0].text) or _has(context.learner_name, sections[0].text):
        score += 20
    else:
        notes.append("the first section does not open (greeting or name)")
    if len(sections) > 1 and _CLOSING.search(sections[-1].text):
        score += 20
    else:
        notes.append("the last section does not close (next steps, thanks)")
    if all(s.heading.strip() and s.text.strip() for s in sections):
        score += 15
    else:
        notes.append("a section lacks a heading or text")
    if script.video_type == VideoType.PRACTICE_SESSION:
        asks = [s for s in sections if s.slide.get("question")]
        paused = [s for s in asks if _pauses_between(s.text)]
        if asks and len(paused) == len(asks):
            score += 15
        else:
            notes.append(f"{len(asks) - len(paused)} question(s) without a thinking pause")
    elif not any(PAUSE_MARKER in s.text for s in sections):
        score += 15
    else:
        notes.append("a thinking pause outside a practice session")
    return _part(score, "; ".join(notes) or "intro, body and close")


def _pauses_between(text: str) -> bool:
    before, marker, after = text.partition(PAUSE_MARKER)
    return bool(marker) and words_count(before) >= 5 and words_count(after) >= 3
