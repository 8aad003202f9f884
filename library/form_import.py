"""Assessments from Google Forms responses, mapped to domain scores by a staff-kept mapping.

Each graded question the mapping names counts towards one domain; a domain's
score is the points earned over the points possible on its questions, and the
overall score is the same over every mapped question. A response is imported
once (its id is the assessment's external id); a response that cannot be
mapped is reported by id and field and the others still import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from library.google_forms import Form, FormQuestion, FormResponse, FormsClient, form_get
from library.google_forms import form_responses as form_responses_read
from library.models import Assessment, AssessmentSource, Domain, DomainScore, FormMapping
from presgen.models import User


class FormMappingError(ValueError):
    """The mapping does not fit the form or the certification: nothing is imported."""


class ResponseError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class FormImportResult:
    imported: list[Assessment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # response ids imported before
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(self.imported)} imported",
            f"{len(self.skipped)} skipped (already imported)",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} with errors")
        return ", ".join(parts)


def form_mapping_check(*, mapping: FormMapping, form: Form) -> dict[str, Domain]:
    """question id -> domain, or FormMappingError listing every problem."""
    raw = mapping.question_domains
    if not isinstance(raw, dict) or not raw:
        raise FormMappingError(
            f"mapping for form {mapping.form_id}: question_domains must map question ids to "
            "domain slugs, and maps none"
        )
    domains = {d.slug: d for d in Domain.objects.filter(certification=mapping.certification)}
    problems, mapped = [], {}
    for question_id, slug in raw.items():
        question = form.questions.get(str(question_id))
        if question is None:
            problems.append(f"question {question_id} is not in the form")
        elif question.points <= 0:
            problems.append(f"question {question_id} ({question.title!r}) is not graded")
        if not isinstance(slug, str) or slug not in domains:
            problems.append(
                f"question {question_id}: {slug!r} is not a domain of {mapping.certification.name}"
            )
        elif question is not None and question.points > 0:
            mapped[str(question_id)] = domains[slug]
    if mapping.email_question_id and mapping.email_question_id not in form.questions:
        problems.append(f"email question {mapping.email_question_id} is not in the form")
    if problems:
        raise FormMappingError(
            f"mapping for form {mapping.form_id} does not fit: " + "; ".join(problems)
        )
    return mapped


def form_responses_import(*, mapping: FormMapping, client: FormsClient) -> FormImportResult:
    """Create an Assessment (and plan its series) for every response not imported yet."""
    form = form_get(client=client, form_id=mapping.form_id)
    question_domains = form_mapping_check(mapping=mapping, form=form)
    result = FormImportResult()
    imported_ids = set(
        Assessment.objects.filter(
            source=AssessmentSource.GOOGLE_FORMS, external_id__startswith=f"{mapping.form_id}:"
        ).values_list("external_id", flat=True)
    )
    for response in form_responses_read(client=client, form_id=mapping.form_id):
        external_id = f"{mapping.form_id}:{response.response_id}"
        if external_id in imported_ids:
            result.skipped.append(response.response_id)
            continue
        try:
            assessment = _response_import(
                mapping=mapping,
                form=form,
                response=response,
                question_domains=question_domains,
                external_id=external_id,
            )
        except ResponseError as error:
            result.errors.append(f"response {response.response_id}: {error} (field {error.field})")
        except IntegrityError:  # imported by a concurrent run
            result.skipped.append(response.response_id)
        else:
            result.imported.append(assessment)
    FormMapping.objects.filter(pk=mapping.pk).update(last_imported_at=timezone.now())
    return result


def _response_import(
    *,
    mapping: FormMapping,
    form: Form,
    response: FormResponse,
    question_domains: dict[str, Domain],
    external_id: str,
) -> Assessment:
    scores = response_scores(response=response, form=form, question_domains=question_domains)
    email = _response_email(mapping=mapping, response=response)
    with transaction.atomic():
        learner = _learner_for(email=email, mapping=mapping, field=_email_field(mapping))
        overall = scores.pop("", Decimal(0))
        assessment = Assessment.objects.create(
            learner=learner,
            certification=mapping.certification,
            overall_score=overall,
            taken_at=response.submitted_at or timezone.now(),
            source=AssessmentSource.GOOGLE_FORMS,
            external_id=external_id,
            raw_payload={"form_id": form.form_id, "response_id": response.response_id},
        )
        domains = {d.slug: d for d in question_domains.values()}
        DomainScore.objects.bulk_create(
            DomainScore(assessment=assessment, domain=domains[slug], score=score)
            for slug, score in scores.items()
        )
        if mapping.plan_series:
            from videos.services import series_plan  # videos depends on library, not back

            series_plan(assessment=assessment)
    return assessment


def response_scores(
    *, response: FormResponse, form: Form, question_domains: dict[str, Domain]
) -> dict[str, Decimal]:
    """domain slug -> percent, and "" -> the overall percent, over the mapped questions."""
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    for question_id, domain in question_domains.items():
        question = form.questions[question_id]
        points = _points_earned(question=question, response=response)
        earned[domain.slug] = earned.get(domain.slug, 0.0) + points
        possible[domain.slug] = possible.get(domain.slug, 0.0) + question.points
    percents = {slug: _percent(earned[slug], possible[slug]) for slug in possible}
    percents[""] = _percent(sum(earned.values()), sum(possible.values()))
    return percents


def _points_earned(*, question: FormQuestion, response: FormResponse) -> float:
    answer = response.answers.get(question.question_id)
    if answer is None or not answer.values:
        return 0.0  # unanswered counts as wrong
    if answer.score is not None:
        return max(0.0, min(answer.score, question.points))
    if question.correct_answers:
        return question.points if set(answer.values) == question.correct_answers else 0.0
    raise ResponseError(
        f"question {question.question_id} ({question.title!r}) is not graded yet and has no "
        "answer key",
        field=f"answers.{question.question_id}.grade",
    )


def _percent(earned: float, possible: float) -> Decimal:
    value = Decimal(str(100 * earned / possible)) if possible else Decimal(0)
    return min(max(value, Decimal(0)), Decimal(100)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _email_field(mapping: FormMapping) -> str:
    if mapping.email_question_id:
        return f"answers.{mapping.email_question_id}"
    return "respondentEmail"


def _response_email(*, mapping: FormMapping, response: FormResponse) -> str:
    field_name = _email_field(mapping)
    if mapping.email_question_id:
        answer = response.answers.get(mapping.email_question_id)
        email = answer.values[0].strip() if answer and answer.values else ""
    else:
        email = response.respondent_email.strip()
    if not email:
        raise ResponseError("no email address to find the learner by", field=field_name)
    try:
        validate_email(email)
    except ValidationError:
        raise ResponseError(f"{email!r} is not an email address", field=field_name) from None
    return email


def _learner_for(*, email: str, mapping: FormMapping, field: str) -> User:
    matches = list(User.objects.filter(email__iexact=email)[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ResponseError(f"{email} belongs to more than one account", field=field)
    if not mapping.create_learners:
        raise ResponseError(f"no learner has the email {email}", field=field)
    base = slugify(email.split("@")[0])[:120] or "learner"
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    learner = User(username=username, email=email)
    learner.set_unusable_password()
    learner.save()
    return learner
