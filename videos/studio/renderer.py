"""The studio: script → narration → slides + presenter frames → MP4, VTT, JPEG, report.

Frames are assembled in one reusable buffer: the slide is copied in only when
it changes, and each frame overwrites just the presenter panel (and the
practice countdown), so per-frame work is a few small array copies and the
encoder gets the buffer without another copy.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videos.studio import slides, theme
from videos.studio.captions import vtt_write
from videos.studio.encoder import FrameEncoder
from videos.studio.narration import mouth_envelope, narration_synthesize, voice_info_get
from videos.studio.presenter import Presenter, UnknownAvatarError, avatars_available
from videos.studio.types import (
    FPS,
    AvatarConfig,
    Quality,
    RenderReport,
    Script,
    VideoConfig,
    VideoType,
    VoiceConfig,
)
from videos.studio.yuv import COLOR_FLAGS, Planes, Yuv420Frame, even_box, rgb_to_yuv420

# Share of the progress bar per stage, from measured time splits on 2 cores.
TTS_SHARE = 30
FRAMES_SHARE = 68
# Converted moving-box regions kept per slide (each ~0.1 MB at 720p).
MOVING_CACHE_LIMIT = 256


class RenderError(ValueError):
    """Bad input to the renderer: the message says what to change."""


@dataclass(frozen=True)
class RenderResult:
    video_path: Path
    captions_path: Path | None
    thumbnail_path: Path
    report: RenderReport


def render_outputs(dest: Path) -> tuple[Path, Path, Path]:
    """The three files a render writes side by side: out.mp4, out.vtt, out.jpg."""
    return dest, dest.with_suffix(".vtt"), dest.with_suffix(".jpg")


def video_render(
    *,
    script: Script,
    dest: Path,
    avatar: AvatarConfig | None = None,
    voice: VoiceConfig | None = None,
    video: VideoConfig | None = None,
    quality: Quality | str = Quality.P720,
    voices_dir: Path | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> RenderResult:
    """Render a script to dest (an .mp4) plus captions and thumbnail beside it.

    All-or-nothing: files appear at their final paths only when the whole
    render succeeded; on any error nothing is left at (or replaced at) dest.
    """
    avatar = avatar or AvatarConfig()
    voice = voice or VoiceConfig()
    video = video or VideoConfig()
    quality = _quality_parse(quality)
    _inputs_check(script=script, dest=dest, avatar=avatar, voice=voice, voices_dir=voices_dir)
    progress = _Progress(on_progress)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    try:
        work = Path(tempfile.mkdtemp(prefix=".render-", dir=dest.parent))
    except OSError as exc:
        raise RenderError(
            f"cannot write in the output folder {dest.parent}: {exc.strerror}"
        ) from None
    try:
        t0 = time.perf_counter()
        narration = narration_synthesize(
            script=script,
            voice=voice,
            dest=work / "narration.wav",
            voices_dir=voices_dir,
            on_progress=lambda f: progress.report(f * TTS_SHARE),
        )
        mouth = mouth_envelope(wav_path=narration.wav_path, fps=FPS)
        timings["tts"] = time.perf_counter() - t0

        video_tmp = work / "video.mp4"
        thumb_tmp = work / "thumb.jpg"
        frames_seconds, encode_wait = _frames_encode(
            script=script,
            narration_duration=narration.duration,
            section_starts=narration.section_starts,
            think_pauses=narration.think_pauses,
            mouth=mouth,
            avatar=avatar,
            video=video,
            size=quality.size,
            audio_path=narration.wav_path,
            video_dest=video_tmp,
            thumb_dest=thumb_tmp,
            progress=progress,
        )
        timings["frames"] = frames_seconds
        timings["encode"] = encode_wait

        video_path, vtt_path, jpg_path = render_outputs(dest)
        captions_final: Path | None = None
        if video.captions:
            vtt_write(cues=narration.cues, path=work / "captions.vtt")
            os.replace(work / "captions.vtt", vtt_path)
            captions_final = vtt_path
        os.replace(thumb_tmp, jpg_path)
        os.replace(video_tmp, video_path)  # last: the MP4 appearing means the render is whole
        timings["total"] = time.perf_counter() - started
        report = RenderReport(
            duration=round(narration.duration, 3),
            width=quality.size[0],
            height=quality.size[1],
            video_bytes=video_path.stat().st_size,
            captions_bytes=vtt_path.stat().st_size if captions_final else 0,
            thumbnail_bytes=jpg_path.stat().st_size,
            timings={k: round(v, 3) for k, v in timings.items()},
            avatar_id=avatar.avatar_id if not avatar.image_path else "custom",
            voice_id=voice.voice_id,
            quality=quality.value,
        )
        progress.report(100)
        return RenderResult(video_path, captions_final, jpg_path, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _quality_parse(value: Quality | str) -> Quality:
    try:
        return Quality(value)
    except ValueError:
        raise RenderError(
            f"unknown quality {value!r}; choose from {', '.join(q.value for q in Quality)}"
        ) from None


def _inputs_check(
    *, script: Script, dest: Path, avatar: AvatarConfig, voice: VoiceConfig, voices_dir: Path | None
) -> None:
    """Fail fast, before any work, on everything that can be known wrong up front."""
    if not script.sections:
        raise RenderError("the script has no sections")
    try:
        VideoType(script.video_type)
    except ValueError:
        raise RenderError(f"unknown video type {script.video_type!r}") from None
    voice_info_get(voice_id=voice.voice_id, voices_dir=voices_dir)  # UnknownVoiceError
    _avatar_check(avatar)
    if dest.suffix.lower() != ".mp4":
        raise RenderError(f"the output must be an .mp4 file, got {dest.name!r}")
    if not dest.parent.is_dir():
        raise RenderError(f"the output folder {dest.parent} does not exist")
    if not os.access(dest.parent, os.W_OK):
        raise RenderError(f"cannot write in the output folder {dest.parent}")
    if dest.is_dir():
        raise RenderError(f"the output {dest} is a folder")


def _avatar_check(avatar: AvatarConfig) -> None:
    if avatar.image_path:
        try:
            with Image.open(avatar.image_path) as portrait:
                portrait.verify()
        except (OSError, SyntaxError) as exc:
            raise RenderError(
                f"the avatar image {avatar.image_path} cannot be used: {exc}"
            ) from None
        return
    known = avatars_available()
    if avatar.avatar_id not in known:
        raise UnknownAvatarError(
            f"unknown avatar {avatar.avatar_id!r}; choose from {', '.join(sorted(known))}"
        )


class _Progress:
    """Calls back with whole percentages, only when the figure moves."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.last = -1

    def report(self, percent: float) -> None:
        value = max(0, min(100, int(percent)))
        if self.callback and value > self.last:
            self.last = value
            self.callback(value)


@dataclass(frozen=True)
class _Segment:
    start_frame: int
    section_index: int
    phase: str
    countdown_until: int | None = None  # frame at which the think pause ends
    countdown_total: int = 0


def _timeline(
    *,
    script: Script,
    section_starts: list[float],
    think_pauses: list[tuple[float, float]],
    total_frames: int,
) -> list[_Segment]:
    """Which slide (section, phase) shows from which frame on.

    A practice section shows its question until its think pause ends (with a
    countdown during the pause), then its explanation.
    """
    segments: list[_Segment] = []
    starts = [round(s * FPS) for s in section_starts] + [total_frames]
    for i in range(len(script.sections)):
        begin, end = starts[i], starts[i + 1]
        if script.video_type != VideoType.PRACTICE_SESSION:
            segments.append(_Segment(begin, i, "main"))
            continue
        pause = next(((a, b) for a, b in think_pauses if begin <= round(a * FPS) < end), None)
        if pause is None:
            segments.append(_Segment(begin, i, "question"))
            continue
        pause_start, pause_end = round(pause[0] * FPS), round(pause[1] * FPS)
        total = math.ceil(pause[1] - pause[0])
        segments.append(_Segment(begin, i, "question"))
        segments.append(_Segment(pause_start, i, "question", pause_end, total))
        segments.append(_Segment(pause_end, i, "explanation"))
    return segments


def _frames_encode(
    *,
    script: Script,
    narration_duration: float,
    section_starts: list[float],
    think_pauses: list[tuple[float, float]],
    mouth: np.ndarray,
    avatar: AvatarConfig,
    video: VideoConfig,
    size: tuple[int, int],
    audio_path: Path,
    video_dest: Path,
    thumb_dest: Path,
    progress: _Progress,
) -> tuple[float, float]:
    width, height = size
    total_frames = max(1, math.ceil(narration_duration * FPS))
    layout = slides.frame_layout(size=size, presenter=video.slides)
    if video.slides:
        assert layout.presenter_box is not None
        px0, py0, px1, py1 = layout.presenter_box
        panel_color = theme.color_parse(theme.PANEL)
    else:
        px0, py0, px1, py1 = 0, 0, width, height
        panel_color = theme.color_parse(video.background)
    presenter = Presenter(avatar=avatar, panel_size=(px1 - px0, py1 - py0), panel_color=panel_color)
    segments = _timeline(
        script=script,
        section_starts=section_starts,
        think_pauses=think_pauses,
        total_frames=total_frames,
    )
    countdown_box = slides.countdown_box(size=size, presenter=True)
    thumb_frame = min(total_frames - 1, FPS * 2)

    # The picture is kept twice: RGB (slides and presenter are drawn in RGB) and
    # the yuv420p frame FFmpeg gets. Only what changes is converted: the whole
    # frame when the slide changes, else the presenter's moving box (cached by
    # the presenter's state) and the countdown.
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    if not video.slides:
        rgb[:] = panel_color
    yuv = Yuv420Frame(width=width, height=height)
    mx0, my0, mx1, my1 = presenter.moving_box
    moving = even_box((px0 + mx0, py0 + my0, px0 + mx1, py0 + my1), width=width, height=height)
    moving_cache: dict[tuple[int, int, int], Planes] = {}
    # The converted box depends only on the presenter's state unless rounding it
    # to even pixels reached past the panel into the slide.
    moving_inside_panel = (
        moving[0] >= px0 and moving[1] >= py0 and moving[2] <= px1 and moving[3] <= py1
    )
    cx0, cy0, cx1, cy1 = even_box(countdown_box, width=width, height=height)
    frames_seconds = 0.0
    segment_index = -1
    last_state: tuple[int, int, int] | None = None
    last_countdown: int | None = None
    encoder = FrameEncoder(
        dest=video_dest,
        size=size,
        fps=FPS,
        audio_path=audio_path,
        pix_fmt="yuv420p",
        color_flags=COLOR_FLAGS,
    )
    loop_started = time.perf_counter()
    try:
        for index in range(total_frames):
            t0 = time.perf_counter()
            level = float(mouth[index]) if index < len(mouth) else 0.0
            state = presenter.state(frame_index=index, mouth=level)
            slide_changed = False
            while (
                segment_index + 1 < len(segments)
                and segments[segment_index + 1].start_frame <= index
            ):
                segment_index += 1
                slide_changed = True
            segment = segments[segment_index]
            if slide_changed:
                if video.slides:
                    rgb[:] = np.asarray(
                        slides.slide_render(
                            script=script,
                            section_index=segment.section_index,
                            size=size,
                            presenter=True,
                            phase=segment.phase,
                            background=video.background,
                            branding=video.branding,
                        )
                    )
                rgb[py0:py1, px0:px1] = presenter.panel(frame_index=index, mouth=level)
                yuv.paste(rgb_to_yuv420(rgb), x=0, y=0)
                if not moving_inside_panel:
                    moving_cache.clear()  # its even margin showed the previous slide
                last_state, last_countdown = state, None
            elif state != last_state:
                rgb[py0:py1, px0:px1] = presenter.panel(frame_index=index, mouth=level)
                planes = moving_cache.get(state)
                if planes is None:
                    planes = rgb_to_yuv420(rgb[moving[1] : moving[3], moving[0] : moving[2]])
                    if len(moving_cache) < MOVING_CACHE_LIMIT:
                        moving_cache[state] = planes
                yuv.paste(planes, x=moving[0], y=moving[1])
                last_state = state
            if video.slides and segment.countdown_until is not None:
                left = max(1, math.ceil((segment.countdown_until - index) / FPS))
                if left != last_countdown:
                    (x, y), patch = slides.countdown_draw(
                        image_size=size,
                        box=countdown_box,
                        seconds_left=left,
                        total=segment.countdown_total,
                        background=video.background,
                    )
                    rgb[y : y + patch.height, x : x + patch.width] = np.asarray(patch)
                    yuv.paste(rgb_to_yuv420(rgb[cy0:cy1, cx0:cx1]), x=cx0, y=cy0)
                    last_countdown = left
            if index == thumb_frame:
                Image.fromarray(rgb).save(thumb_dest, "JPEG", quality=85)
            frames_seconds += time.perf_counter() - t0
            encoder.write(yuv.buffer)  # blocks while FFmpeg is busy: that wait is encode time
            if index % FPS == 0:
                progress.report(TTS_SHARE + FRAMES_SHARE * index / total_frames)
        encoder.close()
    except BaseException:
        encoder.abort()
        raise
    # Everything in the loop that was not making frames was waiting on the encoder.
    return frames_seconds, time.perf_counter() - loop_started - frames_seconds
