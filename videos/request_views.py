"""Portal: the learner asks for a video (a practice session, a professional introduction),
or requests a recommended one in one click.

Creating is POST only (CSRF on). Bad input re-renders the page with the field
errors (HTTP 400) and creates nothing; a request made goes to the library,
where the new job shows its live progress.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from library.recommendations import AlreadyBeingMade, VideoProposal, recommendation_request
from presgen.models import User
from videos.models import VideoType
from videos.request_forms import (
    IntroductionRequestForm,
    PracticeRequestForm,
    RecommendedRequestForm,
    assessed_certifications,
)
from videos.services import VideoRequestError, video_request

PRACTICE, INTRODUCTION = "practice", "introduction"


def _page(
    request: HttpRequest,
    *,
    learner: User,
    practice: PracticeRequestForm | None = None,
    introduction: IntroductionRequestForm | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "practice_form": practice or PracticeRequestForm(learner=learner, prefix=PRACTICE),
        "introduction_form": introduction or IntroductionRequestForm(prefix=INTRODUCTION),
        "can_practise": assessed_certifications(learner=learner).exists(),
        "problems": problems or [],
    }
    return render(request, "videos/request.html", context, status=status)


def _sentence(error: Exception) -> str:
    """A service's message ("choose a certification") as a sentence for the page."""
    message = str(error)
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _form_error(form: Any, error: VideoRequestError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, _sentence(error))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    learner = cast(User, request.user)  # login_required: never anonymous here
    if request.method != "POST":
        return _page(request, learner=learner)
    kind = request.POST.get("kind")
    if kind == PRACTICE:
        practice = PracticeRequestForm(request.POST, learner=learner, prefix=PRACTICE)
        if practice.is_valid():
            try:
                video_request(
                    learner=learner,
                    video_type=VideoType.PRACTICE_SESSION,
                    certification=practice.cleaned_data["certification"],
                    parameters=practice.parameters(),
                )
            except VideoRequestError as error:
                _form_error(practice, error)
            else:
                domain = practice.cleaned_data.get("domain_obj")
                certification = practice.cleaned_data["certification"]
                subject = domain.name if domain else certification.name
                messages.success(
                    request,
                    f"Your practice session on {subject} is being made: follow its progress below.",
                )
                return redirect("library_portal:library")
        return _page(request, learner=learner, practice=practice, status=400)
    if kind == INTRODUCTION:
        introduction = IntroductionRequestForm(request.POST, request.FILES, prefix=INTRODUCTION)
        if introduction.is_valid():
            try:
                video_request(
                    learner=learner,
                    video_type=VideoType.INTRODUCTION,
                    parameters=introduction.parameters(),
                    cv=introduction.cleaned_data["profile"],
                )
            except VideoRequestError as error:
                _form_error(introduction, error)
            else:
                messages.success(
                    request,
                    "Your professional introduction is being made: follow its progress below.",
                )
                return redirect("library_portal:library")
        return _page(request, learner=learner, introduction=introduction, status=400)
    return _page(
        request,
        learner=learner,
        problems=["Choose which video to request with one of the forms below."],
        status=400,
    )


@login_required
@require_POST
def request_recommended(request: HttpRequest) -> HttpResponse:
    """The one-click "Request this video" of a recommendation."""
    learner = cast(User, request.user)  # login_required: never anonymous here
    form = RecommendedRequestForm(request.POST, learner=learner)
    problems: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
        proposal = VideoProposal(data["video_type"], data["certification"], data["domain_obj"])
        try:
            recommendation_request(
                learner=learner,
                video_type=proposal.video_type,
                certification=proposal.certification,
                domain=proposal.domain,
            )
        except AlreadyBeingMade as refused:
            messages.info(request, f"{refused}: follow its progress below.")
            return redirect("library_portal:library")
        except VideoRequestError as error:
            problems.append(_sentence(error))
        else:
            messages.success(request, f"{proposal.title} is being made: follow its progress below.")
            return redirect("library_portal:library")
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
    return _page(
        request,
        learner=learner,
        problems=["That video could not be requested.", *problems],
        status=400,
    )
