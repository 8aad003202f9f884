import io
import zipfile
import zlib
from datetime import date

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from videos.scriptwriting import CvError, CvProfile, cv_parse
from videos.scriptwriting.cv import cv_industry_detect, cv_profile_read, cv_years_find

TODAY = date(2025, 6, 1)

TECH_CV = [
    "Jordan Lee",
    "Senior Software Engineer",
    "jordan.lee@example.com | +44 20 7946 0958 | www.jordanlee.dev",
    "Summary",
    "Software engineer who builds cloud services in Python.",
    "Experience",
    "Senior Software Engineer at Acme Cloud, Jan 2018 - Present",
    "Built a Kubernetes platform and APIs used by 40 teams.",
    "Software Developer, Bright Apps, 2014 - 2018",
    "Developed Java and Python services on AWS.",
    "Education",
    "BSc Computer Science, University of Leeds, 2010 - 2014",
    "Skills",
    "Python, Kubernetes, AWS; Terraform | SQL",
]


def pdf_build(lines: list[str]) -> bytes:
    """A minimal one-page PDF with real text (Helvetica), written by hand."""
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 760 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    return pdf_page_build("\n".join(ops).encode("latin-1"))


def pdf_page_build(content: bytes, *, deflate: bool = False) -> bytes:
    """A one-page PDF whose page content stream is `content` (optionally deflated)."""
    stream = zlib.compress(content, 9) if deflate else content
    length = b"<< /Length %d /Filter /FlateDecode >>" if deflate else b"<< /Length %d >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        length % len(stream) + b"\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_encrypt(data: bytes, *, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-pass", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_build(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- reading files ----------------------------------------------------------------


def test_a_pdf_cv_becomes_a_profile():
    profile = cv_parse(filename="Jordan Lee CV.pdf", data=pdf_build(TECH_CV))

    assert profile.name == "Jordan Lee"
    assert profile.headline == "Senior Software Engineer"
    assert profile.roles == ["Senior Software Engineer", "Software Developer"]
    assert profile.skills == ["Python", "Kubernetes", "AWS", "Terraform", "SQL"]
    assert profile.industry == "technology"
    assert profile.years_experience is not None and profile.years_experience >= 11


def test_a_docx_cv_with_a_table_becomes_a_profile():
    data = docx_build(
        [
            "Maria Gonzalez",
            "Registered Nurse",
            "Professional Experience",
            "Charge Nurse, St Mary's Hospital (2016 - 2023)",
            "Led a ward team caring for patients in intensive care.",
            "Staff Nurse, City Clinic, 2012 - 2016",
            "Skills: Patient assessment, Medication administration, EHR documentation",
        ],
        table=[["Languages", "English, Spanish"]],
    )

    profile = cv_parse(filename="maria.docx", data=data)

    assert profile.name == "Maria Gonzalez"
    assert profile.headline == "Registered Nurse"
    assert profile.roles == ["Charge Nurse", "Staff Nurse"]
    assert profile.skills == [
        "Patient assessment",
        "Medication administration",
        "EHR documentation",
    ]
    assert profile.years_experience == 11
    assert profile.industry == "healthcare"


def test_a_plain_text_cv_in_windows_encoding_is_read():
    text = "Chris Park\nFinancial Analyst\n8 years of experience in banking – café clients.\n"

    profile = cv_parse(filename="cv.txt", data=text.encode("cp1252"))

    assert profile.name == "Chris Park"
    assert profile.years_experience == 8
    assert profile.industry == "finance"


def test_a_pdf_with_an_empty_user_password_opens():
    data = pdf_encrypt(pdf_build(TECH_CV), user_password="")

    assert cv_parse(filename="cv.pdf", data=data).name == "Jordan Lee"


def test_the_profile_round_trips_and_garbage_reads_as_empty():
    profile = CvProfile(name="A B", headline="Nurse", years_experience=3, skills=["x"])

    assert CvProfile.from_dict(profile.as_dict()) == profile
    assert CvProfile.from_dict("nonsense") == CvProfile()
    assert (
        CvProfile.from_dict({"years_experience": "ten", "skills": "python", "industry": "space"})
        == CvProfile()
    )


# --- refusing files ----------------------------------------------------------------


def _refused(filename: str, data: bytes) -> str:
    with pytest.raises(CvError) as caught:
        cv_parse(filename=filename, data=data)
    return str(caught.value)


def test_a_password_protected_pdf_is_refused():
    data = pdf_encrypt(pdf_build(TECH_CV), user_password="secret")

    assert "password-protected" in _refused("cv.pdf", data)


def test_a_damaged_pdf_is_refused():
    whole = pdf_build(TECH_CV)
    assert "damaged" in _refused("cv.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 4)
    assert "damaged" in _refused("cv.pdf", whole[: len(whole) // 3])


def test_a_pdf_without_text_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)

    assert "No text could be read" in _refused("scan.pdf", out.getvalue())


def test_damaged_word_documents_are_refused():
    assert "damaged" in _refused("cv.docx", b"PK\x03\x04" + bytes(range(256)) * 4)

    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("word/document.xml", "<not xml")
    assert "damaged" in _refused("cv.docx", broken.getvalue())

    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "not a Word document" in _refused("cv.docx", other.getvalue())


def test_unsupported_and_garbage_files_are_refused_by_content_and_name():
    garbage = bytes(range(256)) * 8
    assert "named .pdf but is not a PDF" in _refused("cv.pdf", garbage)
    assert "named .docx but is not a Word document" in _refused("cv.docx", b"plain words")
    assert "not a text file" in _refused("cv.txt", garbage)
    assert "not a text file" in _refused("cv", garbage)
    assert "save it as DOCX or PDF" in _refused("cv.doc", b"\xd0\xcf\x11\xe0\xa1\xb1" + garbage)
    assert ".png are not supported" in _refused("me.png", b"\x89PNG\r\n\x1a\n" + garbage)


def test_empty_and_oversized_files_are_refused():
    assert "empty" in _refused("cv.txt", b"")
    assert "empty" in _refused("cv.txt", b"  \n\t ")
    assert "the limit is 5 MB" in _refused("cv.txt", b"a" * (5 * 1024 * 1024 + 1))


# --- heuristics ---------------------------------------------------------------------


def test_years_come_from_a_stated_number_first():
    text = "Over 12 years' experience as a developer.\nExperience\nDeveloper, 2020 - 2024"
    profile = cv_profile_read(text=text, today=TODAY)

    assert profile.years_experience == 12


def test_years_merge_overlapping_jobs_and_ignore_education():
    lines = [
        "Work History",
        "Analyst, Foo Bank, Mar 2015 - Dec 2019",
        "Part-time tutor, 2017 - 2018",
        "Manager, Bar Bank, 2020 - current",
        "Education",
        "MBA, 2008 - 2010",
    ]
    text = "\n".join(lines)
    sections = {"experience": lines[1:4], "education": lines[5:]}

    assert cv_years_find(text=text, sections=sections, today=TODAY) == 4 + 5


def test_no_dates_and_no_stated_years_means_unknown():
    assert cv_profile_read(text="Sam Smith\nLikes hiking.").years_experience is None


def test_a_cv_without_a_recognisable_name_has_none():
    profile = cv_profile_read(text="curriculum vitae\nsam@example.com\nSkills: Excel, Word")

    assert profile.name == ""
    assert profile.skills == ["Excel", "Word"]


@pytest.mark.parametrize(
    ("text", "industry"),
    [
        ("Software developer building cloud APIs in Python on AWS.", "technology"),
        ("Nurse on a hospital ward, caring for patients after surgery.", "healthcare"),
        ("Accountant in a bank: audit, tax and financial reporting.", "finance"),
        ("Teacher at a secondary school; wrote the maths curriculum for students.", "education"),
        ("Store supervisor: rotas, stock and customer service.", "general"),
        # One mention is not enough: a nurse who once used a database is not in tech.
        ("Store supervisor who kept the stock database tidy.", "general"),
    ],
)
def test_the_industry_is_detected_from_the_words_used(text, industry):
    assert cv_industry_detect(text=text) == industry
