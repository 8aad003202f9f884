"""Studio render speed and memory, side by side with the moviepy peer.

Renders a 60 s and a 5 min script at 720p and a 60 s script at 1080p, each in
a fresh process, and prints wall time, real-time factor (video seconds per
wall second), the time split (TTS, frames, encode) and the peak RSS of the
whole process tree (Python + FFmpeg, sampled from /proc). Then runs
../shared/bench/peer_moviepy.py on the same length and prints the ratio.

    python bench/render.py [--quick]   # --quick: 60 s at 720p only, and the peer
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT.parent / "shared" / "bench" / "peer_moviepy.py"

# The peer's own narration text, so both pipelines speak the same words.
SENTENCES = [
    "Welcome to this short briefing on how solar panels turn sunlight into electricity.",
    "Each panel is built from many silicon cells wired together in series.",
    "When light strikes a cell, it knocks electrons loose from their atoms.",
    "An electric field inside the cell pushes those electrons in one direction.",
    "That steady push is a direct current, which flows out through thin metal contacts.",
    "An inverter then converts the direct current into alternating current for the home.",
    "Panels work best when they face the sun and stay cool.",
    "Dust, shade and high temperatures all reduce the output a little.",
    "A typical rooftop system pays for itself in seven to ten years.",
    "Batteries can store the midday surplus for use in the evening.",
    "Grid operators now schedule solar output much like any other power plant.",
    "Thanks for watching, and see you in the next lesson.",
]


def script_text(seconds: float) -> str:
    """Markdown of about `seconds` of narration: sections of four sentences."""
    words_needed = seconds * 3.0  # measured: the joe voice speaks about 180 words a minute
    lines, words, i = [], 0, 0
    while words < words_needed:
        if i % 4 == 0:
            lines.append(f"\n# Part {i // 4 + 1}")
        sentence = SENTENCES[i % len(SENTENCES)]
        lines.append(sentence)
        words += len(sentence.split())
        i += 1
    return "\n".join(lines)


def child(seconds: float, quality: str) -> None:
    """Runs in a fresh process: one render, one JSON line out."""
    sys.path.insert(0, str(ROOT))
    from videos.studio.renderer import video_render
    from videos.studio.script_text import script_parse

    script = script_parse(text=script_text(seconds), video_type="overview", title="Solar panels")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = video_render(script=script, dest=Path(tmp) / "out.mp4", quality=quality)
        wall = time.perf_counter() - started
    print(
        json.dumps(
            {"wall": wall, "duration": result.report.duration, "timings": result.report.timings}
        )
    )


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, now."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pending.extend(int(c) for c in children)
    return total / 1024


def measured(cmd: list[str]) -> tuple[str, float]:
    """Run cmd, sampling its process tree's RSS every 20 ms; returns stdout and the peak."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {process.returncode}")
    return out, peak


def studio(seconds: float, quality: str) -> dict:
    out, peak = measured([sys.executable, __file__, "--child", str(seconds), quality])
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_rss_mb"] = peak
    row["rtf"] = row["duration"] / row["wall"]
    t = row["timings"]
    print(
        f"studio {quality:>5} {row['duration']:6.1f} s video: wall {row['wall']:6.2f} s, "
        f"{row['rtf']:5.2f}x real time | tts {t['tts']:.2f} s, frames {t['frames']:.2f} s, "
        f"encode {t['encode']:.2f} s | peak RSS (tree) {peak:.0f} MB",
        flush=True,
    )
    return row


def peer(seconds: float, height: int) -> dict[str, dict]:
    """The moviepy peer's two variants: moviepy's defaults, and its fastest settings."""
    if not PEER.exists():
        print(f"peer baseline not found at {PEER}; skipping the comparison")
        return {}
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as rows:
        cmd = [sys.executable, str(PEER), "--seconds", str(seconds), "--height", str(height)]
        cmd += ["--variants", "default,ultrafast_t2", "--json", rows.name]
        _, peak = measured(cmd)
        lines = Path(rows.name).read_text().splitlines()
    results = {}
    for line in lines:
        row = json.loads(line)
        results[row["variant"]] = row
        print(
            f"peer   {height}p {row['audio_s']:6.1f} s video: total {row['total_s']:6.2f} s, "
            f"{row['rtf_total']:5.2f}x real time (moviepy, variant {row['variant']}) | "
            f"peak RSS (tree, both variants in turn) {peak:.0f} MB",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("SECONDS", "QUALITY"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(float(args.child[0]), args.child[1])
        return

    short = studio(60, "720p")
    rows = {"60s 720p": short}
    if not args.quick:
        rows["300s 720p"] = studio(300, "720p")
        rows["60s 1080p"] = studio(60, "1080p")
    baseline = peer(60, 720)
    print("\nsummary")
    for name, row in rows.items():
        print(f"  {name:>10}: {row['rtf']:5.2f}x real time, peak RSS {row['peak_rss_mb']:.0f} MB")
    if "300s 720p" in rows:
        growth = rows["300s 720p"]["peak_rss_mb"] / short["peak_rss_mb"] - 1
        print(f"  memory 5 min vs 60 s: {growth * 100:+.1f}%")
    for variant, row in baseline.items():
        ratio = short["rtf"] / row["rtf_total"]
        print(f"  studio vs moviepy peer ({variant}), 60 s 720p end to end: {ratio:.1f}x faster")


if __name__ == "__main__":
    main()
