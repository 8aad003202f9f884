"""Planning video series from the assessment list in the admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tests.builders import assessment_build, certification_build, user_build
from videos.models import VideoJob
from videos.planning import series_items_plan
from videos.services import series_plan

pytestmark = pytest.mark.django_db

ASSESSMENTS = reverse("admin:library_assessment_changelist")


def test_plan_series_for_selected_assessments_skips_those_already_planned(
    client, rq_queues, django_capture_on_commit_callbacks
):
    staff = user_build(is_staff=True, is_superuser=True)
    client.force_login(staff)
    cert = certification_build(domains={"compute": 40, "storage": 30, "network": 30})
    fresh = assessment_build(
        learner=user_build(),
        certification=cert,
        scores={"compute": 20, "storage": 55, "network": 70},
    )
    done = assessment_build(
        learner=user_build(),
        certification=cert,
        scores={"compute": 90, "storage": 80, "network": 60},
    )
    series_plan(assessment=done, enqueue=False)
    before = VideoJob.objects.count()
    expected = len(series_items_plan(assessment=fresh))

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            ASSESSMENTS,
            {
                "action": "assessments_series_plan",
                "_selected_action": [fresh.pk, done.pk],
                "index": 0,
            },
            follow=True,
        )

    assert [str(m) for m in page.context["messages"]] == [
        f"1 assessment planned: {expected} new jobs; 1 skipped: already planned (#{done.pk})"
    ]
    made = VideoJob.objects.filter(assessment=fresh)
    assert made.count() == expected == VideoJob.objects.count() - before
    # the new jobs are on the queues, each once
    queued = {job_id for queue in rq_queues.values() for job_id in queue.job_ids}
    assert queued == set(made.values_list("rq_job_id", flat=True))
    # who planned what: one entry on the assessment, one per new job; none on the skipped one
    on_fresh = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(fresh), object_id=str(fresh.pk)
    )
    assert on_fresh.action_flag == CHANGE and on_fresh.user == staff
    assert on_fresh.change_message.startswith(f"Planned the video series: {expected} new jobs (#")
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == expected
    assert not LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(done), object_id=str(done.pk)
    ).exists()
