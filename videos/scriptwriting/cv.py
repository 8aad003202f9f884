"""Reading an uploaded CV (PDF, DOCX or plain text) into a CvProfile.

The file type is decided by its content (magic bytes), checked against its
name, so a renamed or damaged file gets a clear message instead of garbage.
The profile comes from simple heuristics over the text: good enough to
personalise a one-minute introduction, and each is tested on its own.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import zipfile
from collections import Counter
from datetime import date
from pathlib import PurePath
from typing import Any

from .types import CvProfile

_LOGGER = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_PAGES = 20  # a CV longer than this is not a CV; later pages add nothing we use
MAX_SKILLS, MAX_ROLES = 15, 5
# What a real CV stays far below; past these a file is damaged or built to exhaust us.
PDF_MAX_CONTENT_BYTES = 256 * 1024  # page content, decompressed, over the pages read
PDF_MAX_CONTENT_ITEMS = 100_000  # operators and operands in one content stream
DOCX_MAX_UNPACKED_BYTES = 30 * 1024 * 1024  # everything in the archive, images included
DOCX_MAX_XML_BYTES = 5 * 1024 * 1024  # the document's XML parts
DOCX_MAX_PARAGRAPHS, DOCX_MAX_TABLES, DOCX_MAX_TABLE_ROWS = 3000, 50, 200
TEXT_EXTENSIONS = frozenset({"", ".txt", ".text", ".md"})
KNOWN_UNSUPPORTED = {
    ".doc": "an old Word document (.doc); save it as DOCX or PDF",
    ".odt": "an OpenDocument file; save it as DOCX or PDF",
    ".rtf": "a rich text file; save it as DOCX or PDF",
    ".pages": "a Pages document; export it as DOCX or PDF",
}


class CvError(ValueError):
    """The upload cannot be read as a CV; the message tells the learner what to do."""


def cv_parse(*, filename: str, data: bytes) -> CvProfile:
    return cv_profile_read(text=cv_text_extract(filename=filename, data=data))


def cv_text_extract(*, filename: str, data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise CvError(f"The CV is {len(data) / 1024 / 1024:.1f} MB; the limit is 5 MB.")
    if not data.strip():
        raise CvError("The file is empty.")
    extension = PurePath(filename or "").suffix.lower()
    if data.startswith(b"%PDF-"):
        text = _pdf_text(data)
    elif data.startswith(b"PK\x03\x04"):
        text = _docx_text(data)
    elif extension == ".pdf":
        raise CvError("The file is named .pdf but is not a PDF; it may be damaged.")
    elif extension == ".docx":
        raise CvError("The file is named .docx but is not a Word document; it may be damaged.")
    elif extension in KNOWN_UNSUPPORTED:
        raise CvError(f"This is {KNOWN_UNSUPPORTED[extension]}.")
    elif extension not in TEXT_EXTENSIONS:
        raise CvError(
            f"Files of type {extension} are not supported; upload a PDF, DOCX or text file."
        )
    else:
        text = _plain_text(data)
    text = text.replace("\x00", "").strip()
    if not text:
        raise CvError(
            "No text could be read from the CV. A scanned PDF is an image: upload the "
            "original document instead."
        )
    return text


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError

    encrypted = False
    try:
        # Tighter limits than pypdf's defaults (75 MB a stream): a CV page is tens of KB,
        # and a few KB of compressed text operators can otherwise cost seconds to parse.
        with apply_configuration(
            zlib_maximum_output_length=PDF_MAX_CONTENT_BYTES,
            maximum_declared_stream_length=PDF_MAX_CONTENT_BYTES,
            stream_parsing_work_maximum_count=PDF_MAX_CONTENT_ITEMS,
        ):
            reader = PdfReader(io.BytesIO(data))
            encrypted = reader.is_encrypted
            if encrypted and not reader.decrypt(""):
                # Encrypted with an empty user password opens fine; anything else needs one.
                raise CvError("The PDF is password-protected; upload a copy without a password.")
            if len(reader.pages) == 0:
                raise CvError("The PDF has no pages; it may be damaged. Export it again.")
            return "\n".join(_pdf_pages_text(reader.pages[:MAX_PAGES]))
    except CvError:
        raise
    except LimitReachedError:
        raise CvError(_PDF_TOO_COMPLEX) from None
    except NotImplementedError:
        if encrypted:
            raise CvError("The PDF uses encryption this reader does not support.") from None
        raise CvError(
            "The PDF uses features this reader does not support; export it again."
        ) from None
    except Exception as exc:
        # pypdf raises a wide range of errors on damaged files (its own, ValueError,
        # KeyError, zlib.error, RecursionError on looping references...): all mean the
        # same to the learner, and none may become a server error.
        _LOGGER.info("unreadable PDF CV: %s: %s", type(exc).__name__, exc)
        raise CvError("The PDF is damaged and cannot be read; export it again.") from None


_PDF_TOO_COMPLEX = (
    "The PDF's pages are too complex to read as a CV; export it again as a plain "
    "document, or upload a DOCX or text file."
)


def _pdf_pages_text(pages: Any) -> list[str]:
    """The pages' text, until the pages read hold PDF_MAX_CONTENT_BYTES of content."""
    texts: list[str] = []
    budget = PDF_MAX_CONTENT_BYTES
    for page in pages:
        contents = page.get_contents()
        size = len(contents.get_data()) if contents is not None else 0
        if size > budget:
            if not any(text.strip() for text in texts):
                raise CvError(_PDF_TOO_COMPLEX)
            break  # the first pages of a CV say everything the introduction uses
        budget -= size
        texts.append(page.extract_text() or "")
    return texts


def _docx_text(data: bytes) -> str:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if "word/document.xml" not in {m.filename for m in members}:
                raise CvError(
                    "The file is a ZIP archive, not a Word document; upload a PDF, DOCX or "
                    "text file."
                )
            # The sizes the archive declares bound what zipfile will unpack (it stops
            # there and checks the CRC): a few hundred KB can otherwise inflate to
            # hundreds of MB of XML, minutes of parsing.
            unpacked = sum(m.file_size for m in members)
            xml = sum(m.file_size for m in members if not m.filename.startswith("word/media/"))
            if unpacked > DOCX_MAX_UNPACKED_BYTES or xml > DOCX_MAX_XML_BYTES:
                raise CvError(
                    f"The Word document unpacks to {unpacked / 1024 / 1024:.0f} MB, far more "
                    "than a CV; save it again without embedded files, or upload a PDF."
                )
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs[:DOCX_MAX_PARAGRAPHS]]
        for table in document.tables[:DOCX_MAX_TABLES]:
            for row in table.rows[:DOCX_MAX_TABLE_ROWS]:
                lines.append(" | ".join(cell.text for cell in row.cells))
    except CvError:
        raise
    except Exception as exc:
        # Damaged archives and parts raise many types (BadZipFile, zlib.error,
        # NotImplementedError for unsupported ZIP features, lxml's XMLSyntaxError,
        # AttributeError from python-docx when a part has the wrong root element...):
        # all mean "damaged" to the learner, and none may become a server error.
        _LOGGER.info("unreadable DOCX CV: %s: %s", type(exc).__name__, exc)
        raise CvError("The Word document is damaged and cannot be read; save it again.") from None
    return "\n".join(lines)


# Byte-order marks of the UTF-16/32 files Windows Notepad saves as "Unicode".
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _plain_text(data: bytes) -> str:
    encodings = ["utf-8-sig", "cp1252"]
    wide = next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)
    if wide:
        encodings = [wide]  # NUL bytes are expected in these
    elif b"\x00" in data[:4096]:
        raise CvError("This is not a text file; upload a PDF, DOCX or text file.")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CvError("This is not a text file; upload a PDF, DOCX or text file.")
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if printable < 0.95 * len(text):
        raise CvError("This is not a text file; upload a PDF, DOCX or text file.")
    return text


# --- the profile ------------------------------------------------------------------

_SECTION = re.compile(
    r"^\s*(?P<name>(?:professional |work |career |employment )?(?:experience|history)|"
    r"employment|work history|career history|education|qualifications|"
    r"(?:technical |key |core )?skills|core competencies|competencies|"
    r"(?:professional )?summary|profile|about me|objective|certifications|"
    r"languages|interests|references|projects|publications|awards)\s*:?\s*$",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+"
    r"|\d{1,2}\s*/\s*"
)
_RANGE = re.compile(
    rf"(?:{_MONTH})?(?P<start>(?:19|20)\d{{2}})\s*(?:-|–|—|to|until)\s*"
    rf"(?:(?:{_MONTH})?(?P<end>(?:19|20)\d{{2}})|(?P<now>present|current|now|today|date))",
    re.IGNORECASE,
)
_YEARS = re.compile(
    r"(?P<n>\d{1,2})\+?\s*(?:years?|yrs?)\b['’]?(?:\s+of)?(?:\s+\w+){0,3}?\s+experience"
    r"|experience\s+(?:of\s+)?(?P<m>\d{1,2})\+?\s*(?:years?|yrs?)\b",
    re.IGNORECASE,
)
_ROLE_WORDS = re.compile(
    r"\b(engineer|developer|programmer|architect|manager|director|analyst|consultant|"
    r"administrator|specialist|scientist|designer|nurse|physician|doctor|surgeon|"
    r"pharmacist|therapist|technician|teacher|lecturer|professor|tutor|instructor|"
    r"accountant|auditor|controller|advisor|adviser|officer|coordinator|lead|head of|"
    r"president|founder|assistant|associate|intern|executive|supervisor|"
    r"representative|clerk|trader|banker|underwriter|principal)\b",
    re.IGNORECASE,
)
_LINK_OR_EMAIL = re.compile(r"@|https?://|www\.")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "technology": (
        "software", "developer", "devops", "cloud", "kubernetes", "python", "java",
        "javascript", "saas", "programming", "api", "aws", "azure", "linux", "database",
        "it support", "cybersecurity", "network", "machine learning", "data engineer",
    ),
    "healthcare": (
        "hospital", "patient", "patients", "clinical", "clinic", "nurse", "nursing",
        "healthcare", "medical", "pharmacy", "physician", "ehr", "ward", "nhs", "icu",
    ),
    "finance": (
        "bank", "banking", "finance", "financial", "accounting", "accountant", "investment",
        "audit", "trading", "insurance", "fintech", "cfa", "cpa", "ledger", "tax",
        "portfolio", "treasury",
    ),
    "education": (
        "school", "teacher", "teaching", "university", "curriculum", "students", "student",
        "education", "lecturer", "classroom", "tutor", "pupils", "lesson", "academic",
    ),
}  # fmt: skip
_INDUSTRY_PATTERNS = {
    industry: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    for industry, words in INDUSTRY_WORDS.items()
}


def _is_contact(line: str) -> bool:
    """An e-mail, web or phone line. A phone has 9+ digits: "2016 - 2023" (8) is a date."""
    if _LINK_OR_EMAIL.search(line):
        return True
    return any(sum(ch.isdigit() for ch in m.group()) >= 9 for m in _PHONE.finditer(line))


def cv_profile_read(*, text: str, today: date | None = None) -> CvProfile:
    lines = [re.sub(r"\s+", " ", line).strip(" \t•▪◦·-*") for line in text.splitlines()]
    lines = [line for line in lines if line]
    sections = cv_sections_split(lines=lines)
    name = cv_name_find(lines=lines)
    roles = cv_roles_find(lines=sections.get("experience") or lines)
    return CvProfile(
        name=name,
        headline=cv_headline_find(lines=lines, name=name, roles=roles),
        years_experience=cv_years_find(text=text, sections=sections, today=today),
        skills=cv_skills_find(lines=lines, sections=sections),
        roles=roles,
        industry=cv_industry_detect(text=text),
    )


def cv_sections_split(*, lines: list[str]) -> dict[str, list[str]]:
    """Lines grouped under their section heading (experience, education, skills...)."""
    sections: dict[str, list[str]] = {}
    current = "header"
    for line in lines:
        match = _SECTION.match(line)
        if match:
            current = _section_key(match.group("name").lower())
            sections.setdefault(current, [])
            continue
        # "Skills: Python, SQL" is a heading and its content on one line.
        head, sep, rest = line.partition(":")
        inline = _SECTION.match(head) if sep and rest.strip() else None
        if inline:
            sections.setdefault(_section_key(inline.group("name").lower()), []).append(rest.strip())
            continue
        sections.setdefault(current, []).append(line)
    return sections


def _section_key(name: str) -> str:
    if "experience" in name or "employment" in name or "history" in name:
        return "experience"
    if "skill" in name or "competenc" in name:
        return "skills"
    if name in {"summary", "professional summary", "profile", "about me", "objective"}:
        return "summary"
    return name


def cv_name_find(*, lines: list[str]) -> str:
    for line in lines[:6]:
        labelled = re.match(r"^name\s*:\s*(.+)$", line, re.IGNORECASE)
        if labelled:
            return labelled.group(1).strip()
    for line in lines[:5]:
        if _SECTION.match(line) or _is_contact(line) or re.search(r"\d", line):
            continue
        words = line.split()
        if 2 <= len(words) <= 4 and all(_name_word(w) for w in words):
            if line.lower() in {"curriculum vitae", "resume", "résumé"} or _ROLE_WORDS.search(line):
                continue
            return line
    return ""


def _name_word(word: str) -> bool:
    """A capitalised word of letters in any alphabet ("Łucja", "Ørsted", "O'Brien"), or
    a word in a script without capitals; the old Latin-1 range missed "Łucja"."""
    return (
        word[0].isalpha()
        and not word[0].islower()
        and all(ch.isalpha() or ch in "'’.-" for ch in word)
    )


def cv_headline_find(*, lines: list[str], name: str, roles: list[str]) -> str:
    """The line under the name, when it reads like a title; else the latest role."""
    if name and name in lines[:6]:
        index = lines.index(name)
        for line in lines[index + 1 : index + 3]:
            if _SECTION.match(line) or _is_contact(line):
                continue
            if len(line.split()) <= 12 and not _RANGE.search(line):
                return line
            break
    return roles[0] if roles else ""


def cv_years_find(
    *, text: str, sections: dict[str, list[str]], today: date | None = None
) -> int | None:
    """Years of experience: a stated "N years of experience", else the dated roles."""
    stated = [int(m.group("n") or m.group("m")) for m in _YEARS.finditer(text)]
    stated = [n for n in stated if 0 < n <= 50]
    if stated:
        return max(stated)
    # Only the experience section's dates: a degree's years are not work experience.
    source = sections.get("experience")
    scope = "\n".join(source) if source else text
    now = (today or date.today()).year
    spans = []
    for match in _RANGE.finditer(scope):
        start = int(match.group("start"))
        end = now if match.group("now") else int(match.group("end"))
        if start <= end <= now:
            spans.append((start, end))
    if not spans:
        return None
    # Overlapping jobs count once.
    spans.sort()
    total, (cur_start, cur_end) = 0, spans[0]
    for start, end in spans[1:]:
        if start <= cur_end:
            cur_end = max(cur_end, end)
        else:
            total += cur_end - cur_start
            cur_start, cur_end = start, end
    total += cur_end - cur_start
    return total


def cv_skills_find(*, lines: list[str], sections: dict[str, list[str]]) -> list[str]:
    skills: list[str] = []
    for line in sections.get("skills", []):
        if _SECTION.match(line):
            break
        for item in re.split(r"[,;|•·▪/]|\s{2,}|\band\b", line):
            item = item.strip(" .:-–—\t")
            item = re.sub(r"^[\w ]{1,30}:\s*", "", item) if ":" in item else item
            if item and len(item) <= 40 and len(item.split()) <= 5:
                skills.append(item)
    unique: dict[str, str] = {}
    for skill in skills:
        unique.setdefault(skill.lower(), skill)
    return list(unique.values())[:MAX_SKILLS]


def cv_roles_find(*, lines: list[str]) -> list[str]:
    """Job titles: lines naming a role, cut before the employer and the dates."""
    roles: list[str] = []
    for line in lines:
        if len(line.split()) > 14 or _is_contact(line) or _SECTION.match(line):
            continue
        if not _ROLE_WORDS.search(line):
            continue
        title = _RANGE.sub("", line)
        title = re.split(r"\s+(?:at|@)\s+|\s+[-–—|]\s+|,|\(", title, maxsplit=1)[0]
        title = title.strip(" .:-–—|")
        fits = bool(title) and len(title.split()) <= 6 and _ROLE_WORDS.search(title)
        if fits and title.lower() not in {r.lower() for r in roles}:
            roles.append(title)
    return roles[:MAX_ROLES]


def cv_industry_detect(*, text: str) -> str:
    counts = Counter(
        {industry: len(pattern.findall(text)) for industry, pattern in _INDUSTRY_PATTERNS.items()}
    )
    best, hits = counts.most_common(1)[0]
    # Two mentions at least: one "database" in a nurse's CV does not make it tech.
    return best if hits >= 2 else "general"
