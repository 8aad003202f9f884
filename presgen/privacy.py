"""A learner's own data: download all of it (a zip), or erase the account with it.

Where PresGen keeps data about a learner (the audit both functions follow):

==========================  ===========================================================
rows                        the user (profile, group and permission memberships),
                            assessments and their domain scores, video jobs, their
                            provider attempts and the staff alerts raised on them,
                            videos, watch progress, playlists and their items,
                            notifications, API tokens (PresGen's `ApiToken` and the
                            PresGen-Avatar API's DRF `Token`), idempotency records
                            (they keep whole response bodies: the learner's own, and a
                            staff service's about the learner), admin log entries
                            (made by the learner if staff, or naming the learner),
                            database sessions
files (storage)             video files, captions, thumbnails (the "videos" storage:
                            MEDIA_ROOT/videos/<id>/ or Google Drive users/<id>/),
                            custom avatar portraits and their JSON sidecars
                            (default storage, avatars/<id>/)
cache                       the sign-in throttle's failure counters
elsewhere                   the providers' own copies of remote renders
==========================  ===========================================================

`account_export_write` writes one zip (EXPORT_FILES, EXPORT_SECTIONS): the profile
(with groups, permissions and last sign-in), sessions (when each expires, never
the session key), API tokens (name, scope, the key's public prefix, dates; never
the key or its digest), API requests (the idempotency records: what was asked and
the stored answer), the admin log (what the learner did as staff, by kind of row
not its name, which may be another person's; and changes staff made to the account,
without saying who), assessments with domain scores, jobs
with their provider attempts and alerts, videos (those staff withdrew too, marked
so: the file is still held) with their files, watch progress, playlists,
notifications and custom avatars (portraits and their name and metadata). Files
are copied from storage in chunks, so a long video never sits in memory.

Left out, and why: password hashes, API keys and their digests (a job's
`parameters.api_token_id`, an avatar sidecar's `token_id`) are secrets, not data
about the learner; server paths (`parameters.avatar_image`); what a provider
charged for a render (PresGen's cost, not the learner's data); the sign-in
throttle's counters (hashes of the username and address, gone within the
lock-out window); webhook events (a provider's render id and state only: the
attempts in jobs.json carry the same); the session keys themselves; the API
throttle's request counters in the cache (timestamps only, gone within the hour or
day they count); RQ's job records in Redis (job ids only) and the logs.

`account_delete` erases the account:

- active jobs are cancelled first (a worker holding one loses its lease: its next
  write fails and it stops; a remote render is cancelled at the provider after
  the commit, best effort);
- the learner's jobs and their provider attempts are kept for the staff figures
  (dashboard, success-rate alerts, provider selection), anonymised: they move to
  one shared inactive "erased learner" account (`erased_learner_get`: no password,
  no profile, no email) and every personal field is scrubbed (script, parameters,
  plan identity, error texts, quality notes and check details, the assessment
  link). Why not a nullable learner with SET_NULL: the pipeline, the admin, the API
  and the ownership checks all read `job.learner`; one account keeps every one of
  them working without a migration or a None case each;
- idempotency records of other users (a staff service) whose stored response
  names the learner are deleted; the learner's sessions are deleted (another
  browser signed in as them is signed out); admin log entries about the account
  or naming the learner are rewritten to say "(erased)";
- the user row is deleted: the database cascades to assessments, scores,
  videos, progress, playlists, notifications, tokens, idempotency records and the
  admin log entries the learner made;
- after the commit, every file goes: each video file, caption, thumbnail and
  avatar file, then the learner's whole folder (local folders, or the Drive
  folder `users/<id>/` with anything else in it), and the sign-in throttle's
  counter for the username. Files go only after the commit, so a transaction
  that fails or is rolled back loses nothing.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import import_module
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import Storage, default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case, Model, Prefetch, Q, Value, When
from django.utils import timezone
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from library.models import Assessment, DomainScore, Notification, Playlist, WatchProgress
from presgen.login_throttle import login_failures_forget
from presgen.models import LEARNER_PROFILE_FIELDS, ApiToken, IdempotencyKey, User
from presgen.ownership import owned_by
from videos.models import (
    ACTIVE_STATUSES,
    Alert,
    AttemptStatus,
    GenerationAttempt,
    JobStatus,
    Video,
    VideoJob,
)
from videos.providers.base import ProviderError
from videos.providers.registry import provider_get

__all__ = [
    "ERASED_USERNAME",
    "EXPORT_FILES",
    "EXPORT_SECTIONS",
    "account_delete",
    "account_export_write",
    "erased_learner_get",
]

_LOGGER = logging.getLogger(__name__)

# The JSON documents every export holds, in the order they are written.
EXPORT_FILES = (
    "profile.json",
    "sessions.json",
    "api_tokens.json",
    "api_requests.json",
    "admin_log.json",
    "assessments.json",
    "jobs.json",
    "progress.json",
    "playlists.json",
    "notifications.json",
    "videos.json",
    "avatars.json",
)
# Where each model holding rows about a learner is exported (model label -> document).
# tests/presgen/test_privacy.py walks the model graph: a new model that points at the
# user (or at a job, video or assessment) fails the test until it is listed here.
EXPORT_SECTIONS = {
    "presgen.user": "profile.json",
    "presgen.user_groups": "profile.json",
    "presgen.user_user_permissions": "profile.json",
    "sessions.session": "sessions.json",
    "presgen.apitoken": "api_tokens.json",
    "authtoken.token": "api_tokens.json",
    "presgen.idempotencykey": "api_requests.json",
    "admin.logentry": "admin_log.json",
    "library.assessment": "assessments.json",
    "library.domainscore": "assessments.json",
    "videos.videojob": "jobs.json",
    "videos.generationattempt": "jobs.json",
    "videos.alert": "jobs.json",
    "videos.video": "videos.json",
    "library.watchprogress": "progress.json",
    "library.playlist": "playlists.json",
    "library.playlistitem": "playlists.json",
    "library.notification": "notifications.json",
}
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
    "is_active",
    "is_staff",
    "date_joined",
    "last_login",
)
# Job parameters that are secrets or server internals, not the learner's data.
_PARAMETERS_WITHHELD = frozenset({"api_token_id", "avatar_image"})
# Keys under which an API response names a learner by id.
_LEARNER_KEYS = frozenset({"learner", "learner_id"})
_README = """\
Your PresGen data, exported {when}.

profile.json        your account settings, groups and permissions (never your password)
sessions.json       when each of your signed-in sessions expires
api_tokens.json     your API tokens: name, scope, the key's first characters, dates
api_requests.json   API requests made with an Idempotency-Key, and the answer kept
admin_log.json      admin actions you made, and changes staff made to your account
assessments.json    your assessment results, with the score for each domain
jobs.json           every video PresGen planned or made for you, with each
                    provider attempt and any alert staff got about it
progress.json       what you watched, and how far
playlists.json      your playlists and the videos in them
notifications.json  the notices PresGen sent you
videos.json         your videos; "files" names each one's files in videos/
avatars.json        portraits you uploaded as custom presenters (images in avatars/)
videos/             your video files, captions (.vtt) and thumbnails
avatars/            the portrait images, if any
"""


# --- where a learner's data is (shared by export and erasure) -----------------------


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _sessions_of(*, user_id: int) -> list[tuple[str, datetime]]:
    """(session key, expiry) of every stored session signed in as the user.

    Only database-backed engines (db, cached_db) keep a list to search; with the
    cache or signed-cookie engines there is nothing here to find. Every row is
    decoded: sessions are few next to anything else, and this runs on request only.
    """
    store = _session_store()
    model_of = getattr(store, "get_model_class", None)
    if model_of is None:
        return []
    decoder = store()
    found = []
    rows = model_of().objects.values_list("session_key", "session_data", "expire_date")
    for key, data, expires in rows.iterator():
        if decoder.decode(data).get(SESSION_KEY) == str(user_id):
            found.append((key, expires))
    return found


def _mentions(value: object, *, user_id: int, texts: frozenset[str]) -> bool:
    """Whether a stored JSON response names the learner (by id, username or email)."""
    if isinstance(value, dict):
        return any(
            (key in _LEARNER_KEYS and type(item) is int and item == user_id)
            or _mentions(item, user_id=user_id, texts=texts)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_mentions(item, user_id=user_id, texts=texts) for item in value)
    return isinstance(value, str) and value.casefold() in texts


def _idempotency_about(*, user: User) -> Iterator[IdempotencyKey]:
    """Other users' (a staff service's) idempotency records whose answer names `user`."""
    texts = frozenset(t.casefold() for t in (user.username, user.email) if t)
    for record in IdempotencyKey.objects.exclude(user=user).filter(status_code__isnull=False):
        if _mentions(record.response_body, user_id=user.pk, texts=texts):
            yield record


def _avatar_names(*, user_id: int) -> list[str]:
    return _storage_files(default_storage, f"{_AVATARS_ROOT}/{user_id}")


def _storage_files(storage: Storage, folder: str) -> list[str]:
    try:
        _, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(files)


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
    data["groups"] = sorted(user.groups.values_list("name", flat=True))
    data["permissions"] = sorted(
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list(
            "content_type__app_label", "codename"
        )
    )
    return data


def _sessions(user: User) -> list[dict[str, Any]]:
    found = _sessions_of(user_id=user.pk)
    return [{"expires_at": _iso(expires)} for _, expires in sorted(found, key=lambda s: s[1])]


def _api_tokens(user: User) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "kind": "presgen_api",
            "name": token.name,
            "scope": token.scope,
            "key_prefix": token.key_prefix,
            "created_at": _iso(token.created_at),
            "last_used_at": _iso(token.last_used_at),
            "revoked": token.revoked,
            "revoked_at": _iso(token.revoked_at),
        }
        for token in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
    ]
    rows += [
        {"kind": "avatar_api", "created_at": _iso(token.created)}
        for token in Token.objects.filter(user=user)
    ]
    return rows


def _api_requests(user: User) -> list[dict[str, Any]]:
    def row(record: IdempotencyKey, *, by: str) -> dict[str, Any]:
        return {
            "by": by,
            "method": record.method,
            "path": record.path,
            "status_code": record.status_code,
            "response_body": record.response_body,
            "created_at": _iso(record.created_at),
            "expires_at": _iso(record.expires_at),
        }

    own = IdempotencyKey.objects.filter(user=user).order_by("created_at", "pk")
    rows = [{**row(r, by="you"), "idempotency_key": r.key} for r in own]
    rows += [row(r, by="a staff service") for r in _idempotency_about(user=user)]
    return rows


def _admin_log(user: User) -> list[dict[str, Any]]:
    def row(entry: LogEntry, *, role: str) -> dict[str, Any]:
        data = {
            "role": role,
            "action_time": _iso(entry.action_time),
            "action": {1: "added", 2: "changed", 3: "deleted"}.get(entry.action_flag, "other"),
            "change": entry.get_change_message(),
        }
        if role == "by_you":
            # What kind of row, not its name: that may be another person's.
            data["object_type"] = entry.content_type.model if entry.content_type else ""
        return data

    user_type = ContentType.objects.get_for_model(User)
    made = LogEntry.objects.filter(user=user).select_related("content_type")
    about = LogEntry.objects.filter(content_type=user_type, object_id=str(user.pk))
    # Who on the staff made a change is their data, not the learner's: left out.
    rows = [row(e, role="by_you") for e in made.order_by("action_time", "pk")]
    rows += [row(e, role="about_your_account") for e in about.order_by("action_time", "pk")]
    return rows


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
    rows = (
        owned_by(VideoJob, user=user)
        .select_related("certification")
        .prefetch_related(
            Prefetch("attempts", queryset=GenerationAttempt.objects.order_by("started_at", "pk")),
            Prefetch("alerts", queryset=Alert.objects.order_by("created_at", "pk")),
        )
        .order_by("pk")
    )
    for job in rows:
        parameters = job.parameters if isinstance(job.parameters, dict) else {}
        yield {
            "id": job.pk,
            "video_type": job.video_type,
            "status": job.status,
            "progress": job.progress,
            "step": job.step,
            "priority": job.priority,
            "certification": job.certification.slug if job.certification else None,
            "assessment_id": job.assessment_id,
            "parameters": {k: v for k, v in parameters.items() if k not in _PARAMETERS_WITHHELD},
            "made_through_avatar_api": "api_token_id" in parameters,
            "script": job.script,
            "script_quality": job.script_quality,
            "target_duration_seconds": job.target_duration_seconds,
            "provider": job.provider,
            "error": job.error,
            "retries": job.retries,
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "attempts": [
                {
                    "provider": attempt.provider,
                    "status": attempt.status,
                    "started_at": _iso(attempt.started_at),
                    "finished_at": _iso(attempt.finished_at),
                    "seconds": attempt.seconds,
                    "qa_score": attempt.qa_score,
                    "quality_report": attempt.quality_report,
                    "error": attempt.error,
                }
                for attempt in job.attempts.all()
            ],
            "alerts": [
                {
                    "kind": alert.kind,
                    "message": alert.message,
                    "created_at": _iso(alert.created_at),
                    "resolved_at": _iso(alert.resolved_at),
                }
                for alert in job.alerts.all()
            ],
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
    # Videos staff withdrew too: PresGen still holds them, so the learner gets them.
    rows = Video.objects.filter(learner=user).select_related("domain").order_by("pk")
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
                "quality_report": video.quality_report,
                "withdrawn_by_staff": video.hidden,
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


def _avatars(user: User) -> tuple[list[dict[str, Any]], list[_Member]]:
    """The custom portraits' details (from the sidecars, without the token id) and images."""
    folder = f"{_AVATARS_ROOT}/{user.pk}"
    names = _avatar_names(user_id=user.pk)
    images = [
        _Member(storage=default_storage, name=f"{folder}/{name}", arcname=f"avatars/{name}")
        for name in names
        if name.lower().endswith((".png", ".jpg", ".jpeg"))
    ]
    arcname_of = {member.name: member.arcname for member in images}
    details = []
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            with default_storage.open(f"{folder}/{name}", "rb") as handle:
                sidecar = json.loads(handle.read())
        except (OSError, ValueError):
            _LOGGER.warning("export: avatar sidecar %s/%s cannot be read", folder, name)
            continue
        if not isinstance(sidecar, dict):
            continue
        details.append(
            {
                "avatar_id": sidecar.get("avatar_id"),
                "name": sidecar.get("name"),
                "width": sidecar.get("width"),
                "height": sidecar.get("height"),
                "metadata": sidecar.get("metadata"),
                "created_at": sidecar.get("created_at"),
                "image": arcname_of.get(str(sidecar.get("image"))),
            }
        )
    return details, images


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
    """Write a zip of everything PresGen keeps about `user` to `stream` (seekable, binary)."""
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _README.format(when=timezone.now().isoformat()))
        _json_write(archive, "profile.json", _profile(user))
        _json_write(archive, "sessions.json", _sessions(user))
        _json_write(archive, "api_tokens.json", _api_tokens(user))
        _json_write(archive, "api_requests.json", _api_requests(user))
        _json_write(archive, "admin_log.json", _admin_log(user))
        _json_write(archive, "assessments.json", list(_assessments(user)))
        _json_write(archive, "jobs.json", list(_jobs(user)))
        _json_write(archive, "progress.json", list(_progress(user)))
        _json_write(archive, "playlists.json", list(_playlists(user)))
        _json_write(archive, "notifications.json", list(_notifications(user)))
        videos, members = [], []
        for data, files in _videos(user):
            videos.append(data)
            members.extend(files)
        avatars, images = _avatars(user)
        missing = set()
        for member in [*members, *images]:
            if not _member_copy(archive, member):
                missing.add(member.arcname)
        # Written last, so they can say which files were missing.
        for data in videos:
            data["missing_files"] = sorted(set(data["files"].values()) & missing)
        _json_write(archive, "videos.json", videos)
        for avatar in avatars:
            if avatar["image"] in missing:
                avatar["image"] = None
        _json_write(archive, "avatars.json", avatars)


# --- erasure ------------------------------------------------------------------------

# The one account erased learners' jobs move to. Not a valid username (spaces and
# brackets are refused by the username validator), so nobody can sign up as it.
ERASED_USERNAME = "(erased learner)"
_ERASED_TEXT = "(erased with the learner's account)"
_ERASED_MARK = "(erased)"
# Names shorter than this are not searched for in other rows' text (admin log):
# "Al" would match half the log. Entries about the account itself are scrubbed anyway.
_IDENTIFIER_MIN_CHARS = 3


class ErasedLearnerConflict(RuntimeError):
    """A user called ERASED_USERNAME exists but is not the anonymous account."""


def erased_learner_get() -> User:
    """The shared account that holds erased learners' anonymised jobs (made on first use).

    Inactive, no usable password, no email and no profile: nobody signs in as it
    and nothing is ever sent to it.
    """
    user, _ = User.objects.get_or_create(
        username=ERASED_USERNAME,
        defaults={
            "is_active": False,
            "password": make_password(None),
            "email_notifications": False,
        },
    )
    if user.is_active or user.is_staff or user.has_usable_password() or user.email:
        raise ErasedLearnerConflict(f"user {ERASED_USERNAME!r} is not the anonymous account")
    return user


@dataclass
class _Leftovers:
    """What goes after the commit."""

    user_id: int
    username: str
    files: list[tuple[Storage, str]]
    remote_renders: list[tuple[str, str]]  # (provider, external id) to cancel


def _identifiers(user: User) -> list[str]:
    """The texts that name the learner, longest first."""
    values = {
        user.username,
        user.email,
        user.display_name,
        user.first_name,
        user.last_name,
        user.get_full_name(),
    }
    kept = {v.strip() for v in values if v and len(v.strip()) >= _IDENTIFIER_MIN_CHARS}
    return sorted(kept, key=lambda v: (-len(v), v))


def _jobs_cancel(*, user_id: int) -> list[tuple[str, str]]:
    """Cancel the learner's active jobs; returns the remote renders to cancel after commit.

    Clearing the lease is what stops a worker that holds a job: its next write
    matches no row (videos.pipeline._job_write) and it gives up, removing any
    file it stored.
    """
    now = timezone.now()
    active = list(
        VideoJob.objects.filter(learner_id=user_id, status__in=ACTIVE_STATUSES).values_list(
            "pk", flat=True
        )
    )
    if not active:
        return []
    VideoJob.objects.filter(pk__in=active, status__in=ACTIVE_STATUSES).update(
        status=JobStatus.CANCELLED,
        step="Cancelled",
        lease_token=None,
        lease_expires_at=None,
        next_run_at=None,
        finished_at=now,
        updated_at=now,
    )
    attempts = GenerationAttempt.objects.filter(job_id__in=active)
    remote = list(
        attempts.filter(status__in=[AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING])
        .exclude(external_id="")
        .values_list("provider", "external_id")
    )
    attempts.filter(
        status__in=[AttemptStatus.PENDING, AttemptStatus.SUBMITTED, AttemptStatus.PROCESSING]
    ).update(status=AttemptStatus.CANCELLED, finished_at=now)
    return remote


def _script_quality_scrub(value: object) -> dict[str, Any]:
    """Keep the scores (figures), drop the notes (they may quote the script)."""
    if not isinstance(value, dict):
        return {}
    parts = value.get("parts")
    if not isinstance(parts, dict):
        parts = {}
    return {
        "total": value.get("total"),
        "parts": {
            str(name): {"score": part.get("score")}
            for name, part in parts.items()
            if isinstance(part, dict)
        },
    }


def _quality_report_scrub(value: object) -> dict[str, Any]:
    """Keep which checks passed and their figures; drop details (speech recognition text)."""
    if not isinstance(value, dict):
        return {}
    checks = [c for c in value.get("checks") or [] if isinstance(c, dict)]
    kept = [
        {
            "name": check.get("name"),
            "passed": check.get("passed"),
            "skipped": check.get("skipped", False),
            "figure": check.get("figure") if isinstance(check.get("figure"), int | float) else None,
            "detail": "",
        }
        for check in checks
    ]
    return {
        "checks": kept,
        "seconds": value.get("seconds"),
        "passed": value.get("passed"),
        "reasons": [str(c["name"]) for c in kept if c["passed"] is False],
    }


def _jobs_anonymise(*, user_id: int, erased: User) -> None:
    """Move the learner's jobs to the erased-learner account, scrubbing every personal field.

    Kept: what the staff figures read (type, status, provider, priority, retries,
    timings, error kind; per attempt the provider, status, seconds, QA score,
    cost and the provider's render id, which webhooks deduplicate on).
    """
    jobs = VideoJob.objects.filter(learner_id=user_id)
    attempts = GenerationAttempt.objects.filter(job__learner_id=user_id)
    for pk, quality in jobs.values_list("pk", "script_quality"):
        VideoJob.objects.filter(pk=pk).update(script_quality=_script_quality_scrub(quality))
    for pk, report in attempts.values_list("pk", "quality_report"):
        GenerationAttempt.objects.filter(pk=pk).update(quality_report=_quality_report_scrub(report))
    attempts.exclude(error="").update(error=_ERASED_TEXT)
    jobs.update(
        learner=erased,
        assessment=None,
        parameters={},
        script={},
        # The plan's identity is unique per learner: blank it, or two erased
        # learners' identical plans would collide under the one account.
        plan_key="",
        plan_fingerprint="",
        # The step may name what the video was about; the status says the rest.
        step=Case(
            *[When(status=value, then=Value(str(label))) for value, label in JobStatus.choices],
            default=Value(""),
        ),
        error=Case(When(error="", then=Value("")), default=Value(_ERASED_TEXT)),
        lease_token=None,
        lease_expires_at=None,
        next_run_at=None,
    )


# The learner's rows whose admin log entries are about them (a video's title, a job's
# "for <username>"): their entries say "(erased)" whatever the text.
_OWNED_LOGGED: tuple[tuple[type[Model], str], ...] = (
    (User, "pk"),
    (Video, "learner_id"),
    (VideoJob, "learner_id"),
    (Assessment, "learner_id"),
    (Playlist, "learner_id"),
    (WatchProgress, "learner_id"),
    (Notification, "learner_id"),
    (ApiToken, "user_id"),
)


def _admin_log_scrub(*, user_id: int, identifiers: list[str]) -> None:
    """Rewrite admin log entries about the learner's rows, or naming them, to say "(erased)".

    Staff keep their log (who did what, when); only the learner's names go. The
    entries the learner made as staff go with the user row (Django's cascade).
    """
    about = Q(pk__in=[])
    for model, owner in _OWNED_LOGGED:
        ids = [
            str(pk)
            for pk in model._default_manager.filter(**{owner: user_id}).values_list("pk", flat=True)
        ]
        if ids:
            about |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    named = Q()
    for text in identifiers:
        named |= Q(object_repr__icontains=text) | Q(change_message__icontains=text)
    pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in identifiers) + r")(?!\w)", re.I)
        if identifiers
        else None
    )
    about_ids = set(LogEntry.objects.filter(about).values_list("pk", flat=True))
    rows = LogEntry.objects.exclude(user_id=user_id).filter(about | named)
    for entry in rows.only("pk", "object_repr", "change_message"):
        object_repr, change = entry.object_repr, entry.change_message
        if pattern is not None:
            object_repr = pattern.sub(_ERASED_MARK, object_repr)
            change = pattern.sub(_ERASED_MARK, change)
        if entry.pk in about_ids:
            object_repr = _ERASED_MARK
        if (object_repr, change) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(
                object_repr=object_repr, change_message=change
            )


def _sessions_delete(*, user_id: int) -> int:
    keys = [key for key, _ in _sessions_of(user_id=user_id)]
    store = _session_store()
    for key in keys:
        store(session_key=key).delete()  # cached_db: the cached copy too
    return len(keys)


def _owned_files(*, user_id: int) -> list[tuple[Storage, str]]:
    """Every stored file the database names as the learner's: (storage, name)."""
    files: list[tuple[Storage, str]] = []
    for video in Video.objects.filter(learner_id=user_id).order_by("pk"):  # withdrawn too
        for field_file in (video.file, video.captions, video.thumbnail):
            if field_file.name:
                files.append((field_file.storage, field_file.name))
    folder = f"{_AVATARS_ROOT}/{user_id}"
    files.extend((default_storage, f"{folder}/{name}") for name in _avatar_names(user_id=user_id))
    return files


def _files_delete(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:  # one file that cannot go must not keep the others
            _LOGGER.exception("account erasure: could not delete %s", name)


def _empty_parents_prune(storage: Storage, folder: Path) -> None:
    root = Path(storage.path("")).resolve()
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()  # only ever removes an empty folder
        except OSError:
            break
        folder = folder.parent


def _tree_delete(storage: Storage, folder: str) -> None:
    """Delete everything under `folder` through the Storage API (no local paths)."""
    try:
        folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        storage.delete(f"{folder}/{name}")
    for name in folders:
        _tree_delete(storage, f"{folder}/{name}")


def _folder_purge(storage: Storage, *, folder: str, learner_id: int) -> None:
    """Remove the learner's folder with whatever is left in it (files no row named)."""
    drive_delete = getattr(storage, "learner_folder_delete", None)
    if drive_delete is not None and folder.startswith("videos/"):
        drive_delete(learner_id=learner_id)  # Google Drive: users/<id>/ (storage_gdrive)
        return
    try:
        local = Path(storage.path(folder))
    except NotImplementedError:
        _tree_delete(storage, folder)
        return
    if local.is_dir():
        shutil.rmtree(local)
    _empty_parents_prune(storage, local.parent)


def _leftovers_remove(leftovers: _Leftovers) -> None:
    """After the commit: files, the learner's folders, remote renders, cache entries."""
    user_id = leftovers.user_id
    _files_delete(leftovers.files)
    video_storage = Video._meta.get_field("file").storage
    for storage, folder in (
        (video_storage, f"videos/{user_id}"),
        (default_storage, f"{_AVATARS_ROOT}/{user_id}"),
    ):
        try:
            _folder_purge(storage, folder=folder, learner_id=user_id)
        except Exception:
            # Logged for staff to finish by hand: the account is gone already.
            _LOGGER.exception("account erasure: could not remove %s of user %s", folder, user_id)
    for provider, external_id in leftovers.remote_renders:
        try:
            provider_get(name=provider).cancel(external_id)
        except (ProviderError, LookupError) as error:
            _LOGGER.warning("could not cancel %s render %s: %s", provider, external_id, error)
    # The sign-in throttle's per-username counter (its per-address ones cannot be
    # found without the addresses; they hold only hashes and expire in minutes).
    login_failures_forget(username=leftovers.username)


def account_delete(*, user: User) -> None:
    """Erase the account: every row and file it owns; its jobs kept anonymised (see above)."""
    if user.username == ERASED_USERNAME:
        raise ErasedLearnerConflict("the erased-learner account itself cannot be erased")
    user_id = user.pk
    with transaction.atomic():
        erased = erased_learner_get()  # first: a conflict stops the erasure before anything
        # One erasure at a time per account (a double-clicked button).
        list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))
        remote = _jobs_cancel(user_id=user_id)  # first: a finishing worker's Video is then seen
        leftovers = _Leftovers(
            user_id=user_id,
            username=user.username,
            files=_owned_files(user_id=user_id),
            remote_renders=remote,
        )
        _admin_log_scrub(user_id=user_id, identifiers=_identifiers(user))
        for record in list(_idempotency_about(user=user)):
            record.delete()
        sessions = _sessions_delete(user_id=user_id)
        _jobs_anonymise(user_id=user_id, erased=erased)
        user.delete()  # cascades to every row the learner owns
        transaction.on_commit(lambda: _leftovers_remove(leftovers))
    _LOGGER.info(
        "account %s erased: %d stored files, %d sessions, %d remote renders cancelled",
        user_id,
        len(leftovers.files),
        sessions,
        len(remote),
    )
