"""Owner-only media with HTTP Range support (RFC 9110), on real stored files."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from library.models import WatchProgress
from tests.builders import user_build, video_build, video_job_build
from tests.videos.media import media_make, vtt_write
from videos.media import (
    CHUNK_SIZE,
    ByteRange,
    RangeNotSatisfiable,
    _FileChunks,
    http_range_parse,
)

pytestmark = pytest.mark.django_db

# 200 KiB of known bytes: more than three 64 KiB chunks.
DATA = bytes(range(256)) * 800
SIZE = len(DATA)


@pytest.fixture
def video(media_root):
    return video_build(
        job=video_job_build(learner=user_build()),
        title="Networking: a first look",
        file=ContentFile(DATA, name="video.mp4"),
        captions=ContentFile(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n", name="c.vtt"),
        thumbnail=ContentFile(b"\xff\xd8\xff\xe0jpeg", name="thumb.jpg"),
        size_bytes=SIZE,
    )


@pytest.fixture
def owner(client, video):
    client.force_login(video.learner)
    return client


def url(video, kind="video", **query):
    base = reverse("portal:video_media", args=[video.pk, kind])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- the Range header, parsed ----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-", ByteRange(100, 999)),
        ("bytes=-500", ByteRange(500, 999)),
        ("bytes=-5000", ByteRange(0, 999)),  # a suffix longer than the file is all of it
        ("bytes=900-5000", ByteRange(900, 999)),  # last-pos past the end is clamped
        ("bytes=999-", ByteRange(999, 999)),
        ("BYTES = 1-2", ByteRange(1, 2)),
        # ignored (the whole file): malformed, another unit, several ranges, last < first
        ("bytes=abc", None),
        ("bytes=", None),
        ("bytes=-", None),
        ("bytes=1-2-3", None),
        ("bytes 0-10", None),
        ("items=0-10", None),
        ("bytes=0-1,5-6", None),
        ("bytes=10-5", None),
        ("bytes=-1.5", None),
    ],
)
def test_range_headers_parse_per_rfc_9110(header, expected):
    assert http_range_parse(header, size=1000) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=5000-6000", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
    ],
)
def test_unsatisfiable_ranges_are_refused(header, size):
    with pytest.raises(RangeNotSatisfiable):
        http_range_parse(header, size=size)


# --- served --------------------------------------------------------------------


def test_no_range_is_200_with_the_whole_file_streamed_in_chunks(owner, video):
    response = owner.get(url(video))
    assert response.status_code == 200
    assert response.streaming
    chunks = list(response.streaming_content)
    assert b"".join(chunks) == DATA
    assert len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= CHUNK_SIZE
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Cache-Control"] == "private"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Range" not in response
    assert "Content-Disposition" not in response


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=65530-65545", 65530, 65545),  # across a chunk boundary
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=-999999", 0, SIZE - 1),
        ("bytes=200000-999999", 200000, SIZE - 1),
    ],
)
def test_a_satisfiable_range_is_206_with_exactly_that_slice(owner, video, header, first, last):
    response = owner.get(url(video), HTTP_RANGE=header)
    assert response.status_code == 206
    assert body(response) == DATA[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_a_range_past_the_end_is_416_with_the_size(owner, video, header):
    response = owner.get(url(video), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-1", "pages=1-2", "bytes=0-1,4-5"])
def test_a_range_that_may_be_ignored_gets_the_whole_file(owner, video, header):
    response = owner.get(url(video), HTTP_RANGE=header)
    assert response.status_code == 200
    assert body(response) == DATA


def test_if_range_with_a_stale_validator_gets_the_whole_file(owner, video):
    etag = owner.get(url(video), HTTP_RANGE="bytes=0-0")["ETag"]
    fresh = owner.get(url(video), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh.status_code == 206 and body(fresh) == DATA[:10]
    stale = owner.get(url(video), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200 and body(stale) == DATA


def test_head_answers_the_headers_without_a_body(owner, video):
    response = owner.head(url(video), HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


def test_a_real_mp4_is_served_whole_and_in_ranges(client, media_root, tmp_path):
    mp4 = media_make(path=tmp_path / "clip.mp4", seconds=1.0, size=(160, 120))
    vtt = vtt_write(path=tmp_path / "clip.vtt", cues=[(0.0, 1.0, "One second of test pattern.")])
    data = mp4.read_bytes()
    video = video_build(
        job=video_job_build(learner=user_build()),
        file=ContentFile(data, name="clip.mp4"),
        captions=ContentFile(vtt.read_bytes(), name="clip.vtt"),
        duration_seconds=1,
        size_bytes=len(data),
    )
    client.force_login(video.learner)
    whole = client.get(url(video))
    assert whole.status_code == 200 and body(whole) == data
    tail = client.get(url(video), HTTP_RANGE="bytes=-100")
    assert tail.status_code == 206 and body(tail) == data[-100:]
    middle = client.get(url(video), HTTP_RANGE=f"bytes={len(data) // 2}-")
    assert body(middle) == data[len(data) // 2 :]
    captions = client.get(url(video, "captions"))
    assert captions["Content-Type"] == "text/vtt; charset=utf-8"
    assert body(captions) == vtt.read_bytes()


def test_captions_and_thumbnail_have_their_content_types(owner, video):
    captions = owner.get(url(video, "captions"))
    assert captions.status_code == 200
    assert captions["Content-Type"] == "text/vtt; charset=utf-8"
    assert body(captions).startswith(b"WEBVTT")
    thumbnail = owner.get(url(video, "thumbnail"), HTTP_RANGE="bytes=0-2")
    assert thumbnail.status_code == 206
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert body(thumbnail) == b"\xff\xd8\xff"


# --- downloads -------------------------------------------------------------------


def test_download_is_an_attachment_and_counts(owner, video):
    response = owner.get(url(video, download=1))
    assert response.status_code == 200 and body(response) == DATA
    assert response["Content-Disposition"] == 'attachment; filename="networking-a-first-look.mp4"'
    assert WatchProgress.objects.get(learner=video.learner, video=video).downloads == 1
    owner.get(url(video, download=1))
    assert WatchProgress.objects.get(learner=video.learner, video=video).downloads == 2


def test_resuming_a_download_or_playing_does_not_count_again(owner, video):
    owner.get(url(video, download=1), HTTP_RANGE="bytes=0-")  # counts: starts at byte 0
    owner.get(url(video, download=1), HTTP_RANGE="bytes=1000-")  # a resumed download
    owner.head(url(video, download=1))
    owner.get(url(video), HTTP_RANGE="bytes=0-")  # the player
    owner.get(url(video, "captions", download=1))
    assert WatchProgress.objects.get(learner=video.learner, video=video).downloads == 1


# --- who may fetch ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["video", "captions", "thumbnail"])
def test_another_learner_gets_404_for_every_kind(client, video, kind):
    client.force_login(user_build())
    assert client.get(url(video, kind)).status_code == 404
    assert client.get(url(video, kind), HTTP_RANGE="bytes=0-9").status_code == 404
    assert client.get(url(video, kind, download=1)).status_code == 404
    assert not WatchProgress.objects.exists()


@pytest.mark.parametrize("kind", ["video", "captions", "thumbnail"])
def test_a_hidden_video_is_404_even_for_its_owner(owner, video, kind):
    video.hidden = True
    video.save()
    assert owner.get(url(video, kind)).status_code == 404


@pytest.mark.parametrize("kind", ["video", "captions", "thumbnail"])
def test_anonymous_visitors_get_404(client, video, kind):
    assert client.get(url(video, kind)).status_code == 404


def test_unknown_kinds_missing_files_and_missing_videos_are_404(owner, video, media_root):
    assert owner.get(url(video, "script")).status_code == 404
    assert (
        owner.get(reverse("portal:video_media", args=[video.pk + 1000, "video"])).status_code == 404
    )
    bare = video_build(job=video_job_build(learner=video.learner))  # no captions, no thumbnail
    assert owner.get(url(bare, "captions")).status_code == 404
    assert owner.get(url(bare, "thumbnail")).status_code == 404
    bare.file.storage.delete(bare.file.name)  # a row whose file is gone
    assert owner.get(url(bare, "video")).status_code == 404


def test_media_is_get_or_head_only(owner, video):
    assert owner.post(url(video)).status_code == 405


# --- the chunk iterator ------------------------------------------------------------


def test_chunks_close_the_file_when_done_and_when_dropped_unread():
    handle = io.BytesIO(DATA)
    chunks = _FileChunks(handle, first=10, length=CHUNK_SIZE + 5)
    assert b"".join(chunks) == DATA[10 : 10 + CHUNK_SIZE + 5]
    assert handle.closed
    unread = io.BytesIO(DATA)
    _FileChunks(unread, first=0, length=SIZE).close()
    assert unread.closed


def test_chunks_stop_early_when_the_file_is_shorter_than_promised():
    handle = io.BytesIO(b"abc")
    assert b"".join(_FileChunks(handle, first=1, length=100)) == b"bc"
    assert handle.closed
