from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from tests.builders import assessment_build, certification_build, user_build
from videos.models import VideoJob
from videos.planning import series_items_plan
from videos.services import series_plan

pytestmark = pytest.mark.django_db

DOMAINS = {"iam": 30, "network": 25, "storage": 20, "compute": 15, "billing": 10}


def _cert():
    return certification_build(domains=DOMAINS, passing_score=Decimal(70))


def _types(items) -> list[tuple[str, int, dict]]:
    return [(i.video_type, i.priority, i.parameters) for i in items]


def test_plan_follows_the_seed_rules():
    cert = _cert()
    learner = user_build()
    assessment = assessment_build(
        learner=learner,
        certification=cert,
        scores={"iam": 35, "network": 50, "storage": 60, "compute": 65, "billing": 90},
        overall_score=Decimal(58),
    )
    assert _types(series_items_plan(assessment=assessment)) == [
        ("overview", 1, {}),
        ("remediation", 2, {"domain": "iam"}),  # the three weakest, weakest first
        ("remediation", 2, {"domain": "network"}),
        ("remediation", 2, {"domain": "storage"}),
        ("motivational", 3, {}),
        ("exam_prep", 4, {}),  # overall score at least 50
    ]


def test_no_exam_prep_below_50_and_no_remediation_without_weak_domains():
    cert = _cert()
    low = assessment_build(
        learner=user_build(),
        certification=cert,
        scores={"iam": 30, "network": 40},
        overall_score=Decimal(49),
    )
    assert "exam_prep" not in [i.video_type for i in series_items_plan(assessment=low)]
    strong = assessment_build(
        learner=user_build(),
        certification=cert,
        scores={"iam": 85, "network": 92},
        overall_score=Decimal(88),
    )
    assert [i.video_type for i in series_items_plan(assessment=strong)] == [
        "overview",
        "motivational",
        "exam_prep",
    ]


def test_planning_the_same_assessment_twice_creates_one_series(rq_queues):
    cert = _cert()
    assessment = assessment_build(
        learner=user_build(), certification=cert, scores={"iam": 40, "network": 80}
    )
    first = series_plan(assessment=assessment)
    second = series_plan(assessment=assessment)
    assert len(first.created) == 4  # overview, remediation iam, motivational, exam prep
    assert second.created == []
    assert {j.pk for j in second.kept} == {j.pk for j in first.created}
    assert VideoJob.objects.filter(learner=assessment.learner).count() == 4


def test_a_new_assessment_replans_only_what_changed(rq_queues):
    cert = _cert()
    learner = user_build()
    before = assessment_build(
        learner=learner,
        certification=cert,
        scores={"iam": 40, "network": 45, "storage": 90},
        overall_score=Decimal(58),
    )
    series_plan(assessment=before)
    # network is no longer weak; iam improved a little (same band); storage still strong.
    after = assessment_build(
        learner=learner,
        certification=cert,
        scores={"iam": 43, "network": 82, "storage": 90},
        overall_score=Decimal(72),
    )
    plan = series_plan(assessment=after)
    created = sorted((j.video_type, j.parameters.get("domain", "")) for j in plan.created)
    kept = sorted((j.video_type, j.parameters.get("domain", "")) for j in plan.kept)
    # The overview and motivational videos reflect the new scores; exam prep and
    # the iam remediation are unchanged; network gets no new remediation video.
    assert created == [("motivational", ""), ("overview", "")]
    assert kept == [("exam_prep", ""), ("remediation", "iam")]
    assert not VideoJob.objects.filter(assessment=after, parameters__domain="network").exists()


def test_planning_enqueues_each_new_job_on_its_priority_queue(
    rq_queues, django_capture_on_commit_callbacks
):
    cert = _cert()
    assessment = assessment_build(
        learner=user_build(), certification=cert, scores={"iam": 40}, overall_score=Decimal(60)
    )
    with django_capture_on_commit_callbacks(execute=True):
        plan = series_plan(assessment=assessment)
    queued = {name: set(q.job_ids) for name, q in rq_queues.items()}
    for job in plan.created:
        job.refresh_from_db()
        expected = {1: "high", 2: "default", 3: "default", 4: "low"}[job.priority]
        assert job.rq_job_id in queued[expected]
    assert sum(len(ids) for ids in queued.values()) == len(plan.created)


def test_nothing_reaches_redis_when_the_transaction_rolls_back(
    rq_queues, django_capture_on_commit_callbacks
):
    cert = _cert()
    assessment = assessment_build(learner=user_build(), certification=cert, scores={"iam": 40})

    def request() -> None:
        with transaction.atomic():
            series_plan(assessment=assessment)
            raise RuntimeError("the request failed after planning")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        request()
    assert all(q.count == 0 for q in rq_queues.values())
    assert not VideoJob.objects.exists()
