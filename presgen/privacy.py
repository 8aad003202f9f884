"""A learner's own data: download all of it (a zip), or delete the account with it.

`account_export_write` writes one zip: JSON for the profile, assessments (with their
domain scores), video jobs, videos, watch progress, playlists and notifications, and
the learner's video files, captions and thumbnails, copied from storage in chunks so
a long video never sits in memory. Custom avatar portraits uploaded through the
PresGen-Avatar API are included as images.

`account_delete` removes the user row (the database cascades to every row the
learner owns) and, once that is committed, every file the learner owns in storage:
video files, captions, thumbnails and custom avatar portraits. Files go only after
the commit, so a transaction that fails or is rolled back loses nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from django.core.files.storage import Storage, default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from library.models import Assessment, DomainScore, Notification, Playlist, WatchProgress
from presgen.models import LEARNER_PROFILE_FIELDS, User
from presgen.ownership import owned_by
from videos.models import Video, VideoJob

__all__ = ["EXPORT_FILES", "account_delete", "account_export_write"]

_LOGGER = logging.getLogger(__name__)

# The JSON documents every export holds, in the order they are written.
EXPORT_FILES = (
    "profile.json",
    "assessments.json",
    "jobs.json",
    "videos.json",
    "progress.json",
    "playlists.json",
    "notifications.json",
)
_COPY_CHUNK = 1024 * 1024  # bytes copied at a time from storage into the zip
# Where the PresGen-Avatar API keeps a learner's custom portraits in default storage
# (videos.avatar_api.services: AVATARS_ROOT/<user id>/<avatar id>.png + .json).
_AVATARS_ROOT = "avatars"
_PROFILE_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    *LEARNER_PROFILE_FIELDS,
    "date_joined",
    "last_login",
)
_README = """\
Your PresGen data, exported {when}.

profile.json        your account settings (never your password)
assessments.json    your assessment results, with the score for each domain
jobs.json           every video PresGen planned or made for you
videos.json         your finished videos; "files" names each one's files in videos/
progress.json       what you watched, and how far
playlists.json      your playlists and the videos in them
notifications.json  the notices PresGen sent you
videos/             your video files, captions (.vtt) and thumbnails
avatars/            portraits you uploaded as custom presenters, if any
"""


# --- export -------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return DjangoJSONEncoder().default(value)


def _json_write(archive: zipfile.ZipFile, name: str, data: object) -> None:
    text = json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)
    archive.writestr(name, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(user: User) -> dict[str, Any]:
    data = {name: getattr(user, name) for name in _PROFILE_FIELDS}
    data["id"] = user.pk
    return data


def _assessments(user: User) -> Iterator[dict[str, Any]]:
    scores = DomainScore.objects.select_related("domain").order_by("domain__position", "pk")
    rows = (
        owned_by(Assessment, user=user)
        .select_related("certification")
        .prefetch_related(Prefetch("domain_scores", queryset=scores))
        .order_by("taken_at", "pk")
    )
    for assessment in rows:
        yield {
            "id": assessment.pk,
            "certification": {
                "slug": assessment.certification.slug,
                "name": assessment.certification.name,
            },
            "overall_score": assessment.overall_score,
            "taken_at": _iso(assessment.taken_at),
            "source": assessment.source,
            "external_id": assessment.external_id,
            "raw_payload": assessment.raw_payload,
            "created_at": _iso(assessment.created_at),
            "domain_scores": [
                {"domain": s.domain.slug, "name": s.domain.name, "score": s.score}
                for s in assessment.domain_scores.all()
            ],
        }


def _jobs(user: User) -> Iterator[dict[str, Any]]:
    rows = owned_by(VideoJob, user=user).select_related("certification").order_by("pk")
    for job in rows:
        yield {
            "id": job.pk,
            "video_type": job.video_type,
            "status": job.status,
            "progress": job.progress,
            "step": job.step,
            "priority": job.priority,
            "certification": job.certification.slug if job.certification else None,
            "assessment_id": job.assessment_id,
            "parameters": job.parameters,
            "script": job.script,
            "target_duration_seconds": job.target_duration_seconds,
            "error": job.error,
            "retries": job.retries,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
        }


@dataclass(frozen=True)
class _Member:
    """One stored file to copy into the zip."""

    storage: Storage
    name: str  # in storage
    arcname: str  # in the zip


def _video_members(video: Video) -> list[tuple[str, _Member]]:
    """(kind, member) for each of the video's stored files."""
    stem = f"videos/{video.pk}-{slugify(video.title)[:60] or 'video'}"
    members = []
    for kind, field_file, fallback in (
        ("video", video.file, ".mp4"),
        ("captions", video.captions, ".vtt"),
        ("thumbnail", video.thumbnail, ".jpg"),
    ):
        if not field_file.name:
            continue
        suffix = PurePosixPath(field_file.name).suffix.lower() or fallback
        members.append(
            (kind, _Member(storage=field_file.storage, name=field_file.name, arcname=stem + suffix))
        )
    return members


def _videos(user: User) -> Iterator[tuple[dict[str, Any], list[_Member]]]:
    rows = owned_by(Video, user=user).select_related("domain").order_by("pk")
    for video in rows:
        members = _video_members(video)
        yield (
            {
                "id": video.pk,
                "job_id": video.job_id,
                "title": video.title,
                "video_type": video.video_type,
                "focus_area": video.focus_area,
                "domain": video.domain.slug if video.domain else None,
                "duration_seconds": video.duration_seconds,
                "size_bytes": video.size_bytes,
                "width": video.width,
                "height": video.height,
                "provider": video.provider,
                "created_at": _iso(video.created_at),
                "files": {kind: member.arcname for kind, member in members},
            },
            [member for _, member in members],
        )


def _progress(user: User) -> Iterator[dict[str, Any]]:
    rows = owned_by(WatchProgress, user=user).select_related("video").order_by("pk")
    for row in rows:
        yield {
            "video_id": row.video_id,
            "video_title": row.video.title,
            "position_seconds": row.position_seconds,
            "seconds_watched": row.seconds_watched,
            "completed": row.completed,
            "completed_at": _iso(row.completed_at),
            "downloads": row.downloads,
            "updated_at": _iso(row.updated_at),
        }


def _playlists(user: User) -> Iterator[dict[str, Any]]:
    rows = (
        owned_by(Playlist, user=user)
        .select_related("certification")
        .prefetch_related("items__video")
        .order_by("pk")
    )
    for playlist in rows:
        items = sorted(playlist.items.all(), key=lambda item: (item.position, item.pk))
        yield {
            "id": playlist.pk,
            "title": playlist.title,
            "kind": playlist.kind,
            "certification": playlist.certification.slug if playlist.certification else None,
            "created_at": _iso(playlist.created_at),
            "updated_at": _iso(playlist.updated_at),
            "items": [
                {"position": item.position, "video_id": item.video_id, "title": item.video.title}
                for item in items
            ],
        }


def _notifications(user: User) -> Iterator[dict[str, Any]]:
    for note in owned_by(Notification, user=user).order_by("created_at", "pk"):
        yield {
            "id": note.pk,
            "kind": note.kind,
            "title": note.title,
            "body": note.body,
            "url": note.url,
            "created_at": _iso(note.created_at),
            "read_at": _iso(note.read_at),
            "emailed_at": _iso(note.emailed_at),
        }


def _avatar_images(user: User) -> list[_Member]:
    """The learner's custom portraits (not their sidecars: those hold API token ids)."""
    folder = f"{_AVATARS_ROOT}/{user.pk}"
    return [
        _Member(storage=default_storage, name=f"{folder}/{name}", arcname=f"avatars/{name}")
        for name in _storage_files(default_storage, folder)
        if name.lower().endswith((".png", ".jpg", ".jpeg"))
    ]


def _storage_files(storage: Storage, folder: str) -> list[str]:
    try:
        _, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(files)


def _member_copy(archive: zipfile.ZipFile, member: _Member) -> bool:
    """Copy one stored file into the zip in chunks; False when storage no longer has it."""
    try:
        source = member.storage.open(member.name, "rb")
    except OSError:  # FileNotFoundError and friends: the file is gone
        _LOGGER.warning("export: %s is missing from storage", member.name)
        return False
    info = zipfile.ZipInfo(member.arcname, date_time=timezone.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED  # video and images are compressed already
    with source, archive.open(info, "w", force_zip64=True) as target:
        shutil.copyfileobj(source, target, _COPY_CHUNK)
    return True


def account_export_write(*, user: User, stream: BinaryIO) -> None:
    """Write a zip of everything PresGen keeps about `user` to `stream` (seekable, binary).

    Videos staff have hidden from the learner are left out, as everywhere they look.
    """
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _README.format(when=timezone.now().isoformat()))
        _json_write(archive, "profile.json", _profile(user))
        _json_write(archive, "assessments.json", list(_assessments(user)))
        _json_write(archive, "jobs.json", list(_jobs(user)))
        videos, members = [], []
        for data, files in _videos(user):
            videos.append(data)
            members.extend(files)
        _json_write(archive, "progress.json", list(_progress(user)))
        _json_write(archive, "playlists.json", list(_playlists(user)))
        _json_write(archive, "notifications.json", list(_notifications(user)))
        missing = set()
        for member in [*members, *_avatar_images(user)]:
            if not _member_copy(archive, member):
                missing.add(member.arcname)
        for data in videos:  # written last, so it can say which files were missing
            data["missing_files"] = sorted(set(data["files"].values()) & missing)
        _json_write(archive, "videos.json", videos)


# --- delete -------------------------------------------------------------------------


def _owned_files(user: User) -> list[tuple[Storage, str]]:
    """Every stored file that belongs to `user`: (storage, name)."""
    files: list[tuple[Storage, str]] = []
    for video in Video.objects.filter(learner=user).order_by("pk"):  # hidden ones too
        for field_file in (video.file, video.captions, video.thumbnail):
            if field_file.name:
                files.append((field_file.storage, field_file.name))
    folder = f"{_AVATARS_ROOT}/{user.pk}"
    files.extend(
        (default_storage, f"{folder}/{name}") for name in _storage_files(default_storage, folder)
    )
    return files


def _folders_prune(storage: Storage, names: Iterable[str]) -> None:
    """Remove the local folders the deleted files leave empty (random per-video folders)."""
    for name in names:
        try:
            folder = os.path.dirname(storage.path(name))
        except NotImplementedError:  # not a local storage: it has no folders to leave
            return
        root = os.path.normpath(storage.path(""))
        while folder.startswith(root + os.sep):
            try:
                os.rmdir(folder)  # only ever removes an empty folder
            except OSError:
                break
            folder = os.path.dirname(folder)


def _files_delete(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:  # one file that cannot go must not keep the others
            _LOGGER.exception("account delete: could not delete %s", name)
    for storage in {id(s): s for s, _ in files}.values():
        _folders_prune(storage, [name for s, name in files if s is storage])


def account_delete(*, user: User) -> None:
    """Delete the account, every row it owns and, after the commit, every file it owns."""
    with transaction.atomic():
        files = _owned_files(user)
        user_id = user.pk
        user.delete()
        transaction.on_commit(lambda: _files_delete(files))
    _LOGGER.info("account %s deleted with %d stored files", user_id, len(files))
