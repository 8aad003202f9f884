"""The optional LLM writer: it rewrites the template draft as more natural narration.

The draft fixes the facts and the section plan (headings, slide data, the
practice pauses); the LLM only rewrites each section's spoken text. A reply is
used only if it keeps that plan: the same number of sections, speakable text,
the pause marker where the draft has one, the learner's name, and a sensible
length. Anything else raises LlmReplyError and the caller keeps the template.
"""

from __future__ import annotations

import json
import re
from typing import Any

from videos.llm import chat_complete
from videos.studio.types import PAUSE_MARKER, Script, Section

from .context import ScriptContext
from .speech import speakable, unspeakable_find, words_count

# Reply length against the draft's: shorter than half or over double means the
# model ignored the brief (or cut the script off).
WORDS_RATIO = (0.5, 2.0)
MAX_REPLY_TOKENS = 2500

_GOALS = {
    "overview": "a roadmap of the exam: every domain with its exam weight and the learner's "
    "score, weakest areas first, and a study plan",
    "remediation": "teach the focus domain's key concepts clearly, each with its example and "
    "analogy",
    "practice_session": "a practice session: read each question and its options, pause for "
    "thinking, then give the answer and explain it",
    "motivational": "encourage the learner with their real progress, strengths and next steps",
    "exam_prep": "exam strategies and time management for exam day",
    "celebration": "congratulate the learner on passing",
    "introduction": "a first-person professional self-introduction spoken by the learner",
}

SYSTEM_PROMPT = (
    "You write narration for short, personal e-learning videos read aloud by an avatar "
    "with a text-to-speech voice. Write warm, clear, plain spoken English in short "
    "sentences. Never use markdown, bullet points, lists, emojis, URLs or symbols a voice "
    "cannot read. Use only the facts you are given; never invent numbers, names or facts. "
    'Reply with one JSON object only: {"title": string, "sections": '
    '[{"heading": string, "text": string}]}.'
)


class LlmReplyError(ValueError):
    """The LLM answered, but not with a usable script."""


def prompt_build(*, context: ScriptContext, draft: Script) -> list[dict[str, str]]:
    total_words = sum(words_count(s.text) for s in draft.sections)
    brief: dict[str, Any] = {
        "video_type": str(draft.video_type),
        "goal": _GOALS.get(str(draft.video_type), ""),
        "learner": {
            "name": context.learner_name,
            "experience_years": context.experience_level,
            "learning_styles": list(context.learning_styles),
            "preferred_pace": context.pace,
        },
        "target_words": total_words,
        "sections": [{"heading": s.heading, "draft": s.text} for s in draft.sections],
    }
    if context.certification_name:
        brief["certification"] = {
            "name": context.certification_name,
            "passing_score": context.passing_score,
            "exam_minutes": context.exam_minutes,
        }
    rules = [
        f"Return exactly {len(draft.sections)} sections, in the same order, with the same "
        "purpose as the draft sections; you may reword the headings.",
        "Keep every fact, number and name from the drafts accurate.",
        f"Use the learner's name ({context.learner_name}) in the first and the last section.",
        f"Aim for about {total_words} words in total.",
    ]
    if any(PAUSE_MARKER in s.text for s in draft.sections):
        rules.append(
            f"Where a draft contains {PAUSE_MARKER}, keep that exact marker once, after the "
            "question and its options and before the answer; never reveal the answer before it."
        )
    brief["rules"] = rules
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": json.dumps(brief, ensure_ascii=False, indent=1)},
    ]


def script_llm_write(*, context: ScriptContext, draft: Script) -> Script:
    """Ask the LLM for the narration; raises videos.llm.LlmError or LlmReplyError."""
    reply = chat_complete(
        messages=prompt_build(context=context, draft=draft), max_tokens=MAX_REPLY_TOKENS
    )
    return reply_parse(content=reply.content, context=context, draft=draft)


def reply_parse(*, content: str, context: ScriptContext, draft: Script) -> Script:
    data = _json_extract(content)
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise LlmReplyError("the reply has no sections list")
    if len(raw_sections) != len(draft.sections):
        raise LlmReplyError(
            f"the reply has {len(raw_sections)} sections; the plan has {len(draft.sections)}"
        )
    sections = []
    for index, (raw, planned) in enumerate(zip(raw_sections, draft.sections, strict=True)):
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise LlmReplyError(f"section {index + 1} has no text")
        problems = unspeakable_find(raw["text"])
        text = speakable(raw["text"])
        if problems and words_count(text) < 3:
            raise LlmReplyError(f"section {index + 1} is not speakable ({', '.join(problems)})")
        if words_count(text) < 3:
            raise LlmReplyError(f"section {index + 1} is empty")
        _pause_check(index=index, text=text, planned=planned)
        heading = raw.get("heading")
        heading = speakable(heading) if isinstance(heading, str) and heading.strip() else ""
        sections.append(Section(heading=heading or planned.heading, text=text, slide=planned.slide))

    words = sum(words_count(s.text) for s in sections)
    planned_words = sum(words_count(s.text) for s in draft.sections)
    if not WORDS_RATIO[0] * planned_words <= words <= WORDS_RATIO[1] * planned_words:
        raise LlmReplyError(f"the reply has {words} words; the draft has {planned_words}")
    name = draft.learner_name or context.learner_name
    spoken = " ".join(s.text for s in sections)
    if name and name.lower() not in spoken.lower():
        raise LlmReplyError("the reply never uses the learner's name")
    title = data.get("title")
    return Script(
        video_type=draft.video_type,
        title=speakable(title) if isinstance(title, str) and title.strip() else draft.title,
        sections=tuple(sections),
        learner_name=draft.learner_name,
    )


def _json_extract(content: str) -> dict[str, Any]:
    """The JSON object in a reply, with or without a ```json fence around it."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise LlmReplyError("the reply is not a JSON object")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise LlmReplyError(f"the reply is not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise LlmReplyError("the reply is not a JSON object")
    return data


def _pause_check(*, index: int, text: str, planned: Section) -> None:
    wanted = planned.text.count(PAUSE_MARKER)
    found = text.count(PAUSE_MARKER)
    if found != wanted:
        raise LlmReplyError(
            f"section {index + 1} has {found} thinking pause(s); the plan has {wanted}"
        )
    if wanted:
        before, _, after = text.partition(PAUSE_MARKER)
        if words_count(before) < 5 or words_count(after) < 3:
            raise LlmReplyError(
                f"section {index + 1} must ask before the pause and answer after it"
            )
