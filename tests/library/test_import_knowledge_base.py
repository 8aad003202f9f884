import json

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from library.models import Certification, Concept, Domain, PracticeQuestion
from library.services import DEMO_KNOWLEDGE_BASE

pytestmark = pytest.mark.django_db


def kb(**changes) -> dict:
    """A small valid knowledge base; `changes` replace top-level certification fields."""
    data = {
        "certification": {
            "slug": "net-basics",
            "name": "Networking Basics",
            "passing_score": 70,
            "exam_strategies": ["Read the whole question first."],
            "domains": [
                {
                    "slug": "addressing",
                    "name": "Addressing",
                    "weight": 60,
                    "concepts": [{"slug": "subnets", "title": "Subnets", "examples": ["A /24"]}],
                    "questions": [
                        {
                            "question": "How many hosts fit in a /30?",
                            "choices": ["2", "4"],
                            "answer": 0,
                            "key_concepts": ["subnets"],
                            "difficulty": "easy",
                        }
                    ],
                },
                {"slug": "routing", "name": "Routing", "weight": 40},
            ],
        }
    }
    data["certification"].update(changes)
    return data


def write(tmp_path, data, name="kb.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data))
    return path


def import_fails(path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("import_knowledge_base", str(path))
    assert caught.value.returncode == 2
    return str(caught.value)


def test_demo_file_imports_everything(capsys):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE))
    cert = Certification.objects.get(slug="cloud-foundations")
    assert cert.domains.count() >= 5
    assert sum(d.weight for d in cert.domains.all()) == 100
    for domain in cert.domains.all():
        assert domain.concepts.count() >= 3
        assert domain.questions.count() >= 5
    question = PracticeQuestion.objects.filter(domain__certification=cert).first()
    assert question.key_concepts.exists()
    assert "Imported Cloud Foundations Associate" in capsys.readouterr().out


def test_json_is_accepted_too(tmp_path):
    call_command("import_knowledge_base", str(write(tmp_path, kb(), "kb.json")))
    assert Domain.objects.filter(certification__slug="net-basics").count() == 2


def test_reimport_updates_in_place_and_removes_what_the_file_dropped(tmp_path):
    call_command("import_knowledge_base", str(write(tmp_path, kb())))
    cert = Certification.objects.get(slug="net-basics")
    changed = kb(name="Networking Basics 2")
    addressing = changed["certification"]["domains"][0]
    addressing["weight"] = 55
    changed["certification"]["domains"][1]["weight"] = 45
    addressing["questions"] = []
    addressing["concepts"].append({"slug": "cidr", "title": "CIDR"})
    call_command("import_knowledge_base", str(write(tmp_path, changed)))

    assert Certification.objects.count() == 1
    cert.refresh_from_db()
    assert cert.name == "Networking Basics 2"
    assert Domain.objects.get(certification=cert, slug="addressing").weight == 55
    assert sorted(Concept.objects.values_list("slug", flat=True)) == ["cidr", "subnets"]
    assert PracticeQuestion.objects.count() == 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["certification"]["domains"][0].update(weight=70),
            "exam weights must add up to 100",
        ),
        (
            lambda d: d["certification"]["domains"][0].update(colour="red"),
            "certification.domains[0]: unknown field(s) colour",
        ),
        (
            lambda d: d["certification"]["domains"][0]["questions"][0].update(answer=5),
            "certification.domains[0].questions[0].answer: must be the 0-based index",
        ),
        (
            lambda d: d["certification"]["domains"][0]["questions"][0].update(
                key_concepts=["nope"]
            ),
            "key_concepts[0]: 'nope' is not a concept of this domain",
        ),
        (
            lambda d: d["certification"].update(slug="Not A Slug"),
            "certification.slug: 'Not A Slug' is not a slug",
        ),
        (
            lambda d: d["certification"]["domains"][1].update(slug="addressing"),
            "duplicate domain slug 'addressing'",
        ),
        (lambda d: d["certification"].pop("name"), "certification: missing name"),
    ],
)
def test_bad_content_names_the_field_and_writes_nothing(tmp_path, mutate, message):
    data = kb()
    mutate(data)
    assert message in import_fails(write(tmp_path, data))
    assert Certification.objects.count() == 0
    assert Domain.objects.count() == 0


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("certification:\n  slug: x\n  name: [unclosed\n  domains: []\n")
    message = import_fails(path)
    assert "line 4" in message
    assert "invalid YAML" in message


def test_json_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"certification": {\n  "slug": "x",\n  "name": }\n}')
    assert "line 3, column" in import_fails(path)


def test_missing_file(tmp_path):
    assert "no such file" in import_fails(tmp_path / "nope.yaml")


def test_a_failing_reimport_leaves_the_previous_version_untouched(tmp_path):
    call_command("import_knowledge_base", str(write(tmp_path, kb())))
    bad = kb(name="Renamed")
    bad["certification"]["domains"][1]["weight"] = 10  # weights now add up to 70
    import_fails(write(tmp_path, bad))
    assert Certification.objects.get().name == "Networking Basics"


def test_dropping_a_domain_with_results_is_refused(tmp_path):
    from tests.builders import assessment_build, user_build

    call_command("import_knowledge_base", str(write(tmp_path, kb())))
    cert = Certification.objects.get()
    assessment_build(learner=user_build(), certification=cert, scores={"routing": 50})
    dropped = kb()
    dropped["certification"]["domains"] = [dropped["certification"]["domains"][0]]
    dropped["certification"]["domains"][0]["weight"] = 100
    assert "assessments have scores for it" in import_fails(write(tmp_path, dropped))
    assert cert.domains.count() == 2
