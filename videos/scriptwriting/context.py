"""Everything a script is written from, read once from the database.

`script_context_build` only reads. It also decides what a script cannot be
written from (an unknown domain, no matching questions...) and raises
ScriptWriteError with a message staff or the learner can act on, so the
writers below never have to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from library.models import Assessment, Certification, Concept, Difficulty, PracticeQuestion
from library.selectors import assessment_strong_areas, assessment_weak_areas
from videos.models import VideoJob
from videos.models import VideoType as JobVideoType
from videos.studio.types import VideoType

from .speech import name_say, normalise, number_say
from .types import INDUSTRIES, CvProfile, ScriptWriteError

_LOGGER = logging.getLogger(__name__)

MAX_CONCEPTS = 3  # remediation: three ideas explained well beat six rushed
DEFAULT_QUESTIONS = 3
MAX_QUESTIONS = 10  # what a learner may ask for (videos.services, the request form)
MAX_CHOICES = 8  # options A to H: the knowledge-base format's limit (the admin has none)
NEEDS_CERTIFICATION = frozenset(VideoType) - {VideoType.INTRODUCTION}
NEEDS_ASSESSMENT = frozenset({VideoType.MOTIVATIONAL, VideoType.CELEBRATION})

# Experience level -> (speaking speed, weekly study hours, advice). Newer learners
# get a calmer voice and more study time; seniors a brisker one and less.
LEVELS: dict[str, tuple[float, tuple[int, int], str]] = {
    "0-1": (
        0.9,
        (8, 10),
        "Because you are new to the field, build the foundations first with short daily "
        "sessions, and try every example yourself.",
    ),
    "1-3": (
        1.0,
        (6, 8),
        "Connect each idea to something you have already seen at work, and answer a few "
        "practice questions after every topic.",
    ),
    "3-5": (
        1.0,
        (5, 6),
        "Use your experience: spend your time on the gaps rather than re-reading what you "
        "already do every day.",
    ),
    "5-10": (
        1.05,
        (4, 5),
        "Your experience covers a lot, so focus on exam-style scenarios and on the areas "
        "you use least at work.",
    ),
    "10+": (
        1.1,
        (3, 4),
        "You know this field well. The exam rewards its own conventions, so practise under "
        "time pressure and watch for wording that differs from how your team does things.",
    ),
}
PACE_SPEED = {"slow": -0.1, "normal": 0.0, "fast": 0.1}
SPEED_RANGE = (0.8, 1.2)
# Seconds of silence per practice question; "normal" matches the renderer's default
# VoiceConfig.think_pause, so a pipeline that ignores WrittenScript.think_seconds still
# renders what the estimate assumed.
THINK_SECONDS = {"slow": 6, "normal": 4, "fast": 3}
GESTURES_VISUAL, GESTURES_DEFAULT = 0.8, 0.5
# Who the narrator greets when no name the learner gave can be said aloud (a display
# name of emoji only, a username of symbols): "Hi friend", "Well done, friend".
FALLBACK_NAME = "friend"


@dataclass(frozen=True)
class DomainInfo:
    slug: str
    name: str
    weight: float  # exam weight, percent
    score: float | None  # the learner's score, percent; None when not assessed


@dataclass(frozen=True)
class ConceptInfo:
    slug: str
    title: str
    summary: str
    content: str
    examples: tuple[str, ...]
    analogies: tuple[str, ...]


@dataclass(frozen=True)
class QuestionInfo:
    question: str
    choices: tuple[str, ...]
    answer_index: int
    explanation: str
    key_concepts: tuple[str, ...]  # concept titles
    difficulty: str
    domain: str  # domain name

    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]


@dataclass(frozen=True)
class ScriptContext:
    video_type: VideoType
    # the learner
    learner_name: str  # how to greet them
    learner_full_name: str  # for the professional introduction
    experience_level: str
    learning_styles: tuple[str, ...]
    pace: str
    # the certification (empty name when the job has none)
    certification_name: str = ""
    passing_score: float | None = None
    exam_minutes: int | None = None
    exam_strategies: tuple[str, ...] = ()
    # the assessment
    domains: tuple[DomainInfo, ...] = ()  # exam order
    weak_areas: tuple[DomainInfo, ...] = ()  # below the pass mark, weakest first
    strong_areas: tuple[DomainInfo, ...] = ()  # well above the pass mark, strongest first
    overall_score: float | None = None
    # what this video is about
    focus_domain: DomainInfo | None = None
    concepts: tuple[ConceptInfo, ...] = ()  # the focus concepts, in teaching order
    questions: tuple[QuestionInfo, ...] = ()
    topic: str = ""
    difficulty: str = ""
    cv: CvProfile | None = None
    industry: str = "general"
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def visual(self) -> bool:
        return "visual" in self.learning_styles

    @property
    def voice_speed(self) -> float:
        return voice_speed_pick(experience_level=self.experience_level, pace=self.pace)

    @property
    def gesture_level(self) -> float:
        return GESTURES_VISUAL if self.visual else GESTURES_DEFAULT

    @property
    def think_seconds(self) -> int:
        return THINK_SECONDS.get(self.pace, THINK_SECONDS["normal"])

    @property
    def study_hours(self) -> tuple[int, int]:
        return LEVELS.get(self.experience_level, LEVELS["1-3"])[1]

    @property
    def study_advice(self) -> str:
        return LEVELS.get(self.experience_level, LEVELS["1-3"])[2]

    @property
    def bullet_count(self) -> int:
        """Visual learners get more on each slide."""
        return 6 if self.visual else 4


def voice_speed_pick(*, experience_level: str, pace: str) -> float:
    base = LEVELS.get(experience_level, LEVELS["1-3"])[0]
    speed = base + PACE_SPEED.get(pace, 0.0)
    return round(min(SPEED_RANGE[1], max(SPEED_RANGE[0], speed)), 2)


def learner_names_pick(
    *, display_name: str, first_name: str, last_name: str, username: str
) -> tuple[str, str]:
    """(how to greet the learner, their full name for an introduction), both sayable.

    The greeting prefers the display name, then the first name, then the username,
    skipping any that has nothing a voice can say; the full name is empty when the
    learner gave none (an introduction then says no name rather than "friend").
    """
    greeting = next(
        (said for said in map(name_say, (display_name, first_name, username)) if said), ""
    )
    full = name_say(f"{first_name} {last_name}") or greeting
    return greeting or FALLBACK_NAME, full


def script_context_build(*, job: VideoJob) -> ScriptContext:
    try:
        kind = VideoType(job.video_type)
    except ValueError:
        raise ScriptWriteError(f"Unknown video type {job.video_type!r}.") from None
    learner = job.learner
    parameters = job.parameters if isinstance(job.parameters, Mapping) else {}
    greeting, full_name = learner_names_pick(
        display_name=learner.display_name,
        first_name=learner.first_name,
        last_name=learner.last_name,
        username=learner.username,
    )
    base: dict[str, Any] = {
        "video_type": kind,
        "learner_name": greeting,
        "learner_full_name": full_name,
        "experience_level": learner.experience_level,
        "learning_styles": tuple(s for s in learner.learning_styles or [] if isinstance(s, str)),
        "pace": learner.preferred_pace,
        "parameters": dict(parameters),
    }
    if kind == VideoType.INTRODUCTION:
        base.update(_introduction_fields(parameters=parameters))

    cert, assessment = _certification_resolve(job=job)
    if cert is None:
        if kind in NEEDS_CERTIFICATION:
            raise ScriptWriteError(
                f"{_label(kind)} videos need a certification, and this job has none. "
                "Attach the learner's certification or assessment to the job."
            )
        return ScriptContext(**base)
    if assessment is None and kind in NEEDS_ASSESSMENT:
        raise ScriptWriteError(
            f"{_label(kind)} videos are written from assessment results, and "
            f"{learner.greeting_name} has none for {cert.name} yet."
        )

    domains, weak, strong = _domains_read(cert=cert, assessment=assessment)
    if not domains and kind == VideoType.OVERVIEW:
        raise ScriptWriteError(
            f"{cert.name} has no exam domains yet, so there is no roadmap to show; "
            "add its domains to the knowledge base first."
        )
    base.update(
        certification_name=cert.name,
        passing_score=float(cert.passing_score),
        exam_minutes=cert.exam_minutes,
        exam_strategies=tuple(
            s.strip() for s in cert.exam_strategies or [] if isinstance(s, str) and s.strip()
        ),
        domains=domains,
        weak_areas=weak,
        strong_areas=strong,
        overall_score=float(assessment.overall_score) if assessment else None,
        focus_domain=weak[0] if weak else None,
    )
    if kind == VideoType.CELEBRATION:
        _passed_check(cert=cert, assessment=assessment)
    elif kind == VideoType.REMEDIATION:
        focus = _focus_domain_pick(parameters=parameters, domains=domains, weak=weak, cert=cert)
        base.update(
            focus_domain=focus,
            concepts=_concepts_pick(cert=cert, domain=focus, parameters=parameters),
        )
    elif kind == VideoType.PRACTICE_SESSION:
        base.update(_practice_fields(parameters=parameters, cert=cert, domains=domains))
    return ScriptContext(**base)


def _certification_resolve(*, job: VideoJob) -> tuple[Certification | None, Assessment | None]:
    assessment = job.assessment
    cert = job.certification or (assessment.certification if assessment else None)
    if cert is None:
        return None, None
    if assessment is not None and assessment.certification_id != cert.pk:
        raise ScriptWriteError(
            f"The job is for {cert.name} but its assessment is for "
            f"{assessment.certification.name}; attach the matching assessment."
        )
    if assessment is None:
        # A job made by hand for a certification: use the learner's latest results for it.
        assessment = (
            Assessment.objects.filter(learner=job.learner, certification=cert)
            .select_related("certification")
            .first()
        )
    return cert, assessment


def _domains_read(
    *, cert: Certification, assessment: Assessment | None
) -> tuple[tuple[DomainInfo, ...], tuple[DomainInfo, ...], tuple[DomainInfo, ...]]:
    scores: dict[int, Decimal] = {}
    if assessment is not None:
        scores = {s.domain_id: s.score for s in assessment.domain_scores.all()}
    infos = {
        d.pk: DomainInfo(
            slug=d.slug,
            name=d.name,
            weight=float(d.weight),
            score=float(scores[d.pk]) if d.pk in scores else None,
        )
        for d in cert.domains.all()
    }
    if assessment is None:
        return tuple(infos.values()), (), ()
    weak = tuple(infos[s.domain_id] for s in assessment_weak_areas(assessment=assessment))
    strong = tuple(infos[s.domain_id] for s in assessment_strong_areas(assessment=assessment))
    return tuple(infos.values()), weak, strong


def _passed_check(*, cert: Certification, assessment: Assessment | None) -> None:
    if assessment is None or assessment.overall_score < cert.passing_score:
        score = f"{number_say(float(assessment.overall_score))}%" if assessment else "no score"
        raise ScriptWriteError(
            f"A celebration video is for a passing score; this assessment has {score} and "
            f"{cert.name} needs {number_say(float(cert.passing_score))}%."
        )


def _focus_domain_pick(
    *,
    parameters: Mapping[str, Any],
    domains: Sequence[DomainInfo],
    weak: Sequence[DomainInfo],
    cert: Certification,
) -> DomainInfo:
    slug = parameters.get("domain")
    if slug is None or slug == "":
        if weak:
            return weak[0]  # the planner's rule: remediation is for the weakest areas
        raise ScriptWriteError(
            "A remediation video needs a domain (parameters.domain), and the learner has no "
            "weak areas to choose one from."
        )
    found = next((d for d in domains if d.slug == str(slug).strip()), None)
    if found is None:
        known = ", ".join(d.slug for d in domains) or "none"
        raise ScriptWriteError(
            f"Domain {slug!r} is not part of {cert.name}; choose one of: {known}."
        )
    return found


def _concepts_pick(
    *, cert: Certification, domain: DomainInfo, parameters: Mapping[str, Any]
) -> tuple[ConceptInfo, ...]:
    concepts = list(Concept.objects.filter(domain__certification=cert, domain__slug=domain.slug))
    if not concepts:
        raise ScriptWriteError(
            f"The knowledge base has no concepts for {domain.name} in {cert.name}; "
            "add concepts to the domain before asking for a remediation video."
        )
    # The planner may name the concepts the learner missed: those come first.
    wanted = parameters.get("concepts")
    order = [str(s) for s in wanted] if isinstance(wanted, list) else []
    concepts.sort(key=lambda c: order.index(c.slug) if c.slug in order else len(order))
    return tuple(_concept_info(c) for c in concepts[:MAX_CONCEPTS])


def _concept_info(concept: Concept) -> ConceptInfo:
    return ConceptInfo(
        slug=concept.slug,
        title=concept.title,
        summary=concept.summary,
        content=concept.content,
        examples=tuple(e for e in concept.examples or [] if isinstance(e, str) and e.strip()),
        analogies=tuple(a for a in concept.analogies or [] if isinstance(a, str) and a.strip()),
    )


def _practice_fields(
    *, parameters: Mapping[str, Any], cert: Certification, domains: Sequence[DomainInfo]
) -> dict[str, Any]:
    count = _int_param(parameters.get("questions"), default=DEFAULT_QUESTIONS)
    count = min(MAX_QUESTIONS, max(1, count))
    topic = str(parameters.get("topic") or "").strip()[:200]
    difficulty = str(parameters.get("difficulty") or "").strip().lower()
    if difficulty and difficulty not in Difficulty.values:
        _LOGGER.warning("practice job: unknown difficulty %r ignored", difficulty)
        difficulty = ""

    queryset = (
        PracticeQuestion.objects.filter(domain__certification=cert)
        .select_related("domain")
        .prefetch_related("key_concepts")
    )
    focus: DomainInfo | None = None
    slug = parameters.get("domain")
    if slug:
        focus = next((d for d in domains if d.slug == str(slug).strip()), None)
        if focus is None:
            known = ", ".join(d.slug for d in domains) or "none"
            raise ScriptWriteError(
                f"Domain {slug!r} is not part of {cert.name}; choose one of: {known}."
            )
        queryset = queryset.filter(domain__slug=focus.slug)
    if difficulty:
        queryset = queryset.filter(difficulty=difficulty)

    candidates = [q for q in queryset if _question_usable(q)]
    if topic:
        candidates = [q for q in candidates if _topic_matches(topic=topic, question=q)]
    if not candidates:
        wanted = " ".join(
            part
            for part in (
                f"{difficulty}" if difficulty else "",
                "practice questions",
                f"about {topic!r}" if topic else "",
                f"in {focus.name}" if focus else f"in {cert.name}",
            )
            if part
        )
        raise ScriptWriteError(
            f"There are no {wanted}. Try another topic, a different difficulty, or leave them open."
        )
    # Without a chosen domain, practise where the learner is weakest first.
    score_of = {d.slug: d.score for d in domains}
    candidates.sort(
        key=lambda q: (
            score_of.get(q.domain.slug) is None,
            score_of.get(q.domain.slug) or 0.0,
            q.domain.position,
            q.position,
            q.pk,
        )
    )
    return {
        "focus_domain": focus,
        "questions": tuple(_question_info(q) for q in candidates[:count]),
        "topic": topic,
        "difficulty": difficulty,
    }


def _question_usable(question: PracticeQuestion) -> bool:
    """A question the narrator can read: 2 to 8 options (A to H), none blank, and the
    answer one of them. The admin edits questions as free JSON, so check, not trust."""
    choices = question.choices
    return (
        bool(question.question.strip())
        and isinstance(choices, list)
        and 2 <= len(choices) <= MAX_CHOICES
        and all(isinstance(c, str) and c.strip() for c in choices)
        and 0 <= question.answer_index < len(choices)
    )


def _topic_matches(*, topic: str, question: PracticeQuestion) -> bool:
    """The topic's words all appear in the question, its key concepts or its domain."""
    haystack = normalise(
        " ".join(
            [question.question, question.domain.name, question.explanation]
            + [c.title for c in question.key_concepts.all()]
            + [c.slug.replace("-", " ") for c in question.key_concepts.all()]
        )
    )
    words = [w for w in normalise(topic).split() if len(w) > 2] or normalise(topic).split()
    return bool(words) and all(re.search(rf"\b{re.escape(w)}", haystack) for w in words)


def _question_info(question: PracticeQuestion) -> QuestionInfo:
    return QuestionInfo(
        question=question.question.strip(),
        choices=tuple(c.strip() for c in question.choices),
        answer_index=question.answer_index,
        explanation=question.explanation.strip(),
        key_concepts=tuple(c.title for c in question.key_concepts.all()),
        difficulty=question.difficulty,
        domain=question.domain.name,
    )


def _introduction_fields(*, parameters: Mapping[str, Any]) -> dict[str, Any]:
    cv = CvProfile.from_dict(parameters.get("cv")) if parameters.get("cv") else None
    override = str(parameters.get("industry") or "").strip().lower()
    industry = override if override in INDUSTRIES else (cv.industry if cv else "general")
    return {"cv": cv, "industry": industry}


def _label(kind: VideoType) -> str:
    return str(JobVideoType(kind.value).label)


def _int_param(value: Any, *, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
