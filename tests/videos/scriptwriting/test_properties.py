"""Property tests for the script writer (Hypothesis).

For any learner profile (names in any script, emoji, symbols, e-mail usernames, very
long or empty), any experience level, learning style and pace, any scores from 0 to
100 and any knowledge-base names, every video type gets a script that opens and
closes with the learner's name (or a clear fallback), has no empty section and no
leaked placeholder, a positive length and a quality score within its ranges.

The bulk runs on the pure layer (ScriptContext -> templates -> scoring); a smaller
test goes through `script_write` with real rows, as the pipeline does.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from library.knowledge_base import knowledge_base_parse
from library.services import knowledge_base_import
from presgen.models import ExperienceLevel, LearningStyle, Pace
from tests.builders import assessment_build, user_build, video_job_build
from videos.scriptwriting import ScriptWriteError, script_write
from videos.scriptwriting.context import (
    FALLBACK_NAME,
    SPEED_RANGE,
    ConceptInfo,
    DomainInfo,
    QuestionInfo,
    ScriptContext,
    learner_names_pick,
)
from videos.scriptwriting.scoring import script_score, script_seconds_estimate
from videos.scriptwriting.templates import script_template_write
from videos.scriptwriting.types import INDUSTRIES, CvProfile, ScriptQuality, WrittenScript
from videos.studio.types import PAUSE_MARKER, Script, VideoType

PARTS = {"length", "coverage", "personalisation", "readability", "structure"}

# --- learners -----------------------------------------------------------------------

# Names as people write them, in several scripts: said exactly as given.
_LETTERS = st.sampled_from(
    [
        st.characters(min_codepoint=0x41, max_codepoint=0x5A),  # Latin capitals
        st.characters(min_codepoint=0x61, max_codepoint=0x7A),
        st.sampled_from("éèçñöüßøåłžÉÖ"),
        st.characters(min_codepoint=0x05D0, max_codepoint=0x05EA),  # Hebrew (RTL)
        st.characters(min_codepoint=0x0627, max_codepoint=0x064A).filter(
            lambda c: unicodedata.category(c) == "Lo"
        ),  # Arabic (RTL)
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),  # CJK
        st.characters(min_codepoint=0x0410, max_codepoint=0x044F),  # Cyrillic
    ]
).flatmap(lambda alphabet: st.text(alphabet, min_size=1, max_size=12))
_WORD = st.one_of(
    _LETTERS,
    st.tuples(_LETTERS, st.sampled_from("'-’"), _LETTERS).map("".join),  # O'Brien, Anne-Marie
)
plain_name = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)

# Anything else a profile field can hold: emoji, symbols, markdown, whitespace only,
# e-mail addresses, the pause marker, the longest display name the form allows.
odd_name = st.one_of(
    st.text(max_size=120),
    st.text(st.characters(categories=["So", "Sk", "Sm", "P", "Zs"]), max_size=10),
    st.just("🚀🎓"),
    st.just("   "),
    st.just("**Bold** _name_ [pause for thinking] #1 www.example.com"),
    st.builds(lambda a, b: f"{a}@{b}.com", plain_name.map(lambda n: n.replace(" ", ".")), _WORD),
    st.text(max_size=120, min_size=100),
)
username = st.from_regex(r"\A[\w.@+-]{1,30}\Z")


@st.composite
def learner_names(draw: st.DrawFn) -> dict[str, str]:
    return {
        "display_name": draw(st.one_of(st.just(""), plain_name, odd_name)),
        "first_name": draw(st.one_of(st.just(""), plain_name, odd_name)),
        "last_name": draw(st.one_of(st.just(""), plain_name)),
        "username": draw(username),
    }


def expected_greeting(names: dict[str, str]) -> str | None:
    """The greeting when the first filled-in name is a plain one (said as given);
    None when the product's clean-up decides (odd names)."""
    for field in ("display_name", "first_name"):
        value = names[field]
        if value:
            plain = re.fullmatch(
                r"[^\W\d_]+(?:['’-][^\W\d_]+)?(?: [^\W\d_]+(?:['’-][^\W\d_]+)?)*", value
            )
            return value if plain else None
    return None


# --- knowledge base and results -----------------------------------------------------

LEAKS = re.compile(r"\{[^}]*\}|\bNone\b|\bnan\b|\binf\b|\[\s*\]|\(\s*\)")

# Knowledge-base text from any script; without braces or brackets, so a placeholder
# ("{name}") or a marker that leaks is the writer's, not the data's.
kb_text = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="{}[]()"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
    .filter(lambda s: not LEAKS.search(s))
)
score = st.one_of(
    st.sampled_from([0.0, 0.01, 49.99, 50.0, 69.99, 70.0, 99.99, 100.0]),
    st.integers(0, 10_000).map(lambda n: n / 100),
)


@st.composite
def domains(draw: st.DrawFn, assessed: bool) -> tuple[DomainInfo, ...]:
    names = draw(st.lists(kb_text, min_size=1, max_size=6, unique=True))
    return tuple(
        DomainInfo(
            slug=f"d{i}",
            name=name,
            weight=draw(st.integers(0, 10_000)) / 100,
            score=draw(score) if assessed and draw(st.booleans()) else None,
        )
        for i, name in enumerate(names)
    )


concept = st.builds(
    ConceptInfo,
    slug=st.just("c"),
    title=kb_text,
    summary=st.one_of(st.just(""), kb_text),
    content=st.one_of(st.just(""), st.lists(kb_text, max_size=4).map(". ".join)),
    examples=st.lists(kb_text, max_size=2).map(tuple),
    analogies=st.lists(kb_text, max_size=2).map(tuple),
)


@st.composite
def question(draw: st.DrawFn) -> QuestionInfo:
    choices = tuple(draw(st.lists(kb_text, min_size=2, max_size=8)))
    return QuestionInfo(
        question=draw(kb_text),
        choices=choices,
        answer_index=draw(st.integers(0, len(choices) - 1)),
        explanation=draw(st.one_of(st.just(""), kb_text)),
        key_concepts=tuple(draw(st.lists(kb_text, max_size=3))),
        difficulty=draw(st.sampled_from(["", "easy", "medium", "hard"])),
        domain=draw(kb_text),
    )


cv_profile = st.builds(
    CvProfile,
    name=st.one_of(st.just(""), plain_name, odd_name),
    headline=st.one_of(st.just(""), kb_text),
    years_experience=st.one_of(st.none(), st.integers(0, 50)),
    skills=st.lists(kb_text, max_size=6),
    roles=st.lists(kb_text, max_size=3),
    industry=st.sampled_from(INDUSTRIES),
)


@st.composite
def script_context(draw: st.DrawFn) -> tuple[ScriptContext, dict[str, str]]:
    """A context as script_context_build hands it over: the invariants it guarantees
    per video type (a certification, an assessment, a focus domain...) hold."""
    kind = draw(st.sampled_from(list(VideoType)))
    names = draw(learner_names())
    greeting, full_name = learner_names_pick(**names)
    fields: dict[str, Any] = {
        "video_type": kind,
        "learner_name": greeting,
        "learner_full_name": full_name,
        "experience_level": draw(st.sampled_from([*ExperienceLevel.values, "unknown"])),
        "learning_styles": tuple(
            draw(st.lists(st.sampled_from([*LearningStyle.values, "telepathic"]), max_size=3))
        ),
        "pace": draw(st.sampled_from([*Pace.values, "warp"])),
    }
    has_cert = kind != VideoType.INTRODUCTION or draw(st.booleans())
    if has_cert:
        assessed = kind in {VideoType.MOTIVATIONAL, VideoType.CELEBRATION} or draw(st.booleans())
        cert_domains = draw(domains(assessed))
        passing = draw(score)
        overall = draw(score) if assessed else None
        if kind == VideoType.CELEBRATION:
            assume(overall is not None and overall >= passing)
        scored = [d for d in cert_domains if d.score is not None]
        weak = tuple(sorted((d for d in scored if d.score < passing), key=lambda d: d.score))
        strong = tuple(d for d in scored if d.score >= passing + 10)
        fields.update(
            certification_name=draw(kb_text),
            passing_score=passing,
            exam_minutes=draw(st.one_of(st.none(), st.integers(1, 1440))),
            exam_strategies=tuple(draw(st.lists(kb_text, max_size=8))),
            domains=cert_domains,
            weak_areas=weak,
            strong_areas=strong,
            overall_score=overall,
            focus_domain=weak[0] if weak else None,
        )
        if kind == VideoType.REMEDIATION:
            fields["focus_domain"] = draw(st.sampled_from(cert_domains))
            fields["concepts"] = tuple(draw(st.lists(concept, min_size=1, max_size=3)))
        if kind == VideoType.PRACTICE_SESSION:
            fields["questions"] = tuple(draw(st.lists(question(), min_size=1, max_size=10)))
            fields["topic"] = draw(st.one_of(st.just(""), kb_text))
            fields["difficulty"] = draw(st.sampled_from(["", "easy", "medium", "hard"]))
    if kind == VideoType.INTRODUCTION:
        fields["cv"] = draw(st.one_of(st.none(), cv_profile))
        fields["industry"] = draw(st.sampled_from(INDUSTRIES))
    return ScriptContext(**fields), names


# --- what every script must satisfy --------------------------------------------------


def sayable(name: str) -> bool:
    """Letters, combining marks and digits in any script; apostrophes, hyphens, spaces."""
    return bool(name) and all(unicodedata.category(ch)[0] in "LMN" or ch in "'’- " for ch in name)


def assert_script_is_sound(script: Script) -> None:
    sections = script.sections
    assert len(sections) >= 3, "intro, body and close"
    for section in sections:
        assert section.heading.strip() and section.text.strip(), section
        assert not LEAKS.search(section.text), section.text
        assert not LEAKS.search(section.heading), section.heading
        # speakable() ran last: no doubled spaces, no space before punctuation.
        assert "  " not in section.text and not re.search(r"\s[,.;:!?]", section.text)
        if PAUSE_MARKER in section.text:
            assert script.video_type == VideoType.PRACTICE_SESSION and section.slide["question"]
    assert script.title.strip() and not LEAKS.search(script.title)


def assert_named(script: Script, context: ScriptContext, names: dict[str, str]) -> None:
    first, last = script.sections[0].text, script.sections[-1].text
    if script.video_type == VideoType.INTRODUCTION:
        name = script.sections[0].slide["name"]
        if name:
            assert f"I'm {name}." in first
            assert f"I'm {name.split()[0]}," in last
        else:  # no sayable name anywhere: the introduction introduces the role
            assert first.startswith("Hello. I'm ")
        return
    greeting = context.learner_name
    assert sayable(greeting), greeting
    assert greeting in first and greeting in last, (greeting, first, last)
    expected = expected_greeting(names)
    if expected is not None:
        assert greeting == expected
    elif greeting != FALLBACK_NAME:
        # A cleaned-up name keeps only words from what the learner wrote.
        sources = " ".join(names.values())
        assert all(word.strip("'’-") in sources for word in greeting.split()), greeting


def assert_quality_in_range(quality: ScriptQuality) -> None:
    assert set(quality.parts) == PARTS
    for name, part in quality.parts.items():
        assert 0 <= part["score"] <= 100, (name, part)
        assert isinstance(part["note"], str) and part["note"], (name, part)
    assert 0 <= quality.total <= 100


@given(case=script_context())
@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_every_video_type_writes_a_sound_personal_script(case):
    context, names = case
    assume(not LEAKS.search(" ".join(names.values())))  # a learner really called "None"
    script = script_template_write(context=context)

    assert script.video_type == context.video_type
    assert_script_is_sound(script)
    assert_named(script, context, names)

    seconds = script_seconds_estimate(
        script=script, voice_speed=context.voice_speed, think_seconds=context.think_seconds
    )
    assert isinstance(seconds, int) and seconds > 0
    assert SPEED_RANGE[0] <= context.voice_speed <= SPEED_RANGE[1]
    assert_quality_in_range(script_score(script=script, context=context, target_seconds=seconds))
    if context.video_type == VideoType.PRACTICE_SESSION:
        asked = [s for s in script.sections if s.slide.get("question")]
        assert len(asked) == len(context.questions)
        assert all(PAUSE_MARKER in s.text for s in asked)


@given(names=learner_names())
@settings(max_examples=50, deadline=None)
def test_the_greeting_is_always_a_sayable_name_or_the_fallback(names):
    greeting, full_name = learner_names_pick(**names)

    assert sayable(greeting), greeting
    assert full_name == "" or sayable(full_name), full_name
    expected = expected_greeting(names)
    if expected is not None:
        assert greeting == expected


@pytest.mark.parametrize(
    ("names", "greeting"),
    [
        (
            {"display_name": "", "first_name": "", "username": "alex.rivera@example.com"},
            "alex rivera",
        ),
        ({"display_name": "🚀", "first_name": "Noor", "username": "n1"}, "Noor"),
        ({"display_name": "**Sam**", "first_name": "", "username": "s"}, "Sam"),
        ({"display_name": "   ", "first_name": "", "username": "___"}, FALLBACK_NAME),
        ({"display_name": "محمد", "first_name": "", "username": "m"}, "محمد"),
        (
            {"display_name": "Seán O'Brien-Smith", "first_name": "", "username": "s"},
            "Seán O'Brien-Smith",
        ),
    ],
)
def test_names_a_voice_cannot_say_fall_back_to_the_next_one(names, greeting):
    assert learner_names_pick(last_name="", **names)[0] == greeting


# --- through script_write, with real rows --------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@st.composite
def knowledge_base_document(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    names = draw(st.lists(kb_text, min_size=count, max_size=count, unique=True))
    domains = []
    for i, (name, weight) in enumerate(zip(names, weights, strict=True)):
        concepts = [
            {"slug": f"c{j}", "title": draw(kb_text), "summary": draw(kb_text)}
            for j in range(draw(st.integers(0, 3)))
        ]
        questions = [
            {
                "question": f"{draw(kb_text)} ({j})?",
                "choices": draw(st.lists(kb_text, min_size=2, max_size=4)),
                "answer": 1,
                "difficulty": draw(st.sampled_from(["easy", "medium", "hard"])),
                "key_concepts": [c["slug"] for c in concepts[:1]],
            }
            for j in range(draw(st.integers(0, 3)))
        ]
        domains.append(
            {
                "slug": f"domain-{i}",
                "name": name,
                "weight": weight,
                "concepts": concepts,
                "questions": questions,
            }
        )
    return {
        "certification": {
            "slug": "generated",
            "name": draw(kb_text),
            "passing_score": draw(st.integers(0, 100)),
            "domains": domains,
        }
    }


@given(
    document=knowledge_base_document(),
    names=learner_names(),
    scores=st.lists(st.integers(0, 100), min_size=4, max_size=4),
    level=st.sampled_from(ExperienceLevel.values),
    styles=st.lists(st.sampled_from(LearningStyle.values), max_size=2, unique=True),
)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.django_db
def test_script_write_from_real_rows_never_crashes(document, names, scores, level, styles):
    names = _db_names(names)
    assume(not LEAKS.search(" ".join(names.values())))
    with rolled_back():
        cert = knowledge_base_import(
            data=knowledge_base_parse(text=json.dumps(document))
        ).certification
        learner = user_build(experience_level=level, learning_styles=styles, **_db_names(names))
        slugs = [d["slug"] for d in document["certification"]["domains"]]
        assessment = assessment_build(
            learner=learner,
            certification=cert,
            scores=dict(zip(slugs, scores, strict=False)),
        )
        for kind in VideoType:
            job = video_job_build(
                learner=learner,
                video_type=kind.value,
                certification=cert,
                assessment=assessment,
            )
            try:
                written = script_write(job=job)
            except ScriptWriteError as error:
                refusal = str(error)
            else:
                refusal = ""
            if refusal:
                # Only what the writer documents: a celebration below the pass mark, a
                # remediation or practice session with nothing to teach or ask.
                assert kind in REFUSABLE, (kind, refusal)
                if kind == VideoType.CELEBRATION:
                    assert assessment.overall_score < cert.passing_score
                continue
            assert_script_is_sound(written.script)
            assert written.target_seconds > 0
            assert_quality_in_range(written.quality)
            assert WrittenScript.from_dict(written.as_dict()) == written
            if kind != VideoType.INTRODUCTION:
                greeting = learner_names_pick(**names)[0]
                text = written.script.sections
                assert greeting in text[0].text and greeting in text[-1].text


REFUSABLE = {VideoType.CELEBRATION, VideoType.REMEDIATION, VideoType.PRACTICE_SESSION}


def _db_names(names: dict[str, str]) -> dict[str, str]:
    """The profile fields as the database can hold them: within their lengths, and
    without NUL (the forms refuse it; PostgreSQL cannot store it)."""
    limits = {"display_name": 120, "first_name": 150, "last_name": 150, "username": 150}
    return {field: names[field].replace("\x00", "")[:limit] for field, limit in limits.items()}
