"""Render a script with the studio from the command line.

    python manage.py render_video --script talk.md --type overview -o out.mp4

writes out.mp4, out.vtt and out.jpg side by side and prints the render report.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from videos.quality import video_check
from videos.studio.narration import UnknownVoiceError
from videos.studio.presenter import UnknownAvatarError
from videos.studio.renderer import RenderError, video_render
from videos.studio.script_text import ScriptError, script_parse
from videos.studio.types import AvatarConfig, Quality, VideoConfig, VideoType, VoiceConfig


class Command(BaseCommand):
    help = "Render a narrated avatar video from a plain-text or Markdown script."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--script", required=True, help="script file, or - for stdin")
        parser.add_argument(
            "--type",
            dest="video_type",
            default=VideoType.OVERVIEW.value,
            choices=[v.value for v in VideoType],
        )
        parser.add_argument("--title", default="")
        parser.add_argument("--avatar", default="professional_instructor")
        parser.add_argument("--avatar-image", type=Path, help="a portrait to use as the avatar")
        parser.add_argument("--voice", default="joe")
        parser.add_argument(
            "--voices-dir",
            type=Path,
            help="folder of extra Piper voices (default: the STUDIO_VOICES_DIR setting)",
        )
        parser.add_argument("--speed", type=float, default=1.0)
        parser.add_argument("--quality", default=Quality.P720.value, help="480p, 720p or 1080p")
        parser.add_argument("--no-slides", action="store_true")
        parser.add_argument("--no-captions", action="store_true")
        parser.add_argument("--check", action="store_true", help="run the quality check too")
        parser.add_argument("-o", "--output", required=True, type=Path, help="the .mp4 to write")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            text = self._script_read(opts["script"])
            script = script_parse(text=text, video_type=opts["video_type"], title=opts["title"])
            output = opts["output"].expanduser().resolve()
            result = video_render(
                script=script,
                dest=output,
                avatar=AvatarConfig(
                    avatar_id=opts["avatar"],
                    image_path=str(opts["avatar_image"]) if opts["avatar_image"] else None,
                ),
                voice=VoiceConfig(voice_id=opts["voice"], speed=opts["speed"]),
                video=VideoConfig(slides=not opts["no_slides"], captions=not opts["no_captions"]),
                quality=opts["quality"],
                voices_dir=opts["voices_dir"] or settings.STUDIO_VOICES_DIR,
                on_progress=self._progress,
            )
        except (ScriptError, RenderError, UnknownVoiceError, UnknownAvatarError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        except ValueError as exc:  # a voice or avatar setting out of range
            raise CommandError(str(exc), returncode=2) from None
        self.stderr.write("")
        report: dict[str, Any] = asdict(result.report)
        report["files"] = [
            str(p) for p in (result.video_path, result.captions_path, result.thumbnail_path) if p
        ]
        if opts["check"]:
            check = video_check(
                video_path=result.video_path,
                expected_duration=result.report.duration,
                expected_size=(result.report.width, result.report.height),
                captions_path=result.captions_path,
            )
            report["quality"] = check.as_dict()
        self.stdout.write(json.dumps(report, indent=2))
        if opts["check"] and not report["quality"]["passed"]:
            raise CommandError("the video failed its quality check", returncode=1)

    def _script_read(self, source: str) -> str:
        if source == "-":
            return sys.stdin.read()
        path = Path(source)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"no such script file: {path}", returncode=2) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read the script {path}: {exc}", returncode=2) from None

    def _progress(self, percent: int) -> None:
        if percent % 10 == 0:
            self.stderr.write(f"\rrendering… {percent}%", ending="")
            self.stderr.flush()
