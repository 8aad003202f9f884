from decimal import Decimal

import pytest
from django.utils import timezone

from library.models import Assessment, Domain, DomainScore, Playlist
from tests.builders import assessment_build, certification_build, integrity_rejected, user_build

pytestmark = pytest.mark.django_db


def test_scores_and_weights_must_be_percentages():
    cert = certification_build()
    learner = user_build()
    assert integrity_rejected(
        lambda: Domain.objects.create(certification=cert, slug="x", name="X", weight=101)
    )
    assert integrity_rejected(
        lambda: Assessment.objects.create(
            learner=learner, certification=cert, overall_score=Decimal(-1), taken_at=timezone.now()
        )
    )
    assessment = assessment_build(learner=learner, certification=cert, scores={"alpha": 50})
    assert integrity_rejected(
        lambda: DomainScore.objects.create(
            assessment=assessment, domain=cert.domains.get(slug="beta"), score=Decimal("100.5")
        )
    )


def test_one_score_per_domain_and_unique_domain_slugs():
    cert = certification_build()
    assessment = assessment_build(learner=user_build(), certification=cert, scores={"alpha": 50})
    alpha = cert.domains.get(slug="alpha")
    assert integrity_rejected(
        lambda: DomainScore.objects.create(assessment=assessment, domain=alpha, score=1)
    )
    assert integrity_rejected(
        lambda: Domain.objects.create(certification=cert, slug="alpha", name="A", weight=1)
    )


def test_the_same_external_result_cannot_be_imported_twice():
    cert = certification_build()
    learner = user_build()
    assessment_build(
        learner=learner, certification=cert, scores={}, source="google_forms", external_id="resp-1"
    )
    assert integrity_rejected(
        lambda: assessment_build(
            learner=learner,
            certification=cert,
            scores={},
            source="google_forms",
            external_id="resp-1",
        )
    )
    # Results without an external id are not constrained.
    assessment_build(learner=learner, certification=cert, scores={})
    assessment_build(learner=learner, certification=cert, scores={})


def test_a_scored_domain_cannot_be_deleted():
    cert = certification_build()
    assessment_build(learner=user_build(), certification=cert, scores={"alpha": 50})
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        cert.domains.get(slug="alpha").delete()


def test_one_generated_playlist_per_kind_but_any_number_of_custom_ones():
    learner = user_build()
    cert = certification_build()
    Playlist.objects.create(
        learner=learner, title="Prep", kind="complete_preparation", certification=cert
    )
    assert integrity_rejected(
        lambda: Playlist.objects.create(
            learner=learner, title="Prep 2", kind="complete_preparation", certification=cert
        )
    )
    Playlist.objects.create(learner=learner, title="Mine", kind="custom")
    Playlist.objects.create(learner=learner, title="Mine too", kind="custom")
