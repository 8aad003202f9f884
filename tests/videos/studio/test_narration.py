"""Real Piper narration: the WAV, cues timed from the audio, voice controls, mouth envelope.

Every test synthesizes real speech with the bundled joe voice; scripts are a
sentence or two so the whole module stays a few seconds of CPU.
"""

from __future__ import annotations

import itertools
import math
import shutil
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from videos.studio.captions import text_normalize
from videos.studio.narration import (
    Narration,
    UnknownVoiceError,
    mouth_envelope,
    narration_synthesize,
    voice_load,
    voice_loads_count,
    voices_available,
)
from videos.studio.types import FPS, PAUSE_MARKER, Script, Section, VideoType, VoiceConfig

QUESTION = "Which port does HTTPS use?"
ANSWER = (
    "Port 443 is the standard one for TLS, so browsers reach secure sites there by default "
    "without being told."
)
CLOSING = "Well done."
THINK = 1.0
SECTION_PAUSE = 0.5
SHORT = "Hello, this is a short test of the narration voice."


def _script(*texts: str) -> Script:
    sections = tuple(Section(heading=f"Part {i + 1}", text=t) for i, t in enumerate(texts))
    return Script(video_type=VideoType.PRACTICE_SESSION, title="Test", sections=sections)


def _samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0, rate


def _voiced_frames(samples: np.ndarray, rate: int, *, threshold: float = 0.01) -> np.ndarray:
    """Centre times (s) of the 10 ms frames that are clearly audible."""
    frame = rate // 100
    count = samples.size // frame
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    return (np.flatnonzero(rms > threshold) + 0.5) * frame / rate


def _f0_median(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency (60-400 Hz) of the loud 40 ms frames, by YIN.

    YIN's cumulative-mean-normalised difference picks the first period that
    repeats well, so it does not jump an octave the way a raw autocorrelation
    peak does.
    """
    size, lo, hi = int(0.04 * rate), rate // 400, rate // 60
    found = []
    for start in range(0, samples.size - size - hi, size // 2):
        frame = samples[start : start + size + hi]
        base = frame[:size]
        if np.sqrt(np.mean(base**2)) < 0.03:
            continue
        diff = np.array([np.sum((base - frame[lag : lag + size]) ** 2) for lag in range(hi + 1)])
        lags = np.arange(1, hi + 1)
        normalised = np.ones(hi + 1)
        normalised[1:] = diff[1:] * lags / np.maximum(np.cumsum(diff[1:]), 1e-12)
        below = np.flatnonzero(normalised[lo:] < 0.2)
        if below.size == 0:
            continue
        lag = lo + int(below[0])
        while lag < hi and normalised[lag + 1] < normalised[lag]:
            lag += 1  # slide to the bottom of the dip
        found.append(rate / lag)
    assert len(found) > 10
    return float(np.median(found))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("narration")


@pytest.fixture(scope="module")
def practice(workdir: Path) -> tuple[Narration, list[float]]:
    """Two sections: a question, a think pause, a long answer (two cues); then a closing."""
    progress: list[float] = []
    narration = narration_synthesize(
        script=_script(f"{QUESTION} {PAUSE_MARKER} {ANSWER}", CLOSING),
        voice=VoiceConfig(think_pause=THINK, section_pause=SECTION_PAUSE),
        dest=workdir / "practice.wav",
        on_progress=progress.append,
    )
    return narration, progress


@pytest.fixture(scope="module")
def plain(workdir: Path) -> Narration:
    """SHORT at default speed and pitch, the baseline for the voice-control tests."""
    return narration_synthesize(
        script=_script(SHORT), voice=VoiceConfig(), dest=workdir / "plain.wav"
    )


def test_wav_is_valid_and_matches_the_narration(practice: tuple[Narration, list[float]]) -> None:
    narration, _ = practice
    with wave.open(str(narration.wav_path), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == narration.sample_rate == 22_050
        assert wav.getnframes() / wav.getframerate() == pytest.approx(narration.duration, abs=1e-9)
    assert 4.0 < narration.duration < 15.0
    assert not narration.wav_path.with_name("practice.wav.part").exists()


def test_cues_are_ordered_inside_the_audio_and_fit(
    practice: tuple[Narration, list[float]],
) -> None:
    narration, _ = practice
    cues = narration.cues
    assert len(cues) == 4  # the question, the answer in two chunks, the closing
    for cue in cues:
        assert 0.0 <= cue.start < cue.end <= narration.duration
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(0 < len(line) <= 42 for line in lines)
    for before, after in itertools.pairwise(cues):
        assert before.end <= after.start
    spoken = " ".join(cue.text.replace("\n", " ") for cue in cues)
    assert spoken == text_normalize(f"{QUESTION} {ANSWER} {CLOSING}")


def test_cues_cover_the_speech_measured_from_the_samples(
    practice: tuple[Narration, list[float]],
) -> None:
    narration, _ = practice
    samples, rate = _samples(narration.wav_path)
    voiced = _voiced_frames(samples, rate)
    assert voiced.size > 100
    starts = np.array([cue.start for cue in narration.cues])
    ends = np.array([cue.end for cue in narration.cues])
    covered = ((voiced[:, None] >= starts - 0.01) & (voiced[:, None] <= ends + 0.01)).any(axis=1)
    assert covered.all(), f"speech outside every cue at {voiced[~covered][:5]}"
    # ...and each cue holds its own speech: a cue starts near its first voiced frame.
    for cue in narration.cues:
        inside = voiced[(voiced >= cue.start) & (voiced <= cue.end)]
        assert inside.size >= 20
        assert inside[0] - cue.start < 0.1
    # The speech spans are what the cues were timed from.
    assert len(narration.speech_spans) == len(narration.cues)
    for (start, end), cue in zip(narration.speech_spans, narration.cues, strict=True):
        assert cue.start == start
        assert end <= cue.end


def test_think_pause_is_real_silence(practice: tuple[Narration, list[float]]) -> None:
    narration, _ = practice
    samples, rate = _samples(narration.wav_path)
    ((start, end),) = narration.think_pauses
    assert end - start == pytest.approx(THINK, abs=1 / rate)
    question, answer = narration.cues[0], narration.cues[1]
    assert question.end <= start + 0.5
    assert end <= answer.start
    assert np.all(samples[round(start * rate) : round(end * rate)] == 0.0)
    # Including Piper's own padding, the gap between the two voices is at least THINK.
    quiet = np.abs(samples) < 0.001
    longest = run = 0
    for value in quiet:
        run = run + 1 if value else 0
        longest = max(longest, run)
    assert longest / rate >= THINK


def test_section_starts_and_pause(practice: tuple[Narration, list[float]]) -> None:
    narration, _ = practice
    first, second = narration.section_starts
    assert first == 0.0
    last_answer, closing = narration.cues[2], narration.cues[3]
    assert last_answer.start < second <= closing.start
    # section_pause of digital silence sits right before the second section.
    samples, rate = _samples(narration.wav_path)
    gap = samples[round((second - SECTION_PAUSE) * rate) : round(second * rate)]
    assert np.all(gap == 0.0)


def test_progress_reaches_one(practice: tuple[Narration, list[float]]) -> None:
    _, progress = practice
    assert progress
    assert progress == sorted(progress)
    assert progress[-1] == pytest.approx(1.0)


def test_mouth_envelope_follows_the_speech(practice: tuple[Narration, list[float]]) -> None:
    narration, _ = practice
    envelope = mouth_envelope(wav_path=narration.wav_path)
    assert envelope.dtype == np.float32
    assert len(envelope) == math.ceil(narration.duration * FPS)
    assert envelope.min() >= 0.0
    assert envelope.max() == pytest.approx(1.0, abs=0.05)
    ((start, end),) = narration.think_pauses
    frames = np.arange(len(envelope))
    in_pause = (frames / FPS >= start) & ((frames + 1) / FPS <= end)
    assert in_pause.sum() >= THINK * FPS - 2
    assert np.all(envelope[in_pause] == 0.0)
    for span_start, span_end in narration.speech_spans:
        in_speech = (frames / FPS >= span_start) & ((frames + 1) / FPS <= span_end)
        assert (envelope[in_speech] > 0).mean() > 0.6


def test_mouth_envelope_reads_in_blocks_with_any_fps(plain: Narration) -> None:
    at_25 = mouth_envelope(wav_path=plain.wav_path, fps=25)
    at_30 = mouth_envelope(wav_path=plain.wav_path, fps=30)
    assert len(at_30) == math.ceil(plain.duration * 30)
    assert abs(at_25.mean() - at_30.mean()) < 0.1


def test_speed_shortens_the_audio(plain: Narration, workdir: Path) -> None:
    fast = narration_synthesize(
        script=_script(SHORT), voice=VoiceConfig(speed=1.5), dest=workdir / "fast.wav"
    )
    assert fast.duration < 0.85 * plain.duration
    assert fast.cues[-1].end <= fast.duration


def test_pitch_shift_changes_pitch_not_duration(plain: Narration, workdir: Path) -> None:
    base = _f0_median(*_samples(plain.wav_path))
    for semitones in (4.0, -4.0):
        shifted = narration_synthesize(
            script=_script(SHORT),
            voice=VoiceConfig(pitch=semitones),
            dest=workdir / f"pitch{semitones:+.0f}.wav",
        )
        ratio = _f0_median(*_samples(shifted.wav_path)) / base
        # 4 semitones is a 26% change. The unshifted voice's own median pitch
        # varies by up to ~8% from one take to the next, hence the wide margin.
        assert ratio == pytest.approx(2 ** (semitones / 12), rel=0.2)
        assert (ratio > 1.0) == (semitones > 0)
        assert shifted.duration == pytest.approx(plain.duration, rel=0.15)


def test_model_is_loaded_once(plain: Narration, workdir: Path) -> None:
    loads = voice_loads_count()
    assert loads >= 1
    voice = voice_load(voice_id="joe")
    narration_synthesize(script=_script("Again."), voice=VoiceConfig(), dest=workdir / "again.wav")
    assert voice_load(voice_id="joe") is voice
    assert voice_loads_count() == loads


def test_concurrent_first_loads_load_once(tmp_path: Path) -> None:
    # A voice the process has not loaded yet (the bundled model under another
    # name), asked for by four threads at once.
    joe = voices_available()["joe"]
    (tmp_path / "en_US-twin-medium.onnx").symlink_to(joe.model_path)
    shutil.copy(joe.config_path, tmp_path / "en_US-twin-medium.onnx.json")
    loads = voice_loads_count()
    with ThreadPoolExecutor(max_workers=4) as pool:
        voices = list(
            pool.map(
                lambda _: voice_load(voice_id="en_US-twin-medium", voices_dir=tmp_path), range(4)
            )
        )
    assert all(voice is voices[0] for voice in voices)
    assert voice_loads_count() == loads + 1


def test_unknown_voice_lists_the_available_ones(workdir: Path) -> None:
    with pytest.raises(UnknownVoiceError, match="available voices: joe"):
        voice_load(voice_id="nobody")
    with pytest.raises(ValueError, match="nobody"):
        narration_synthesize(
            script=_script(SHORT), voice=VoiceConfig(voice_id="nobody"), dest=workdir / "x.wav"
        )


def test_voices_available_offers_voices_from_a_directory(tmp_path: Path) -> None:
    bundled = voices_available()
    assert list(bundled) == ["joe"]
    joe = bundled["joe"]
    assert joe.language == "en_US"
    assert joe.sample_rate == 22_050
    assert joe.model_path.is_file()
    assert joe.config_path.is_file()

    (tmp_path / "en_US-test-medium.onnx").symlink_to(joe.model_path)
    shutil.copy(joe.config_path, tmp_path / "en_US-test-medium.onnx.json")
    (tmp_path / "orphan.onnx").write_bytes(b"")  # no config next to it: not a voice
    voices = voices_available(voices_dir=tmp_path)
    assert sorted(voices) == ["en_US-test-medium", "joe"]
    assert voices["en_US-test-medium"].model_path == tmp_path / "en_US-test-medium.onnx"


@pytest.mark.parametrize(
    ("voice", "message"),
    [
        (VoiceConfig(speed=0.4), "speed"),
        (VoiceConfig(speed=2.5), "speed"),
        (VoiceConfig(speed=float("nan")), "speed"),
        (VoiceConfig(pitch=7.0), "pitch"),
        (VoiceConfig(think_pause=-1.0), "think_pause"),
        (VoiceConfig(section_pause=float("inf")), "section_pause"),
    ],
)
def test_bad_voice_settings_raise(voice: VoiceConfig, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        narration_synthesize(script=_script(SHORT), voice=voice, dest=tmp_path / "x.wav")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (_script(), "no sections"),
        (_script(SHORT, "   "), "section 2"),
        (_script(f" {PAUSE_MARKER} ... "), "no speakable"),
    ],
)
def test_empty_scripts_raise(script: Script, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        narration_synthesize(script=script, voice=VoiceConfig(), dest=tmp_path / "x.wav")
