"""Range-aware file serving for stored media (videos, captions, thumbnails).

Django's FileResponse ignores the Range header (Trac #22479), and an HTML5
player cannot seek without 206 Partial Content. `ranged_file_response` serves
one file from any Django storage with single-range support per RFC 9110:

- no Range (or one we may ignore: another unit, a malformed header, several
  ranges, an If-Range that does not match) -> 200 with the whole file;
- one satisfiable range (`bytes=0-99`, open-ended `bytes=100-`, suffix
  `bytes=-500`) -> 206 with Content-Range: bytes first-last/size;
- a well-formed range that starts at or past the end (or `bytes=-0`) -> 416
  with Content-Range: bytes */size.

The body is streamed in CHUNK_SIZE reads from `field.open("rb")` after a seek:
the file is never read into memory whole.

Behind nginx, a deployment can hand the bytes to nginx instead: after the
ownership check the view returns an empty HttpResponse with
`X-Accel-Redirect: /protected-media/<field.name>` (plus Content-Type,
Content-Disposition and Cache-Control), and nginx serves the file, Range and
all, from an internal location that browsers cannot request directly:

    location /protected-media/ {
        internal;
        alias /var/lib/presgen/media/;   # MEDIA_ROOT
    }

MEDIA_ROOT itself must then not be exposed under a public location.
(Google Drive storage has no file on disk; it keeps using this view.)
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

CHUNK_SIZE = 64 * 1024

# bytes=first-last, bytes=first-, bytes=-suffix (whitespace allowed around parts).
_RANGE = re.compile(r"^\s*bytes\s*=\s*(?:(\d+)\s*-\s*(\d*)|-\s*(\d+))\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    first: int
    last: int  # inclusive

    @property
    def length(self) -> int:
        return self.last - self.first + 1


class RangeNotSatisfiable(Exception):
    """A well-formed byte range that selects nothing in a file of this size."""


def http_range_parse(header: str | None, *, size: int) -> ByteRange | None:
    """The single byte range a Range header asks of a `size`-byte file, or None for all of it.

    None means "send the whole file": no header, another unit, a malformed or
    multi-range header (RFC 9110 lets a server ignore Range). Raises
    RangeNotSatisfiable for a well-formed range that starts past the end.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text, suffix_text = match.groups()
    if suffix_text is not None:
        suffix = int(suffix_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    first = int(first_text)
    last = int(last_text) if last_text else None
    if last is not None and last < first:
        return None  # invalid range-spec: ignored, like any malformed header
    if first >= size:
        raise RangeNotSatisfiable
    return ByteRange(first, size - 1 if last is None or last >= size else last)


class _FileChunks:
    """`length` bytes of an open file from `first`, in CHUNK_SIZE reads.

    An iterator with close(): StreamingHttpResponse calls it when the response
    is closed, so the file is closed even when the client goes away before the
    first chunk (a generator's finally would not run then).
    """

    def __init__(self, handle: Any, *, first: int, length: int) -> None:
        self._handle = handle
        self._first = first
        self._remaining = length
        self._started = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if not self._started:
            self._handle.seek(self._first)
            self._started = True
        if self._remaining <= 0:
            self.close()
            raise StopIteration
        chunk = self._handle.read(min(CHUNK_SIZE, self._remaining))
        if not chunk:  # the file shrank under us: end the body early
            self.close()
            raise StopIteration
        self._remaining -= len(chunk)
        return bytes(chunk)

    def close(self) -> None:
        self._handle.close()


def _etag(name: str, size: int) -> str:
    # Stored names are random and never rewritten in place: name and size identify the bytes.
    return '"' + hashlib.sha256(f"{name}:{size}".encode()).hexdigest()[:32] + '"'


def ranged_file_response(
    request: HttpRequest,
    *,
    field: FieldFile,
    content_type: str,
    download_name: str | None = None,
) -> HttpResponse | StreamingHttpResponse:
    """Serve a stored file with single-range support (see the module docstring).

    Raises FileNotFoundError when the field is empty or its file is missing.
    """
    if not field.name:
        raise FileNotFoundError("no file stored")
    handle: Any = field.open("rb")
    try:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        etag = _etag(field.name, size)
        header = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            header = None  # the client's copy is not this one: send it all
        try:
            byte_range = http_range_parse(header, size=size)
        except RangeNotSatisfiable:
            handle.close()
            response: HttpResponse | StreamingHttpResponse = HttpResponse(
                status=416, content_type="text/plain; charset=utf-8"
            )
            response["Content-Range"] = f"bytes */{size}"
            _common_headers(response, etag=etag, download_name=download_name)
            return response
        first, length = (0, size) if byte_range is None else (byte_range.first, byte_range.length)
        if request.method == "HEAD":
            handle.close()
            response = HttpResponse(content_type=content_type)
        else:
            response = StreamingHttpResponse(
                _FileChunks(handle, first=first, length=length), content_type=content_type
            )
    except BaseException:
        handle.close()
        raise
    if byte_range is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {byte_range.first}-{byte_range.last}/{size}"
    response["Content-Length"] = str(length)
    _common_headers(response, etag=etag, download_name=download_name)
    return response


def _common_headers(
    response: HttpResponse | StreamingHttpResponse, *, etag: str, download_name: str | None
) -> None:
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    # Per-learner content: browsers may keep it, shared caches must not.
    response["Cache-Control"] = "private"
    response["X-Content-Type-Options"] = "nosniff"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=download_name
        )


# --- a video's files -------------------------------------------------------------------------

# Video field -> (Content-Type when the name says nothing better, other types allowed by name)
VIDEO_FILE_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "file": ("video/mp4", frozenset({"video/webm"})),
    "captions": ("text/vtt; charset=utf-8", frozenset()),
    "thumbnail": ("image/jpeg", frozenset({"image/png"})),
}


def video_file_response(
    request: HttpRequest, *, video: Any, field_name: str, download: bool = False, count: bool = True
) -> HttpResponse | StreamingHttpResponse:
    """One of a video's stored files (`file`, `captions`, `thumbnail`), with Range support.

    The caller has already checked who may see the video. `download` serves it as an
    attachment; a learner's download of the video itself (not a resumed one, which
    starts past byte 0) counts in their WatchProgress.downloads unless `count` is off
    (staff previews). Raises Http404 for a file storage no longer has.
    """
    from django.http import Http404
    from django.utils.text import slugify

    from library.progress import watch_download_count  # library depends on videos' models

    default_type, others = VIDEO_FILE_TYPES[field_name]
    field: FieldFile = getattr(video, field_name)
    guessed = mimetypes.guess_type(field.name or "")[0]
    content_type = guessed if guessed in others | {default_type} else default_type
    download_name = None
    if download:
        name = field.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
        download_name = f"{slugify(video.title) or 'video'}.{extension}"
    try:
        response = ranged_file_response(
            request, field=field, content_type=content_type, download_name=download_name
        )
    except FileNotFoundError:
        raise Http404("No such media.") from None
    whole = response.status_code == 200 or (
        response.status_code == 206 and response["Content-Range"].startswith("bytes 0-")
    )
    if download and count and field_name == "file" and request.method == "GET" and whole:
        watch_download_count(learner=video.learner, video=video)
    return response
