"""Account pages under accounts/: no app namespace, Django's auth views expect these names."""

from django.contrib.auth import views as auth_views
from django.urls import path

from presgen import accounts_views

urlpatterns = [
    path("signup/", accounts_views.signup, name="signup"),
    path("profile/", accounts_views.profile, name="profile"),
    path(
        "profile/avatar-preview/<str:avatar_id>.png",
        accounts_views.profile_avatar_preview,
        name="profile_avatar_preview",
    ),
    path(
        "profile/voice-preview/<str:voice_id>.wav",
        accounts_views.profile_voice_preview,
        name="profile_voice_preview",
    ),
    path("profile/export.zip", accounts_views.profile_export, name="profile_export"),
    path("profile/delete/", accounts_views.profile_delete, name="profile_delete"),
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
