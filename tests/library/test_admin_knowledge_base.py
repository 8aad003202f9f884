"""Knowledge-base import and export from the admin."""

from io import StringIO

import pytest
import yaml
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from library.knowledge_base import knowledge_base_dump
from library.models import Certification, Domain
from library.services import DEMO_KNOWLEDGE_BASE
from tests.builders import user_build

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:library_certification_import"


@pytest.fixture
def staff_client(client):
    client.force_login(user_build(is_staff=True, is_superuser=True))
    return client


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def test_staff_import_a_file_and_land_on_the_certification(staff_client):
    text = DEMO_KNOWLEDGE_BASE.read_text()
    response = staff_client.post(
        reverse(IMPORT_URL), {"file": upload("cloud.yaml", text)}, follow=True
    )

    certification = Certification.objects.get(slug="cloud-foundations")
    assert response.redirect_chain[-1][0] == reverse(
        "admin:library_certification_change", args=[certification.pk]
    )
    assert "Imported Cloud Foundations Associate" in response.content.decode()
    entry = LogEntry.objects.get(object_id=str(certification.pk))
    assert entry.change_message.startswith("Imported from cloud.yaml:")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("kb.txt", "certification: {}", "Choose a .json, .yaml or .yml file."),
        ("kb.yaml", "certification: [unclosed", "invalid YAML"),
        ("kb.json", '{"certification": {"slug": "x", "name": "X"}}', "missing"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_changes(
    staff_client, name, text, message
):
    response = staff_client.post(reverse(IMPORT_URL), {"file": upload(name, text)})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Certification.objects.exists()


def test_an_invalid_file_leaves_an_existing_certification_untouched(staff_client):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    certification = Certification.objects.get(slug="cloud-foundations")
    before = knowledge_base_dump(certification=certification)
    data = yaml.safe_load(before)
    data["certification"]["domains"][0]["weight"] = 95  # weights no longer add up to 100

    response = staff_client.post(
        reverse(IMPORT_URL), {"file": upload("kb.yaml", yaml.safe_dump(data))}
    )

    assert "exam weights must add up to 100" in response.content.decode()
    assert knowledge_base_dump(certification=certification) == before


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("yaml", "application/yaml"), ("json", "application/json")]
)
def test_export_downloads_the_certification(staff_client, fmt, content_type):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    certification = Certification.objects.get(slug="cloud-foundations")
    change = staff_client.get(
        reverse("admin:library_certification_change", args=[certification.pk])
    )
    url = reverse("admin:library_certification_export", args=[certification.pk, fmt])
    assert url in change.content.decode()

    response = staff_client.get(url)

    assert response["Content-Type"].startswith(content_type)
    assert f'filename="cloud-foundations.{fmt}"' in response["Content-Disposition"]
    assert yaml.safe_load(response.content)["certification"]["slug"] == "cloud-foundations"


def test_learners_cannot_import_or_export(client):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    certification = Certification.objects.get(slug="cloud-foundations")
    client.force_login(user_build())
    for url in (
        reverse(IMPORT_URL),
        reverse("admin:library_certification_export", args=[certification.pk, "yaml"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_domains_edit_their_questions_inline(staff_client):
    call_command("import_knowledge_base", str(DEMO_KNOWLEDGE_BASE), stdout=StringIO())
    domain = Domain.objects.filter(certification__slug="cloud-foundations").first()
    page = staff_client.get(
        reverse("admin:library_domain_change", args=[domain.pk])
    ).content.decode()
    assert "questions-TOTAL_FORMS" in page and "concepts-TOTAL_FORMS" in page
    assert domain.questions.first().question[:40] in page
