"""Account pages under accounts/: no app namespace, Django's auth views expect these names."""

from django.contrib.auth import views as auth_views
from django.urls import path

from presgen import accounts_views

urlpatterns = [
    path("signup/", accounts_views.signup, name="signup"),
    path("profile/", accounts_views.profile, name="profile"),
    path(
        "password_reset/",
        accounts_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password_reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password_reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
