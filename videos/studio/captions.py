"""Caption text: sentence splitting, caption-sized chunks, wrapping and WebVTT.

Narration synthesizes one caption chunk at a time (see narration.py), so the
chunks made here decide both what a caption shows and where the voice breaks.
That is why chunking prefers clause boundaries (a natural place to breathe)
over bare word boundaries.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .types import Cue

CAPTION_WIDTH = 42  # characters per caption line (broadcast convention)
CAPTION_LINES = 2


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Abbreviations whose trailing period does not end a sentence.
_ABBREVIATIONS = _word_set("mr mrs ms dr prof sr jr vs approx dept fig e.g i.e cf inc ltd")
# A sentence ends at . ! ? or an ellipsis, maybe followed by closing quotes or
# brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_SENTENCE_START = re.compile(r"[\"'\u201c\u2018(\[]*[A-Z0-9]")

_DASHES = ("\u2014", "\u2013", "--", "-")  # em dash, en dash, ASCII stand-ins
_DASH_SPACED = re.compile(r"\s*(\u2014|\u2013|--)\s*|\s+(-)\s+")

# Costs for choosing chunk boundaries. Chunk count dominates (fewest chunks
# first); then where each cut falls (sentence and clause ends are free, comma
# next, a bare word gap worst); then the chunks are balanced in length.
_CHUNK_COST = 1_000_000
_BREAK_SENTENCE = 0
_BREAK_CLAUSE = 0  # ; : and dashes
_BREAK_COMMA = 150
_BREAK_PHRASE = 1_500  # a plain gap before a word that starts a phrase ("... | where ...")
_BREAK_WORD = 3_000
_BREAK_DANGLING = 6_000  # a chunk ending on "the", "of", "to" ... reads and sounds cut off
_PHRASE_STARTS = _word_set(
    "and but or nor so yet because which where when while who whom whose that then "
    "if unless until than as to for with without in on at from into by about"
)
_DANGLING = _word_set("a an the of to in on at for with by from and or my your our their its")

_TIMESTAMP = re.compile(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_TIMING_LINE = re.compile(r"^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$")
_TAG = re.compile(r"<[^>]*>")


def text_normalize(text: str) -> str:
    """Collapse runs of whitespace (newlines included) into single spaces."""
    return " ".join(text.split())


def sentences_split(text: str) -> list[str]:
    """Split prose into sentences (keeps abbreviations like "Dr." and "e.g." whole)."""
    text = text_normalize(text)
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start()]
        last_word = head.rsplit(" ", 1)[-1].lower().rstrip(".")
        follows = text[match.end() :]
        if last_word in _ABBREVIATIONS or not _SENTENCE_START.match(follows):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def caption_wrap(
    text: str, *, width: int = CAPTION_WIDTH, max_lines: int = CAPTION_LINES
) -> list[str] | None:
    """Wrap text into at most max_lines lines of at most width chars, or None if it can't fit.

    Two-line captions are balanced (the break that makes the lines most even),
    which reads better than a full first line and a stub.
    """
    words = text.split()
    if not words or any(len(word) > width for word in words):
        return None if words else []
    lines = _lines_greedy(words, width=width)
    if len(lines) > max_lines:
        return None
    if len(lines) == 2:
        lines = _lines_balance(words, width=width)
    return lines


def _lines_greedy(words: list[str], *, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _lines_balance(words: list[str], *, width: int) -> list[str]:
    best: list[str] = []
    best_diff = None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        if len(first) > width or len(second) > width:
            continue
        diff = abs(len(first) - len(second))
        if best_diff is None or diff < best_diff:
            best, best_diff = [first, second], diff
    return best


def _word_hard_split(word: str, *, width: int) -> list[str]:
    """Cut a word longer than width into even pieces (60 chars -> 30 + 30)."""
    if len(word) <= width:
        return [word]
    count = -(-len(word) // width)
    size = -(-len(word) // count)
    return [word[i : i + size] for i in range(0, len(word), size)]


def _word_break_cost(word: str, following: str) -> int:
    """How bad a place the gap between word and following is for a chunk boundary."""
    stripped = word.rstrip("\"'\u201d\u2019)]")
    if stripped.endswith((".", "!", "?", "\u2026")):
        return _BREAK_SENTENCE
    if stripped.endswith((";", ":")) or stripped.endswith(_DASHES):
        return _BREAK_CLAUSE
    if stripped.endswith(","):
        return _BREAK_COMMA
    if stripped.lower() in _DANGLING:
        return _BREAK_DANGLING
    if following.lower() in _PHRASE_STARTS:
        return _BREAK_PHRASE
    return _BREAK_WORD


def _words_tokenize(sentence: str, *, width: int) -> list[str]:
    # Give free-standing dashes spaces, then glue each dash to the word before
    # it so a chunk can end with "... fine \u2014" but never start with a dash.
    spaced = _DASH_SPACED.sub(lambda m: f" {m.group(1) or m.group(2)} ", sentence)
    words: list[str] = []
    for token in spaced.split():
        if token in _DASHES and words:
            words[-1] = f"{words[-1]} {token}"
        else:
            words.extend(_word_hard_split(token, width=width))
    return words


def caption_chunks(
    sentence: str, *, width: int = CAPTION_WIDTH, max_lines: int = CAPTION_LINES
) -> list[str]:
    """Split a sentence into caption-sized chunks, each wrapping into max_lines x width.

    Uses the fewest chunks possible, cutting at sentence ends, semicolons,
    colons and dashes first, then commas, then plain word gaps, and balancing
    chunk lengths among equally good cuts. A word longer than width is hard
    split into even pieces.
    """
    words = _words_tokenize(text_normalize(sentence), width=width)
    if not words:
        return []
    whole = " ".join(words)
    if caption_wrap(whole, width=width, max_lines=max_lines) is not None:
        return [whole]

    capacity = width * max_lines
    # best[i] = (cost, start of the last chunk) for the first i words.
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * len(words)
    for end in range(1, len(words) + 1):
        for start in range(end - 1, -1, -1):
            chunk = " ".join(words[start:end])
            if len(chunk) > capacity:
                break
            if caption_wrap(chunk, width=width, max_lines=max_lines) is None:
                continue
            last = end == len(words)
            cost = (
                best[start][0]
                + _CHUNK_COST
                + (capacity - len(chunk)) ** 2
                + (0 if last else _word_break_cost(words[end - 1], words[end]))
            )
            if cost < best[end][0]:
                best[end] = (cost, start)

    chunks: list[str] = []
    end = len(words)
    while end > 0:
        start = best[end][1]
        chunks.append(" ".join(words[start:end]))
        end = start
    return chunks[::-1]


def _timestamp_format(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _timestamp_parse(value: str) -> float:
    match = _TIMESTAMP.match(value)
    if not match:
        raise ValueError(f"malformed WebVTT timestamp {value!r}")
    hours, minutes, secs, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000


def _cue_lines(text: str, *, width: int) -> list[str]:
    """A cue's display lines, rewrapped where a line is too long; never blank."""
    lines: list[str] = []
    for line in text.splitlines():
        words = [piece for word in line.split() for piece in _word_hard_split(word, width=width)]
        if words:
            lines.extend(_lines_greedy(words, width=width))
    return lines


def vtt_write(*, cues: list[Cue], path: Path, width: int = CAPTION_WIDTH) -> None:
    """Write cues as a WebVTT file (HH:MM:SS.mmm timings, lines of at most width chars)."""
    blocks = ["WEBVTT"]
    previous_start = 0.0
    for index, cue in enumerate(cues, start=1):
        if not cue.end > cue.start >= 0:
            raise ValueError(f"cue {index} has bad timing {cue.start!r} --> {cue.end!r}")
        if cue.start < previous_start:
            raise ValueError(f"cue {index} starts before the cue ahead of it")
        previous_start = cue.start
        # Escape what WebVTT treats as markup (this also keeps "-->" out of cue text).
        lines = [html.escape(line, quote=False) for line in _cue_lines(cue.text, width=width)]
        timing = f"{_timestamp_format(cue.start)} --> {_timestamp_format(cue.end)}"
        blocks.append("\n".join([str(index), timing, *lines]))
    Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def vtt_parse(text: str) -> list[Cue]:
    """Parse WebVTT into cues; raises ValueError on malformed input.

    Accepts optional cue identifiers, cue settings, MM:SS.mmm timings, NOTE,
    STYLE and REGION blocks; strips markup tags and entities from cue text.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n{2,}", text.strip("\n"))
    header = blocks[0].split("\n", 1)[0]
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", header):
        raise ValueError("not a WebVTT file: the first line must be 'WEBVTT'")

    cues: list[Cue] = []
    for number, block in enumerate(blocks[1:], start=2):
        lines = block.split("\n")
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", lines[0]):
            continue
        if "-->" not in lines[0]:
            lines = lines[1:]  # a cue identifier
        if not lines or "-->" not in lines[0]:
            raise ValueError(f"WebVTT block {number} has no cue timing line: {block[:60]!r}")
        timing = _TIMING_LINE.match(lines[0])
        if not timing:
            raise ValueError(f"malformed WebVTT timing line {lines[0]!r}")
        start, end = _timestamp_parse(timing.group(1)), _timestamp_parse(timing.group(2))
        if end < start:
            raise ValueError(f"WebVTT cue ends before it starts: {lines[0]!r}")
        if cues and start < cues[-1].start:
            raise ValueError(f"WebVTT cues out of order at {lines[0]!r}")
        body = [html.unescape(_TAG.sub("", line)).strip() for line in lines[1:]]
        cues.append(Cue(start=start, end=end, text="\n".join(line for line in body if line)))
    return cues
