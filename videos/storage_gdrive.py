"""Django storage for finished videos, captions and thumbnails on Google Drive.

Selected by VIDEO_STORAGE=google_drive (STORAGES["videos"] in settings). All Drive
traffic goes through `videos.gdrive`.

Name mapping. Django keeps the name it gave the file (the database column stays
`videos/<learner_id>/<random hex>/<file>`, from Video's upload_to); on Drive that
file lives at

    <GOOGLE_DRIVE_FOLDER_ID>/users/<learner_id>/videos/<random hex>/<file>

i.e. a leading `videos/<digits>/` becomes `users/<digits>/videos/`. Any other name
keeps its own folders unchanged under the root folder. Names are looked up by
path on every call (folder ids are cached per process), so no Drive id has to be
stored in the database.

Erasing a learner (presgen.privacy) deletes their files one by one, then their whole
folder `users/<learner_id>/` with `learner_folder_delete`.

Media is never served from Drive links: `url()` returns "" and PresGen streams the
file through its own owner-checked view with `open()`.
"""

from __future__ import annotations

import io
import mimetypes
import posixpath
import re
import tempfile
import threading
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from videos import gdrive

_LEARNER_NAME = re.compile(r"videos/(?P<learner_id>\d+)/(?P<rest>.+)")
# What a file is, for appProperties (Drive-side search and clean-up by kind).
_KINDS = {
    ".mp4": "video",
    ".webm": "video",
    ".mov": "video",
    ".vtt": "captions",
    ".srt": "captions",
    ".jpg": "thumbnail",
    ".jpeg": "thumbnail",
    ".png": "thumbnail",
    ".webp": "thumbnail",
}
# Downloads stay in memory up to this size, then roll over to a temporary file.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
# learner_folder_delete: at most this many same-named folders (duplicates, stale ids).
_FOLDER_DELETE_ROUNDS = 5


def drive_path_of(name: str) -> str:
    """The Drive path (under the root folder) of a storage name; see the module docstring."""
    name = name.replace("\\", "/").lstrip("/")
    match = _LEARNER_NAME.fullmatch(name)
    if match:
        return f"users/{match['learner_id']}/videos/{match['rest']}"
    return name


def kind_of(name: str) -> str:
    return _KINDS.get(PurePosixPath(name).suffix.lower(), "other")


@deconstructible(path="videos.storage_gdrive.GoogleDriveStorage")
class GoogleDriveStorage(Storage):
    """Options default to the GOOGLE_* settings when not given."""

    def __init__(
        self,
        *,
        service_account_file: str | None = None,
        root_folder_id: str | None = None,
        api_url: str | None = None,
        chunk_size: int = gdrive.CHUNK_SIZE,
        num_retries: int = gdrive.NUM_RETRIES,
        spool_max_bytes: int = SPOOL_MAX_BYTES,
    ) -> None:
        self.service_account_file = service_account_file
        self.root_folder_id = root_folder_id
        self.api_url = api_url
        self.chunk_size = chunk_size
        self.num_retries = num_retries
        self.spool_max_bytes = spool_max_bytes
        # One Drive per thread: the underlying httplib2 connection is not thread-safe.
        self._local = threading.local()

    # Storages are deep-copied by some Django code paths; a thread-local cannot be.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def drive(self) -> gdrive.Drive:
        """This thread's Drive connection, made on first use."""
        drive: gdrive.Drive | None = getattr(self._local, "drive", None)
        if drive is None:
            path = self._option("service_account_file", "GOOGLE_SERVICE_ACCOUNT_FILE")
            if not path:
                raise ImproperlyConfigured("GOOGLE_SERVICE_ACCOUNT_FILE is not set")
            try:
                drive = gdrive.drive_connect(
                    service_account_file=path,
                    root_folder_id=self._option("root_folder_id", "GOOGLE_DRIVE_FOLDER_ID"),
                    api_url=self._option("api_url", "GOOGLE_DRIVE_API_URL"),
                    chunk_size=self.chunk_size,
                    num_retries=self.num_retries,
                )
            except gdrive.DriveCredentialsError as exc:
                raise ImproperlyConfigured(f"GOOGLE_SERVICE_ACCOUNT_FILE: {exc}") from None
            self._local.drive = drive
        return drive

    def _option(self, attribute: str, setting: str) -> str:
        value = getattr(self, attribute)
        return str(value if value is not None else getattr(settings, setting, ""))

    # -- the Storage API ---------------------------------------------------------------
    def _save(self, name: str, content: File) -> str:
        drive = self.drive()
        folder_path, filename = posixpath.split(drive_path_of(name))
        stream, spooled = _binary_stream(content, spool_max_bytes=self.spool_max_bytes)
        try:
            try:
                self._upload(drive, folder_path, filename, name, stream)
            except gdrive.DriveError as exc:
                if exc.status != 404 or not folder_path:
                    raise
                # The only id in an upload is the parent: a cached folder was deleted
                # on Drive. Forget it, make it again, and try once more.
                gdrive.folder_forget(drive=drive, path=folder_path)
                self._upload(drive, folder_path, filename, name, stream)
        finally:
            if spooled:
                stream.close()
        return name

    def _upload(
        self, drive: gdrive.Drive, folder_path: str, filename: str, name: str, stream: IO[bytes]
    ) -> None:
        parent = (
            gdrive.folder_ensure(drive=drive, path=folder_path)
            if folder_path
            else drive.root_folder_id
        )
        kind = kind_of(filename)
        properties = {"presgen": "1", "kind": kind}
        match = _LEARNER_NAME.fullmatch(name)
        if match:
            properties["learner_id"] = match["learner_id"]
        stream.seek(0)
        gdrive.file_upload(
            drive=drive,
            parent_id=parent,
            name=filename,
            source=stream,
            mime_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            description=f"PresGen {kind}"
            + (f" for learner {match['learner_id']}" if match else ""),
            app_properties=properties,
        )

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode not in {"r", "rb"}:
            raise ValueError(f"GoogleDriveStorage opens files for reading only, not {mode!r}")
        drive = self.drive()
        found = self._lookup(name)
        if found is None:
            raise FileNotFoundError(f"no such file in Google Drive storage: {name!r}")
        spool = tempfile.SpooledTemporaryFile(max_size=self.spool_max_bytes, mode="w+b")  # noqa: SIM115
        try:
            gdrive.file_download_to(drive=drive, file_id=found.id, target=spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        if mode == "r":
            return File(io.TextIOWrapper(spool, encoding="utf-8"), name=name)
        return File(spool, name=name)

    def exists(self, name: str) -> bool:
        return self._lookup(name) is not None

    def size(self, name: str) -> int:
        found = self._lookup(name)
        if found is None:
            raise FileNotFoundError(f"no such file in Google Drive storage: {name!r}")
        return found.size or 0

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        found = self._lookup(name)
        if found is None:
            return  # like FileSystemStorage: deleting what is not there is not an error
        try:
            gdrive.file_delete(drive=self.drive(), file_id=found.id)
        except gdrive.DriveError as exc:
            if exc.status != 404:  # gone already (e.g. a retried delete that had landed)
                raise

    def learner_folder_delete(self, *, learner_id: int) -> int:
        """Delete the learner's Drive folder `users/<id>/` with everything in it, for good.

        For erasing an account: besides the files the database names, this takes
        whatever else ended up there (a render stored by a worker that then lost
        its job). Returns how many folders were deleted: Drive allows duplicate
        names (two workers racing to make the folder), so every one is looked up
        until none is left. A cached folder id that Drive no longer knows is
        forgotten and looked up again.
        """
        path = f"users/{int(learner_id)}"
        drive = self.drive()
        deleted = 0
        for _ in range(_FOLDER_DELETE_ROUNDS):
            folder_id = gdrive.folder_find(drive=drive, path=path)
            if folder_id is None:
                return deleted
            try:
                gdrive.file_delete(drive=drive, file_id=folder_id)
                deleted += 1
            except gdrive.DriveError as exc:
                if exc.status != 404:
                    raise
            finally:
                # The id is gone either way; the next lookup asks Drive afresh.
                gdrive.folder_forget(drive=drive, path=path)
        raise gdrive.DriveError(
            f"folder {path!r} is still on Drive after {_FOLDER_DELETE_ROUNDS} deletions",
            status=None,
            reason="folderKeepsComingBack",
            retryable=True,
        )

    def url(self, name: str | None) -> str:
        # No public Drive links: videos are served by PresGen's owner-checked view.
        # "" rather than an exception, because Django's admin file widgets call url().
        return ""

    def _lookup(self, name: str) -> gdrive.DriveFile | None:
        drive = self.drive()
        folder_path, filename = posixpath.split(drive_path_of(name))
        parent = (
            gdrive.folder_find(drive=drive, path=folder_path)
            if folder_path
            else drive.root_folder_id
        )
        if parent is None:
            return None
        return gdrive.file_find(drive=drive, parent_id=parent, name=filename)


def _binary_stream(content: File, *, spool_max_bytes: int) -> tuple[IO[bytes], bool]:
    """A seekable binary stream of `content` from its start, and whether it is a copy to close.

    A seekable binary file is uploaded in place; anything else (a pipe, a text-mode
    file) is first copied into a spooled temporary file.
    """
    raw = getattr(content, "file", None) or content
    try:
        if raw.seekable():
            raw.seek(0)
            if isinstance(raw.read(0), bytes):
                return raw, False
    except (AttributeError, OSError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=spool_max_bytes, mode="w+b")  # noqa: SIM115
    for chunk in content.chunks():
        spool.write(chunk.encode() if isinstance(chunk, str) else chunk)
    spool.seek(0)
    return spool, True
