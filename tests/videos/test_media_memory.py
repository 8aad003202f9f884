"""Serving a large video keeps memory flat: the file is streamed in chunks, never read whole.

The file is a 300 MiB sparse file (no disk space used); tracemalloc measures
the peak Python allocation while the whole response body is consumed. A memory
bound, not a time bound.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.builders import user_build, video_build, video_job_build
from videos.models import Video

pytestmark = pytest.mark.django_db

SIZE = 300 * 1024 * 1024
RANGE_FIRST = 100_000_000
# Far below the file's size; one 64 KiB chunk at a time plus Django's own overhead.
PEAK_LIMIT = 16 * 1024 * 1024


@pytest.fixture
def large_video(media_root: Path) -> Video:
    video = video_build(job=video_job_build(learner=user_build()), title="A long lecture")
    path = Path(video.file.path)
    with path.open("r+b") as handle:
        handle.truncate(SIZE)  # sparse: the size without the disk space
        handle.seek(SIZE - 4)
        handle.write(b"last")
    Video.objects.filter(pk=video.pk).update(size_bytes=SIZE)
    return video


@pytest.fixture
def owner(client: Client, large_video: Video) -> Client:
    client.force_login(large_video.learner)
    return client


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def consume(chunks: Iterator[bytes]) -> tuple[int, bytes]:
    """The body's length and its last 4 bytes, holding one chunk at a time."""
    total = 0
    tail = b""
    for chunk in chunks:
        total += len(chunk)
        tail = (tail + chunk)[-4:]
    return total, tail


def serve_and_measure(
    client: Client, video: Video, *, headers: dict[str, str] | None = None
) -> tuple[int, int, bytes, int]:
    """(status, body length, last 4 bytes, peak bytes allocated above the start)."""
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    response = client.get(reverse("portal:video_media", args=[video.pk, "video"]), headers=headers)
    assert response.streaming, "the video is streamed, not built in memory"
    length, tail = consume(response.streaming_content)  # type: ignore[attr-defined]
    response.close()
    peak = tracemalloc.get_traced_memory()[1] - before
    assert int(response["Content-Length"]) == length
    return response.status_code, length, tail, peak


def test_a_whole_large_video_is_served_with_flat_memory(owner: Client, large_video: Video, traced):
    status, length, tail, peak = serve_and_measure(owner, large_video)
    assert status == 200
    assert length == SIZE and tail == b"last"
    assert peak < PEAK_LIMIT, f"peak allocation {peak / 2**20:.1f} MiB"


def test_a_range_of_a_large_video_is_served_with_flat_memory(
    owner: Client, large_video: Video, traced
):
    status, length, tail, peak = serve_and_measure(
        owner, large_video, headers={"Range": f"bytes={RANGE_FIRST}-"}
    )
    assert status == 206
    assert length == SIZE - RANGE_FIRST and tail == b"last"
    assert peak < PEAK_LIMIT, f"peak allocation {peak / 2**20:.1f} MiB"
