"""/api/v1/: the learner side (videos, playlists, recommendations, notifications,
certifications, me) and the staff-only endpoints (providers, metrics)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from presgen.api import learning, me, playlists, staff, videos

router = SimpleRouter(trailing_slash=False)
router.register("videos", videos.VideoViewSet, basename="api-video")
router.register("playlists", playlists.PlaylistViewSet, basename="api-playlist")
router.register("certifications", learning.CertificationViewSet, basename="api-certification")
router.register("notifications", learning.NotificationViewSet, basename="api-notification")

urlpatterns: list[URLPattern | URLResolver] = [
    path("videos/<str:pk>/file", videos.VideoFileView.as_view(), name="api-video-file"),
    path("videos/<str:pk>/captions", videos.VideoCaptionsView.as_view(), name="api-video-captions"),
    path(
        "videos/<str:pk>/thumbnail",
        videos.VideoThumbnailView.as_view(),
        name="api-video-thumbnail",
    ),
    path(
        "recommendations",
        learning.RecommendationListView.as_view(),
        name="api-recommendations",
    ),
    path("me", me.MeView.as_view(), name="api-me"),
    path("me/export", me.MeExportView.as_view(), name="api-me-export"),
    path("providers", staff.ProviderListView.as_view(), name="api-providers"),
    path(
        "providers/<str:name>/health",
        staff.ProviderHealthView.as_view(),
        name="api-provider-health",
    ),
    path("metrics", staff.MetricsView.as_view(), name="api-metrics"),
    *router.urls,
]
