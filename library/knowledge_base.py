"""Reading a knowledge-base file (JSON or YAML) into checked, typed data.

Everything is validated before anything is written, and every problem names
where it is: a line for syntax errors, a field path for content errors
(`certification.domains[2].weight`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DIFFICULTIES = ("easy", "medium", "hard")
# Limits a real knowledge base stays far below; past them the file is a mistake (a pasted
# book, a generated file gone wrong), and the database or the narration would pay for it.
MAX_TEXT = 20_000  # a description, summary, content, question or explanation
MAX_ITEM = 2_000  # one example, analogy, choice or exam strategy
MAX_EXAM_MINUTES = 24 * 60


class KnowledgeBaseError(ValueError):
    """A knowledge-base file that cannot be imported; the message says where and why."""


@dataclass(frozen=True)
class ConceptData:
    slug: str
    title: str
    summary: str
    content: str
    examples: list[str]
    analogies: list[str]


@dataclass(frozen=True)
class QuestionData:
    question: str
    choices: list[str]
    answer: int
    explanation: str
    key_concepts: list[str]
    difficulty: str


@dataclass(frozen=True)
class DomainData:
    slug: str
    name: str
    weight: Decimal
    description: str
    concepts: list[ConceptData]
    questions: list[QuestionData]


@dataclass(frozen=True)
class CertificationData:
    slug: str
    name: str
    issuer: str
    description: str
    passing_score: Decimal
    exam_minutes: int | None
    exam_strategies: list[str]
    domains: list[DomainData]


def knowledge_base_load(*, path: Path) -> CertificationData:
    """Read and validate a file; raises KnowledgeBaseError naming the line or field."""
    try:
        # utf-8-sig: a file saved by Windows tools starts with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot be read ({exc})") from None
    return knowledge_base_parse(text=text, name=str(path))


def knowledge_base_parse(*, text: str, name: str = "<input>") -> CertificationData:
    data = _decode(text, name)
    return _certification(_Path(name, "certification"), _top_level(data, "certification", name))


def _decode(text: str, name: str) -> Any:
    text = text.removeprefix("\ufeff")  # a byte-order mark (Windows editors write one)
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(
                f"{name}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        except RecursionError:
            raise _too_deep(name) from None
        except ValueError as exc:  # a number past Python's 4300-digit conversion limit
            raise KnowledgeBaseError(f"{name}: invalid JSON: {_reason(exc)}") from None
    try:
        return yaml.safe_load(text)
    except RecursionError:
        raise _too_deep(name) from None
    except ValueError as exc:  # the same limit, hit by YAML's int constructor
        raise KnowledgeBaseError(f"{name}: invalid YAML: {_reason(exc)}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise KnowledgeBaseError(f"{name}: {where}invalid YAML: {problem}") from None


def _reason(exc: ValueError) -> str:
    # "Exceeds the limit (4300 digits) ...; use sys.set_int_max_str_digits()": the advice
    # after the semicolon is for programmers.
    return str(exc).split(";")[0]


def _shown(value: Any) -> str:
    """A value quoted in a message, cut short: the file may hold megabytes of it."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _too_deep(name: str) -> KnowledgeBaseError:
    # Both decoders recurse once per level; a knowledge base has six levels at most.
    return KnowledgeBaseError(
        f"{name}: lists or mappings are nested too deeply; a knowledge base is "
        "certification > domains > concepts or questions"
    )


class _Path:
    """A field path for messages, e.g. file.yaml: certification.domains[1].name."""

    def __init__(self, file: str, path: str) -> None:
        self.file, self.path = file, path

    def key(self, key: str) -> _Path:
        return _Path(self.file, f"{self.path}.{key}")

    def index(self, i: int) -> _Path:
        return _Path(self.file, f"{self.path}[{i}]")

    def error(self, message: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(f"{self.file}: {self.path}: {message}")


def _top_level(obj: Any, key: str, file: str) -> Any:
    if not isinstance(obj, dict):
        raise KnowledgeBaseError(f"{file}: the top level must be a mapping with a '{key}' key")
    if key not in obj:
        raise KnowledgeBaseError(f"{file}: missing '{key}'")
    return obj[key]


def _mapping(where: _Path, value: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(f"must be a mapping, got {type(value).__name__}")
    missing = sorted(required - value.keys())
    if missing:
        raise where.error(f"missing {', '.join(missing)}")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise where.error(f"unknown field(s) {', '.join(str(u)[:60] for u in unknown)}")
    return value


def _text(
    where: _Path, value: Any, *, allow_empty: bool = False, max_length: int = MAX_TEXT
) -> str:
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise where.error(f"must be text, got {type(value).__name__}")
    value = value.strip()
    if not value and not allow_empty:
        raise where.error("must not be empty")
    if len(value) > max_length:
        raise where.error(f"must be at most {max_length} characters (has {len(value)})")
    bad = _unstorable_find(value)
    if bad is not None:
        position, char = bad
        raise where.error(
            f"contains an unprintable character (U+{ord(char):04X}) at position "
            f"{position + 1}; remove it"
        )
    return value


def _unstorable_find(value: str) -> tuple[int, str] | None:
    """The first character no database column should hold: NUL and the other control
    characters (PostgreSQL refuses NUL outright), or half of a UTF-16 surrogate pair
    (JSON's "\\ud800" escape decodes to one; it cannot be written as UTF-8)."""
    for position, char in enumerate(value):
        if char in "\t\n\r":
            continue
        if unicodedata.category(char) in {"Cc", "Cs"}:
            return position, char
    return None


def _slug(where: _Path, value: Any) -> str:
    slug = _text(where, value, max_length=80)
    if not SLUG.match(slug):
        raise where.error(f"{_shown(slug)} is not a slug (lowercase letters, digits and hyphens)")
    return slug


def _percent(where: _Path, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise where.error("must be a number between 0 and 100")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise where.error(f"must be a number between 0 and 100, got {_shown(value)}") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise where.error(f"must be a number between 0 and 100, got {_shown(value)}")
    return number.quantize(Decimal("0.01"))


def _texts(where: _Path, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error("must be a list of texts")
    return [_text(where.index(i), item, max_length=MAX_ITEM) for i, item in enumerate(value)]


def _unique(where: _Path, slugs: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, slug in enumerate(slugs):
        if slug in seen:
            raise where.index(i).key("slug").error(f"duplicate {what} slug {slug!r}")
        seen.add(slug)


def _certification(where: _Path, value: Any) -> CertificationData:
    raw = _mapping(
        where,
        value,
        {"slug", "name", "domains"},
        {"issuer", "description", "passing_score", "exam_minutes", "exam_strategies"},
    )
    minutes = raw.get("exam_minutes")
    if minutes is not None and (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not 0 < minutes <= MAX_EXAM_MINUTES
    ):
        raise where.key("exam_minutes").error(
            f"must be a whole number of minutes from 1 to {MAX_EXAM_MINUTES}, got {_shown(minutes)}"
        )
    domains_raw = raw["domains"]
    if not isinstance(domains_raw, list) or not domains_raw:
        raise where.key("domains").error("must be a non-empty list")
    domains = [_domain(where.key("domains").index(i), d) for i, d in enumerate(domains_raw)]
    _unique(where.key("domains"), [d.slug for d in domains], "domain")
    total = sum((d.weight for d in domains), Decimal(0))
    if abs(total - Decimal(100)) > Decimal("0.5"):
        raise where.key("domains").error(f"exam weights must add up to 100, they add up to {total}")
    return CertificationData(
        slug=_slug(where.key("slug"), raw["slug"]),
        name=_text(where.key("name"), raw["name"], max_length=200),
        issuer=_text(where.key("issuer"), raw.get("issuer"), allow_empty=True, max_length=200),
        description=_text(where.key("description"), raw.get("description"), allow_empty=True),
        passing_score=_percent(where.key("passing_score"), raw.get("passing_score", 70)),
        exam_minutes=minutes,
        exam_strategies=_texts(where.key("exam_strategies"), raw.get("exam_strategies")),
        domains=domains,
    )


def _domain(where: _Path, value: Any) -> DomainData:
    raw = _mapping(
        where, value, {"slug", "name", "weight"}, {"description", "concepts", "questions"}
    )
    concepts_raw = raw.get("concepts") or []
    questions_raw = raw.get("questions") or []
    if not isinstance(concepts_raw, list):
        raise where.key("concepts").error("must be a list")
    if not isinstance(questions_raw, list):
        raise where.key("questions").error("must be a list")
    concepts = [_concept(where.key("concepts").index(i), c) for i, c in enumerate(concepts_raw)]
    _unique(where.key("concepts"), [c.slug for c in concepts], "concept")
    known = {c.slug for c in concepts}
    questions = [
        _question(where.key("questions").index(i), q, known) for i, q in enumerate(questions_raw)
    ]
    # The question text is a question's identity on re-import (it has no slug): two with
    # the same text would be merged into one the next time the file is imported.
    seen: set[str] = set()
    for i, question in enumerate(questions):
        if question.question in seen:
            raise (
                where.key("questions")
                .index(i)
                .key("question")
                .error(f"duplicate question {question.question[:80]!r}")
            )
        seen.add(question.question)
    return DomainData(
        slug=_slug(where.key("slug"), raw["slug"]),
        name=_text(where.key("name"), raw["name"], max_length=200),
        weight=_percent(where.key("weight"), raw["weight"]),
        description=_text(where.key("description"), raw.get("description"), allow_empty=True),
        concepts=concepts,
        questions=questions,
    )


def _concept(where: _Path, value: Any) -> ConceptData:
    raw = _mapping(where, value, {"slug", "title"}, {"summary", "content", "examples", "analogies"})
    return ConceptData(
        slug=_slug(where.key("slug"), raw["slug"]),
        title=_text(where.key("title"), raw["title"], max_length=200),
        summary=_text(where.key("summary"), raw.get("summary"), allow_empty=True),
        content=_text(where.key("content"), raw.get("content"), allow_empty=True),
        examples=_texts(where.key("examples"), raw.get("examples")),
        analogies=_texts(where.key("analogies"), raw.get("analogies")),
    )


def _question(where: _Path, value: Any, concepts: set[str]) -> QuestionData:
    raw = _mapping(
        where,
        value,
        {"question", "choices", "answer"},
        {"explanation", "key_concepts", "difficulty"},
    )
    choices = _texts(where.key("choices"), raw["choices"])
    if not 2 <= len(choices) <= 8:
        raise where.key("choices").error(f"must have 2 to 8 choices, has {len(choices)}")
    answer = raw["answer"]
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        raise where.key("answer").error(
            f"must be the 0-based index of the right choice (0 to {len(choices) - 1}), "
            f"got {_shown(answer)}"
        )
    key_concepts = _texts(where.key("key_concepts"), raw.get("key_concepts"))
    for i, slug in enumerate(key_concepts):
        if slug not in concepts:
            raise (
                where.key("key_concepts")
                .index(i)
                .error(f"{_shown(slug)} is not a concept of this domain")
            )
    difficulty = raw.get("difficulty", "medium")
    if difficulty not in DIFFICULTIES:
        raise where.key("difficulty").error(
            f"must be one of {', '.join(DIFFICULTIES)}, got {_shown(difficulty)}"
        )
    return QuestionData(
        question=_text(where.key("question"), raw["question"]),
        choices=choices,
        answer=answer,
        explanation=_text(where.key("explanation"), raw.get("explanation"), allow_empty=True),
        key_concepts=key_concepts,
        difficulty=difficulty,
    )


# --- writing a file back out ---------------------------------------------------------


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def knowledge_base_dump(*, certification: Any, fmt: str = "yaml") -> str:
    """A certification as a knowledge-base file that `knowledge_base_parse` reads back.

    `certification` is a library.models.Certification (not imported here: this
    module stays free of the ORM so the format can be checked on its own).
    """
    if fmt not in {"yaml", "json"}:
        raise ValueError(f"format must be yaml or json, got {fmt!r}")
    domains = []
    for domain in certification.domains.prefetch_related("concepts", "questions__key_concepts"):
        domains.append(
            {
                "slug": domain.slug,
                "name": domain.name,
                "weight": _number(domain.weight),
                "description": domain.description,
                "concepts": [
                    {
                        "slug": concept.slug,
                        "title": concept.title,
                        "summary": concept.summary,
                        "content": concept.content,
                        "examples": list(concept.examples),
                        "analogies": list(concept.analogies),
                    }
                    for concept in domain.concepts.all()
                ],
                "questions": [
                    {
                        "question": question.question,
                        "choices": list(question.choices),
                        "answer": question.answer_index,
                        "explanation": question.explanation,
                        "key_concepts": sorted(c.slug for c in question.key_concepts.all()),
                        "difficulty": question.difficulty,
                    }
                    for question in domain.questions.all()
                ],
            }
        )
    data = {
        "certification": {
            "slug": certification.slug,
            "name": certification.name,
            "issuer": certification.issuer,
            "description": certification.description,
            "passing_score": _number(certification.passing_score),
            "exam_minutes": certification.exam_minutes,
            "exam_strategies": list(certification.exam_strategies),
            "domains": domains,
        }
    }
    if data["certification"]["exam_minutes"] is None:
        del data["certification"]["exam_minutes"]
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
