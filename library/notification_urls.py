"""The learner's notifications.

Included from presgen/urls.py with `path("", include("library.notification_urls"))`.
"""

from django.urls import URLPattern, URLResolver, path

from library import notification_views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications/", notification_views.notification_list_view, name="list"),
    path("notifications/<int:pk>/read", notification_views.notification_read_view, name="read"),
    path("notifications/read-all", notification_views.notification_read_all_view, name="read_all"),
]
