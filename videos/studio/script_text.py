"""Reading a script from plain text or Markdown: `# Heading` lines start sections."""

from __future__ import annotations

import re

from videos.studio.types import Script, Section, VideoType

MAX_WORDS = 6000  # about 40 minutes of narration: far beyond any planned video
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


class ScriptError(ValueError):
    pass


def _plain(line: str) -> str:
    """Markdown inline formatting to what a narrator reads."""
    line = _LINK.sub(r"\1", line)
    line = _EMPHASIS.sub(r"\2", line)
    return _BULLET.sub("", line).strip()


def script_parse(*, text: str, video_type: VideoType | str, title: str = "") -> Script:
    try:
        kind = VideoType(video_type)
    except ValueError:
        choices = ", ".join(v.value for v in VideoType)
        raise ScriptError(f"unknown video type {video_type!r}; choose from {choices}") from None
    sections: list[tuple[str, list[str]]] = []
    heading = ""
    lines: list[str] = []
    for raw in text.splitlines():
        match = _HEADING.match(raw)
        if match:
            if heading or any(lines):
                sections.append((heading, lines))
            heading, lines = _plain(match.group(1)), []
        else:
            lines.append(_plain(raw))
    if heading or any(lines):
        sections.append((heading, lines))

    built = []
    for i, (head, body) in enumerate(sections):
        # Blank lines are paragraph breaks; a bullet without a full stop still ends a sentence.
        paragraphs = " ".join(
            line if not line or line[-1] in ".!?:;]" else f"{line}." for line in body if line
        )
        narration = re.sub(r"\s+", " ", paragraphs).strip()
        if not narration:
            if head and i == 0 and len(sections) > 1:
                title = title or head  # a lone title line above the first section
                continue
            raise ScriptError(f"section {head or i + 1!r} has a heading but no narration text")
        built.append(Section(heading=head or title or "Introduction", text=narration))
    if not built:
        raise ScriptError("the script has no narration text")
    words = sum(len(s.text.split()) for s in built)
    if words > MAX_WORDS:
        raise ScriptError(f"the script has {words} words; the limit is {MAX_WORDS}")
    return Script(
        video_type=kind,
        title=title or built[0].heading,
        sections=tuple(built),
    )
