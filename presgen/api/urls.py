"""/api/v1/: the intake side (assessments, jobs) and the learner side (videos and the rest).

Included from presgen/urls.py with `path("api/v1/", include("presgen.api.urls"))`.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("presgen.api.intake_urls")),
    path("", include("presgen.api.learner_urls")),
]
