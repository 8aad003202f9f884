"""Google Forms import, against google-api-python-client's HTTP test double (HttpMockSequence)."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from googleapiclient.http import HttpMockSequence

from library.form_import import FormMappingError, form_responses_import
from library.google_forms import FormsError, forms_connect
from library.models import Assessment, AssessmentSource, FormMapping
from tests.builders import certification_build, user_build
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

FORM_ID = "1FAIpQLSf-form"


def form_resource() -> dict:
    """A quiz: q1 and q2 (alpha, 2 + 1 points), q3 (beta, 2 points), an email question."""

    def graded(qid: str, title: str, points: int, correct: list[str] | None = None) -> dict:
        grading: dict = {"pointValue": points}
        if correct:
            grading["correctAnswers"] = {"answers": [{"value": v} for v in correct]}
        return {
            "itemId": f"item-{qid}",
            "title": title,
            "questionItem": {"question": {"questionId": qid, "grading": grading}},
        }

    return {
        "formId": FORM_ID,
        "info": {"title": "Cloud basics check"},
        "items": [
            {"itemId": "intro", "title": "Welcome", "textItem": {}},
            {
                "itemId": "item-email",
                "title": "Work email",
                "questionItem": {"question": {"questionId": "qmail", "textQuestion": {}}},
            },
            graded("q1", "What is a region?", 2),
            graded("q2", "Pick the managed service", 1, correct=["Lambda"]),
            graded("q3", "Shared responsibility?", 2),
        ],
    }


def answer(*values: str, score: float | None = None) -> dict:
    body: dict = {"textAnswers": {"answers": [{"value": v} for v in values]}}
    if score is not None:
        body["grade"] = {"score": score, "correct": score > 0}
    return body


def response(rid: str, email: str, **answers: dict) -> dict:
    return {
        "responseId": rid,
        "lastSubmittedTime": "2026-11-20T10:15:00.123Z",
        "answers": {"qmail": answer(email), **answers},
    }


def ok(body: dict) -> tuple[dict, str]:
    return ({"status": "200", "content-type": "application/json"}, json.dumps(body))


def client_for(*bodies: tuple[dict, str]):
    return forms_connect(http=HttpMockSequence(list(bodies)))


@pytest.fixture
def mapping():
    certification = certification_build(domains={"alpha": 50, "beta": 50})
    return FormMapping.objects.create(
        form_id=FORM_ID,
        certification=certification,
        question_domains={"q1": "alpha", "q2": "alpha", "q3": "beta"},
        email_question_id="qmail",
    )


def test_responses_become_assessments_with_domain_scores_and_a_planned_series(mapping):
    ada = user_build(email="ada@example.com")
    bob = user_build(email="Bob@Example.com")
    responses = {
        "responses": [
            # alpha: 2 + 1 (answer key) of 3; beta: 0 of 2; overall 3 of 5
            response("r1", "ada@example.com", q1=answer("x", score=2), q2=answer("Lambda"),
                     q3=answer("y", score=0)),
            # alpha: 1 (partial credit) + 0 of 3; beta: 2 of 2; overall 3 of 5
            response("r2", "bob@example.com", q1=answer("x", score=1), q2=answer("EC2"),
                     q3=answer("z", score=2)),
        ]
    }  # fmt: skip
    result = form_responses_import(
        mapping=mapping, client=client_for(ok(form_resource()), ok(responses))
    )

    assert result.summary() == "2 imported, 0 skipped (already imported)"
    ada_result = Assessment.objects.get(learner=ada)
    assert ada_result.source == AssessmentSource.GOOGLE_FORMS
    assert ada_result.overall_score == Decimal("60.00")
    assert {s.domain.slug: s.score for s in ada_result.domain_scores.all()} == {
        "alpha": Decimal("100.00"),
        "beta": Decimal("0.00"),
    }
    bob_result = Assessment.objects.get(learner=bob)
    assert {s.domain.slug: s.score for s in bob_result.domain_scores.all()} == {
        "alpha": Decimal("33.33"),
        "beta": Decimal("100.00"),
    }
    assert bob_result.taken_at.isoformat().startswith("2026-11-20T10:15:00")
    # Each learner's series was planned from the imported assessment.
    assert VideoJob.objects.filter(assessment=ada_result, video_type="overview").count() == 1
    assert VideoJob.objects.filter(assessment=bob_result).exists()
    mapping.refresh_from_db()
    assert mapping.last_imported_at is not None


def test_a_response_that_does_not_map_is_named_and_the_others_still_import(mapping):
    user_build(email="ada@example.com")
    responses = {
        "responses": [
            response("r-ok", "ada@example.com", q1=answer("x", score=2)),
            response("r-stranger", "nobody@example.com", q1=answer("x", score=2)),
            response("r-bad-email", "not an email", q1=answer("x", score=2)),
            # q1 answered but not graded yet, and q1 has no answer key
            response("r-ungraded", "ada@example.com", q1=answer("x")),
        ]
    }
    result = form_responses_import(
        mapping=mapping, client=client_for(ok(form_resource()), ok(responses))
    )

    assert [a.external_id for a in result.imported] == [f"{FORM_ID}:r-ok"]
    assert result.errors == [
        "response r-stranger: no learner has the email nobody@example.com (field answers.qmail)",
        "response r-bad-email: 'not an email' is not an email address (field answers.qmail)",
        "response r-ungraded: question q1 ('What is a region?') is not graded yet and has no "
        "answer key (field answers.q1.grade)",
    ]
    assert Assessment.objects.count() == 1


def test_a_reimport_skips_what_was_imported(mapping):
    user_build(email="ada@example.com")
    responses = {"responses": [response("r1", "ada@example.com", q1=answer("x", score=2))]}
    first = form_responses_import(
        mapping=mapping, client=client_for(ok(form_resource()), ok(responses))
    )
    again = form_responses_import(
        mapping=mapping, client=client_for(ok(form_resource()), ok(responses))
    )

    assert len(first.imported) == 1
    assert again.imported == [] and again.skipped == ["r1"]
    assert Assessment.objects.count() == 1
    assert VideoJob.objects.filter(video_type="overview").count() == 1


def test_responses_are_read_page_by_page(mapping):
    user_build(email="ada@example.com")
    user_build(email="bob@example.com")
    page1 = {
        "responses": [response("r1", "ada@example.com", q1=answer("x", score=2))],
        "nextPageToken": "page-2",
    }
    page2 = {"responses": [response("r2", "bob@example.com", q3=answer("x", score=2))]}
    http = HttpMockSequence([ok(form_resource()), ok(page1), ok(page2)])
    result = form_responses_import(mapping=mapping, client=forms_connect(http=http))

    assert len(result.imported) == 2
    assert "pageToken=page-2" in http.request_sequence[-1][0]


def test_an_unknown_learner_is_created_when_the_mapping_says_so(mapping):
    mapping.create_learners = True
    mapping.save()
    responses = {"responses": [response("r1", "new.person@example.com", q1=answer("x", score=2))]}
    result = form_responses_import(
        mapping=mapping, client=client_for(ok(form_resource()), ok(responses))
    )

    learner = result.imported[0].learner
    assert (learner.username, learner.email) == ("newperson", "new.person@example.com")
    assert not learner.has_usable_password()


def test_a_mapping_that_does_not_fit_the_form_imports_nothing(mapping):
    mapping.question_domains = {"q1": "alpha", "q9": "beta", "q3": "gamma"}
    mapping.save()
    with pytest.raises(FormMappingError) as error:
        form_responses_import(mapping=mapping, client=client_for(ok(form_resource())))

    assert "question q9 is not in the form" in str(error.value)
    assert "'gamma' is not a domain of" in str(error.value)
    assert Assessment.objects.count() == 0


def test_google_refusing_access_is_a_clear_error(mapping):
    denied = (
        {"status": "403", "content-type": "application/json"},
        json.dumps({"error": {"code": 403, "message": "The caller does not have permission"}}),
    )
    with pytest.raises(FormsError, match=r"reading form .*403.*does not have permission"):
        form_responses_import(mapping=mapping, client=client_for(denied))


def test_the_command_refuses_a_form_without_a_mapping_or_for_another_certification(mapping):
    with pytest.raises(CommandError, match="No mapping for form other") as error:
        call_command("import_form_responses", "other", "--certification", "x")
    assert error.value.returncode == 2

    with pytest.raises(CommandError, match="is mapped to") as error:
        call_command("import_form_responses", FORM_ID, "--certification", "wrong-slug")
    assert error.value.returncode == 2


def test_the_command_names_a_missing_service_account(mapping, settings):
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    with pytest.raises(CommandError, match="GOOGLE_SERVICE_ACCOUNT_FILE is not set") as error:
        call_command(
            "import_form_responses",
            FORM_ID,
            "--certification",
            mapping.certification.slug,
            stdout=StringIO(),
        )
    assert error.value.returncode == 2


def test_the_admin_refuses_a_mapping_to_unknown_domains(client, mapping):
    client.force_login(user_build(is_staff=True, is_superuser=True))
    url = reverse("admin:library_formmapping_change", args=[mapping.pk])
    response = client.post(
        url,
        {
            "form_id": FORM_ID,
            "certification": mapping.certification.pk,
            "question_domains": json.dumps({"q1": "alpha", "q3": "gamma"}),
            "email_question_id": "qmail",
            "plan_series": "on",
        },
    )

    assert response.status_code == 200
    assert "Not domains of" in response.content.decode() and "gamma" in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.question_domains == {"q1": "alpha", "q2": "alpha", "q3": "beta"}
