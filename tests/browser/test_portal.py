"""The learner portal in a real browser: Chromium, driven by Playwright, on a live server.

Each test is one thing a learner does and checks what they would see; where the
outcome is a saved fact (watch progress, completion), the test also reads it
back from the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from library.models import WatchProgress
from tests.browser.conftest import (
    CLIP_TITLE,
    DESKTOP,
    JOB_STEP,
    LESSON_TITLE,
    PHONE,
    STEP_TIMEOUT_MS,
    PageFactory,
    Portal,
    login,
    png_size,
    screenshot,
)
from videos.models import Video, VideoJob
from videos.quality import vtt_cues

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLAYER = "document.getElementById('player')"


def media(page: Page, expression: str) -> Any:
    """Evaluate `expression` about the page's <video> (named `v`); promises are awaited."""
    return page.evaluate(f"(async (v) => ({expression}))({PLAYER})")


def wait_media(page: Page, condition: str) -> None:
    """Wait until `condition` about the page's <video> (named `v`) holds."""
    page.wait_for_function(f"() => {{ const v = {PLAYER}; return Boolean({condition}); }}")


def wait_until(page: Page, check: Callable[[], bool], what: str) -> None:
    """Wait, letting the page run, until a server-side fact holds (a ceiling, not a timing)."""
    for _ in range(STEP_TIMEOUT_MS // 100):
        if check():
            return
        page.wait_for_timeout(100)
    pytest.fail(f"still waiting for {what}")


def progress_of(portal: Portal, video: Video) -> WatchProgress | None:
    return WatchProgress.objects.filter(learner=portal.learner, video=video).first()


def open_player(page: Page, video: Video) -> None:
    page.goto(f"/videos/{video.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(video.title)
    wait_media(page, "v.readyState >= 1")  # metadata: the duration is known


# --- logging in and the library ------------------------------------------------------


def test_a_learner_logs_in_with_the_form_and_sees_their_home_page(page: Page, portal: Portal):
    page.goto("/library/")
    page.wait_for_url(re.compile(r"/accounts/login/"))  # the library needs an account
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("enter a correct username and password")

    login(page, portal.learner)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada")
    account = page.get_by_role("navigation", name="Account")
    expect(account).to_contain_text("Ada")
    expect(account.get_by_role("button", name="Log out")).to_be_visible()


def test_the_library_moves_a_generating_jobs_progress_bar_without_a_reload(
    learner_page: Page, portal: Portal
):
    page = learner_page
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your library")
    job_row = page.locator(f'[data-job-id="{portal.job.pk}"]')
    bar = job_row.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "35")
    expect(job_row).to_contain_text(f"35% · {JOB_STEP}")
    page.evaluate("window.sameDocument = true")

    VideoJob.objects.filter(pk=portal.job.pk).update(progress=70, step="Checking the narration")

    expect(bar).to_have_attribute("aria-valuenow", "70")
    expect(bar).to_have_attribute("aria-valuetext", "70%, Checking the narration")
    expect(job_row).to_contain_text("70% · Checking the narration")
    expect(job_row.locator(".bar-fill")).to_have_attribute("style", re.compile(r"width: 70%"))
    assert page.evaluate("window.sameDocument") is True, "the page was not reloaded"


# --- the player ----------------------------------------------------------------------


def test_a_ready_video_opens_from_the_library_and_playback_advances(
    learner_page: Page, portal: Portal
):
    page = learner_page
    page.goto("/library/")
    page.get_by_role("link", name=LESSON_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_TITLE)
    wait_media(page, "v.readyState >= 1")
    assert media(page, "v.duration") == pytest.approx(portal.lesson.duration_seconds, abs=0.1)
    assert media(page, "v.currentTime") == 0

    media(page, "v.play()")
    wait_media(page, "v.currentTime > 1.5")
    assert media(page, "v.paused") is False
    assert media(page, "v.error") is None
    assert media(page, "v.videoWidth") == 854  # frames were decoded, not just bytes fetched


ROUTES_LINE = "Routers join the subnets back together."


def cue_times(video: Video, text: str) -> tuple[float, float]:
    """Where a caption line starts and ends in the rendered lesson (Piper's timing varies a
    little from one synthesis to the next, so the tests read it rather than assume it)."""
    with video.captions.open("rb") as handle:
        cues = vtt_cues(handle.read().decode())
    return next((start, end) for start, end, line in cues if line == text)


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def test_the_captions_track_loads_and_shows_the_current_line(learner_page: Page, portal: Portal):
    page = learner_page
    open_player(page, portal.lesson)
    wait_media(page, "v.textTracks.length === 1 && v.textTracks[0].cues?.length === 6")
    track = media(
        page,
        "({mode: v.textTracks[0].mode, kind: v.textTracks[0].kind,"
        " loaded: v.querySelector('track').readyState,"
        " first: v.textTracks[0].cues[0].text})",
    )
    assert track == {
        "mode": "showing",
        "kind": "captions",
        "loaded": 2,  # HTMLTrackElement.LOADED
        "first": "A subnet splits one address\nrange into smaller ones.",
    }

    start, end = cue_times(portal.lesson, ROUTES_LINE)
    media(page, f"v.currentTime = {(start + end) / 2}")
    wait_media(page, "v.textTracks[0].activeCues?.length === 1")
    assert media(page, "v.textTracks[0].activeCues[0].text") == ROUTES_LINE


def test_choosing_a_transcript_line_seeks_the_video_there(learner_page: Page, portal: Portal):
    page = learner_page
    open_player(page, portal.lesson)
    transcript = page.get_by_role("region", name="Transcript")
    lines = transcript.get_by_role("button")
    expect(lines).to_have_count(6)
    line = transcript.get_by_role("button", name=ROUTES_LINE)
    start, end = cue_times(portal.lesson, ROUTES_LINE)
    expect(line).to_contain_text(clock(start))

    line.click()

    wait_media(page, f"v.currentTime >= {start - 0.15} && !v.seeking")
    assert media(page, "v.currentTime") < end  # inside the chosen line, not past it
    expect(line).to_have_attribute("aria-current", "true")
    expect(transcript.locator("[aria-current]")).to_have_count(1)
    assert media(page, "v.paused") is False  # choosing a line also plays it


def test_leaving_and_coming_back_resumes_at_the_saved_position(learner_page: Page, portal: Portal):
    page = learner_page
    open_player(page, portal.lesson)
    expect(page.get_by_text("Resuming where you stopped")).to_have_count(0)
    page.get_by_role("button", name="Each part has its own prefix.").click()  # plays from 0:03
    paused_at = media(
        page,
        """new Promise((resolve) => {
            const pauseAfter4s = () => {
                if (v.currentTime <= 4.2) return;
                v.removeEventListener("timeupdate", pauseAfter4s);
                v.pause();
                resolve(v.currentTime);
            };
            v.addEventListener("timeupdate", pauseAfter4s);
        })""",
    )
    assert 4.2 < paused_at < 5

    def saved() -> bool:
        progress = progress_of(portal, portal.lesson)
        return progress is not None and progress.position_seconds == pytest.approx(
            paused_at, abs=0.01
        )

    wait_until(page, saved, "the paused position to be saved")

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your library")
    card = page.locator(f'[data-video-id="{portal.lesson.pk}"]')
    expect(card).to_contain_text("In progress")
    card.get_by_role("link", name=LESSON_TITLE).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_TITLE)
    expect(page.get_by_text("Resuming where you stopped, at 0:04")).to_be_visible()
    wait_media(page, "v.readyState >= 1 && !v.seeking")
    assert media(page, "v.currentTime") == pytest.approx(paused_at, abs=0.01)

    page.get_by_role("button", name="Start from the beginning").click()
    wait_media(page, "v.currentTime === 0")
    expect(page.get_by_text("Resuming where you stopped")).to_be_hidden()


def test_watching_to_the_end_marks_the_video_complete(learner_page: Page, portal: Portal):
    page = learner_page
    open_player(page, portal.clip)
    badge = page.locator("#watched-badge")
    expect(badge).to_be_hidden()
    page.get_by_label("Speed").select_option("2")
    assert media(page, "v.playbackRate") == 2

    media(page, "v.play()")
    wait_media(page, "v.ended")

    expect(badge).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Marked as watched.")).to_be_visible()
    progress = progress_of(portal, portal.clip)
    assert progress is not None and progress.completed
    assert progress.seconds_watched >= 0.95 * portal.clip.duration_seconds
    page.goto("/library/")
    expect(page.locator(f'[data-video-id="{portal.clip.pk}"]')).to_contain_text("Watched ✓")


def test_dragging_to_the_end_does_not_mark_the_video_complete(learner_page: Page, portal: Portal):
    page = learner_page
    open_player(page, portal.lesson)
    # the server clamps positions to the stored duration; the media's may differ slightly
    end = min(portal.lesson.duration_seconds, media(page, "v.duration"))
    media(page, "v.play()")
    wait_media(page, "v.currentTime > 0.2")

    media(page, "v.currentTime = v.duration - 0.5")  # what dragging the seek bar does
    wait_media(page, "v.ended")

    def end_saved() -> bool:
        progress = progress_of(portal, portal.lesson)
        return progress is not None and progress.position_seconds >= end - 0.1

    wait_until(page, end_saved, "the position at the end to be saved")
    progress = progress_of(portal, portal.lesson)
    assert progress is not None and not progress.completed
    assert progress.seconds_watched < 0.5 * portal.lesson.duration_seconds
    expect(page.locator("#watched-badge")).to_be_hidden()
    page.goto("/library/")
    expect(page.locator(f'[data-video-id="{portal.lesson.pk}"]')).not_to_contain_text("Watched")


# --- playlists and recommendations ---------------------------------------------------


def test_a_playlist_is_created_and_reordered(learner_page: Page, portal: Portal):
    page = learner_page
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Playlists").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your playlists")
    page.get_by_label("New playlist name").fill("Before the exam")
    page.get_by_role("button", name="Create playlist").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Before the exam")
    expect(page.get_by_text("Playlist “Before the exam” created.")).to_be_visible()
    for title in (LESSON_TITLE, CLIP_TITLE):
        page.get_by_label("Add a video").select_option(label=title)
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.get_by_text(f"Added “{title}”.")).to_be_visible()
    items = page.locator(".playlist-items .name")
    expect(items).to_have_text([LESSON_TITLE, CLIP_TITLE])

    page.get_by_role("button", name=f"Move {CLIP_TITLE} up").click()

    expect(page.get_by_text(f"Moved “{CLIP_TITLE}” up.")).to_be_visible()
    expect(items).to_have_text([CLIP_TITLE, LESSON_TITLE])
    expect(page.get_by_role("button", name=f"Move {CLIP_TITLE} up")).to_be_disabled()
    expect(page.get_by_role("link", name=f"Start: {CLIP_TITLE}")).to_be_visible()
    page.reload()
    expect(items).to_have_text([CLIP_TITLE, LESSON_TITLE])
    page.get_by_role("link", name="← Your playlists").click()
    row = page.locator(".playlist-row", has_text="Before the exam")
    expect(row).to_contain_text("0 of 2 watched")


def test_a_recommendation_leads_to_its_video(learner_page: Page, portal: Portal):
    page = learner_page  # on the home page
    recommended = page.locator("section", has=page.get_by_role("heading", name="Recommended next"))
    item = recommended.get_by_role("listitem").filter(has_text=LESSON_TITLE)
    expect(item).to_contain_text("Your weakest area: Subnetting")

    item.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON_TITLE)
    assert page.url.endswith(f"/videos/{portal.lesson.pk}/")
    wait_media(page, "v.readyState >= 1")


# --- screenshots for the README --------------------------------------------------------


def test_screenshots_of_the_library_and_the_player_at_desktop_and_phone_width(
    new_page: PageFactory, portal: Portal
):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(viewport=viewport, phone=viewport is PHONE)
        login(page, portal.learner)

        page.goto("/library/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Your library")
        page.wait_for_function(
            "() => [...document.images].every((img) => img.complete && img.naturalWidth > 0)"
        )
        # no horizontal scrolling at this width
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        shot = screenshot(page, f"library-{name}")
        assert png_size(shot)[0] == viewport["width"]

        open_player(page, portal.lesson)
        start, end = cue_times(portal.lesson, ROUTES_LINE)
        media(page, f"v.currentTime = {(start + end) / 2}")
        # the frame in that line is decoded and the caption shows: no loading spinner in the shot
        wait_media(page, "!v.seeking && v.readyState === 4 && v.textTracks[0].activeCues?.length")
        expect(page.locator(".cue.is-current")).to_contain_text("Routers join")
        # Chromium's controls fade their loading spinner out over a last animation cycle:
        # a pause for the picture to show the player at rest (nothing is checked by time).
        page.wait_for_timeout(2500)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        shot = screenshot(page, f"player-{name}")
        assert png_size(shot)[0] == viewport["width"]
