"""Template scripts, one writer per video type: the default, and the LLM's fallback.

Every script runs intro -> body -> close: the first section greets the learner
by name, the last one says what to do next and names them again. Slide data
follows the keys documented on videos.studio.types.Section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from videos.studio.types import PAUSE_MARKER, Script, Section, VideoType

from .context import ConceptInfo, DomainInfo, QuestionInfo, ScriptContext
from .introduction import script_introduction_write
from .speech import names_join, number_say, sentence_end, sentences_first, speakable

LETTERS = "ABCDEFGH"
DEFAULT_STRATEGIES = (
    "Read the last sentence of each question first so you know exactly what is being asked.",
    "Eliminate the answers you know are wrong before choosing between the rest.",
    "Budget your time, flag questions that take too long, and come back to them at the end.",
    "Never leave a question blank, because an unanswered question always scores zero.",
    "Watch for words like always and never, which often mark a wrong answer.",
    "Choose the answer that solves the whole scenario, not just part of it.",
)


def script_template_write(*, context: ScriptContext) -> Script:
    writer = _WRITERS[context.video_type]
    title, sections = writer(context)
    return Script(
        video_type=context.video_type,
        title=speakable(title),
        sections=tuple(
            # A heading made of a knowledge-base title with nothing to say ("|", "**")
            # would be blank on the slide: number the part instead.
            Section(
                heading=speakable(s.heading) or f"Part {number}",
                text=speakable(s.text),
                slide=s.slide,
            )
            for number, s in enumerate(sections, start=1)
        ),
        learner_name=context.learner_name,
    )


# --- shared phrases ----------------------------------------------------------------


def _percent(value: float | None) -> str:
    return f"{number_say(value or 0)} percent"


def _study_plan(c: ScriptContext) -> str:
    low, high = c.study_hours
    return f"Plan on about {low} to {high} hours a week. {c.study_advice}"


def _lower_first(text: str) -> str:
    """Lower-cases a leading capital unless it starts an acronym ("IaaS", "DNS")."""
    text = text.strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _weakest_first(domains: tuple[DomainInfo, ...]) -> list[DomainInfo]:
    return sorted(domains, key=lambda d: (d.score is None, d.score or 0.0, -d.weight))


def _short(text: str) -> str:
    """A checklist line: the first clause of a sentence, when that clause stands alone."""
    text = text.strip().rstrip(".")
    cuts = [text.find(cut) for cut in (" so ", " because ", " since ") if cut in text]
    head = text[: min(cuts)].rstrip(" ,;:") if cuts else text
    return head if len(head.split()) >= 3 else text


# --- overview -----------------------------------------------------------------------


def _overview(c: ScriptContext) -> tuple[str, list[Section]]:
    ordered = _weakest_first(c.domains)
    slide = {
        "domains": [
            {"name": d.name, "weight": d.weight, "score": d.score}
            for d in ordered  # weakest first: the roadmap starts where the work is
        ]
    }
    intro = f"Hi {c.learner_name}. This is your roadmap for the {c.certification_name} exam."
    if c.overall_score is not None:
        intro += (
            f" You scored {_percent(c.overall_score)} overall, and the pass mark is "
            f"{_percent(c.passing_score)}."
        )
    intro += (
        f" Let's look at the {len(c.domains)} exam domains, what each one is worth, "
        "and where your study time will count the most."
    )

    by_weight = sorted(c.domains, key=lambda d: -d.weight)
    weights = [f"{by_weight[0].name} carries the most weight, at {_percent(by_weight[0].weight)}."]
    weights += [f"{d.name} is worth {_percent(d.weight)}." for d in by_weight[1:]]
    weighting = f"The exam covers {len(c.domains)} domains. " + " ".join(weights)

    if c.weak_areas:
        first, rest = c.weak_areas[0], c.weak_areas[1:]
        focus = (
            f"Your biggest opportunity is {first.name}, where you scored {_percent(first.score)}. "
            f"It is worth {_percent(first.weight)} of the exam, so every point you gain there "
            "counts."
        )
        focus += "".join(
            f" {lead} {d.name}, at {_percent(d.score)}."
            for lead, d in zip(("Next comes", "After that comes"), rest, strict=False)
        )
    elif c.overall_score is not None:
        focus = (
            "You are at or above the pass mark in every domain. Your focus now is keeping it "
            "that way, with steady practice across the whole exam."
        )
    else:
        focus = (
            "Once you take an assessment, this roadmap will put your weakest domains first. "
            "Until then, start with the heaviest domains."
        )
    sections = [
        Section("Your roadmap", intro, slide),
        Section("How the exam is weighted", weighting, slide),
        Section("Where to focus first", focus, slide),
    ]
    if c.strong_areas:
        strong = names_join([f"{d.name} at {_percent(d.score)}" for d in c.strong_areas[:3]])
        sections.append(
            Section(
                "Your strengths",
                f"You are already strong in {strong}. A short review each week keeps those "
                "marks safe while you work on the rest.",
            )
        )
    close = f"{c.learner_name}, here is your plan. {_study_plan(c)}"
    if c.weak_areas:
        close += (
            f" Your next videos go deeper into {names_join([d.name for d in c.weak_areas[:3]])}."
        )
    close += " Let's get started."
    sections.append(Section("Your plan", close))
    return f"Your {c.certification_name} roadmap", sections


# --- remediation --------------------------------------------------------------------


def _concept_text(concept: ConceptInfo) -> str:
    parts = [sentence_end(concept.title)]
    if concept.summary:
        parts.append(sentence_end(concept.summary))
    # The summary already opens the idea; one sentence of the body adds the detail.
    body = sentences_first(concept.content, count=1 if concept.summary else 2)
    if body:
        parts.append(sentence_end(body))
    if concept.examples:
        parts.append(f"Here is an example. {sentence_end(concept.examples[0])}")
    if concept.analogies:
        analogy = sentence_end(_lower_first(concept.analogies[0]))
        parts.append(f"A simple way to picture it: {analogy}")
    return " ".join(parts)


def _concept_slide(concept: ConceptInfo) -> dict[str, Any]:
    return {
        "title": concept.title,
        "summary": concept.summary or sentences_first(concept.content, count=1),
        "example": concept.examples[0] if concept.examples else "",
    }


def _remediation(c: ScriptContext) -> tuple[str, list[Section]]:
    domain = c.focus_domain
    assert domain is not None  # script_context_build guarantees it for remediation
    titles = [k.title for k in c.concepts]
    intro = f"Hi {c.learner_name}. This video is all about {domain.name}."
    if domain.score is not None:
        intro += (
            f" You scored {_percent(domain.score)} here, and the pass mark is "
            f"{_percent(c.passing_score)}."
        )
    intro += (
        f" It is worth {_percent(domain.weight)} of the exam. We will work through "
        f"{len(titles)} key {'idea' if len(titles) == 1 else 'ideas'}: {names_join(titles)}. "
        "Each one comes with a real example."
    )
    sections = [
        Section(
            f"Strengthening {domain.name}",
            intro,
            {"concepts": [_concept_slide(k) for k in c.concepts]},
        )
    ]
    sections += [
        Section(k.title, _concept_text(k), {"concepts": [_concept_slide(k)]}) for k in c.concepts
    ]
    low, high = c.study_hours
    close = (
        f"So, {c.learner_name}, that was {names_join(titles)}. "
        f"Give {domain.name} a good share of your {low} to {high} study hours a week "
        f"until you are past the pass mark. {c.study_advice} "
        f"Then try some practice questions on {domain.name} to lock it in. You've got this."
    )
    sections.append(Section("Putting it together", close))
    return f"Strengthen {domain.name}", sections


# --- practice session ---------------------------------------------------------------


def _question_text(number: int, q: QuestionInfo) -> str:
    options = " ".join(
        f"Option {LETTERS[i]}: {sentence_end(choice)}" for i, choice in enumerate(q.choices)
    )
    answer = (
        f"The answer is option {LETTERS[q.answer_index]}: {sentence_end(q.answer)}"
        f" {q.explanation}".rstrip()
    )
    if q.key_concepts:
        label = "Key concept" if len(q.key_concepts) == 1 else "Key concepts"
        answer += f" {label}: {sentence_end(names_join(list(q.key_concepts)))}"
    return f"Question {number}. {sentence_end(q.question)} {options} {PAUSE_MARKER} {answer}"


def _practice(c: ScriptContext) -> tuple[str, list[Section]]:
    count = len(c.questions)
    domains = {q.domain for q in c.questions}
    # Questions picked from the weakest area without a chosen domain: say which one.
    only_domain = next(iter(domains)) if len(domains) == 1 else ""
    about = c.topic or (c.focus_domain.name if c.focus_domain else only_domain)
    kind = f"{c.difficulty} " if c.difficulty else ""
    plural = "question" if count == 1 else "questions"
    intro = (
        f"Hi {c.learner_name}. Let's practise {count} {kind}{plural}"
        f"{f' on {about}' if about else f' for the {c.certification_name} exam'}. "
        "For each one, I will read the question and the options, then pause so you can "
        "choose your answer before I reveal it."
    )
    sections = [Section("Practice time", intro)]
    for number, q in enumerate(c.questions, start=1):
        slide = {
            "question": q.question,
            "choices": list(q.choices),
            "answer": q.answer_index,
            "explanation": q.explanation,
            "key_concepts": list(q.key_concepts),
            "think_seconds": c.think_seconds,
        }
        sections.append(Section(f"Question {number}", _question_text(number, q), slide))
    concepts = list(dict.fromkeys(k for q in c.questions for k in q.key_concepts))
    close = f"That's all {count} {plural}, {c.learner_name}. "
    close += (
        "If you got them all right, you are ready for harder ones. If not, replay the "
        "explanations"
        + (f" and revisit {names_join(concepts[:3])}" if concepts else "")
        + f". Plan on about {c.study_hours[0]} to {c.study_hours[1]} hours of study a week, "
        "with a few questions at the end of every session. Keep practising."
    )
    sections.append(Section("How did you do?", close))
    return f"Practice: {about or c.certification_name}", sections


# --- motivational -------------------------------------------------------------------


def _motivational(c: ScriptContext) -> tuple[str, list[Section]]:
    overall = c.overall_score or 0.0
    passing = c.passing_score or 0.0
    slide = {
        "scores": [{"name": d.name, "score": d.score} for d in c.domains if d.score is not None],
        "overall": overall,
    }
    intro = (
        f"Hi {c.learner_name}. Let's take a moment to look at how far you have come "
        f"on your way to the {c.certification_name} certification."
    )
    progress = f"Your overall score is {_percent(overall)}."
    if overall >= passing:
        progress += f" That is already above the pass mark of {_percent(passing)}."
    else:
        gap = number_say(passing - overall)
        progress += (
            f" The pass mark is {_percent(passing)}, so you are {gap} points away. "
            "That gap is smaller than it looks."
        )
    scored = [d for d in c.domains if d.score is not None]
    strong = list(c.strong_areas) or sorted(scored, key=lambda d: -(d.score or 0.0))[:1]
    if strong:
        progress += (
            f" Your strongest {'area is' if len(strong) == 1 else 'areas are'} "
            f"{names_join([f'{d.name} at {_percent(d.score)}' for d in strong[:3]])}. "
            "That shows your way of studying works."
        )
    close = ""
    if c.weak_areas:
        close += f"Next, put that same energy into {c.weak_areas[0].name}. "
    close += f"{_study_plan(c)} Keep going, {c.learner_name}. Every session moves you closer."
    sections = [
        Section("You are making progress", intro, slide),
        Section("Your progress so far", progress, slide),
        Section("Your next steps", close),
    ]
    return f"Your progress, {c.learner_name}", sections


# --- exam prep ----------------------------------------------------------------------


def _exam_prep(c: ScriptContext) -> tuple[str, list[Section]]:
    strategies = list(c.exam_strategies)
    for default in DEFAULT_STRATEGIES:  # a thin knowledge base still gets solid advice
        if len(strategies) >= c.bullet_count:
            break
        strategies.append(default)
    spoken = strategies[:3]
    ordinals = ("Tip one:", "Tip two:", "Tip three:")
    intro = f"Hi {c.learner_name}. Let's get you ready for the {c.certification_name} exam."
    if c.overall_score is not None:
        intro += (
            f" You scored {_percent(c.overall_score)} in your assessment, and you need "
            f"{_percent(c.passing_score)} to pass."
        )
    intro += " These strategies make the biggest difference on exam day."
    strategy_text = " ".join(
        f"{ordinal} {sentence_end(_lower_first(s))}"
        for ordinal, s in zip(ordinals, spoken, strict=False)
    )

    minutes = c.exam_minutes
    if minutes:
        reserve = max(5, round(minutes * 0.15 / 5) * 5)
        timing = (
            f"You will have {minutes} minutes. Do a first pass at a steady pace, answer what "
            "you know, and flag anything that takes longer than about a minute and a half. "
            f"Keep the last {reserve} minutes to return to your flagged questions."
        )
        time_list = [
            "First pass: answer what you know",
            "Flag questions that take longer than 90 seconds",
            f"Keep the last {reserve} minutes for flagged questions",
            "Answer every question",
        ]
    else:
        timing = (
            "Check how long the exam is before the day. Do a first pass at a steady pace, "
            "flag slow questions, and leave time at the end to review them."
        )
        time_list = [
            "Check the exam length in advance",
            "First pass: answer what you know",
            "Flag slow questions and come back",
            "Answer every question",
        ]
    close = "In your final days, "
    if c.weak_areas:
        close += f"give {c.weak_areas[0].name} one more focused review, "
    low, high = c.study_hours
    close += (
        f"keep to about {low} to {high} hours of study a week, and rest well the night "
        f"before. Good luck, {c.learner_name}. You have prepared for this."
    )
    sections = [
        Section("Getting exam ready", intro),
        Section(
            "Exam strategies",
            strategy_text,
            {"checklist": [_short(s) for s in strategies[: c.bullet_count]]},
        ),
        Section("Managing your time", timing, {"checklist": time_list}),
        Section("On exam day", close),
    ]
    return f"Exam strategies for {c.certification_name}", sections


# --- celebration --------------------------------------------------------------------


def _celebration(c: ScriptContext) -> tuple[str, list[Section]]:
    overall = c.overall_score or 0.0
    slide = {"learner": c.learner_name, "certification": c.certification_name, "score": overall}
    intro = (
        f"Congratulations, {c.learner_name}! You passed the {c.certification_name} assessment "
        f"with {_percent(overall)}."
    )
    body = (
        f"The pass mark is {_percent(c.passing_score)}, and you cleared it by "
        f"{number_say(overall - (c.passing_score or 0.0))} points."
    )
    scored = sorted((d for d in c.domains if d.score is not None), key=lambda d: -(d.score or 0))
    best = c.strong_areas[:1] or tuple(scored[:1])
    if best:
        body += f" Your strongest area was {best[0].name}, at {_percent(best[0].score)}."
    body += " All those study sessions paid off."
    close = (
        "Next, book your exam while everything is fresh, and keep your skills sharp with a "
        f"short practice session each week. Well done, {c.learner_name}. Enjoy this moment."
    )
    sections = [
        Section("Congratulations", intro, slide),
        Section("What you achieved", body, slide),
        Section("What comes next", close),
    ]
    return f"Congratulations, {c.learner_name}!", sections


def _introduction(c: ScriptContext) -> tuple[str, list[Section]]:
    script = script_introduction_write(context=c)
    return script.title, list(script.sections)


_WRITERS: dict[VideoType, Callable[[ScriptContext], tuple[str, list[Section]]]] = {
    VideoType.OVERVIEW: _overview,
    VideoType.REMEDIATION: _remediation,
    VideoType.PRACTICE_SESSION: _practice,
    VideoType.MOTIVATIONAL: _motivational,
    VideoType.EXAM_PREP: _exam_prep,
    VideoType.CELEBRATION: _celebration,
    VideoType.INTRODUCTION: _introduction,
}
