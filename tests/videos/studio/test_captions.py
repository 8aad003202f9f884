"""Caption wrapping, chunking, sentence splitting and WebVTT writing/parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from videos.studio.captions import (
    caption_chunks,
    caption_wrap,
    sentences_split,
    vtt_parse,
    vtt_write,
)
from videos.studio.types import Cue

LONG_SENTENCE = (
    "Welcome back, Sam; in this session we will work through the three domains where "
    "your scores were lowest, starting with networking fundamentals, then security, and "
    "finally cloud architecture \u2014 which carries the most weight on the exam."
)
WORD_60 = "x" * 25 + "y" * 35


def _fits(chunk: str) -> bool:
    lines = caption_wrap(chunk)
    return lines is not None and 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines)


# --- caption_wrap ---------------------------------------------------------------------


def test_wrap_short_text_is_one_line() -> None:
    assert caption_wrap("It uses port 443.") == ["It uses port 443."]


def test_wrap_two_lines_are_balanced() -> None:
    text = "This is a short line that will wrap into two lines nicely ok"
    lines = caption_wrap(text)
    assert lines is not None
    assert len(lines) == 2
    assert " ".join(lines) == text
    assert all(len(line) <= 42 for line in lines)
    assert abs(len(lines[0]) - len(lines[1])) <= 8


def test_wrap_returns_none_when_it_cannot_fit() -> None:
    assert caption_wrap("word " * 30) is None
    assert caption_wrap(WORD_60) is None
    assert caption_wrap("a b c d e", width=3, max_lines=2) is None
    assert caption_wrap("a b c d e", width=3, max_lines=3) == ["a b", "c d", "e"]


def test_wrap_empty_text_is_no_lines() -> None:
    assert caption_wrap("   ") == []


# --- caption_chunks -------------------------------------------------------------------


def test_chunks_short_sentence_is_one_chunk() -> None:
    assert caption_chunks("  Which port   does HTTPS use? ") == ["Which port does HTTPS use?"]


def test_chunks_long_sentence_fit_and_keep_every_word() -> None:
    chunks = caption_chunks(LONG_SENTENCE)
    assert len(chunks) >= 3
    assert all(_fits(chunk) for chunk in chunks)
    assert " ".join(chunks).split() == LONG_SENTENCE.split()


def test_chunks_prefer_clause_boundaries() -> None:
    semicolon = (
        "The first half of this sentence is long enough to fill a caption; "
        "the second half is about as long and fills another one."
    )
    chunks = caption_chunks(semicolon)
    assert chunks[0].endswith(";")
    assert len(chunks) == 2

    comma = (
        "When you configure the load balancer for the first time, remember that health "
        "checks need an open port."
    )
    chunks = caption_chunks(comma)
    assert chunks[0].endswith(",")

    dash = (
        "Subnets divide a virtual network into smaller ranges \u2014 each one "
        "lives in exactly one availability zone."
    )
    chunks = caption_chunks(dash)
    assert chunks[0].endswith("\u2014")
    assert not chunks[1].startswith("\u2014")


def test_chunks_without_punctuation_split_at_words() -> None:
    sentence = " ".join(["alpha", "beta", "gamma", "delta"] * 12)
    chunks = caption_chunks(sentence)
    assert len(chunks) >= 3
    assert all(_fits(chunk) for chunk in chunks)
    assert " ".join(chunks) == sentence


def test_chunks_hard_split_a_60_char_word() -> None:
    chunks = caption_chunks(f"The token {WORD_60} is far too long.")
    assert all(_fits(chunk) for chunk in chunks)
    pieces = [word for chunk in chunks for word in chunk.split()]
    assert all(len(piece) <= 42 for piece in pieces)
    assert "".join(p for p in pieces if set(p) <= {"x", "y"}) == WORD_60


def test_chunks_of_nothing() -> None:
    assert caption_chunks("   ") == []


# --- sentences_split ------------------------------------------------------------------


def test_sentences_split_keeps_abbreviations() -> None:
    text = 'Hello Dr. Smith. How are you?  I am fine, e.g. good! "Quoted." 3 items follow.'
    assert sentences_split(text) == [
        "Hello Dr. Smith.",
        "How are you?",
        "I am fine, e.g. good!",
        '"Quoted."',
        "3 items follow.",
    ]


def test_sentences_split_without_final_punctuation() -> None:
    assert sentences_split("One. Two") == ["One.", "Two"]
    assert sentences_split("version 1.2 is out") == ["version 1.2 is out"]


# --- WebVTT ---------------------------------------------------------------------------


def _cues() -> list[Cue]:
    return [
        Cue(start=0.05, end=1.5, text="Which port does HTTPS use?"),
        Cue(start=1.5, end=4.25, text="It uses port 443, the standard\nfor TLS & <secure> sites"),
        Cue(start=3725.1234, end=3727.0, text="An hour in --> still fine."),
    ]


def test_vtt_write_is_valid_webvtt(tmp_path: Path) -> None:
    path = tmp_path / "captions.vtt"
    vtt_write(cues=_cues(), path=path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n\n")
    blocks = text.strip("\n").split("\n\n")
    assert len(blocks) == 4
    stamp = r"\d{2}:\d{2}:\d{2}\.\d{3}"
    for block in blocks[1:]:
        lines = block.split("\n")
        assert re.fullmatch(rf"{stamp} --> {stamp}", lines[1])
        assert 1 <= len(lines[2:]) <= 2
        assert all(0 < len(line) <= 42 for line in lines[2:])
    assert "01:02:05.123 --> 01:02:07.000" in text
    assert "&amp;" in text
    assert "&lt;secure&gt;" in text
    assert "in -->" not in text


def test_vtt_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "captions.vtt"
    cues = _cues()
    vtt_write(cues=cues, path=path)
    parsed = vtt_parse(path.read_text(encoding="utf-8"))
    assert [c.text for c in parsed] == [c.text for c in cues]
    for got, want in zip(parsed, cues, strict=True):
        assert got.start == pytest.approx(want.start, abs=0.0006)
        assert got.end == pytest.approx(want.end, abs=0.0006)


def test_vtt_write_rewraps_overlong_lines(tmp_path: Path) -> None:
    path = tmp_path / "captions.vtt"
    vtt_write(cues=[Cue(start=0.0, end=2.0, text=f"{LONG_SENTENCE[:80]} {WORD_60}")], path=path)
    (cue,) = vtt_parse(path.read_text(encoding="utf-8"))
    assert all(len(line) <= 42 for line in cue.text.split("\n"))


def test_vtt_write_rejects_bad_timing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timing"):
        vtt_write(cues=[Cue(start=2.0, end=1.0, text="backwards")], path=tmp_path / "x.vtt")
    with pytest.raises(ValueError, match="before"):
        vtt_write(
            cues=[Cue(start=2.0, end=3.0, text="b"), Cue(start=1.0, end=1.5, text="a")],
            path=tmp_path / "x.vtt",
        )


def test_vtt_parse_reasonable_foreign_vtt() -> None:
    text = (
        "\ufeffWEBVTT - made elsewhere\r\nKind: captions\r\n\r\n"
        "NOTE this is a comment\r\nover two lines\r\n\r\n"
        "STYLE\r\n::cue { color: yellow }\r\n\r\n"
        "intro\r\n00:01.000 --> 00:02.500 align:start position:10%\r\n"
        "<v Roger>Hello &amp; welcome</v>\r\n\r\n"
        "00:00:02.500 --> 00:00:04.000\r\nsecond <b>cue</b>\r\nline two\r\n"
    )
    assert vtt_parse(text) == [
        Cue(start=1.0, end=2.5, text="Hello & welcome"),
        Cue(start=2.5, end=4.0, text="second cue\nline two"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nhi\n",
        "00:00:01.000 --> 00:00:02.000\nhi\n",
        "WEBVTT\n\n00:00:1.000 --> 00:00:02.000\nhi\n",
        "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhi\n",
        "WEBVTT\n\n00:00:01.00 --> 00:00:02.000\nhi\n",
        "WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nhi\n",
        "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nhi\n",
        "WEBVTT\n\nan id\njust text, no timing\n",
        "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nb\n\n00:00:01.000 --> 00:00:02.000\na\n",
    ],
)
def test_vtt_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails for its own reason
        vtt_parse(text)
