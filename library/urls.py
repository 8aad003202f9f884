"""The learner's playlists.

Included from presgen/urls.py with `path("", include("library.urls"))`.
"""

from django.urls import path

from library import views

app_name = "playlists"

urlpatterns = [
    path("playlists/", views.playlist_list, name="list"),
    path("playlists/new", views.playlist_create_view, name="create"),
    path("playlists/<int:pk>/", views.playlist_detail, name="detail"),
    path("playlists/<int:pk>/rename", views.playlist_rename_view, name="rename"),
    path("playlists/<int:pk>/delete", views.playlist_delete_view, name="delete"),
    path("playlists/<int:pk>/add", views.playlist_video_add_view, name="video_add"),
    path("playlists/<int:pk>/remove", views.playlist_video_remove_view, name="video_remove"),
    path("playlists/<int:pk>/move", views.playlist_video_move_view, name="video_move"),
]
