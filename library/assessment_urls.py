"""The learner's assessment history.

Included from presgen/urls.py with `path("", include("library.assessment_urls"))`.
"""

from django.urls import URLPattern, URLResolver, path

from library import assessment_views

app_name = "assessments"

urlpatterns: list[URLPattern | URLResolver] = [
    path("assessments/", assessment_views.assessment_list, name="list"),
    path("assessments/<int:pk>/", assessment_views.assessment_detail, name="detail"),
]
