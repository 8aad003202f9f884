import pytest

from library.selectors import assessment_strong_areas, assessment_weak_areas
from tests.builders import assessment_build, certification_build, user_build

pytestmark = pytest.mark.django_db


def test_weak_areas_are_below_passing_weakest_first_and_strong_well_above():
    cert = certification_build(
        passing_score=70, domains={"a": 10, "b": 30, "c": 20, "d": 25, "e": 15}
    )
    assessment = assessment_build(
        learner=user_build(),
        certification=cert,
        scores={"a": 65, "b": 40, "c": 40, "d": 95, "e": 75},
    )
    # Ties are broken by exam weight: the heavier domain matters more.
    assert [s.domain.slug for s in assessment_weak_areas(assessment=assessment)] == ["b", "c", "a"]
    assert [s.domain.slug for s in assessment_weak_areas(assessment=assessment, limit=2)] == [
        "b",
        "c",
    ]
    assert [s.domain.slug for s in assessment_strong_areas(assessment=assessment)] == ["d"]
