"""Small text helpers for narration: what a voice can read aloud, counted and split."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from videos.studio.types import PAUSE_MARKER

WORDS_PER_MINUTE = 150  # the seed design's speaking rate at speed 1.0

_PAUSE = re.compile(r"\[\s*pause\s+for\s+thinking\s*\]", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")
_LINE_MARK = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+•▪◦·‣–—]\s+|\d+[.)]\s+)", re.MULTILINE)
_SYMBOLS = re.compile(r"[*_`#|<>{}~^•▪◦‣]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def speakable(text: str) -> str:
    """Text a narrator reads as written: no markdown, URLs, bullets or stray symbols.

    The pause marker is kept (in its canonical spelling) because it becomes silence.
    """
    text = _PAUSE.sub("\0", text)  # protect the marker from the link/bracket rules
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("", text)
    text = _EMAIL.sub("", text)
    text = _LINE_MARK.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = text.replace("%", " percent").replace("&", " and ")
    text = _SYMBOLS.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return text.replace("\0", PAUSE_MARKER)


def unspeakable_find(text: str) -> list[str]:
    """What in `text` a voice would read badly (for validation and scoring notes)."""
    found = []
    if _URL.search(text):
        found.append("a URL")
    if _LINK.search(text) or _EMPHASIS.search(text) or re.search(r"(?m)^\s*#", text):
        found.append("markdown")
    if re.search(r"(?m)^\s*[-*•▪◦‣]\s+", text) or re.search(r"[•▪◦‣]", text):
        found.append("bullet symbols")
    return found


def words_count(text: str) -> int:
    """Spoken words: the pause marker is silence, not words."""
    return len(_WORD.findall(_PAUSE.sub(" ", text)))


def sentences_split(text: str) -> list[str]:
    plain = _PAUSE.sub(" ", text)
    return [s.strip() for s in _SENTENCE_END.split(plain) if _WORD.search(s)]


def sentences_first(text: str, *, count: int) -> str:
    return " ".join(sentences_split(text)[:count])


def number_say(value: float) -> str:
    """64.0 -> "64", 64.5 -> "64.5": whole numbers read better."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def names_join(names: Sequence[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    items = [n for n in names if n]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def sentence_end(text: str) -> str:
    """Ends a phrase with a full stop unless it already ends a sentence."""
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def normalise(text: str) -> str:
    """Lower-case words only, for matching terms regardless of punctuation."""
    return " ".join(w.lower() for w in _WORD.findall(text))


def name_say(name: str) -> str:
    """A name as a narrator says it: letters, digits and the apostrophes and hyphens
    inside names ("O'Brien", "Anne-Marie"), in any script. Emoji, symbols, markdown,
    dots ("www.", "Dr.") and e-mail domains go ("alex.rivera@example.com" -> "alex
    rivera"). Empty when nothing sayable is left, so the caller can fall back."""
    if "@" in name:  # an e-mail address used as a username: its local part is the name
        name = name.split("@", 1)[0]
    kept = "".join(
        ch if unicodedata.category(ch)[0] in "LMN" or ch in "'’-" else " "
        for ch in _PAUSE.sub(" ", name)
    )
    words = [w.strip("'’-") for w in kept.split()]
    return " ".join(w for w in words if any(unicodedata.category(ch)[0] in "LN" for ch in w))
