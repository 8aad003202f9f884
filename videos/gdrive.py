"""The one module that talks to the Google Drive v3 API (through google-api-python-client).

Everything PresGen sends to Drive goes through these functions; they take a `Drive`
(one per thread: httplib2 connections are not thread-safe) and return `DriveFile`s
or raise `DriveError`.

Retries are ours, not the client's `num_retries`, for one reason: the client's
in-call retry of a resumable upload chunk re-sends the chunk from a stream it has
already read to the end (an empty body under a full Content-Length), which hangs
until the server gives up. Instead a failed chunk is left to the client's own
resume path: the next `next_chunk()` asks Drive how many bytes arrived
(`Content-Range: bytes */size`) and carries on from there, as Google documents
for interrupted uploads. Other calls are retried the same way for one policy.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httplib2
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload, MediaIoBaseUpload

logger = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/drive.file"]
FOLDER_MIME = "application/vnd.google-apps.folder"
# Drive wants resumable chunks in multiples of 256 KiB; 8 MiB keeps requests few
# without holding much in memory (one chunk at a time, up and down).
CHUNK_MULTIPLE = 256 * 1024
CHUNK_SIZE = 32 * CHUNK_MULTIPLE
NUM_RETRIES = 5
FILE_FIELDS = "id,name,size,mimeType,parents,appProperties"
# 403s that mean "slow down", not "forbidden".
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class DriveFile:
    id: str
    name: str
    size: int | None  # None for folders and Google-native documents
    mime_type: str
    parents: tuple[str, ...]
    app_properties: Mapping[str, str] = field(default_factory=dict)


class DriveError(Exception):
    """A Drive call failed. `status` is the HTTP status (None for transport/auth failures)."""

    def __init__(self, message: str, *, status: int | None, reason: str, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.retryable = retryable


class DriveCredentialsError(DriveError):
    """The service-account file cannot be used. The message never quotes the file."""


@dataclass(kw_only=True)
class Drive:
    """A connected Drive v3 service and the folder PresGen keeps its files under."""

    service: Any  # googleapiclient's Resource is untyped
    root_folder_id: str
    api_url: str
    chunk_size: int = CHUNK_SIZE
    num_retries: int = NUM_RETRIES
    sleep: Callable[[float], None] = time.sleep


def drive_connect(
    *,
    service_account_file: str | Path,
    root_folder_id: str = "",
    api_url: str = "",
    chunk_size: int = CHUNK_SIZE,
    num_retries: int = NUM_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> Drive:
    """Load the service account and build the Drive service (no network call yet).

    root_folder_id "" is the service account's own My Drive ("root"). api_url "" is
    Google; otherwise the root of a Drive-compatible endpoint (e.g. "http://127.0.0.1:8123/").
    """
    if chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
        raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_MULTIPLE}")
    credentials = _credentials_load(service_account_file)
    client_options = None
    if api_url:
        # The client uses api_endpoint in place of rootUrl + servicePath.
        client_options = {"api_endpoint": urllib.parse.urljoin(_root(api_url), "drive/v3/")}
    service = build(
        "drive",
        "v3",
        credentials=credentials,
        static_discovery=True,
        cache_discovery=False,  # the bundled document is used; nothing to cache
        client_options=client_options,
    )
    return Drive(
        service=service,
        root_folder_id=root_folder_id or "root",
        api_url=api_url,
        chunk_size=chunk_size,
        num_retries=num_retries,
        sleep=sleep,
    )


def _credentials_load(path: str | Path) -> service_account.Credentials:
    try:
        return service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
    except FileNotFoundError:
        problem = "no such file"
    except PermissionError:
        problem = "the file is not readable"
    except (ValueError, KeyError, TypeError, GoogleAuthError):
        # Bad JSON, missing fields, an unparsable private key...: the underlying
        # messages may quote the file, so they are not repeated or chained.
        problem = "not a valid service-account JSON key"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror})"
    raise DriveCredentialsError(
        f"service-account file {str(path)!r}: {problem}",
        status=None,
        reason="credentials",
        retryable=False,
    ) from None


# -- folders ---------------------------------------------------------------------------
# Folder ids by (endpoint, root folder, path); Drive folders are only ever created
# here, so a cached id stays right until someone deletes the folder by hand
# (`folder_forget` handles that).
_folder_ids: dict[tuple[str, str, str], str] = {}
_folder_ids_lock = threading.Lock()


def folder_ensure(*, drive: Drive, path: str) -> str:
    """The id of folder `path` (e.g. "users/42/videos") under the root folder, made if missing."""
    parent = drive.root_folder_id
    for prefix, name in _path_walk(path):
        known = _folder_cached(drive, prefix)
        if known is None:
            found = file_find(drive=drive, parent_id=parent, name=name, folder=True)
            if found is None:
                _folder_create(drive=drive, parent_id=parent, name=name)
                # Two workers may both have created it: everyone settles on the oldest.
                found = file_find(drive=drive, parent_id=parent, name=name, folder=True)
                if found is None:
                    raise DriveError(
                        f"folder {prefix!r} vanished right after it was created",
                        status=None,
                        reason="folderVanished",
                        retryable=True,
                    )
            known = found.id
            _folder_remember(drive, prefix, known)
        parent = known
    return parent


def folder_find(*, drive: Drive, path: str) -> str | None:
    """The id of folder `path` under the root folder, or None; never creates anything."""
    parent = drive.root_folder_id
    for prefix, name in _path_walk(path):
        known = _folder_cached(drive, prefix)
        if known is None:
            found = file_find(drive=drive, parent_id=parent, name=name, folder=True)
            if found is None:
                return None  # absence is not cached: another process may create it
            known = found.id
            _folder_remember(drive, prefix, known)
        parent = known
    return parent


def folder_forget(*, drive: Drive, path: str) -> None:
    """Drop cached ids along `path`: it, its ancestors and everything below it.

    For after Drive answered 404 for a cached folder: any folder on the way may be
    the one that was deleted.
    """
    path = path.strip("/")
    with _folder_ids_lock:
        for key in list(_folder_ids):
            endpoint, root, cached = key
            if (endpoint, root) != (drive.api_url, drive.root_folder_id):
                continue
            if not path or f"{cached}/".startswith(f"{path}/") or path.startswith(f"{cached}/"):
                del _folder_ids[key]


def folder_cache_clear() -> None:
    with _folder_ids_lock:
        _folder_ids.clear()


def _folder_cached(drive: Drive, prefix: str) -> str | None:
    with _folder_ids_lock:
        return _folder_ids.get((drive.api_url, drive.root_folder_id, prefix))


def _folder_remember(drive: Drive, prefix: str, folder_id: str) -> None:
    with _folder_ids_lock:
        _folder_ids[(drive.api_url, drive.root_folder_id, prefix)] = folder_id


def _folder_create(*, drive: Drive, parent_id: str, name: str) -> None:
    body = {
        "name": name,
        "mimeType": FOLDER_MIME,
        "parents": [parent_id],
        "appProperties": {"presgen": "1"},
    }
    request = drive.service.files().create(body=body, fields="id", supportsAllDrives=True)
    _call(drive, "create folder", lambda: request.execute(num_retries=0))


def _path_walk(path: str) -> list[tuple[str, str]]:
    """[("users", "users"), ("users/42", "42"), ...] for "users/42"; rejects odd segments."""
    parts = path.strip("/").split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise ValueError(f"not a folder path: {path!r}")
    return [("/".join(parts[: i + 1]), part) for i, part in enumerate(parts)]


# -- files -----------------------------------------------------------------------------
def file_find(*, drive: Drive, parent_id: str, name: str, folder: bool = False) -> DriveFile | None:
    """The oldest non-trashed file (or folder) called `name` directly in `parent_id`."""
    mime_test = "=" if folder else "!="
    q = (
        f"name = {_quote(name)} and {_quote(parent_id)} in parents"
        f" and mimeType {mime_test} {_quote(FOLDER_MIME)} and trashed = false"
    )
    request = drive.service.files().list(
        q=q,
        orderBy="createdTime",  # Drive allows duplicate names; the oldest wins everywhere
        pageSize=1,
        fields=f"files({FILE_FIELDS})",
        supportsAllDrives=True,
        includeItemsFromAllDrives=True,
    )
    found = _call(drive, "find", lambda: request.execute(num_retries=0))
    files = found.get("files") or []
    return _drive_file(files[0]) if files else None


def file_get(*, drive: Drive, file_id: str) -> DriveFile:
    request = drive.service.files().get(fileId=file_id, fields=FILE_FIELDS, supportsAllDrives=True)
    return _drive_file(_call(drive, "get", lambda: request.execute(num_retries=0)))


def file_delete(*, drive: Drive, file_id: str) -> None:
    """Delete for good (not to the trash): the storage contract is that the file is gone."""
    request = drive.service.files().delete(fileId=file_id, supportsAllDrives=True)
    _call(drive, "delete", lambda: request.execute(num_retries=0))


def file_upload(
    *,
    drive: Drive,
    parent_id: str,
    name: str,
    source: IO[bytes] | Path,
    mime_type: str,
    description: str = "",
    app_properties: Mapping[str, str] | None = None,
) -> DriveFile:
    """Upload a file or seekable binary stream (read from offset 0) in resumable chunks."""
    if isinstance(source, Path):
        with source.open("rb") as stream:
            return _upload(drive, parent_id, name, stream, mime_type, description, app_properties)
    return _upload(drive, parent_id, name, source, mime_type, description, app_properties)


def _upload(
    drive: Drive,
    parent_id: str,
    name: str,
    stream: IO[bytes],
    mime_type: str,
    description: str,
    app_properties: Mapping[str, str] | None,
) -> DriveFile:
    metadata = {
        "name": name,
        "parents": [parent_id],
        "mimeType": mime_type,
        "description": description,
        "appProperties": dict(app_properties or {}),
    }
    media = MediaIoBaseUpload(
        stream, mimetype=mime_type, chunksize=drive.chunk_size, resumable=True
    )
    request = drive.service.files().create(
        body=metadata, media_body=media, fields=FILE_FIELDS, supportsAllDrives=True
    )
    if drive.api_url:
        request.uri = _upload_uri_fix(request.uri, drive.api_url)
    response = None
    failures = 0
    while response is None:
        try:
            _status, response = request.next_chunk(num_retries=0)
            failures = 0  # a chunk landed: the budget is per stall, not per file
        except Exception as exc:
            error = _error_from(exc, "upload")
            if error is None:
                raise
            if not error.retryable or failures >= drive.num_retries:
                raise error from exc
            failures += 1
            _backoff(drive, error, failures)
    uploaded = _drive_file(response)
    logger.info("drive upload %s (%s bytes) as %s", name, uploaded.size, uploaded.id)
    return uploaded


def file_download_to(*, drive: Drive, file_id: str, target: IO[bytes]) -> int:
    """Stream a file's content into `target` chunk by chunk; returns the bytes written."""
    request = drive.service.files().get_media(fileId=file_id, supportsAllDrives=True)
    downloader = MediaIoBaseDownload(target, request, chunksize=drive.chunk_size)
    done = False
    written = 0
    while not done:
        # A failed chunk leaves the downloader's position alone: retrying asks again.
        status, done = _call(drive, "download", lambda: downloader.next_chunk(num_retries=0))
        written = status.resumable_progress
    return written


# -- helpers ---------------------------------------------------------------------------
def _call(drive: Drive, action: str, request: Callable[[], T]) -> T:
    failures = 0
    while True:
        try:
            return request()
        except Exception as exc:
            error = _error_from(exc, action)
            if error is None:
                raise
            if not error.retryable or failures >= drive.num_retries:
                raise error from exc
            failures += 1
            _backoff(drive, error, failures)


def _backoff(drive: Drive, error: DriveError, failures: int) -> None:
    # Exponential with jitter, as Google asks of clients; jitter needs no crypto RNG.
    delay = min(2.0**failures, 32.0) * random.uniform(0.5, 1.0)  # noqa: S311
    logger.warning("drive %s; retry %d in %.1fs", error, failures, delay)
    drive.sleep(delay)


def _error_from(exc: Exception, action: str) -> DriveError | None:
    """A DriveError for what went wrong, or None when it is not a Drive/transport failure."""
    if isinstance(exc, DriveError):
        return exc
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason = _http_reason(exc)
        retryable = (
            status >= 500 or status == 429 or (status == 403 and reason in _RATE_LIMIT_REASONS)
        )
        return DriveError(
            f"{action} failed: HTTP {status} {reason}: {exc.reason}",
            status=status,
            reason=reason,
            retryable=retryable,
        )
    if isinstance(exc, RefreshError):
        # The token endpoint refused the service account's signed JWT (or was unreachable).
        return DriveError(
            f"{action} failed: Google refused the service account's credentials ({exc.args[0]})",
            status=None,
            reason="unauthorized",
            retryable=bool(getattr(exc, "retryable", False)),
        )
    if isinstance(exc, (httplib2.HttpLib2Error, OSError)):
        return DriveError(
            f"{action} failed: {type(exc).__name__}: {exc}",
            status=None,
            reason="transport",
            retryable=True,
        )
    return None


def _http_reason(exc: HttpError) -> str:
    """Drive's machine-readable reason ("notFound", "rateLimitExceeded", ...)."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
    except (ValueError, KeyError, TypeError):
        return "unknown"
    if not isinstance(error, dict):
        return "unknown"
    for key in ("errors", "details"):  # Drive's classic shape, then the newer one
        for item in error.get(key) or []:
            if isinstance(item, dict) and item.get("reason"):
                return str(item["reason"])
    return str(error.get("status") or "unknown")


def _drive_file(resource: Mapping[str, Any]) -> DriveFile:
    size = resource.get("size")
    return DriveFile(
        id=str(resource["id"]),
        name=str(resource.get("name", "")),
        size=int(size) if size is not None else None,  # int64 arrives as a string
        mime_type=str(resource.get("mimeType", "")),
        parents=tuple(resource.get("parents") or ()),
        app_properties=dict(resource.get("appProperties") or {}),
    )


def _quote(value: str) -> str:
    """A string literal for Drive's query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _root(api_url: str) -> str:
    return api_url if api_url.endswith("/") else api_url + "/"


def _upload_uri_fix(uri: str, api_url: str) -> str:
    # With api_endpoint set, the client moves only the host of the media upload URL
    # (googleapiclient.discovery._fix_up_media_path_base_url) and keeps https and
    # Google's path, so an http:// or path-prefixed endpoint would be missed.
    upload = urllib.parse.urlsplit(uri)
    root = urllib.parse.urlsplit(_root(api_url))
    return urllib.parse.urlunsplit(
        upload._replace(
            scheme=root.scheme,
            netloc=root.netloc,
            path=root.path.rstrip("/") + upload.path,
        )
    )
