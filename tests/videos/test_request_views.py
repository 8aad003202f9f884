"""Request a video: the practice and introduction forms, and one-click recommendations."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from library.models import PracticeQuestion, WatchProgress
from library.services import demo_load
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from tests.videos.scriptwriting.test_cv import TECH_CV, docx_build, pdf_build
from videos.models import JobStatus, VideoJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rq_queues")]

NEW = reverse("requests:new")
RECOMMENDED = reverse("requests:recommended")
LIBRARY = reverse("library_portal:library")


@pytest.fixture
def demo():
    return demo_load()  # Alex: 64% overall in Cloud Foundations, weakest in Security and Identity


@pytest.fixture
def alex(client, demo):
    client.force_login(demo.learner)
    return client


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def recommended_section(page: str) -> str:
    found = re.search(r'<h2 id="recommended-title">Recommended next</h2>(.*?)</section>', page)
    assert found is not None
    return found.group(1)


def queued_ids(rq_queues) -> set[str]:
    return {job_id for queue in rq_queues.values() for job_id in queue.job_ids}


def practice(demo, **fields) -> dict[str, object]:
    return {
        "kind": "practice",
        "practice-certification": demo.certification.pk,
        "practice-domain": demo.certification.domains.get(slug="security-identity").pk,
        "practice-topic": "",
        "practice-difficulty": "medium",
        "practice-questions": 4,
        **fields,
    }


def introduction(name: str, data: bytes, **fields) -> dict[str, object]:
    return {
        "kind": "introduction",
        "introduction-cv": SimpleUploadedFile(name, data),
        "introduction-industry": "",
        **fields,
    }


# --- the page --------------------------------------------------------------------


def test_visitors_are_asked_to_log_in(client):
    response = client.get(NEW)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.post(RECOMMENDED, {"video_type": "exam_prep"}).status_code == 302
    assert not VideoJob.objects.exists()


def test_the_page_offers_the_learners_own_certifications_and_domains(alex, demo):
    other = user_build()
    theirs = certification_build(name="Their Certification", domains={"hidden-domain": 100})
    assessment_build(learner=other, certification=theirs, scores={"hidden-domain": 50})

    page = text(alex.get(NEW))
    assert "Practice session" in page and "Professional introduction" in page
    for level in ("easy", "medium", "hard"):
        assert f'name="practice-difficulty" value="{level}"' in page
    assert "Cloud Foundations Associate" in page and "Security and Identity" in page
    assert "Their Certification" not in page and "Hidden-Domain" not in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<label for="id_introduction-cv">Your CV</label>' in page


def test_without_an_assessment_only_the_introduction_can_be_asked_for(client):
    client.force_login(user_build())
    page = text(client.get(NEW))
    assert "take an assessment for your certification first" in page
    assert 'name="practice-certification"' not in page
    assert 'name="introduction-cv"' in page


# --- practice sessions -----------------------------------------------------------


def test_a_practice_session_is_queued_and_shown_in_the_library(
    alex, demo, rq_queues, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alex.post(NEW, practice(demo, **{"practice-topic": " access keys "}))
    assert response.status_code == 302 and response.url == LIBRARY

    job = VideoJob.objects.get()
    assert (job.learner, job.video_type, job.status) == (
        demo.learner,
        "practice_session",
        JobStatus.QUEUED,
    )
    assert job.parameters == {
        "domain": "security-identity",
        "topic": "access keys",
        "difficulty": "medium",
        "questions": 4,
    }
    assert job.rq_job_id in queued_ids(rq_queues)  # queued for a worker, not rendered here

    library = text(alex.get(LIBRARY))
    assert "Your practice session on Security and Identity is being made" in library
    assert "Practice session: Security and Identity" in library  # under "Being made"


def test_a_practice_session_without_a_domain_practises_the_weakest_areas(alex, demo):
    response = alex.post(NEW, practice(demo, **{"practice-domain": ""}))
    assert response.status_code == 302
    assert VideoJob.objects.get().parameters == {"difficulty": "medium", "questions": 4}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"practice-questions": 0}, "questions", "greater than or equal to 1"),
        ({"practice-questions": 11}, "questions", "less than or equal to 10"),
        ({"practice-questions": "a few"}, "questions", "Enter a whole number."),
        ({"practice-difficulty": "extreme"}, "difficulty", "Select a valid choice."),
        ({"practice-difficulty": ""}, "difficulty", "This field is required."),
        ({"practice-domain": "999999"}, "domain", "Choose a domain from the list."),
        ({"practice-certification": "999999"}, "certification", "Choose one of your"),
        ({"practice-topic": "x" * 201}, "topic", "at most 200 characters"),
    ],
)
def test_bad_practice_requests_show_the_field_error_and_make_nothing(
    alex, demo, change, field, message
):
    response = alex.post(NEW, practice(demo, **change))
    assert response.status_code == 400
    page = text(response)
    errors = re.search(rf'<ul class="errorlist" id="id_practice-{field}_error">(.*?)</ul>', page)
    assert errors is not None and message in errors.group(1)
    assert "Please correct the 1 problem marked below." in page
    assert not VideoJob.objects.exists()


def test_another_learners_certification_cannot_be_practised(alex, demo):
    other = user_build()
    theirs = certification_build(domains={"omega": 100})
    assessment_build(learner=other, certification=theirs, scores={"omega": 40})
    response = alex.post(
        NEW,
        practice(
            demo,
            **{
                "practice-certification": theirs.pk,
                "practice-domain": theirs.domains.get().pk,
            },
        ),
    )
    assert response.status_code == 400
    assert "Choose one of your certifications." in text(response)
    assert not VideoJob.objects.exists()


def test_a_domain_of_another_of_the_learners_certifications_is_refused(alex, demo):
    second = certification_build(name="Second Cert", domains={"omega": 100})
    assessment_build(learner=demo.learner, certification=second, scores={"omega": 40})
    response = alex.post(NEW, practice(demo, **{"practice-domain": second.domains.get().pk}))
    assert response.status_code == 400
    assert "That domain is not part of Cloud Foundations Associate." in text(response)
    assert not VideoJob.objects.exists()


def test_a_difficulty_without_questions_is_refused_before_anything_is_made(client):
    learner = user_build()
    cert = certification_build(name="Tiny Cert", domains={"alpha": 100})
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40})
    PracticeQuestion.objects.create(
        domain=cert.domains.get(), question="Q?", choices=["a", "b"], answer_index=0,
        difficulty="easy",
    )  # fmt: skip
    client.force_login(learner)
    form = {
        "kind": "practice",
        "practice-certification": cert.pk,
        "practice-domain": cert.domains.get().pk,
        "practice-difficulty": "hard",
        "practice-questions": 3,
    }
    response = client.post(NEW, form)
    assert response.status_code == 400
    assert "There are no hard practice questions in Alpha yet" in text(response)
    assert not VideoJob.objects.exists()
    assert client.post(NEW, {**form, "practice-difficulty": "easy"}).status_code == 302


def test_creating_is_post_only_and_needs_the_csrf_token(demo):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(demo.learner)
    assert strict.post(NEW, practice(demo)).status_code == 403
    assert strict.get(NEW, practice(demo)).status_code == 200  # GET only shows the page
    assert strict.get(RECOMMENDED).status_code == 405
    assert not VideoJob.objects.exists()


def test_a_post_without_a_form_kind_is_a_clear_400(alex):
    response = alex.post(NEW, {"kind": "music_video"})
    assert response.status_code == 400
    assert "Choose which video to request" in text(response)
    assert not VideoJob.objects.exists()


# --- professional introductions --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("Jordan Lee CV.pdf", pdf_build(TECH_CV)),
        ("jordan.DOCX", docx_build(TECH_CV)),
        ("jordan.txt", "\n".join(TECH_CV).encode()),
    ],
)
def test_an_introduction_from_a_pdf_docx_or_text_cv(alex, name, data):
    response = alex.post(NEW, introduction(name, data))
    assert response.status_code == 302 and response.url == LIBRARY
    job = VideoJob.objects.get()
    assert (job.video_type, job.certification) == ("introduction", None)
    assert job.parameters["cv"]["name"] == "Jordan Lee"
    assert job.parameters["cv"]["industry"] == "technology"
    assert "industry" not in job.parameters
    assert "Your professional introduction is being made" in text(alex.get(LIBRARY))


def test_an_introduction_for_a_chosen_industry(alex):
    response = alex.post(
        NEW, introduction("cv.pdf", pdf_build(TECH_CV), **{"introduction-industry": "finance"})
    )
    assert response.status_code == 302
    assert VideoJob.objects.get().parameters["industry"] == "finance"


def _zip_without_a_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a Word document")
    return out.getvalue()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("cv.exe", b"MZ binary"), "Upload your CV as a PDF, a Word (DOCX) document or a text"),
        (("cv.doc", b"old word"), "Upload your CV as a PDF, a Word (DOCX) document or a text"),
        (("cv.pdf", b"just some text"), "named .pdf but its content is something else"),
        (("cv.docx", pdf_build(TECH_CV)), "named .docx but its content is a PDF"),
        (("cv.txt", pdf_build(TECH_CV)), "named .txt but its content is a PDF"),
        (("cv.pdf", b"%PDF-1.4\n garbage garbage"), "The PDF is damaged and cannot be read"),
        (("cv.docx", _zip_without_a_document()), "a ZIP archive, not a Word document"),
        (("cv.docx", b"PK\x03\x04 broken"), "The Word document is damaged"),
        (("cv.txt", b"x" * (2 * 1024 * 1024 + 1)), "The file is 2.0 MB; the limit is 2 MB."),
        (("cv.txt", b""), "The submitted file is empty."),
        (("cv.txt", b"   \n  "), "The file is empty."),
    ],
)
def test_bad_cv_uploads_show_a_clear_error_and_make_nothing(alex, upload, message):
    response = alex.post(NEW, introduction(*upload))
    assert response.status_code == 400
    page = text(response)
    errors = re.search(r'<ul class="errorlist" id="id_introduction-cv_error">(.*?)</ul>', page)
    assert errors is not None and message in errors.group(1)
    assert not VideoJob.objects.exists()


def test_an_introduction_needs_a_file_and_a_known_industry(alex):
    response = alex.post(NEW, {"kind": "introduction", "introduction-industry": "astrology"})
    assert response.status_code == 400
    page = text(response)
    assert "Please correct the 2 problems marked below." in page
    assert "This field is required." in page and "Select a valid choice." in page
    assert not VideoJob.objects.exists()


# --- recommendations: watch or request in one click -------------------------------


def _watched_two_videos(demo) -> None:
    for title in ("Your roadmap", "Keep going"):
        job = video_job_build(
            learner=demo.learner, certification=demo.certification, status=JobStatus.READY
        )
        video = video_build(job=job, title=title)
        WatchProgress.objects.create(
            learner=demo.learner, video=video, position_seconds=30, seconds_watched=30,
            completed=True,
        )  # fmt: skip


@pytest.mark.usefixtures("media_root")
def test_the_home_page_offers_to_request_a_recommended_video_in_one_click(
    alex, demo, rq_queues, django_capture_on_commit_callbacks
):
    _watched_two_videos(demo)
    home = recommended_section(text(alex.get(reverse("home"))))
    assert "Practice session: Security and Identity" in home
    assert "You have watched 2 videos: practise your weakest area, Security and Identity" in home
    assert "Exam prep: Cloud Foundations Associate" in home  # 64% overall
    assert home.count(">Request this video</button>") == 2
    assert f'action="{RECOMMENDED}"' in home

    with django_capture_on_commit_callbacks(execute=True):
        response = alex.post(
            RECOMMENDED,
            {
                "video_type": "practice_session",
                "certification": demo.certification.pk,
                "domain": "security-identity",
            },
        )
    assert response.status_code == 302 and response.url == LIBRARY
    job = VideoJob.objects.get(video_type="practice_session")
    assert job.parameters == {"domain": "security-identity"} and job.status == JobStatus.QUEUED
    assert job.rq_job_id in queued_ids(rq_queues)
    library = text(alex.get(LIBRARY))
    assert "Practice session: Security and Identity is being made" in library

    # a second click (or an old page) does not make it twice
    response = alex.post(
        RECOMMENDED,
        {
            "video_type": "practice_session",
            "certification": demo.certification.pk,
            "domain": "security-identity",
        },
        follow=True,
    )
    assert "Practice session: Security and Identity is already being made" in text(response)
    assert VideoJob.objects.filter(video_type="practice_session").count() == 1

    # while it is being made, home no longer offers it
    recommended = recommended_section(text(alex.get(reverse("home"))))
    assert "Practice session: Security and Identity" not in recommended
    assert "Exam prep: Cloud Foundations Associate" in recommended
    assert recommended.count(">Request this video</button>") == 1


@pytest.mark.usefixtures("media_root")
def test_a_recommended_video_that_exists_is_watched_in_one_click(alex, demo):
    job = video_job_build(
        learner=demo.learner,
        certification=demo.certification,
        assessment=demo.assessment,
        video_type="remediation",
        parameters={"domain": "security-identity"},
        status=JobStatus.READY,
    )
    video = video_build(
        job=job,
        title="Security and Identity, step by step",
        domain=demo.certification.domains.get(slug="security-identity"),
    )
    home = text(alex.get(reverse("home")))
    player = reverse("portal:video_player", args=[video.pk])
    assert (
        f'<a class="button" style="margin-top:0;text-decoration:none;display:inline-block" '
        f'href="{player}" aria-label="Watch Security and Identity, step by step">Watch</a>'
    ) in home
    assert "Your weakest area: Security and Identity" in home


def test_exam_prep_in_one_click(alex, demo):
    response = alex.post(
        RECOMMENDED, {"video_type": "exam_prep", "certification": demo.certification.pk}
    )
    assert response.status_code == 302
    job = VideoJob.objects.get()
    assert (job.video_type, job.certification, job.assessment) == (
        "exam_prep",
        demo.certification,
        demo.assessment,
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"video_type": "celebration"}, "This video cannot be requested in one click."),
        ({"video_type": "practice_session"}, "Choose a domain to practise."),
        ({"video_type": "practice_session", "domain": "astrology"}, "has no domain 'astrology'"),
        ({"video_type": "exam_prep", "certification": "nope"}, "Take an assessment for"),
    ],
)
def test_a_bad_one_click_request_is_a_400_that_makes_nothing(alex, demo, payload, message):
    response = alex.post(RECOMMENDED, {"certification": demo.certification.pk, **payload})
    assert response.status_code == 400
    page = text(response)
    assert "That video could not be requested." in page and message in page
    assert not VideoJob.objects.exists()


def test_one_click_refuses_another_learners_certification_and_a_low_score(alex, demo):
    other = user_build()
    theirs = certification_build(domains={"omega": 100})
    assessment_build(learner=other, certification=theirs, scores={"omega": 90})
    response = alex.post(RECOMMENDED, {"video_type": "exam_prep", "certification": theirs.pk})
    assert response.status_code == 400
    assert "Take an assessment for this certification first." in text(response)

    low = certification_build(name="Low Cert", domains={"alpha": 100})
    assessment_build(learner=demo.learner, certification=low, scores={"alpha": 30})
    response = alex.post(RECOMMENDED, {"video_type": "exam_prep", "certification": low.pk})
    assert response.status_code == 400
    assert "Exam prep opens at 50% overall; your latest score in Low Cert is 30%" in text(response)
    assert not VideoJob.objects.exists()
