"""Checks every rendered video before a learner sees it.

`video_check` opens the file with PyAV (container, codecs, size, duration), then
makes ONE pass in this process that decodes every frame and every sample and
feeds them, through PyAV's filter graphs, to FFmpeg's `blackdetect` (video) and
`ebur128`, `astats` and `silencedetect` (audio); the figures come from the
frames' metadata. Captions are parsed strictly and compared with where the audio
is not silent. Optionally, pocketsphinx transcribes the audio (16 kHz mono,
resampled in the same pass) and we report how many of the script's content
words it heard.

Nothing raises to the caller: a missing, truncated or non-video file gives a
report that fails with a reason.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import av.filter
import av.logging
from av.container import InputContainer

# Thresholds, in one place so the lead can tune them.
DURATION_FLOOR = 1.0  # seconds; the tolerance is never tighter than this
AUDIO_PEAK_MIN_DB = -40.0  # below this sample peak (dBFS) the audio is "silent"
AUDIO_RMS_MIN_DB = -60.0  # ... or below this overall RMS (dBFS)
LOUDNESS_RANGE = (-30.0, -10.0)  # integrated loudness, LUFS (EBU R128)
BLACK_LONGEST_MAX = 2.0  # seconds; a black stretch this long fails
BLACK_SHARE_MAX = 0.20  # fraction of the duration that may be black in total
BLACK_MIN_STRETCH = 0.5  # seconds; shorter black (a fade, a cut) is not counted
# blackdetect's pixel threshold is a fraction of the luma range: 0.05 means
# Y < 27 (of 16..235). The studio background #0f172a has Y ~ 35, which ffmpeg's
# default 0.10 (Y < 38) would call black, so a sparse slide could be flagged.
BLACK_PIXEL_TH = 0.05
BLACK_PICTURE_TH = 0.98  # fraction of a frame's pixels that must be black
SILENCE_NOISE_DB = -45.0  # silencedetect: quieter than this is silence
SILENCE_MIN = 0.35  # seconds; shorter gaps (between words) count as speech
CAPTION_COVERAGE_MIN = 0.80  # fraction of speech time inside some cue
CAPTION_OVERLAP_SLACK = 0.05  # seconds two consecutive cues may overlap (rounding)
CAPTION_END_SLACK = 0.5  # seconds a cue may end after the video does
# Fraction of the script's content words pocketsphinx hears: measured 0.53-0.79 on
# Piper narration of the right script, 0.0 for an unrelated one.
SPEECH_RECOVERED_MIN = 0.30
DB_FLOOR = -120.0  # stands in for -inf dB so figures stay JSON-safe

# Check names, in report order.
CONTAINER = "container"
DECODE = "decode"
DURATION = "duration"
RESOLUTION = "resolution"
AUDIO_LEVEL = "audio_level"
LOUDNESS = "loudness"
BLACK_FRAMES = "black_frames"
CAPTIONS_VALID = "captions_valid"
CAPTIONS_COVERAGE = "captions_coverage"
SPEECH_RECOGNITION = "speech_recognition"
ANALYSIS = "analysis"  # only when the checker itself broke (a bug): the report then fails
CHECK_NAMES = (
    CONTAINER,
    DECODE,
    DURATION,
    RESOLUTION,
    AUDIO_LEVEL,
    LOUDNESS,
    BLACK_FRAMES,
    CAPTIONS_VALID,
    CAPTIONS_COVERAGE,
    SPEECH_RECOGNITION,
)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    figure: float | str | None
    detail: str
    skipped: bool = False  # not run (not asked for, or a tool or input missing); never fails


@dataclass
class QualityReport:
    checks: list[Check]
    seconds: float = 0.0  # how long the check took
    passed: bool = field(init=False)
    reasons: list[str] = field(init=False)  # "name: detail" of each failed check

    def __post_init__(self) -> None:
        self.passed = all(check.passed for check in self.checks)
        self.reasons = [
            f"{check.name}: {check.detail}" for check in self.checks if not check.passed
        ]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check_get(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)


@dataclass
class _Probe:
    """What PyAV reads from the container's headers."""

    format_name: str
    brand: str  # MP4 major brand ("isom", "mp42", ...; "qt  " is QuickTime)
    faststart: bool  # moov before mdat: the browser can start playing at once
    duration: float
    video_codec: str | None = None
    pixel_format: str | None = None
    width: int = 0
    height: int = 0
    audio_codec: str | None = None


@dataclass
class _Analysis:
    """What the decoding pass measured."""

    completed: bool  # False when it was stopped (timed out)
    errors: list[str]  # decoder and demuxer errors
    black: list[tuple[float, float]] = field(default_factory=list)
    silences: list[tuple[float, float]] = field(default_factory=list)
    peak_db: float | None = None
    rms_db: float | None = None
    lufs: float | None = None
    pcm: bytes = b""  # 16 kHz mono s16le, only when speech recognition was asked for


def media_duration(*, path: Path) -> float | None:
    """The container's duration in seconds, or None when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            if container.duration:
                return float(container.duration) / av.time_base
    except (av.FFmpegError, OSError, ValueError):
        pass
    return None


def video_check(
    *,
    video_path: Path,
    expected_duration: float | None = None,
    duration_tolerance: float = 0.1,
    expected_size: tuple[int, int] | None = None,
    captions_path: Path | None = None,
    script_text: str | None = None,
    speech_recognition: bool = False,
) -> QualityReport:
    """Check a rendered video; see the module docstring. Never raises."""
    started = time.monotonic()
    try:
        checks = checks_run(
            video_path=Path(video_path),
            expected_duration=expected_duration,
            duration_tolerance=duration_tolerance,
            expected_size=expected_size,
            captions_path=Path(captions_path) if captions_path is not None else None,
            script_text=script_text,
            speech_recognition=speech_recognition,
        )
    except Exception as error:  # a bug here must not take the render job down with it
        checks = [Check(ANALYSIS, False, None, f"quality check crashed: {error!r}")]
    return QualityReport(checks=checks, seconds=round(time.monotonic() - started, 3))


def checks_run(
    *,
    video_path: Path,
    expected_duration: float | None,
    duration_tolerance: float,
    expected_size: tuple[int, int] | None,
    captions_path: Path | None,
    script_text: str | None,
    speech_recognition: bool,
) -> list[Check]:
    opened = container_open(path=video_path)
    if isinstance(opened, Check):
        return [opened, *checks_skipped(reason="not run: the file is not a video")]
    with opened as container:  # one open for the headers and the decoding pass
        probe, container_check = container_inspect(path=video_path, container=container)
        if probe is None:
            return [container_check, *checks_skipped(reason="not run: the file is not a video")]
        recognizer_ready, recognizer_note = recognizer_available()
        want_speech = speech_recognition and bool(script_text) and recognizer_ready
        analysis = media_analyse(container=container, probe=probe, want_pcm=want_speech)

    checks = [container_check, decode_judge(analysis=analysis)]
    checks.append(
        duration_judge(probe=probe, expected=expected_duration, tolerance=duration_tolerance)
    )
    checks.append(resolution_judge(probe=probe, expected=expected_size))
    audio_check = audio_level_judge(probe=probe, analysis=analysis)
    checks.append(audio_check)
    audible = audio_check.passed and not audio_check.skipped
    checks.append(loudness_judge(analysis=analysis, audible=audible, audio_note=audio_check.detail))
    checks.append(black_judge(probe=probe, analysis=analysis))
    captions_check, cues = captions_judge(path=captions_path, duration=probe.duration)
    checks.append(captions_check)
    checks.append(
        coverage_judge(cues=cues, analysis=analysis, duration=probe.duration, audible=audible)
    )
    if not speech_recognition:
        checks.append(Check(SPEECH_RECOGNITION, True, None, "not requested", skipped=True))
    elif not script_text:
        checks.append(Check(SPEECH_RECOGNITION, True, None, "no script text given", skipped=True))
    elif not recognizer_ready:
        checks.append(Check(SPEECH_RECOGNITION, True, None, recognizer_note, skipped=True))
    elif not audible:
        checks.append(Check(SPEECH_RECOGNITION, True, None, "no audible audio", skipped=True))
    else:
        checks.append(
            speech_judge(
                pcm=analysis.pcm, silences=analysis.silences, script_text=script_text or ""
            )
        )
    return checks


def checks_skipped(*, reason: str) -> list[Check]:
    return [Check(name, True, None, reason, skipped=True) for name in CHECK_NAMES[1:]]


# --- container ---------------------------------------------------------------------------------


def container_open(*, path: Path) -> InputContainer | Check:
    """Open the file with PyAV, or the failed container check that says why it cannot be."""
    if not path.is_file():
        return Check(CONTAINER, False, None, f"file not found: {path}")
    if path.stat().st_size == 0:
        return Check(CONTAINER, False, None, f"file is empty: {path}")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as error:
        return Check(CONTAINER, False, None, f"not a readable video file: {error}")


def container_inspect(*, path: Path, container: InputContainer) -> tuple[_Probe | None, Check]:
    """Read the headers; the check passes for an MP4 with H.264 (yuv420p) + AAC."""
    try:
        probe = _Probe(
            format_name=container.format.name,
            brand="",
            faststart=False,
            duration=container.duration / av.time_base if container.duration else 0.0,
        )
        if container.streams.video:
            video = container.streams.video[0]
            probe.video_codec = video.codec_context.name
            probe.pixel_format = video.codec_context.pix_fmt
            probe.width, probe.height = video.codec_context.width, video.codec_context.height
        if container.streams.audio:
            probe.audio_codec = container.streams.audio[0].codec_context.name
    except (av.FFmpegError, OSError, ValueError) as error:
        return None, Check(CONTAINER, False, None, f"not a readable video file: {error}")
    if probe.video_codec is None:
        return None, Check(CONTAINER, False, probe.audio_codec, "no video stream")
    probe.brand, probe.faststart = mp4_boxes_read(path=path)

    codecs = f"{probe.video_codec}/{probe.audio_codec or 'none'}"
    problems = []
    if "mp4" not in probe.format_name or probe.brand in ("", "qt  "):
        problems.append(f"not an MP4 (format {probe.format_name}, brand {probe.brand!r})")
    if probe.video_codec != "h264":
        problems.append(f"video codec is {probe.video_codec}, not h264")
    elif probe.pixel_format not in ("yuv420p", "yuvj420p"):
        # Browsers decode H.264 High 4:2:0 only; 4:4:4 or 10-bit will not play.
        problems.append(f"pixel format is {probe.pixel_format}, not yuv420p")
    if probe.audio_codec is None:
        problems.append("no audio stream")
    elif probe.audio_codec != "aac":
        problems.append(f"audio codec is {probe.audio_codec}, not aac")
    if problems:
        return probe, Check(CONTAINER, False, codecs, "; ".join(problems))
    start = "moov first (plays while downloading)" if probe.faststart else "moov at the end"
    return probe, Check(CONTAINER, True, codecs, f"MP4 ({probe.brand}) H.264 + AAC; {start}")


def mp4_boxes_read(*, path: Path) -> tuple[str, bool]:
    """The major brand and whether `moov` comes before `mdat`, from the top-level boxes."""
    brand = ""
    order: list[bytes] = []  # top-level box types, in file order
    with path.open("rb") as stream:
        size_total = path.stat().st_size
        offset = 0
        while offset + 8 <= size_total and len(order) < 64:
            stream.seek(offset)
            header = stream.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1 and len(header) == 16:  # 64-bit "largesize" follows the type
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # the box runs to the end of the file
                size = size_total - offset
            if size < 8:
                break
            if kind == b"ftyp":
                brand = header[8:12].decode("latin-1")
            order.append(kind)
            offset += size
    faststart = b"moov" in order and (
        b"mdat" not in order or order.index(b"moov") < order.index(b"mdat")
    )
    return brand, faststart


# --- the decoding pass -------------------------------------------------------------------------

# FFmpeg's own detectors, run in this process through PyAV's filter graphs: the
# same code and thresholds as the ffmpeg command line, without starting a
# process per video (that start-up alone cost ~30 ms of a ~50 ms check of a
# short clip). They report through each frame's metadata.
_BLACKDETECT = f"d={BLACK_MIN_STRETCH}:pix_th={BLACK_PIXEL_TH}:pic_th={BLACK_PICTURE_TH}"
# ebur128 comes first: it drops metadata an earlier filter attached to a frame.
# astats accumulates (reset=0), so the last frame carries the whole file's figures;
# so does ebur128's integrated loudness.
_AUDIO_FILTERS = (
    ("ebur128", "metadata=1"),
    ("astats", "metadata=1:reset=0:measure_perchannel=none:measure_overall=Peak_level+RMS_level"),
    ("silencedetect", f"n={SILENCE_NOISE_DB}dB:d={SILENCE_MIN}"),
)
# Frame threads pay off on long videos; on a clip of a few seconds starting
# them costs more than they save.
THREADED_FROM_SECONDS = 10.0
_LOG_LOCK = threading.Lock()


@dataclass
class _Pass:
    """What the detectors reported so far, while the file is decoded."""

    errors: list[str] = field(default_factory=list)
    black: list[tuple[float, float]] = field(default_factory=list)
    silences: list[tuple[float, float]] = field(default_factory=list)
    black_start: float | None = None
    silence_start: float | None = None
    last_picture: float = 0.0  # start of the last frame blackdetect saw
    audio_end: float = 0.0  # end of the last samples silencedetect saw
    peak: str | None = None
    rms: str | None = None
    lufs: str | None = None
    pcm: bytearray = field(default_factory=bytearray)

    def video_seen(self, frame: av.VideoFrame) -> None:
        metadata = frame.metadata
        if "lavfi.black_start" in metadata:
            self.black_start = float(metadata["lavfi.black_start"])
        if "lavfi.black_end" in metadata and self.black_start is not None:
            self.black.append((self.black_start, float(metadata["lavfi.black_end"])))
            self.black_start = None
        if frame.time is not None:
            self.last_picture = float(frame.time)

    def audio_seen(self, frame: av.AudioFrame) -> None:
        metadata = frame.metadata
        if "lavfi.silence_start" in metadata:
            self.silence_start = max(0.0, float(metadata["lavfi.silence_start"]))
        if "lavfi.silence_end" in metadata and self.silence_start is not None:
            self.silences.append((self.silence_start, float(metadata["lavfi.silence_end"])))
            self.silence_start = None
        self.peak = metadata.get("lavfi.astats.Overall.Peak_level", self.peak)
        self.rms = metadata.get("lavfi.astats.Overall.RMS_level", self.rms)
        self.lufs = metadata.get("lavfi.r128.I", self.lufs)
        if frame.time is not None and frame.sample_rate:
            self.audio_end = float(frame.time) + frame.samples / frame.sample_rate


def media_analyse(*, container: InputContainer, probe: _Probe, want_pcm: bool) -> _Analysis:
    """Decode the whole file once, in this process, feeding every detector.

    Video frames go through `blackdetect`; audio through `ebur128`, `astats` and
    `silencedetect`; with `want_pcm`, the audio is also resampled to 16 kHz mono
    for the recognizer. Decoder and demuxer errors are what FFmpeg logs at error
    level (captured from PyAV's log) plus what PyAV raises.

    Measured on 2 shared cores: a 1.4 s 480p studio clip ~15 ms (ffmpeg as a
    process: ~50 ms); 30 s of 720p testsrc2 ~1.2 s, decoding being the cost.
    `skip_loop_filter` saves ~15% without changing what blackdetect sees
    (as with the command line before); every frame is still decoded.
    """
    deadline = time.monotonic() + 120 + 2 * probe.duration
    state = _Pass()
    completed = True
    # PyAV's log level and capture are process-wide: one pass at a time, so two
    # checks in two threads never see each other's errors.
    with _LOG_LOCK:
        previous_level = av.logging.get_level()
        av.logging.set_level(av.logging.ERROR)  # PyAV drops FFmpeg's log unless a level is set
        try:
            # Not thread-local: frame-threaded decoders log from their own threads.
            with av.logging.Capture(local=False) as logs:
                try:
                    completed = _frames_feed(
                        container=container,
                        probe=probe,
                        want_pcm=want_pcm,
                        state=state,
                        deadline=deadline,
                    )
                except (av.FFmpegError, OSError, ValueError) as error:
                    state.errors.append(f"analysis stopped: {error}")
        finally:
            av.logging.set_level(previous_level)
    errors = [
        f"[{name}] {message.strip()}" for level, name, message in logs if level <= av.logging.ERROR
    ]
    errors += state.errors
    if not completed:
        errors.append(f"analysis timed out after {120 + 2 * probe.duration:.0f} s")
    # A stretch still open at the end runs to the end, as ffmpeg reports it;
    # blackdetect reports only stretches of at least its d=BLACK_MIN_STRETCH.
    if state.black_start is not None:
        state.black.append((state.black_start, max(state.black_start, state.last_picture)))
    if state.silence_start is not None:
        # The decoder's last frame may run past the container's end (encoder padding).
        end = min(state.audio_end, probe.duration) if probe.duration else state.audio_end
        state.silences.append((state.silence_start, max(state.silence_start, end)))
    lufs = _db_value(state.lufs)
    return _Analysis(
        completed=completed,
        errors=errors,
        black=[(start, end) for start, end in state.black if end - start >= BLACK_MIN_STRETCH],
        silences=state.silences,
        peak_db=_db_value(state.peak),
        rms_db=_db_value(state.rms),
        lufs=round(lufs, 1) if lufs is not None else None,  # ebur128's summary precision
        pcm=bytes(state.pcm),
    )


def _frames_feed(
    *, container: InputContainer, probe: _Probe, want_pcm: bool, state: _Pass, deadline: float
) -> bool:
    """Demux and decode every packet into the detector graphs; False if the deadline passed."""
    video = container.streams.video[0]
    video.codec_context.options = {"skip_loop_filter": "all"}
    if probe.duration >= THREADED_FROM_SECONDS:
        video.thread_type = "AUTO"
    video_graph = av.filter.Graph()
    chain = [
        video_graph.add_buffer(template=video),
        video_graph.add("blackdetect", _BLACKDETECT),
        video_graph.add("buffersink"),
    ]
    for upstream, downstream in itertools.pairwise(chain):
        upstream.link_to(downstream)
    video_graph.configure()
    graphs: dict[av.stream.Stream, tuple[av.filter.Graph, Callable[[Any], None]]] = {
        video: (video_graph, state.video_seen)
    }
    resampler = None
    if container.streams.audio:
        audio = container.streams.audio[0]
        audio_graph = av.filter.Graph()
        chain = [audio_graph.add_abuffer(template=audio)]
        chain += [audio_graph.add(name, options) for name, options in _AUDIO_FILTERS]
        chain.append(audio_graph.add("abuffersink"))
        for upstream, downstream in itertools.pairwise(chain):
            upstream.link_to(downstream)
        audio_graph.configure()
        graphs[audio] = (audio_graph, state.audio_seen)
        if want_pcm:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)

    for packet in container.demux(*graphs):
        if time.monotonic() > deadline:
            return False
        try:
            frames = packet.decode()
        except av.FFmpegError as error:  # logged too; the message says which call failed
            state.errors.append(f"[{packet.stream.type}] {error}")
            continue
        graph, seen = graphs[packet.stream]
        for frame in frames:
            if not isinstance(frame, av.VideoFrame | av.AudioFrame):
                continue  # only the two streams above are demuxed: never happens
            _graph_feed(graph=graph, frame=frame, seen=seen)
            if resampler is not None and isinstance(frame, av.AudioFrame):
                _pcm_add(state=state, frames=resampler.resample(frame))
    for graph, seen in graphs.values():
        _graph_feed(graph=graph, frame=None, seen=seen)  # flush: the last verdicts
    if resampler is not None:
        _pcm_add(state=state, frames=resampler.resample(None))
    return True


def _graph_feed(
    *,
    graph: av.filter.Graph,
    frame: av.VideoFrame | av.AudioFrame | None,
    seen: Callable[[Any], None],
) -> None:
    graph.push(frame)
    while True:
        try:
            seen(graph.pull())
        except (BlockingIOError, EOFError):  # wants more input / has flushed
            return


def _pcm_add(*, state: _Pass, frames: list[av.AudioFrame]) -> None:
    for frame in frames:
        state.pcm += bytes(frame.planes[0])[: frame.samples * 2]  # planes are padded


def _db_value(text: str | None) -> float | None:
    if text is None:
        return None
    value = float(text)  # float() reads "-inf" and "inf" too
    return DB_FLOOR if math.isnan(value) or value < DB_FLOOR else value


# --- judging the figures -----------------------------------------------------------------------


def decode_judge(*, analysis: _Analysis) -> Check:
    if not analysis.completed or analysis.errors:
        first = analysis.errors[0] if analysis.errors else "the analysis did not finish"
        detail = f"{len(analysis.errors)} decode error(s), first: {first.strip()[:200]}"
        return Check(DECODE, False, len(analysis.errors), detail)
    return Check(DECODE, True, 0, "every frame and sample decoded")


def duration_judge(*, probe: _Probe, expected: float | None, tolerance: float) -> Check:
    actual = round(probe.duration, 3)
    if expected is None:
        return Check(DURATION, True, actual, "no expected duration given", skipped=True)
    allowed = max(DURATION_FLOOR, tolerance * expected)
    detail = f"{actual:.2f} s, expected {expected:.2f} s ± {allowed:.2f} s"
    return Check(DURATION, abs(actual - expected) <= allowed, actual, detail)


def resolution_judge(*, probe: _Probe, expected: tuple[int, int] | None) -> Check:
    actual = f"{probe.width}x{probe.height}"
    if expected is None:
        return Check(RESOLUTION, True, actual, "no expected size given", skipped=True)
    wanted = f"{expected[0]}x{expected[1]}"
    return Check(RESOLUTION, actual == wanted, actual, f"{actual}, expected {wanted}")


def audio_level_judge(*, probe: _Probe, analysis: _Analysis) -> Check:
    if probe.audio_codec is None:
        return Check(AUDIO_LEVEL, True, None, "no audio stream (see container)", skipped=True)
    if analysis.peak_db is None or analysis.rms_db is None:
        return Check(AUDIO_LEVEL, False, None, "audio could not be measured")
    peak, rms = analysis.peak_db, analysis.rms_db
    detail = f"RMS {rms:.1f} dBFS, peak {peak:.1f} dBFS"
    if peak < AUDIO_PEAK_MIN_DB or rms < AUDIO_RMS_MIN_DB:
        detail = f"audio is silent: {detail} (needs peak ≥ {AUDIO_PEAK_MIN_DB:.0f} dBFS)"
        return Check(AUDIO_LEVEL, False, round(rms, 1), detail)
    return Check(AUDIO_LEVEL, True, round(rms, 1), detail)


def loudness_judge(*, analysis: _Analysis, audible: bool, audio_note: str) -> Check:
    if not audible:
        return Check(LOUDNESS, True, analysis.lufs, f"not judged: {audio_note}", skipped=True)
    if analysis.lufs is None:
        return Check(LOUDNESS, False, None, "integrated loudness could not be measured")
    low, high = LOUDNESS_RANGE
    detail = f"integrated loudness {analysis.lufs:.1f} LUFS"
    if analysis.lufs < low:
        return Check(LOUDNESS, False, analysis.lufs, f"too quiet: {detail} (< {low:.0f} LUFS)")
    if analysis.lufs > high:
        return Check(LOUDNESS, False, analysis.lufs, f"too loud: {detail} (> {high:.0f} LUFS)")
    return Check(LOUDNESS, True, analysis.lufs, f"{detail}, within {low:.0f}..{high:.0f}")


def black_judge(*, probe: _Probe, analysis: _Analysis) -> Check:
    longest = max((end - start for start, end in analysis.black), default=0.0)
    total = sum(end - start for start, end in analysis.black)
    share = total / probe.duration if probe.duration > 0 else 0.0
    detail = f"longest black stretch {longest:.2f} s, black in total {total:.2f} s ({share:.0%})"
    if longest >= BLACK_LONGEST_MAX or share > BLACK_SHARE_MAX:
        first = next(span for span in analysis.black if span[1] - span[0] == longest)
        detail += (
            f"; limit {BLACK_LONGEST_MAX:.0f} s / {BLACK_SHARE_MAX:.0%}, first at {first[0]:.2f} s"
        )
        return Check(BLACK_FRAMES, False, round(longest, 3), detail)
    return Check(BLACK_FRAMES, True, round(longest, 3), detail)


# --- captions ----------------------------------------------------------------------------------

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?$")


def vtt_cues(text: str) -> list[tuple[float, float, str]]:
    """Parse WebVTT strictly into (start, end, text); raises ValueError("line N: ...").

    Checks the syntax only (header, blocks, timestamps); `captions_judge` checks
    the timing (order, overlap, inside the video).
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise ValueError("line 1: the file must start with 'WEBVTT'")
    cues: list[tuple[float, float, str]] = []
    index = 1
    while index < len(lines) and lines[index].strip():  # the rest of the header block
        if "-->" in lines[index]:
            raise ValueError(f"line {index + 1}: a blank line must follow the header")
        index += 1
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        block_start = index
        block = []
        while index < len(lines) and lines[index].strip():
            block.append(lines[index])
            index += 1
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", block[0]):
            continue
        timing = 0 if "-->" in block[0] else 1  # an optional cue identifier comes first
        if timing >= len(block) or "-->" not in block[timing]:
            raise ValueError(f"line {block_start + timing + 1}: expected a cue timing line")
        match = _TIMING.match(block[timing].strip())
        if match is None:
            line = block[timing].strip()
            raise ValueError(f"line {block_start + timing + 1}: bad cue timing {line!r}")
        payload = block[timing + 1 :]
        for offset, line in enumerate(payload):
            if "-->" in line:
                raise ValueError(f"line {block_start + timing + 2 + offset}: '-->' in cue text")
        if not payload:
            raise ValueError(f"line {block_start + timing + 1}: cue has no text")
        numbers = [int(group or 0) for group in match.groups()]
        start = numbers[0] * 3600 + numbers[1] * 60 + numbers[2] + numbers[3] / 1000
        end = numbers[4] * 3600 + numbers[5] * 60 + numbers[6] + numbers[7] / 1000
        cues.append((start, end, "\n".join(payload)))
    return cues


def captions_judge(
    *, path: Path | None, duration: float
) -> tuple[Check, list[tuple[float, float, str]]]:
    if path is None:
        return Check(CAPTIONS_VALID, True, None, "no captions given", skipped=True), []
    try:
        cues = vtt_cues(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check(CAPTIONS_VALID, False, None, f"captions file not found: {path}"), []
    except (UnicodeDecodeError, ValueError) as error:
        return Check(CAPTIONS_VALID, False, None, f"malformed WebVTT: {error}"), []
    problems = []
    if not cues:
        problems.append("no cues")
    previous_start, previous_end = 0.0, 0.0
    for number, (start, end, _text) in enumerate(cues, start=1):
        if end <= start:
            problems.append(f"cue {number} ends at or before it starts ({start:.3f} → {end:.3f})")
        if start < previous_start:
            problems.append(f"cue {number} starts before cue {number - 1} ({start:.3f} s)")
        elif start < previous_end - CAPTION_OVERLAP_SLACK:
            problems.append(f"cue {number} overlaps cue {number - 1} ({start:.3f} s)")
        if end > duration + CAPTION_END_SLACK:
            problems.append(f"cue {number} ends at {end:.3f} s, after the video ({duration:.2f} s)")
        previous_start, previous_end = start, max(previous_end, end)
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return Check(CAPTIONS_VALID, False, len(cues), "; ".join(problems[:3]) + more), cues
    return Check(CAPTIONS_VALID, True, len(cues), f"{len(cues)} cues, well formed"), cues


def spans_merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        elif end > start:
            merged.append((start, end))
    return merged


def spans_overlap(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> float:
    """Total time in both lists; each list is sorted and non-overlapping."""
    total, i, j = 0.0, 0, 0
    while i < len(first) and j < len(second):
        total += max(0.0, min(first[i][1], second[j][1]) - max(first[i][0], second[j][0]))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return total


def speech_spans(
    *, silences: list[tuple[float, float]], duration: float
) -> list[tuple[float, float]]:
    """The complement of the silences within [0, duration]: where something is heard."""
    spans, cursor = [], 0.0
    for start, end in spans_merge(silences):
        if start > cursor:
            spans.append((cursor, min(start, duration)))
        cursor = max(cursor, end)
    if cursor < duration:
        spans.append((cursor, duration))
    return [(start, end) for start, end in spans if end > start]


def coverage_judge(
    *, cues: list[tuple[float, float, str]], analysis: _Analysis, duration: float, audible: bool
) -> Check:
    if not cues:
        return Check(CAPTIONS_COVERAGE, True, None, "no cues to measure", skipped=True)
    if not audible:
        return Check(CAPTIONS_COVERAGE, True, None, "no audible narration", skipped=True)
    speech = speech_spans(silences=analysis.silences, duration=duration)
    speech_total = sum(end - start for start, end in speech)
    if speech_total <= 0:
        return Check(CAPTIONS_COVERAGE, True, None, "no speech detected", skipped=True)
    covered = spans_overlap(speech, spans_merge([(start, end) for start, end, _ in cues]))
    fraction = round(covered / speech_total, 3)
    detail = f"{fraction:.0%} of {speech_total:.1f} s of narration is inside a cue"
    if fraction < CAPTION_COVERAGE_MIN:
        detail += f" (needs {CAPTION_COVERAGE_MIN:.0%})"
        return Check(CAPTIONS_COVERAGE, False, fraction, detail)
    return Check(CAPTIONS_COVERAGE, True, fraction, detail)


# --- speech recognition ------------------------------------------------------------------------

# Function words carry no evidence that the right script was spoken.
_STOP_WORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just let me
    more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself""".split()  # noqa: SIM905
)


def recognizer_available() -> tuple[bool, str]:
    try:
        import pocketsphinx  # noqa: F401  (optional: ships its English model in the wheel)
    except ImportError:
        return False, "pocketsphinx is not installed"
    return True, "pocketsphinx"


def word_stem(word: str) -> str:
    """A crude stem so "instances"/"instance" and "encrypted"/"encrypt" match."""
    word = word.replace("'", "")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def script_words(*, text: str) -> set[str]:
    """The content words of a script, stemmed (bracketed stage directions dropped)."""
    text = re.sub(r"\[[^\]]*\]", " ", text.lower())
    words = re.findall(r"[a-z][a-z']*", text)
    return {word_stem(word) for word in words if len(word) > 2 and word not in _STOP_WORDS}


def speech_transcribe(*, pcm: bytes, silences: list[tuple[float, float]]) -> str:
    """Transcribe 16 kHz mono s16le with pocketsphinx's bundled US English model.

    The audio is cut into utterances of at most ~20 s at the silences that
    silencedetect found, so words are not split and the search stays bounded.
    """
    from pocketsphinx import Decoder

    rate, longest = 16000, 20.0
    duration = len(pcm) / (2 * rate)
    utterances: list[tuple[float, float]] = []
    for start, end in speech_spans(silences=silences, duration=duration):
        if utterances and end - utterances[-1][0] <= longest:
            utterances[-1] = (utterances[-1][0], end)
        else:
            utterances.append((start, end))
    decoder = Decoder(samprate=rate, loglevel="FATAL")
    words = []
    for start, end in utterances:
        # A little context either side; offsets on whole samples (2 bytes each).
        first = int(max(0.0, start - 0.15) * rate) * 2
        last = int(min(duration, end + 0.15) * rate) * 2
        decoder.start_utt()
        decoder.process_raw(pcm[first:last], full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is not None and hypothesis.hypstr:
            words.append(hypothesis.hypstr)
    return " ".join(words)


def speech_judge(*, pcm: bytes, silences: list[tuple[float, float]], script_text: str) -> Check:
    expected = script_words(text=script_text)
    if not expected:
        return Check(SPEECH_RECOGNITION, True, None, "script has no content words", skipped=True)
    if not pcm:
        return Check(SPEECH_RECOGNITION, False, 0.0, "no audio could be extracted")
    heard_words = re.findall(r"[a-z']+", speech_transcribe(pcm=pcm, silences=silences).lower())
    # Also join neighbours: the recognizer may hear "firewalls" as "fire walls".
    heard = {word_stem(word) for word in heard_words}
    heard |= {word_stem(a + b) for a, b in itertools.pairwise(heard_words)}
    recovered = expected & heard
    fraction = round(len(recovered) / len(expected), 3)
    detail = f"recognized {len(recovered)} of {len(expected)} content words of the script"
    if fraction < SPEECH_RECOVERED_MIN:
        detail += f" ({fraction:.0%}, needs {SPEECH_RECOVERED_MIN:.0%})"
        return Check(SPEECH_RECOGNITION, False, fraction, detail)
    return Check(SPEECH_RECOGNITION, True, fraction, f"{detail} ({fraction:.0%})")
