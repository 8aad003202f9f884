"""Property tests for the CV parser (Hypothesis).

Whatever is uploaded (any bytes under any extension, PDFs and Word documents cut short
or with bytes flipped, archives that inflate far beyond their size, text in odd
encodings), cv_parse either reads a profile or raises CvError with a message for the
learner: never another exception, and never minutes of work on a small file.
"""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.videos.scriptwriting.test_cv import TECH_CV, docx_build, pdf_build, pdf_page_build
from videos.scriptwriting import CvError, CvProfile, cv_parse
from videos.scriptwriting.cv import DOCX_MAX_XML_BYTES, PDF_MAX_CONTENT_BYTES

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXTENSIONS = [".pdf", ".docx", ".txt", ".md", "", ".doc", ".exe", ".png", ".PDF", ".tar.gz"]
PDF = pdf_build(TECH_CV)
DOCX = docx_build(TECH_CV, [["Python", "AWS"], ["Go", "SQL"]])


def read(filename: str, data: bytes) -> CvProfile | str:
    """The profile, or the refusal's message; any other exception fails the test."""
    try:
        return cv_parse(filename=filename, data=data)
    except CvError as refused:
        message = str(refused)
        assert message.strip() and message[0].isupper() and message.endswith("."), message
        return message


@given(data=st.binary(max_size=2048), extension=st.sampled_from(EXTENSIONS))
@FAST
def test_any_bytes_under_any_name_read_or_are_refused_clearly(data, extension):
    result = read(f"cv{extension}", data)
    if isinstance(result, CvProfile):
        assert CvProfile.from_dict(result.as_dict()) == result


@given(
    magic=st.sampled_from([b"%PDF-", b"PK\x03\x04", b"\xff\xfe", b"\xef\xbb\xbf"]),
    tail=st.binary(max_size=1024),
    extension=st.sampled_from(EXTENSIONS),
)
@FAST
def test_a_right_signature_on_garbage_is_refused_clearly(magic, tail, extension):
    read(f"cv{extension}", magic + tail)


def _damaged(original: bytes, rnd: random.Random, cut: bool) -> bytes:
    if cut:
        return original[: rnd.randrange(1, len(original))]
    data = bytearray(original)
    for _ in range(rnd.randint(1, 8)):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    return bytes(data)


@given(
    kind=st.sampled_from([("cv.pdf", PDF), ("cv.docx", DOCX)]),
    seed=st.integers(0, 2**32 - 1),
    cut=st.booleans(),
)
@FAST
def test_cut_or_flipped_pdfs_and_word_documents_are_read_or_refused_clearly(kind, seed, cut):
    filename, original = kind
    result = read(filename, _damaged(original, random.Random(seed), cut))
    if isinstance(result, str):
        assert any(
            word in result for word in ("damaged", "not a", "No text", "not supported", "complex")
        ), result


def _docx_with(member: str, content: bytes, source: bytes = DOCX) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(source))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in original.infolist():
            data = content if item.filename == member else original.read(item.filename)
            archive.writestr(item.filename, data)
    return out.getvalue()


@given(
    member=st.sampled_from(zipfile.ZipFile(io.BytesIO(DOCX)).namelist()),
    content=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"",
                b"<not xml",
                b"<?xml version='1.0'?><wrong-root/>",
                "<a>é</a>".encode("utf-16"),
                b'<!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;">]><a>&y;</a>',
            ]
        ),
    ),
)
@FAST
def test_a_word_document_with_a_broken_part_is_refused_clearly(member, content):
    result = read("cv.docx", _docx_with(member, content))
    if isinstance(result, str):
        assert "Word document" in result or "No text" in result, result


def test_a_word_document_that_inflates_far_beyond_a_cv_is_refused_quickly():
    """A zip bomb, lite: 6 MB of paragraphs in a ~30 KB file (before the check, a
    360 KB one inflating to 110 MB took four minutes to read)."""
    paragraph = b"<w:p><w:r><w:t>Senior Software Engineer</w:t></w:r></w:p>"
    body = paragraph * (DOCX_MAX_XML_BYTES // len(paragraph) + 1000)
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body>" + body + b"</w:body></w:document>"
    )
    bomb = _docx_with("word/document.xml", xml)
    assert len(bomb) < 100_000

    assert "far more than a CV" in read("cv.docx", bomb)


def _pdf_page(content: bytes) -> bytes:
    return pdf_page_build(content, deflate=True)


@pytest.mark.parametrize(
    "content",
    [
        # ~420 KB of text operators in a 1.4 KB file: seconds of parsing before the limit.
        b"BT /F1 11 Tf " + b"(Engineer) Tj " * 30_000 + b"ET",
        # 1 MB of blanks in a 1 KB file: past the content budget before any parsing.
        b" " * (PDF_MAX_CONTENT_BYTES * 4),
    ],
    ids=["operators", "inflated"],
)
def test_a_pdf_page_too_big_for_a_cv_is_refused(content):
    data = _pdf_page(content)
    assert len(data) < 250_000
    assert "too complex to read as a CV" in read("cv.pdf", data)


def test_a_pdf_page_of_normal_size_is_still_read():
    lines = b"".join(b"(%s) Tj T* " % line.encode() for line in TECH_CV)
    profile = read("cv.pdf", _pdf_page(b"BT /F1 11 Tf 14 TL 72 760 Td " + lines + b"ET"))
    assert isinstance(profile, CvProfile) and profile.name == "Jordan Lee"


# --- encodings ----------------------------------------------------------------------

first_names = st.sampled_from(["Zoë", "José", "Anaïs", "Jordan", "Søren", "Björn", "Łucja"])
last_names = st.sampled_from(["Lee", "Müller", "Núñez", "O'Brien", "Dupré", "Ørsted"])


@given(
    first=first_names,
    last=last_names,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1"]),
)
@settings(max_examples=25, deadline=None)
def test_a_text_cv_in_any_common_encoding_keeps_the_name(first, last, encoding):
    name = f"{first} {last}"
    text = "\n".join([name, *TECH_CV[1:]])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return  # "Ł" has no Latin-1 byte: such a file cannot exist
    profile = read("cv.txt", data)
    assert isinstance(profile, CvProfile), profile
    assert profile.name == name and profile.industry == "technology"


@given(name=st.builds("{} {}".format, first_names, last_names))
@settings(max_examples=10, deadline=None)
def test_the_same_cv_reads_the_same_from_pdf_docx_and_text(name):
    lines = [name, *TECH_CV[1:]]
    try:
        pdf = pdf_build(lines)
    except UnicodeEncodeError:
        pdf = None  # the hand-written PDF uses Latin-1 strings
    profiles = [
        read("cv.txt", "\n".join(lines).encode()),
        read("cv.docx", docx_build(lines)),
        *([read("cv.pdf", pdf)] if pdf else []),
    ]
    assert all(isinstance(p, CvProfile) and p.name == name for p in profiles), profiles
    assert len({(p.years_experience, p.industry, tuple(p.roles)) for p in profiles}) == 1


@pytest.mark.parametrize(
    "data",
    [
        "山田太郎\nソフトウェアエンジニア".encode("shift_jis"),
        "Иван Петров\nИнженер".encode("koi8-r"),
        "\n".join(TECH_CV).encode("utf-16-le"),  # no byte-order mark: NUL bytes throughout
        "\n".join(TECH_CV).encode("utf-8")[:-3] + b"\xe2\x82",  # cut inside a character
    ],
    ids=["shift-jis", "koi8-r", "utf-16-without-bom", "utf-8-cut"],
)
def test_text_in_other_encodings_is_read_or_refused_clearly(data):
    read("cv.txt", data)
