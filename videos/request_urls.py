"""Portal URLs for asking for a video: the request page and one-click recommendations.

Included from presgen/urls.py with `path("", include("videos.request_urls"))`.
"""

from django.urls import URLPattern, URLResolver, path

from videos import request_views

app_name = "requests"

urlpatterns: list[URLPattern | URLResolver] = [
    path("videos/request/", request_views.request_new, name="new"),
    path("videos/request/recommended", request_views.request_recommended, name="recommended"),
]
