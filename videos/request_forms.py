"""The learner's "request a video" forms: a practice session, a professional introduction,
and the one-click request behind a recommendation.

The forms only check and shape the input; `videos.services.video_request` (and
`library.recommendations.recommendation_request`) make the job.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from library.models import Assessment, Certification, Difficulty, Domain, PracticeQuestion
from library.recommendations import REQUESTABLE_TYPES
from presgen.models import User
from presgen.ownership import owned_by
from videos.models import VideoType
from videos.scriptwriting.cv import CvError, cv_parse
from videos.scriptwriting.types import INDUSTRIES

CV_MAX_BYTES = 2 * 1024 * 1024
# extension -> what its content must start with (None: plain text, neither of the others)
CV_TYPES: dict[str, bytes | None] = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04", ".txt": None}
CV_KIND = {".pdf": "a PDF", ".docx": "a Word (DOCX) document", ".txt": "a text file"}
QUESTIONS_MIN, QUESTIONS_MAX, QUESTIONS_DEFAULT = 1, 10, 3
TOPIC_MAX_LENGTH = 200


def assessed_certifications(*, learner: User) -> QuerySet[Certification]:
    """Certifications the learner has taken an assessment for (the only ones to practise)."""
    return Certification.objects.filter(
        pk__in=owned_by(Assessment, user=learner).values("certification")
    )


class PracticeRequestForm(forms.Form):
    certification = forms.ModelChoiceField(
        queryset=Certification.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your certifications."},
    )
    domain = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Leave as it is to practise your weakest areas first.",
    )
    topic = forms.CharField(
        required=False,
        max_length=TOPIC_MAX_LENGTH,
        help_text="Optional: a few words, for example “subnets” or “access keys”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    difficulty = forms.ChoiceField(
        choices=Difficulty.choices,
        initial=Difficulty.MEDIUM,
        widget=forms.RadioSelect,
    )
    questions = forms.IntegerField(
        label="Number of questions",
        min_value=QUESTIONS_MIN,
        max_value=QUESTIONS_MAX,
        initial=QUESTIONS_DEFAULT,
        help_text=f"From {QUESTIONS_MIN} to {QUESTIONS_MAX}.",
    )

    def __init__(self, *args: Any, learner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        certifications = assessed_certifications(learner=learner)
        cert_field = self.fields["certification"]
        assert isinstance(cert_field, forms.ModelChoiceField)
        cert_field.queryset = certifications
        domains = Domain.objects.filter(certification__in=certifications).select_related(
            "certification"
        )
        groups: dict[str, list[tuple[int, str]]] = {}
        for domain in domains:
            groups.setdefault(domain.certification.name, []).append((domain.pk, domain.name))
        domain_field = self.fields["domain"]
        assert isinstance(domain_field, forms.TypedChoiceField)
        domain_field.choices = [("", "Any domain (weakest first)"), *groups.items()]
        domain_field.error_messages["invalid_choice"] = "Choose a domain from the list."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        certification: Certification | None = data.get("certification")
        domain_pk: int | None = data.get("domain")
        difficulty = data.get("difficulty")
        data["domain_obj"] = None
        if certification is None:
            return data
        if domain_pk is not None:
            domain = Domain.objects.filter(pk=domain_pk, certification=certification).first()
            if domain is None:
                self.add_error("domain", f"That domain is not part of {certification.name}.")
                return data
            data["domain_obj"] = domain
        if difficulty:
            questions = PracticeQuestion.objects.filter(
                domain__certification=certification, difficulty=difficulty
            )
            if data["domain_obj"] is not None:
                questions = questions.filter(domain=data["domain_obj"])
            if not questions.exists():
                where = data["domain_obj"].name if data["domain_obj"] else certification.name
                self.add_error(
                    "difficulty",
                    f"There are no {difficulty} practice questions in {where} yet; "
                    "choose another difficulty or domain.",
                )
        return data

    def parameters(self) -> dict[str, Any]:
        """The job parameters `video_request` takes for a practice session."""
        data = self.cleaned_data
        parameters: dict[str, Any] = {
            "difficulty": data["difficulty"],
            "questions": data["questions"],
        }
        if data.get("domain_obj") is not None:
            parameters["domain"] = data["domain_obj"].slug
        if data.get("topic"):
            parameters["topic"] = data["topic"].strip()
        return parameters


class IntroductionRequestForm(forms.Form):
    cv = forms.FileField(
        label="Your CV",
        help_text=(
            f"PDF, Word (DOCX) or plain text (TXT), up to {CV_MAX_BYTES // (1024 * 1024)} MB."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.docx,.txt,application/pdf,text/plain,"
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
        ),
    )  # fmt: skip
    industry = forms.ChoiceField(
        label="Target industry",
        required=False,
        choices=[("", "Work it out from my CV")]
        + [(name, name.capitalize()) for name in INDUSTRIES],
        help_text="Sets the tone of the introduction.",
    )

    def clean_cv(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["cv"]
        extension = PurePath(upload.name or "").suffix.lower()
        if extension not in CV_TYPES:
            raise forms.ValidationError(
                "Upload your CV as a PDF, a Word (DOCX) document or a text (TXT) file."
            )
        size = upload.size or 0
        if size > CV_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {size / 1024 / 1024:.1f} MB; the limit is "
                f"{CV_MAX_BYTES // (1024 * 1024)} MB."
            )
        upload.seek(0)
        data = upload.read()
        magic = CV_TYPES[extension]
        is_pdf, is_zip = data.startswith(b"%PDF-"), data.startswith(b"PK\x03\x04")
        if (magic is not None and not data.startswith(magic)) or (
            magic is None and (is_pdf or is_zip)
        ):
            actual = "a PDF" if is_pdf else "a ZIP or Word file" if is_zip else "something else"
            raise forms.ValidationError(
                f"The file is named {extension} but its content is {actual}, not "
                f"{CV_KIND[extension]}; it may be damaged or renamed. Save it again and upload it."
            )
        try:
            self.cleaned_data["profile"] = cv_parse(filename=upload.name or "", data=data)
        except CvError as error:
            raise forms.ValidationError(str(error)) from None
        return upload

    def parameters(self) -> dict[str, Any]:
        industry = self.cleaned_data.get("industry")
        return {"industry": industry} if industry else {}


class RecommendedRequestForm(forms.Form):
    """What a "Request this video" button on a recommendation posts."""

    video_type = forms.ChoiceField(
        choices=[(value, VideoType(value).label) for value in REQUESTABLE_TYPES],
        error_messages={"invalid_choice": "This video cannot be requested in one click."},
    )
    certification = forms.ModelChoiceField(
        queryset=Certification.objects.none(),
        error_messages={"invalid_choice": "Take an assessment for this certification first."},
    )
    domain = forms.SlugField(required=False, max_length=80)

    def __init__(self, *args: Any, learner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cert_field = self.fields["certification"]
        assert isinstance(cert_field, forms.ModelChoiceField)
        cert_field.queryset = assessed_certifications(learner=learner)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        certification: Certification | None = data.get("certification")
        slug = data.get("domain")
        data["domain_obj"] = None
        if certification is not None and slug:
            domain = certification.domains.filter(slug=slug).first()
            if domain is None:
                self.add_error("domain", f"{certification.name} has no domain {slug!r}.")
            data["domain_obj"] = domain
        return data
