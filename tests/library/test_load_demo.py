import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from library.models import Assessment, Certification, PracticeQuestion
from library.selectors import assessment_strong_areas, assessment_weak_areas
from presgen.models import User
from videos.models import VideoJob

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_repeats_without_duplicates(settings):
    settings.DEBUG = True
    call_command("load_demo")
    counts = (User.objects.count(), Assessment.objects.count(), PracticeQuestion.objects.count())
    call_command("load_demo")
    assert (
        User.objects.count(),
        Assessment.objects.count(),
        PracticeQuestion.objects.count(),
    ) == counts

    learner = User.objects.get(username="learner")
    assert learner.check_password("presgen-learner")
    assert learner.learning_styles
    assert learner.display_name
    assert User.objects.get(username="staff").is_staff
    assessment = Assessment.objects.get(learner=learner)
    assert len(assessment_weak_areas(assessment=assessment)) >= 2
    assert len(assessment_strong_areas(assessment=assessment)) >= 1
    assert Certification.objects.count() == 1


def test_demo_users_are_refused_on_a_production_site(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords") as caught:
        call_command("load_demo")
    assert caught.value.returncode == 2
    assert not User.objects.exists()


def test_the_demo_plans_the_learners_series_once_and_queues_it_when_redis_runs(
    settings, rq_queues, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    jobs = VideoJob.objects.filter(learner__username="learner")
    assert sorted(jobs.values_list("video_type", flat=True)) == [
        "exam_prep",
        "motivational",
        "overview",
        "remediation",
        "remediation",
        "remediation",
    ]
    assert "6 videos planned (6 new, queued now)" in out.getvalue()
    assert sum(q.count for q in rq_queues.values()) == 6
    call_command("load_demo", stdout=io.StringIO())
    assert jobs.count() == 6


def test_without_redis_the_demo_series_waits_for_the_reconciler(settings):
    settings.DEBUG = True
    settings.RQ_QUEUES = {
        name: {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}
        for name in settings.RQ_QUEUE_NAMES
    }
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "queued when PresGen starts" in out.getvalue()
    assert VideoJob.objects.filter(rq_job_id="").count() == 6
