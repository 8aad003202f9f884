"""Learner accounts: sign up, profile, and password reset with PresGen's templates."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from presgen.accounts_forms import ProfileForm, SignupForm
from presgen.models import User


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to PresGen, {user.greeting_name}!")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=200)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    learner = cast(User, request.user)  # login_required: never anonymous here
    form = ProfileForm(request.POST or None, instance=learner)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "registration/profile.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset, with links in the email built from PUBLIC_URL, not the request's Host."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        self.extra_email_context = {"public_url": settings.PUBLIC_URL}
        return super().form_valid(form)
