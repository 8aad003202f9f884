"""/api/v1/ intake: assessments and video jobs.

URL names are un-namespaced with an "api-" prefix (as in learner_urls.py):
api-assessment-list, api-assessment-detail, api-job-list, api-job-detail,
api-job-cancel, api-job-retry.
"""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from presgen.api import views_intake

router = SimpleRouter(trailing_slash=False)
router.register("assessments", views_intake.AssessmentViewSet, basename="api-assessment")
router.register("jobs", views_intake.JobViewSet, basename="api-job")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
