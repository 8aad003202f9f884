"""The Google Forms API (v1), read-only: a form's graded questions and its responses.

All calls to Google Forms go through this module and come back as the typed
dataclasses below. Tests pass google-api-python-client's `HttpMockSequence` as
`http`; production builds the service from a service-account file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_datetime
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

SCOPES = [
    "https://www.googleapis.com/auth/forms.body.readonly",
    "https://www.googleapis.com/auth/forms.responses.readonly",
]
PAGE_SIZE = 500  # the API's maximum for responses.list


class FormsError(Exception):
    """Google Forms could not be read; the message says what and why."""


@dataclass(frozen=True)
class FormQuestion:
    question_id: str
    title: str
    points: float  # 0 when the question is not graded
    correct_answers: frozenset[str]


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    questions: dict[str, FormQuestion]


@dataclass(frozen=True)
class FormAnswer:
    values: tuple[str, ...]
    score: float | None  # set when Forms graded the answer (quizzes)


@dataclass(frozen=True)
class FormResponse:
    response_id: str
    respondent_email: str
    submitted_at: datetime | None
    answers: dict[str, FormAnswer] = field(default_factory=dict)


@dataclass
class FormsClient:
    service: Any


def forms_connect(
    *, service_account_file: str | Path = "", http: Any = None, api_url: str = ""
) -> FormsClient:
    """The Forms service: from a service-account file, or over `http` (tests)."""
    client_options = {"api_endpoint": api_url} if api_url else None
    if http is not None:
        service = build(
            "forms",
            "v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options=client_options,
        )
        return FormsClient(service=service)
    if not service_account_file:
        raise FormsError("GOOGLE_SERVICE_ACCOUNT_FILE is not set: no account to read forms with")
    try:
        credentials = service_account.Credentials.from_service_account_file(
            str(service_account_file), scopes=SCOPES
        )
    except FileNotFoundError:
        raise FormsError(f"service account file {service_account_file}: no such file") from None
    except (ValueError, KeyError, TypeError, GoogleAuthError) as error:
        raise FormsError(
            f"service account file {service_account_file} is not a service-account key: "
            f"{type(error).__name__}"
        ) from None
    service = build(
        "forms",
        "v1",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,
        client_options=client_options,
    )
    return FormsClient(service=service)


def form_get(*, client: FormsClient, form_id: str) -> Form:
    resource = _execute(client.service.forms().get(formId=form_id), f"reading form {form_id}")
    questions: dict[str, FormQuestion] = {}
    for item in resource.get("items", []):
        question = (item.get("questionItem") or {}).get("question")
        if not question or "questionId" not in question:
            continue  # text, images, sections, question groups: nothing to score
        grading = question.get("grading") or {}
        correct = (grading.get("correctAnswers") or {}).get("answers", [])
        questions[question["questionId"]] = FormQuestion(
            question_id=question["questionId"],
            title=str(item.get("title", "")),
            points=float(grading.get("pointValue", 0) or 0),
            correct_answers=frozenset(str(a.get("value", "")) for a in correct),
        )
    info = resource.get("info") or {}
    return Form(form_id=form_id, title=str(info.get("title", "")), questions=questions)


def form_responses(*, client: FormsClient, form_id: str) -> Iterator[FormResponse]:
    """Every response of the form, page by page."""
    page_token: str | None = None
    while True:
        request = (
            client.service.forms()
            .responses()
            .list(formId=form_id, pageSize=PAGE_SIZE, pageToken=page_token)
        )
        page = _execute(request, f"reading the responses of form {form_id}")
        for raw in page.get("responses", []):
            yield _response(raw)
        page_token = page.get("nextPageToken")
        if not page_token:
            return


def _response(raw: Mapping[str, Any]) -> FormResponse:
    answers = {}
    for question_id, answer in (raw.get("answers") or {}).items():
        text = (answer.get("textAnswers") or {}).get("answers", [])
        grade = answer.get("grade") or {}
        score = grade.get("score")
        answers[str(question_id)] = FormAnswer(
            values=tuple(str(a.get("value", "")) for a in text),
            score=float(score) if score is not None else None,
        )
    submitted = raw.get("lastSubmittedTime") or raw.get("createTime") or ""
    return FormResponse(
        response_id=str(raw.get("responseId", "")),
        respondent_email=str(raw.get("respondentEmail", "")),
        submitted_at=parse_datetime(submitted) if submitted else None,
        answers=answers,
    )


def _execute(request: Any, action: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = request.execute(num_retries=2)
    except HttpError as error:
        status = getattr(error.resp, "status", "?")
        reason = error._get_reason() if hasattr(error, "_get_reason") else str(error)
        raise FormsError(f"{action}: Google Forms answered {status}: {reason}") from None
    except OSError as error:
        raise FormsError(f"{action}: {error}") from None
    return result
