from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from presgen import views
from presgen.api.docs import ApiRedocView
from presgen.login_throttle import ThrottledLoginView, login_rate_limited
from videos import dashboard_views, webhooks

# Unknown URLs under /api/ get a JSON 404 (the API's error shape); elsewhere the usual page.
handler404 = "presgen.api.errors.page_not_found"

admin.site.site_header = "PresGen operations"
admin.site.site_title = "PresGen admin"
admin.site.index_title = "Run generation, providers and the knowledge base"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("presgen.accounts_urls")),
    # django-rq's dashboard (queues, workers, failed jobs): its views are staff only.
    path("admin/rq/", include("django_rq.urls")),
    path("admin/login/", login_rate_limited(admin.site.login)),
    path("admin/dashboard/", dashboard_views.dashboard, name="admin_dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/avatar/", include("videos.avatar_api.urls")),
    path("api/v1/", include("presgen.api.urls")),
    # The OpenAPI schema of the REST API and its docs (assets from drf-spectacular-sidecar).
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", ApiRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("webhooks/<str:provider>/", webhooks.webhook_receive, name="webhook"),
    path("", include("library.urls")),
    path("", include("videos.portal_urls")),
    path("", include("videos.library_urls")),
    path("", include("library.assessment_urls")),
    path("", include("videos.request_urls")),
    path("", include("library.notification_urls")),
]
