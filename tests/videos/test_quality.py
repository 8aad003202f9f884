"""videos.quality against real short media made with ffmpeg's lavfi sources."""

from __future__ import annotations

import json
from pathlib import Path

import av.logging
import pytest

from tests.videos.media import media_make, speech_synthesize, vtt_write, wav_seconds
from videos import quality
from videos.quality import QualityReport, video_check, vtt_cues

pytestmark = pytest.mark.slow

SIZE = (320, 240)
SECONDS = 3.0


def failed_names(report: QualityReport) -> set[str]:
    return {check.name for check in report.checks if not check.passed}


def figure_number(report: QualityReport, name: str) -> float:
    figure = report.check_get(name).figure
    assert isinstance(figure, int | float), figure
    return float(figure)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("quality")


@pytest.fixture(scope="module")
def good_video(media_dir: Path) -> Path:
    return media_make(path=media_dir / "good.mp4", seconds=SECONDS, size=SIZE)


@pytest.fixture(scope="module")
def good_captions(media_dir: Path) -> Path:
    cues = [(0.0, 1.5, "The first caption"), (1.5, 3.0, "and the second one")]
    return vtt_write(path=media_dir / "good.vtt", cues=cues)


def test_good_video_passes_every_check(good_video: Path, good_captions: Path) -> None:
    report = video_check(
        video_path=good_video,
        expected_duration=SECONDS,
        expected_size=SIZE,
        captions_path=good_captions,
    )

    assert report.passed, report.reasons
    assert report.reasons == []
    assert [check.name for check in report.checks] == list(quality.CHECK_NAMES)
    figures = {check.name: check.figure for check in report.checks}
    assert figures["container"] == "h264/aac"
    assert figures["duration"] == pytest.approx(SECONDS, abs=0.1)
    assert figures["resolution"] == "320x240"
    assert -25 < figure_number(report, "audio_level") < -18  # lavfi's sine: 1/8 of full scale
    assert -25 < figure_number(report, "loudness") < -18
    assert figures["black_frames"] == 0.0
    assert figures["captions_valid"] == 2
    assert figures["captions_coverage"] == pytest.approx(1.0)
    skipped = {check.name for check in report.checks if check.skipped}
    assert skipped == {"speech_recognition"}


def test_report_is_json_storable(good_video: Path) -> None:
    report = video_check(video_path=good_video)

    stored = json.loads(json.dumps(report.as_dict(), allow_nan=False))

    assert stored["passed"] is True
    assert stored["reasons"] == []
    assert {check["name"] for check in stored["checks"]} == set(quality.CHECK_NAMES)
    # Nothing asked for: the figures are still reported, the checks skipped.
    duration = next(check for check in stored["checks"] if check["name"] == "duration")
    assert duration["skipped"] is True
    assert duration["figure"] == pytest.approx(SECONDS, abs=0.1)


def test_wrong_duration_fails(good_video: Path) -> None:
    report = video_check(video_path=good_video, expected_duration=10.0)

    assert not report.passed
    assert failed_names(report) == {"duration"}
    assert report.reasons[0].startswith("duration: 3.00 s, expected 10.00 s")


def test_duration_tolerance_has_a_one_second_floor(good_video: Path) -> None:
    # 10% of 3.8 s is 0.38 s, but the floor allows the 0.8 s difference.
    assert video_check(video_path=good_video, expected_duration=3.8).passed
    assert not video_check(video_path=good_video, expected_duration=4.2).passed


def test_wrong_resolution_fails(good_video: Path) -> None:
    report = video_check(video_path=good_video, expected_size=(1280, 720))

    assert failed_names(report) == {"resolution"}
    assert "320x240, expected 1280x720" in report.reasons[0]


def test_silent_audio_fails(media_dir: Path) -> None:
    video = media_make(path=media_dir / "silent.mp4", seconds=SECONDS, size=SIZE, tone="silent")

    report = video_check(video_path=video)

    assert failed_names(report) == {"audio_level"}
    assert "audio is silent" in report.reasons[0]
    assert report.check_get("loudness").skipped  # one cause, one reason


def test_missing_audio_stream_fails(media_dir: Path) -> None:
    video = media_make(path=media_dir / "mute.mp4", seconds=SECONDS, size=SIZE, tone=False)

    report = video_check(video_path=video)

    assert failed_names(report) == {"container"}
    assert report.reasons == ["container: no audio stream"]


def test_too_quiet_loudness_fails(media_dir: Path) -> None:
    # -20 dB: audible (peak about -38 dBFS) but far below -30 LUFS.
    video = media_make(path=media_dir / "quiet.mp4", seconds=SECONDS, size=SIZE, tone_db=-20)

    report = video_check(video_path=video)

    assert failed_names(report) == {"loudness"}
    assert "too quiet" in report.reasons[0]
    assert figure_number(report, "loudness") < -30


def test_too_loud_fails(media_dir: Path) -> None:
    video = media_make(path=media_dir / "loud.mp4", seconds=SECONDS, size=SIZE, tone_db=15)

    report = video_check(video_path=video)

    assert "loudness" in failed_names(report)
    assert "too loud" in report.check_get("loudness").detail


def test_long_black_stretch_fails(media_dir: Path) -> None:
    video = media_make(
        path=media_dir / "black.mp4", seconds=5.0, size=SIZE, black_from=1.0, black_to=3.5
    )

    report = video_check(video_path=video)

    assert failed_names(report) == {"black_frames"}
    assert figure_number(report, "black_frames") == pytest.approx(2.5, abs=0.1)
    assert "first at 1.00 s" in report.reasons[0]


def test_black_at_the_end_is_found(media_dir: Path) -> None:
    video = media_make(path=media_dir / "black_end.mp4", seconds=5.0, size=SIZE, black_from=2.5)

    report = video_check(video_path=video)

    assert failed_names(report) == {"black_frames"}


def test_short_black_fade_passes(media_dir: Path) -> None:
    video = media_make(
        path=media_dir / "fade.mp4", seconds=5.0, size=SIZE, black_from=0.0, black_to=0.3
    )

    assert video_check(video_path=video).passed


def test_captions_covering_half_the_narration_fail(media_dir: Path) -> None:
    video = media_make(path=media_dir / "tone4.mp4", seconds=4.0, size=SIZE)
    captions = vtt_write(path=media_dir / "half.vtt", cues=[(0.0, 2.0, "Only the first half")])

    report = video_check(video_path=video, captions_path=captions)

    assert failed_names(report) == {"captions_coverage"}
    assert figure_number(report, "captions_coverage") == pytest.approx(0.5, abs=0.03)


def test_coverage_ignores_silence_without_cues(media_dir: Path) -> None:
    # The tone stops at 2 s; a cue over the sounding part covers all the narration.
    video = media_make(path=media_dir / "tone_then_quiet.mp4", seconds=4.0, size=SIZE, tone_until=2)
    captions = vtt_write(path=media_dir / "first.vtt", cues=[(0.0, 2.0, "All that is said")])

    report = video_check(video_path=video, captions_path=captions)

    assert report.passed, report.reasons
    assert figure_number(report, "captions_coverage") >= 0.95


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00.000 --> 00:01.000\nno header\n", "must start with 'WEBVTT'"),
        ("WEBVTT\n\n00:00.000 -> 00:01.000\nbad arrow\n", "expected a cue timing line"),
        ("WEBVTT\n\n00:00.00 --> 00:01.000\ntwo digit millis\n", "bad cue timing"),
        ("WEBVTT\n\n00:00.000 --> 00:61.000\nsecond 61\n", "bad cue timing"),
        ("WEBVTT\n\n00:00.000 --> 00:01.000\n", "cue has no text"),
    ],
)
def test_malformed_vtt_fails(media_dir: Path, good_video: Path, text: str, expected: str) -> None:
    captions = media_dir / "bad.vtt"
    captions.write_text(text, encoding="utf-8")

    report = video_check(video_path=good_video, captions_path=captions)

    assert failed_names(report) == {"captions_valid"}
    assert "malformed WebVTT" in report.reasons[0]
    assert expected in report.reasons[0]
    assert report.check_get("captions_coverage").skipped


@pytest.mark.parametrize(
    ("cues", "expected"),
    [
        ([(1.0, 2.0, "b"), (0.0, 1.0, "a")], "starts before cue 1"),
        ([(0.0, 2.0, "a"), (1.0, 2.5, "b")], "overlaps cue 1"),
        ([(1.0, 1.0, "a")], "ends at or before it starts"),
        ([(0.0, 9.0, "a")], "after the video"),
        ([], "no cues"),
    ],
)
def test_badly_timed_captions_fail(
    media_dir: Path, good_video: Path, cues: list[tuple[float, float, str]], expected: str
) -> None:
    captions = vtt_write(path=media_dir / "timed.vtt", cues=cues)

    report = video_check(video_path=good_video, captions_path=captions)

    assert "captions_valid" in failed_names(report)
    assert expected in report.check_get("captions_valid").detail


def test_missing_captions_file_fails(media_dir: Path, good_video: Path) -> None:
    report = video_check(video_path=good_video, captions_path=media_dir / "absent.vtt")

    assert failed_names(report) == {"captions_valid"}
    assert "captions file not found" in report.reasons[0]


def test_vtt_cues_reads_the_full_syntax() -> None:
    text = (
        "\ufeffWEBVTT - made by PresGen\r\nKind: captions\r\n\r\n"
        "NOTE a comment\r\nover two lines\r\n\r\n"
        "intro\r\n00:00:01.500 --> 00:00:03.250 line:90% align:center\r\n"
        "Hello there,\r\nlearner\r\n\r\n"
        "01:00:00.000 --> 01:00:01.000\r\nAn hour in\r\n"
    )

    assert vtt_cues(text) == [
        (1.5, 3.25, "Hello there,\nlearner"),
        (3600.0, 3601.0, "An hour in"),
    ]


def test_non_video_file_fails_cleanly(media_dir: Path) -> None:
    junk = media_dir / "notes.mp4"
    junk.write_text("this is not a video\n", encoding="utf-8")

    report = video_check(video_path=junk, expected_duration=3.0)

    assert not report.passed
    assert failed_names(report) == {"container"}
    assert "not a readable video file" in report.reasons[0]
    assert all(check.skipped for check in report.checks[1:])


def test_empty_file_fails_cleanly(media_dir: Path) -> None:
    empty = media_dir / "empty.mp4"
    empty.write_bytes(b"")

    assert video_check(video_path=empty).reasons == [f"container: file is empty: {empty}"]


def test_missing_file_fails_cleanly(media_dir: Path) -> None:
    missing = media_dir / "never-rendered.mp4"

    report = video_check(video_path=missing)

    assert not report.passed
    assert report.reasons == [f"container: file not found: {missing}"]


def test_truncated_video_fails_decode(media_dir: Path, good_video: Path) -> None:
    truncated = media_dir / "truncated.mp4"
    data = good_video.read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])  # faststart: moov first, media cut short

    report = video_check(video_path=truncated)

    assert not report.passed
    assert "decode" in failed_names(report)


def test_corrupt_data_in_the_middle_fails_decode(media_dir: Path, good_video: Path) -> None:
    # Flipped bits mid-file: the decoders conceal and go on, logging errors; the
    # file still plays to its end, so only those logged errors tell.
    data = bytearray(good_video.read_bytes())
    middle = len(data) // 2
    for index in range(middle, middle + 3000, 7):
        data[index] ^= 0x5A
    corrupt = media_dir / "corrupt.mp4"
    corrupt.write_bytes(bytes(data))

    report = video_check(video_path=corrupt)

    assert "decode" in failed_names(report)
    assert "decode error(s), first: [" in report.check_get("decode").detail


def test_the_check_leaves_pyavs_logging_as_it_was(good_video: Path) -> None:
    # The check turns FFmpeg's error log on to read it; the studio and anything
    # else in the worker keep the level they had.
    before = av.logging.get_level()

    assert video_check(video_path=good_video).passed

    assert av.logging.get_level() == before


def test_black_in_a_long_video_is_found(media_dir: Path) -> None:
    # Long enough to be decoded with frame threads (THREADED_FROM_SECONDS).
    seconds = quality.THREADED_FROM_SECONDS + 1
    video = media_make(
        path=media_dir / "long_black.mp4",
        seconds=seconds,
        size=(160, 120),
        black_from=4.0,
        black_to=7.0,
    )

    report = video_check(video_path=video, expected_duration=seconds)

    assert failed_names(report) == {"black_frames"}
    assert figure_number(report, "black_frames") == pytest.approx(3.0, abs=0.1)
    assert "first at 4.00 s" in report.reasons[0]


def test_wrong_codec_fails(media_dir: Path) -> None:
    video = media_make(
        path=media_dir / "mpeg4.mp4", seconds=SECONDS, size=SIZE, video_codec="mpeg4"
    )

    report = video_check(video_path=video)

    assert failed_names(report) == {"container"}
    assert "video codec is mpeg4, not h264" in report.reasons[0]


def test_an_internal_error_becomes_a_failed_report(
    monkeypatch: pytest.MonkeyPatch, good_video: Path
) -> None:
    def explode(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(quality, "media_analyse", explode)

    report = video_check(video_path=good_video)

    assert not report.passed
    assert failed_names(report) == {"analysis"}
    assert "quality check crashed" in report.reasons[0]


def test_speech_recognition_unavailable_is_skipped(
    monkeypatch: pytest.MonkeyPatch, good_video: Path
) -> None:
    monkeypatch.setattr(
        quality, "recognizer_available", lambda: (False, "pocketsphinx is not installed")
    )

    report = video_check(video_path=good_video, script_text="Hello", speech_recognition=True)

    assert report.passed
    check = report.check_get("speech_recognition")
    assert check.skipped
    assert check.detail == "pocketsphinx is not installed"


SCRIPT = (
    "Security groups act as virtual firewalls for your instances. "
    "Always encrypt your data at rest and in transit. "
    "Multi factor authentication protects the root account."
)
UNRELATED = (
    "Preheat the oven and whisk the eggs with sugar until the mixture turns pale. "
    "Fold in the flour gently, then bake the cake for forty minutes."
)


@pytest.fixture(scope="module")
def spoken_video(media_dir: Path) -> Path:
    wav = speech_synthesize(text=SCRIPT, path=media_dir / "speech.wav")
    seconds = round(wav_seconds(path=wav) + 0.5, 2)
    return media_make(path=media_dir / "speech.mp4", seconds=seconds, size=SIZE, audio_path=wav)


def test_speech_recognition_recovers_the_right_script(spoken_video: Path) -> None:
    right = video_check(video_path=spoken_video, script_text=SCRIPT, speech_recognition=True)
    wrong = video_check(video_path=spoken_video, script_text=UNRELATED, speech_recognition=True)

    assert right.passed, right.reasons
    assert figure_number(right, "speech_recognition") >= 0.5
    assert not wrong.passed
    assert failed_names(wrong) == {"speech_recognition"}
    assert figure_number(wrong, "speech_recognition") <= 0.15
