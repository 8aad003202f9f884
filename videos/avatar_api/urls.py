"""PresGen's own PresGen-Avatar API (served from the studio and the pipeline)."""

from django.urls import path

from videos.avatar_api import views

app_name = "avatar_api"

urlpatterns = [
    path("videos", views.VideoCreateView.as_view(), name="videos"),
    path("videos/<int:video_id>", views.VideoDetailView.as_view(), name="video"),
    path("videos/<int:video_id>/download", views.VideoDownloadView.as_view(), name="download"),
    path("videos/<int:video_id>/cancel", views.VideoCancelView.as_view(), name="cancel"),
    path("videos/<int:video_id>/metrics", views.VideoMetricsView.as_view(), name="metrics"),
    path("models", views.AvatarModelsView.as_view(), name="models"),
    path("voices", views.VoicesView.as_view(), name="voices"),
    path("custom", views.CustomAvatarCreateView.as_view(), name="custom"),
]
