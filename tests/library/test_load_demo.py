import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from library.models import Assessment, Certification, PracticeQuestion
from library.selectors import assessment_strong_areas, assessment_weak_areas
from presgen.models import User

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
