"""Portal URLs for the learner's library: the page, job progress, retries.

Included from presgen/urls.py with `path("", include("videos.library_urls"))`.
"""

from django.urls import path

from videos import library_views

app_name = "library_portal"

urlpatterns = [
    path("library/", library_views.library, name="library"),
    path("library/jobs.json", library_views.jobs_json, name="jobs"),
    path("library/jobs/<int:pk>/retry", library_views.job_retry_view, name="job_retry"),
]
