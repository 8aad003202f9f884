"""Property tests for the knowledge-base importer (Hypothesis).

Any valid document imports and comes back unchanged through export_knowledge_base;
any invalid one is refused with a message naming the problem (the CLI exits 2, the
admin shows it on the form) and leaves the database exactly as it was.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from library.knowledge_base import (
    MAX_EXAM_MINUTES,
    MAX_TEXT,
    KnowledgeBaseError,
    knowledge_base_dump,
    knowledge_base_parse,
)
from library.models import Certification, Concept, Domain, PracticeQuestion
from library.services import knowledge_base_import
from tests.builders import user_build

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- valid documents ----------------------------------------------------------------

# Any printable text, from any script (RTL, CJK, emoji...), as the parser keeps it:
# stripped, without control characters, never empty.
_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))
text = (
    st.text(_CHARS, min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
    .filter(lambda s: len(s) <= 200)
)
long_text = st.one_of(st.just(""), text, st.text(_CHARS, max_size=300).map(str.strip))
slug = st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,6}){0,2}\Z")


@st.composite
def weights(draw: st.DrawFn, count: int) -> list[int | float]:
    """`count` exam weights (hundredths of a percent) that add up to exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, 10_000]
    hundredths = [b - a for a, b in itertools.pairwise(bounds)]
    return [h // 100 if h % 100 == 0 else h / 100 for h in hundredths]


@st.composite
def question(draw: st.DrawFn, concept_slugs: list[str]) -> dict[str, Any]:
    choices = draw(st.lists(text, min_size=2, max_size=8))
    data: dict[str, Any] = {
        "question": draw(text),
        "choices": choices,
        "answer": draw(st.integers(0, len(choices) - 1)),
        "explanation": draw(long_text),
        "difficulty": draw(st.sampled_from(["easy", "medium", "hard"])),
    }
    if concept_slugs:
        data["key_concepts"] = sorted(draw(st.sets(st.sampled_from(concept_slugs), max_size=3)))
    return data


@st.composite
def domain(draw: st.DrawFn, domain_slug: str, weight: int | float) -> dict[str, Any]:
    concept_slugs = draw(st.lists(slug, max_size=3, unique=True))
    concepts = [
        {
            "slug": s,
            "title": draw(text),
            "summary": draw(long_text),
            "content": draw(long_text),
            "examples": draw(st.lists(text, max_size=2)),
            "analogies": draw(st.lists(text, max_size=2)),
        }
        for s in concept_slugs
    ]
    questions = draw(
        st.lists(question(concept_slugs), max_size=3, unique_by=lambda q: q["question"])
    )
    return {
        "slug": domain_slug,
        "name": draw(text),
        "weight": weight,
        "description": draw(long_text),
        "concepts": concepts,
        "questions": questions,
    }


@st.composite
def knowledge_base(draw: st.DrawFn) -> dict[str, Any]:
    domain_slugs = draw(st.lists(slug, min_size=1, max_size=3, unique=True))
    domain_weights = draw(weights(len(domain_slugs)))
    cert: dict[str, Any] = {
        "slug": draw(slug),
        "name": draw(text),
        "issuer": draw(st.one_of(st.just(""), text)),
        "description": draw(long_text),
        "passing_score": draw(st.one_of(st.integers(0, 100), st.just(72.5))),
        "exam_strategies": draw(st.lists(text, max_size=3)),
        "domains": [draw(domain(s, w)) for s, w in zip(domain_slugs, domain_weights, strict=True)],
    }
    if draw(st.booleans()):
        cert["exam_minutes"] = draw(st.integers(1, MAX_EXAM_MINUTES))
    return {"certification": cert}


def as_text(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Each Hypothesis example starts from the same database (the test's)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def database_state() -> dict[str, Any]:
    """Everything the importer writes, as plain data to compare before and after."""
    return {
        "files": {
            c.slug: knowledge_base_dump(certification=c, fmt="json")
            for c in Certification.objects.order_by("slug")
        },
        "rows": [
            Certification.objects.count(),
            Domain.objects.count(),
            Concept.objects.count(),
            PracticeQuestion.objects.count(),
        ],
    }


@given(data=knowledge_base(), fmt=st.sampled_from(["yaml", "json"]))
@FAST
def test_a_valid_document_imports_and_exports_back_unchanged(data, fmt):
    with rolled_back():
        parsed = knowledge_base_parse(text=as_text(data, fmt), name=f"kb.{fmt}")
        result = knowledge_base_import(data=parsed)
        cert = result.certification
        domains = data["certification"]["domains"]
        assert cert.slug == data["certification"]["slug"]
        assert cert.name == data["certification"]["name"]
        assert [d.slug for d in cert.domains.all()] == [d["slug"] for d in domains]
        assert sum(d.weight for d in cert.domains.all()) == Decimal(100)
        assert PracticeQuestion.objects.filter(domain__certification=cert).count() == sum(
            len(d["questions"]) for d in domains
        )

        for out in ("yaml", "json"):
            exported = knowledge_base_dump(certification=cert, fmt=out)
            assert knowledge_base_parse(text=exported, name=f"export.{out}") == parsed

        # Importing the export again changes nothing (questions are matched by their text).
        before = database_state()
        again = knowledge_base_import(
            data=knowledge_base_parse(text=knowledge_base_dump(certification=cert))
        )
        assert again.created == {} and again.removed == {}
        assert database_state() == before


# --- invalid documents --------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _cert(d: dict[str, Any]) -> dict[str, Any]:
    return d["certification"]


def _dom(d: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return d["certification"]["domains"][i]


def _with_question(d: dict[str, Any]) -> dict[str, Any]:
    """The first domain, given two questions and a concept they can name."""
    first = _dom(d)
    first["concepts"] = [{"slug": "kc", "title": "Key concept"}]
    first["questions"] = [
        {"question": "Q one?", "choices": ["a", "b"], "answer": 0, "key_concepts": ["kc"]},
        {"question": "Q two?", "choices": ["a", "b", "c"], "answer": 2},
    ]
    return first["questions"][0]


def _second_domain(d: dict[str, Any]) -> dict[str, Any]:
    """Makes sure there are two domains (50/50) and returns the second."""
    domains = _cert(d)["domains"]
    del domains[1:]
    domains[0]["weight"] = 50
    domains.append({"slug": "other-domain", "name": "Other", "weight": 50})
    return domains[1]


def _bad_minutes(value: Any) -> Any:
    """`value` when it is no whole number of minutes; else one past the limit (None
    would mean "not given", which is valid)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return MAX_EXAM_MINUTES + 1
    return value


def _weights_off(d: dict[str, Any]) -> None:
    first = _dom(d)
    first["weight"] += 1 if first["weight"] < 99 else -1


# (what is broken, how, text the message must contain); every message names the field.
WRONG_TYPES: list[Any] = [7, 3.5, True, None, ["a", "list"], {"a": "mapping"}]
MUTATIONS: list[tuple[str, Callable[[dict[str, Any], Any], None], str]] = [
    ("name wrong type", lambda d, v: _cert(d).update(name=v), "certification.name: must"),
    ("slug wrong type", lambda d, v: _cert(d).update(slug=v), "certification.slug: must"),
    (
        "domain name wrong type",
        lambda d, v: _dom(d).update(name=v),
        "certification.domains[0].name: must",
    ),
    (
        "domains wrong type",
        lambda d, v: _cert(d).update(domains=v if v is not None else 0),
        "certification.domains",
    ),
    (
        "weight wrong type",
        lambda d, v: _dom(d).update(weight=v if not isinstance(v, int | float) else "heavy"),
        "certification.domains[0].weight: must be a number between 0 and 100",
    ),
    (
        "choices wrong type",
        lambda d, v: _with_question(d).update(choices=v if isinstance(v, dict) else 5),
        "certification.domains[0].questions[0].choices: must be a list of texts",
    ),
    (
        "answer wrong type",
        lambda d, v: _with_question(d).update(answer=v if not isinstance(v, int) else "0"),
        "certification.domains[0].questions[0].answer: must be the 0-based index",
    ),
    (
        "exam minutes wrong",
        lambda d, v: _cert(d).update(exam_minutes=_bad_minutes(v)),
        "certification.exam_minutes: must be a whole number of minutes",
    ),
    ("missing name", lambda d, v: _cert(d).pop("name"), "certification: missing name"),
    (
        "missing domain weight",
        lambda d, v: _dom(d).pop("weight"),
        "certification.domains[0]: missing weight",
    ),
    (
        "missing question choices",
        lambda d, v: _with_question(d).pop("choices"),
        "certification.domains[0].questions[0]: missing choices",
    ),
    ("no certification", lambda d, v: d.update(cert=d.pop("certification")), "missing 'cert"),
    (
        "unknown field",
        lambda d, v: _dom(d).update(colour="red"),
        "certification.domains[0]: unknown field(s) colour",
    ),
    (
        "duplicate domain slug",
        lambda d, v: _second_domain(d).update(slug=_dom(d)["slug"]),
        "certification.domains[1].slug: duplicate domain slug",
    ),
    (
        "duplicate concept slug",
        lambda d, v: _dom(d).update(
            concepts=[{"slug": "same", "title": "One"}, {"slug": "same", "title": "Two"}]
        ),
        "certification.domains[0].concepts[1].slug: duplicate concept slug 'same'",
    ),
    (
        "duplicate question",
        lambda d, v: _with_question(d) and _dom(d)["questions"][1].update(question="Q one?"),
        "certification.domains[0].questions[1].question: duplicate question 'Q one?'",
    ),
    (
        "weights off",
        lambda d, v: _dom(d).update(
            weight=_dom(d)["weight"] + (1 if _dom(d)["weight"] < 99 else -1)
        ),
        "certification.domains: exam weights must add up to 100, they add up to",
    ),
    (
        "weight out of range",
        lambda d, v: _dom(d).update(weight=-5),
        "certification.domains[0].weight: must be a number between 0 and 100",
    ),
    (
        "huge name",
        lambda d, v: _cert(d).update(name="N" * 5_000),
        "certification.name: must be at most 200 characters (has 5000)",
    ),
    (
        "huge content",
        lambda d, v: _dom(d).update(description="word " * (MAX_TEXT // 5 + 10)),
        f"certification.domains[0].description: must be at most {MAX_TEXT} characters",
    ),
    (
        "NUL byte",
        lambda d, v: _dom(d).update(name="Net\x00work"),
        "certification.domains[0].name: contains an unprintable character (U+0000)",
    ),
    (
        "NUL in an example",
        lambda d, v: _dom(d).update(concepts=[{"slug": "c", "title": "C", "examples": ["a\x00"]}]),
        "certification.domains[0].concepts[0].examples[0]: contains an unprintable character",
    ),
    (
        "lone surrogate",
        lambda d, v: _cert(d).update(issuer="\ud800"),
        "certification.issuer: contains an unprintable character (U+D800)",
    ),
    (
        "nested value",
        lambda d, v: _cert(d).update(name=[[[[[["deep"]]]]]]),
        "certification.name: must be text, got list",
    ),
    (
        "answer out of range",
        lambda d, v: _with_question(d).update(answer=2),
        "certification.domains[0].questions[0].answer: must be the 0-based index",
    ),
    (
        "unknown key concept",
        lambda d, v: _with_question(d).update(key_concepts=["nope"]),
        "key_concepts[0]: 'nope' is not a concept of this domain",
    ),
    (
        "one choice",
        lambda d, v: _with_question(d).update(choices=["only"]),
        "questions[0].choices: must have 2 to 8 choices, has 1",
    ),
    (
        "bad difficulty",
        lambda d, v: _with_question(d).update(difficulty="brutal"),
        "questions[0].difficulty: must be one of easy, medium, hard",
    ),
]


@pytest.mark.parametrize(("label", "mutate", "message"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
@given(
    data=knowledge_base(),
    wrong=st.sampled_from(WRONG_TYPES),
    fmt=st.sampled_from(["yaml", "json"]),
)
@settings(
    max_examples=3,  # each of the 28 problems, in three generated documents
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_an_invalid_document_is_refused_by_the_cli_naming_the_problem(
    tmp_path_factory, label, mutate, message, data, wrong, fmt
):
    bad = copy.deepcopy(data)
    mutate(bad, wrong)
    path = tmp_path_factory.mktemp("kb") / f"kb.{fmt}"
    # JSON can carry what YAML cannot (a NUL, half a surrogate pair): "\u0000", "\ud800".
    json_only = fmt == "json" or label in {"NUL byte", "NUL in an example", "lone surrogate"}
    path.write_text(json.dumps(bad) if json_only else as_text(bad, fmt), encoding="utf-8")

    with rolled_back():
        knowledge_base_import(data=knowledge_base_parse(text=as_text(data, "json")))
        before = database_state()
        with pytest.raises(CommandError) as refused:
            call_command("import_knowledge_base", str(path), stdout=StringIO())
        assert refused.value.returncode == 2
        assert message in str(refused.value), (label, str(refused.value))
        assert "Nothing was imported." in str(refused.value)
        assert database_state() == before


@given(junk=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
@FAST
def test_arbitrary_bytes_are_refused_with_a_clear_error(tmp_path_factory, junk):
    path = tmp_path_factory.mktemp("kb") / "junk.yaml"
    path.write_bytes(junk)
    with rolled_back():
        before = database_state()
        with pytest.raises(CommandError) as refused:
            call_command("import_knowledge_base", str(path), stdout=StringIO())
        assert refused.value.returncode == 2
        assert str(path) in str(refused.value)  # says which file, then what is wrong with it
        assert database_state() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 5_000 + "]" * 5_000, "nested too deeply"),
        ("a: " + "[" * 5_000 + "]" * 5_000, "nested too deeply"),
        ('{"certification": {"exam_minutes": ' + "9" * 5_000 + "}}", "invalid JSON: Exceeds"),
        ("certification:\n  exam_minutes: " + "9" * 5_000 + "\n", "invalid YAML: Exceeds"),
        ("certification:\n  name: 2023-02-30\n", "invalid YAML: day is out of range"),
        ("certification: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
        ("\x00\x01\x02", "invalid YAML: unacceptable character"),
    ],
)
def test_pathological_files_are_refused_by_the_parser(text, message):
    with pytest.raises(KnowledgeBaseError) as refused:
        knowledge_base_parse(text=text, name="bad.yaml")
    assert str(refused.value).startswith("bad.yaml: ") and message in str(refused.value)


def test_a_file_with_a_byte_order_mark_imports(tmp_path):
    data = {"certification": {"slug": "bom", "name": "BOM", "domains": [_ONE_DOMAIN]}}
    for fmt in ("json", "yaml"):
        path = tmp_path / f"kb.{fmt}"
        path.write_text(as_text(data, fmt), encoding="utf-8-sig")
        call_command("import_knowledge_base", str(path), stdout=StringIO())
        assert Certification.objects.get(slug="bom").name == "BOM"


_ONE_DOMAIN = {"slug": "d", "name": "D", "weight": 100}


@pytest.fixture
def staff_client(client):
    client.force_login(user_build(is_staff=True, is_superuser=True))
    return client


@given(mutation=st.sampled_from(MUTATIONS), data=knowledge_base())
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_admin_shows_the_same_message_on_the_form(staff_client, mutation, data):
    _, mutate, message = mutation
    bad = copy.deepcopy(data)
    mutate(bad, 7)
    upload = SimpleUploadedFile("kb.json", json.dumps(bad).encode())
    with rolled_back():
        before = database_state()
        response = staff_client.post(
            reverse("admin:library_certification_import"), {"file": upload}
        )
        assert response.status_code == 200
        errors = response.context["form"].errors["file"]
        assert any(message in e and e.endswith("Nothing was imported.") for e in errors), errors
        assert database_state() == before
