"""H.264/AAC MP4 encoding with the FFmpeg binary from the imageio-ffmpeg wheel.

Frames are piped in as raw RGB as they are made, so memory does not grow with
the video's length; the narration WAV is muxed in the same pass.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import imageio_ffmpeg
import numpy as np


class EncoderError(RuntimeError):
    pass


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


class FrameEncoder:
    """Write frames with `write()`; `close()` finishes the file or raises EncoderError."""

    def __init__(
        self,
        *,
        dest: Path,
        size: tuple[int, int],
        fps: int,
        audio_path: Path | None,
        preset: str = "veryfast",
        crf: int = 23,
        pix_fmt: str = "rgb24",
        color_flags: list[str] | None = None,
    ) -> None:
        width, height = size
        self.dest = dest
        self.frame_bytes = width * height * 3 if pix_fmt == "rgb24" else width * height * 3 // 2
        self.frames = 0
        # stderr goes to a file: a full pipe would block FFmpeg, and we want its tail on error.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the encoder
        raw_input = f"-f rawvideo -pix_fmt {pix_fmt} -s {width}x{height} -r {fps} -i pipe:0"
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *raw_input.split()]
        if audio_path is not None:
            cmd += ["-i", str(audio_path)]
        cmd += [
            *f"-map 0:v:0 -c:v libx264 -preset {preset} -crf {crf} -r {fps}".split(),
            # Slides hold still for seconds: stillimage tuning spends bits where things move.
            *f"-tune stillimage -pix_fmt yuv420p -g {fps * 4}".split(),
            # x264 by default runs 1.5 frame threads per core, each holding
            # frames, plus a 40-frame lookahead; sliced threads and a 10-frame
            # lookahead cut FFmpeg's peak by ~25 MB at 720p at no measured
            # cost in speed (bench/render.py).
            "-threads",
            "2",
            "-x264-params",
            "sliced-threads=1:sync-lookahead=0:rc-lookahead=10",
        ]
        if audio_path is not None:
            # 1.5 dB of headroom: Piper peaks at full scale and AAC would clip it.
            cmd += [
                "-map",
                "1:a:0",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-ar",
                "44100",
                "-af",
                "volume=-1.5dB",
            ]
        cmd += [*(color_flags or []), "-movflags", "+faststart", "-f", "mp4", str(dest)]
        self._process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        if frame.nbytes != self.frame_bytes:
            raise EncoderError(f"frame has {frame.nbytes} bytes, expected {self.frame_bytes}")
        assert self._process.stdin is not None
        try:
            # A C-contiguous array goes to the pipe without a copy.
            self._process.stdin.write(np.ascontiguousarray(frame).data.cast("B"))
        except BrokenPipeError:
            self._process.wait()
            raise EncoderError(f"FFmpeg stopped early: {self._stderr_tail()}") from None
        self.frames += 1

    def close(self) -> None:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # FFmpeg died: its exit code says why
            self._process.stdin.close()
        code = self._process.wait()
        tail = self._stderr_tail()
        self._log.close()
        if code != 0:
            raise EncoderError(f"FFmpeg failed (exit {code}): {tail}")

    def abort(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._log.close()

    def _stderr_tail(self) -> str:
        self._log.seek(0)
        return self._log.read()[-2000:].decode(errors="replace").strip() or "no message"

    def __enter__(self) -> FrameEncoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
