"""Browser tests: Playwright drives Debian's Chromium against a live PresGen server.

One Chromium for all the browser tests (never a downloaded browser: `.ci/ensure-chromium`
installs Debian's `chromium` when it is missing), a fresh browser context per
test, pytest-django's `live_server` (a real server in a thread, transactional
database) and real rendered clips from the studio.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Browser, Page, expect, sync_playwright

from library.models import Certification
from presgen.models import User
from tests.builders import assessment_build, certification_build, user_build, video_job_build
from tests.videos.conftest import studio_clip  # noqa: F401  (the session's real render)
from videos.models import JobStatus, Video, VideoJob
from videos.studio.renderer import video_render
from videos.studio.types import Script, Section, VideoType

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    # Without these Chromium phones home at start and its connections are refused here.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# How long one browser step may wait for the page (a ceiling, never a measured time).
STEP_TIMEOUT_MS = 20_000
SETTLE_POLLS = 400  # x 50 ms
expect.set_options(timeout=STEP_TIMEOUT_MS)
HOME_URL = re.compile(r"^http://[^/]+/$")

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "var" / "artifacts" / "screenshots"
PASSWORD = "correct-horse-battery-staple"

LESSON_TITLE = "Subnetting: splitting address ranges"
CLIP_TITLE = "Your roadmap to Cloud Networking"
JOB_STEP = "Rendering the slides"


@pytest.fixture(scope="package")
def browser(django_db_setup: None) -> Iterator[Browser]:
    """One Chromium for the browser tests, closed when the last of them has run.

    Playwright's sync API keeps an event loop running in the tests' thread while
    it is open; Django's ORM, used by the tests and fixtures between browser
    steps, would take that for async code. So: the test database is made before
    the browser starts, the ORM is allowed beside it only while it runs, and
    the browser stops after this package, before any other test.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}: run .ci/ensure-chromium "
            "(or `apt-get install chromium`)."
        )
    allowed = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as driver:
            chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if allowed is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = allowed


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Logging in checks a real password, with a cheap hash: each test logs in once or twice."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PageFactory = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, live_server, transactional_db) -> Iterator[PageFactory]:
    """Open pages in fresh browser contexts (own cookies) on the live server.

    Each page records uncaught JavaScript errors; the test fails if any happened.
    """
    contexts = []
    errors: list[str] = []

    def open_page(*, viewport: dict[str, int] = DESKTOP, phone: bool = False) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,  # type: ignore[arg-type]
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    # Closing the pages ends their connections; let the server finish what it was
    # answering (a last progress save, a media range) before the test's data goes.
    server_settle(live_server)
    assert errors == [], "the pages raised JavaScript errors"


def server_settle(live_server) -> None:
    """Wait until the live server has no request thread left (a ceiling, not a timing).

    Only its own threads count: the fake provider servers of earlier tests are
    threading servers too, and their threads may idle on a keep-alive
    connection of the process's shared HTTP client for as long as it lives.
    """
    httpd = live_server.thread.httpd
    for _ in range(SETTLE_POLLS):
        busy = [
            thread
            for thread in threading.enumerate()
            if getattr(getattr(thread, "_target", None), "__self__", None) is httpd
            and thread.is_alive()
        ]
        if not busy:
            return
        time.sleep(0.05)
    pytest.fail(f"the live server is still answering {len(busy)} request(s)")


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    """A desktop-sized page (1280x800)."""
    return new_page()


def login(page: Page, user: User, *, password: str = PASSWORD) -> None:
    """Log in through the login form, as a learner does, and land on the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(HOME_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of what the learner sees to var/artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, caret="hide")
    return path


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- a learner with real videos ------------------------------------------------------


@pytest.fixture(scope="session")
def lesson_clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A real 480p studio render of about 13 s with six caption cues (seekable, resumable)."""
    script = Script(
        video_type=VideoType.REMEDIATION,
        title=LESSON_TITLE,
        sections=(
            Section(
                "Subnets",
                "A subnet splits one address range into smaller ones. "
                "Each part has its own prefix.",
            ),
            Section(
                "Routes",
                "Routers join the subnets back together. A route says where each prefix lives.",
            ),
            Section("Review", "That is all for now. Well done."),
        ),
    )
    result = video_render(
        script=script, dest=tmp_path_factory.mktemp("lesson") / "lesson.mp4", quality="480p"
    )
    return {
        "mp4": result.video_path,
        "vtt": result.captions_path,
        "jpg": result.thumbnail_path,
        "duration": result.report.duration,
    }


def _ready_video(
    *,
    learner: User,
    clip: dict[str, object],
    title: str,
    video_type: str,
    certification: Certification,
    domain_slug: str | None = None,
    priority: int = 1,
) -> Video:
    """A ready job and its Video, with copies of a real clip's files in MEDIA_ROOT."""
    job = video_job_build(
        learner=learner,
        certification=certification,
        video_type=video_type,
        priority=priority,
        status=JobStatus.READY,
        progress=100,
        parameters={"domain": domain_slug} if domain_slug else {},
    )
    mp4 = Path(str(clip["mp4"])).read_bytes()
    return Video.objects.create(
        job=job,
        learner=learner,
        video_type=video_type,
        title=title,
        domain=certification.domains.get(slug=domain_slug) if domain_slug else None,
        file=ContentFile(mp4, name="video.mp4"),
        captions=ContentFile(Path(str(clip["vtt"])).read_bytes(), name="captions.vtt"),
        thumbnail=ContentFile(Path(str(clip["jpg"])).read_bytes(), name="thumbnail.jpg"),
        duration_seconds=float(str(clip["duration"])),
        size_bytes=len(mp4),
        width=854,
        height=480,
        provider="studio",
    )


@dataclass
class Portal:
    learner: User
    certification: Certification
    lesson: Video  # ~13 s remediation video for the weakest domain
    clip: Video  # ~3 s overview video
    job: VideoJob  # a practice session being rendered


@pytest.fixture
def portal(
    transactional_db,
    media_root: Path,
    studio_clip: dict[str, object],  # noqa: F811  (the fixture imported above)
    lesson_clip: dict[str, object],
) -> Portal:
    """A learner (Ada) with an assessment, two ready real videos and one video being made."""
    learner = user_build(username="ada", display_name="Ada", password=PASSWORD)
    cert = certification_build(
        slug="cloud-networking",
        name="Cloud Networking Fundamentals",
        domains={"subnetting": 40, "routing": 35, "security": 25},
    )
    for slug, name in (
        ("subnetting", "Subnetting"),
        ("routing", "Routing"),
        ("security", "Network security"),
    ):
        cert.domains.filter(slug=slug).update(name=name)
    assessment_build(
        learner=learner,
        certification=cert,
        scores={"subnetting": 42, "routing": 68, "security": 81},
        overall_score=Decimal(61),
    )
    clip = _ready_video(
        learner=learner,
        clip=studio_clip,
        title=CLIP_TITLE,
        video_type=VideoType.OVERVIEW,
        certification=cert,
        priority=1,
    )
    lesson = _ready_video(
        learner=learner,
        clip=lesson_clip,
        title=LESSON_TITLE,
        video_type=VideoType.REMEDIATION,
        certification=cert,
        domain_slug="subnetting",
        priority=2,
    )
    job = video_job_build(
        learner=learner,
        certification=cert,
        video_type=VideoType.PRACTICE_SESSION,
        priority=3,
        parameters={"domain": "routing"},
        status=JobStatus.RENDERING,
        progress=35,
        step=JOB_STEP,
    )
    return Portal(learner=learner, certification=cert, lesson=lesson, clip=clip, job=job)


@pytest.fixture
def learner_page(page: Page, portal: Portal) -> Page:
    """The desktop page, logged in as the portal's learner."""
    login(page, portal.learner)
    return page
