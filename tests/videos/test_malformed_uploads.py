"""Malformed CV uploads through the real "request a video" page.

The simple cases (a wrong extension, a renamed PDF, empty and oversized files) are in
test_request_views.py; these are the ones fuzzing found or that need built files:
executables and images under a CV's name, Word documents whose parts are broken or
that inflate far beyond a CV, PDF pages too big to parse. Each is a 400 with the
reason on the CV field, and no job.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests.builders import user_build
from tests.videos.scriptwriting.test_cv import TECH_CV, docx_build
from videos.models import VideoJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rq_queues")]

NEW = reverse("requests:new")
DOCX = docx_build(TECH_CV)


@pytest.fixture
def learner_client(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(user_build())
    return client


def post_cv(client, name: str, data: bytes):
    return client.post(
        NEW,
        {
            "kind": "introduction",
            "introduction-cv": SimpleUploadedFile(name, data),
            "introduction-industry": "",
        },
    )


def cv_errors(response) -> str:
    page = unescape(re.sub(r"\s+", " ", response.content.decode()))
    found = re.search(r'<ul class="errorlist" id="id_introduction-cv_error">(.*?)</ul>', page)
    assert found is not None, "no error on the CV field"
    return found.group(1)


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, format=fmt)
    return out.getvalue()


def _docx_with(member: str, content: bytes) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(DOCX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in original.infolist():
            data = content if item.filename == member else original.read(item.filename)
            archive.writestr(item.filename, data)
    return out.getvalue()


def _docx_with_a_broken_deflate_stream() -> bytes:
    """document.xml's compressed bytes overwritten: zipfile raises zlib.error (a 500
    before the parser caught it)."""
    data = bytearray(DOCX)
    header = zipfile.ZipFile(io.BytesIO(DOCX)).getinfo("word/document.xml").header_offset
    name_length, extra_length = struct.unpack("<HH", data[header + 26 : header + 30])
    start = header + 30 + name_length + extra_length
    data[start : start + 40] = b"\xff" * 40
    return bytes(data)


def _docx_bomb() -> bytes:
    paragraph = b"<w:p><w:r><w:t>Senior Software Engineer</w:t></w:r></w:p>"
    return _docx_with(
        "word/document.xml",
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + paragraph * 120_000 + b"</w:body></w:document>",
    )


def _pdf_with_a_huge_page() -> bytes:
    stream = zlib.compress(b"BT /F1 11 Tf " + b"(Engineer) Tj " * 30_000 + b"ET", 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cv.pdf", b"MZ\x90\x00\x03" + bytes(500), "named .pdf but its content is something"),
        ("cv.pdf", _image("PNG"), "named .pdf but its content is something else"),
        ("cv.docx", _image("JPEG"), "named .docx but its content is something else"),
        ("cv.txt", _image("PNG"), "This is not a text file"),
        ("photo.jpg", _image("JPEG"), "Upload your CV as a PDF, a Word (DOCX) document or a text"),
        ("cv.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Upload your CV as a PDF"),
        ("cv.docx", _docx_with_a_broken_deflate_stream(), "The Word document is damaged"),
        (
            "cv.docx",
            _docx_with("[Content_Types].xml", b"<?xml version='1.0'?><wrong/>"),
            "The Word document is damaged",
        ),
        (
            "cv.docx",
            _docx_with("word/document.xml", b"<?xml version='1.0'?><wrong/>"),
            "The Word document is damaged",
        ),
        ("cv.docx", _docx_bomb(), "far more than a CV"),
        ("cv.pdf", _pdf_with_a_huge_page(), "too complex to read as a CV"),
        ("cv.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20, "The PDF is damaged"),
    ],
    ids=[
        "exe-as-pdf",
        "png-as-pdf",
        "jpeg-as-docx",
        "png-as-txt",
        "jpeg",
        "svg",
        "docx-broken-deflate",
        "docx-wrong-content-types",
        "docx-wrong-document-root",
        "docx-bomb",
        "pdf-huge-page",
        "pdf-garbage",
    ],
)
def test_a_malformed_cv_is_a_400_naming_the_field_and_makes_nothing(
    learner_client, name, data, message
):
    response = post_cv(learner_client, name, data)

    assert response.status_code == 400
    assert message in cv_errors(response)
    assert not VideoJob.objects.exists()


def test_a_text_cv_saved_as_unicode_by_notepad_is_read(learner_client):
    """UTF-16 with a byte-order mark was refused as "not a text file" (its NUL bytes)."""
    response = post_cv(learner_client, "cv.txt", "\n".join(TECH_CV).encode("utf-16"))

    assert response.status_code == 302
    assert VideoJob.objects.get().parameters["cv"]["name"] == "Jordan Lee"
