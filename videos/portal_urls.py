"""Portal URLs for watching: the player page, owner-only media, progress saves.

Included from presgen/urls.py with `path("", include("videos.portal_urls"))`.
"""

from django.urls import path

from videos import portal_views

app_name = "portal"

urlpatterns = [
    path("videos/<int:pk>/", portal_views.video_player, name="video_player"),
    path("videos/<int:pk>/progress", portal_views.video_progress, name="video_progress"),
    path("media/videos/<int:pk>/<str:kind>", portal_views.video_media, name="video_media"),
]
