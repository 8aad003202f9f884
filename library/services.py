"""Writes for the learning side: importing knowledge bases, loading demo data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from library.knowledge_base import (
    CertificationData,
    ConceptData,
    DomainData,
    KnowledgeBaseError,
    knowledge_base_load,
)
from library.models import (
    Assessment,
    AssessmentSource,
    Certification,
    Concept,
    Domain,
    DomainScore,
    PracticeQuestion,
)
from presgen.models import User

DEMO_KNOWLEDGE_BASE = Path(__file__).resolve().parent / "demo" / "cloud_foundations.yaml"


@dataclass
class ImportResult:
    certification: Certification
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], what: str) -> None:
        bucket[what] = bucket.get(what, 0) + 1

    def summary(self) -> str:
        def part(label: str, bucket: dict[str, int]) -> str:
            items = ", ".join(f"{n} {what}" for what, n in sorted(bucket.items()) if n)
            return f"{label} {items or 'nothing'}"

        return "; ".join(
            [
                part("created", self.created),
                part("updated", self.updated),
                part("removed", self.removed),
            ]
        )


@transaction.atomic
def knowledge_base_import(*, data: CertificationData) -> ImportResult:
    """Create or update a certification so it matches the file exactly.

    Concepts and questions missing from the file are removed; a domain missing
    from the file is removed only if no assessment scored it (results are kept).
    All or nothing: any error rolls the whole import back.
    """
    cert, created = Certification.objects.update_or_create(
        slug=data.slug,
        defaults={
            "name": data.name,
            "issuer": data.issuer,
            "description": data.description,
            "passing_score": data.passing_score,
            "exam_minutes": data.exam_minutes,
            "exam_strategies": data.exam_strategies,
        },
    )
    result = ImportResult(certification=cert)
    result.count(result.created if created else result.updated, "certification")

    kept_domains = []
    for position, domain_data in enumerate(data.domains):
        domain = _domain_upsert(cert=cert, data=domain_data, position=position, result=result)
        kept_domains.append(domain.pk)

    stale = cert.domains.exclude(pk__in=kept_domains)
    for domain in stale:
        try:
            domain.delete()
        except ProtectedError:
            raise KnowledgeBaseError(
                f"domain {domain.slug!r} is missing from the file but assessments have scores "
                "for it; keep it in the file (results are never deleted by an import)"
            ) from None
        result.count(result.removed, "domain")
    return result


def _domain_upsert(
    *, cert: Certification, data: DomainData, position: int, result: ImportResult
) -> Domain:
    domain, created = Domain.objects.update_or_create(
        certification=cert,
        slug=data.slug,
        defaults={
            "name": data.name,
            "weight": data.weight,
            "description": data.description,
            "position": position,
        },
    )
    result.count(result.created if created else result.updated, "domain")

    concepts: dict[str, Concept] = {}
    for i, concept_data in enumerate(data.concepts):
        concepts[concept_data.slug] = _concept_upsert(
            domain=domain, data=concept_data, position=i, result=result
        )
    for concept in domain.concepts.exclude(slug__in=concepts):
        concept.delete()
        result.count(result.removed, "concept")

    # Questions have no slug: the question text is their identity within a domain.
    existing = {q.question: q for q in domain.questions.all()}
    kept: set[int] = set()
    for i, q in enumerate(data.questions):
        fields = {
            "choices": q.choices,
            "answer_index": q.answer,
            "explanation": q.explanation,
            "difficulty": q.difficulty,
            "position": i,
        }
        question = existing.get(q.question)
        if question is None:
            question = PracticeQuestion.objects.create(domain=domain, question=q.question, **fields)
            result.count(result.created, "question")
        else:
            for name, value in fields.items():
                setattr(question, name, value)
            question.save()
            result.count(result.updated, "question")
        question.key_concepts.set([concepts[slug] for slug in q.key_concepts])
        kept.add(question.pk)
    removed, _ = domain.questions.exclude(pk__in=kept).delete()
    if removed:
        result.removed["question"] = result.removed.get("question", 0) + removed
    return domain


def _concept_upsert(
    *, domain: Domain, data: ConceptData, position: int, result: ImportResult
) -> Concept:
    concept, created = Concept.objects.update_or_create(
        domain=domain,
        slug=data.slug,
        defaults={
            "title": data.title,
            "summary": data.summary,
            "content": data.content,
            "examples": data.examples,
            "analogies": data.analogies,
            "position": position,
        },
    )
    result.count(result.created if created else result.updated, "concept")
    return concept


# --- demo data -------------------------------------------------------------------

DEMO_LEARNER = ("learner", "presgen-learner")
DEMO_STAFF = ("staff", "presgen-staff")
# Clear weak and strong areas so the planner has something to show.
DEMO_SCORES = {
    "cloud-concepts": Decimal(88),
    "security-identity": Decimal(42),
    "compute-storage": Decimal(81),
    "networking-delivery": Decimal(55),
    "operations-cost-resilience": Decimal(63),
}
DEMO_OVERALL = Decimal(64)


@dataclass
class DemoResult:
    certification: Certification
    learner: User
    staff: User
    assessment: Assessment
    created: list[str]


@transaction.atomic
def demo_load() -> DemoResult:
    """Load the demo certification, learner, staff user and assessment; safe to run again."""
    created: list[str] = []
    imported = knowledge_base_import(data=knowledge_base_load(path=DEMO_KNOWLEDGE_BASE))
    cert = imported.certification

    learner, made = User.objects.get_or_create(
        username=DEMO_LEARNER[0],
        defaults={
            "display_name": "Alex Rivera",
            "first_name": "Alex",
            "last_name": "Rivera",
            "email": "alex@example.com",
            "experience_level": "1-3",
            "learning_styles": ["visual", "hands_on"],
            "preferred_pace": "normal",
            "preferred_avatar": "professional_instructor",
            "preferred_voice": "joe",
            "time_zone": "Europe/London",
        },
    )
    if made:
        learner.set_password(DEMO_LEARNER[1])
        learner.save(update_fields=["password"])
        created.append("learner")

    staff, made = User.objects.get_or_create(
        username=DEMO_STAFF[0],
        defaults={"display_name": "Sam (staff)", "is_staff": True, "is_superuser": True},
    )
    if made:
        staff.set_password(DEMO_STAFF[1])
        staff.save(update_fields=["password"])
        created.append("staff")

    assessment, made = Assessment.objects.get_or_create(
        source=AssessmentSource.DEMO,
        external_id="demo-assessment-1",
        defaults={
            "learner": learner,
            "certification": cert,
            "overall_score": DEMO_OVERALL,
            "taken_at": timezone.now() - timedelta(days=1),
            "raw_payload": {
                "note": "demo data",
                "domain_scores": {k: str(v) for k, v in DEMO_SCORES.items()},
            },
        },
    )
    if made:
        domains = {d.slug: d for d in cert.domains.all()}
        DomainScore.objects.bulk_create(
            DomainScore(assessment=assessment, domain=domains[slug], score=score)
            for slug, score in DEMO_SCORES.items()
        )
        created.append("assessment")
    return DemoResult(cert, learner, staff, assessment, created)
