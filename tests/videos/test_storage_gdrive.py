"""GoogleDriveStorage through Django's storage API, against a local fake Drive over real HTTP."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages

from tests.builders import user_build, video_build, video_job_build
from tests.videos.fake_drive import ROOT_FOLDER_ID, FakeDrive
from videos import gdrive
from videos.models import Video
from videos.storage_gdrive import GoogleDriveStorage, drive_path_of, kind_of

CHUNK = gdrive.CHUNK_MULTIPLE
FEW_MB = 2 * 1024 * 1024 + 777
HEX = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeDrive]:
    with FakeDrive() as server:
        yield server
    # Ports are reused across tests; folder ids from this fake must not outlive it.
    gdrive.folder_cache_clear()


@pytest.fixture
def options(fake: FakeDrive, tmp_path: Path) -> dict[str, object]:
    return {
        "service_account_file": str(fake.service_account_write(path=tmp_path / "sa.json")),
        "root_folder_id": ROOT_FOLDER_ID,
        "api_url": fake.url,
        "chunk_size": CHUNK,
    }


@pytest.fixture
def storage(options: dict[str, object]) -> GoogleDriveStorage:
    return GoogleDriveStorage(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        (f"videos/42/{HEX}/lesson.mp4", f"users/42/videos/{HEX}/lesson.mp4"),
        (f"videos/42/{HEX}/lesson_a1B2c3d.vtt", f"users/42/videos/{HEX}/lesson_a1B2c3d.vtt"),
        ("exports/report.csv", "exports/report.csv"),  # not a learner's: kept as it is
        ("videos/not-a-learner/x.mp4", "videos/not-a-learner/x.mp4"),
        ("loose.mp4", "loose.mp4"),
    ],
)
def test_storage_names_map_to_drive_paths(name, path):
    assert drive_path_of(name) == path


def test_kinds_follow_the_extension():
    assert [kind_of(n) for n in ("a.mp4", "a.VTT", "a.jpg", "a.txt")] == [
        "video",
        "captions",
        "thumbnail",
        "other",
    ]


def test_save_exists_size_open_delete(fake, storage):
    data = os.urandom(FEW_MB)
    name = f"videos/42/{HEX}/lesson.mp4"

    assert storage.save(name, ContentFile(data)) == name

    stored = fake.path_find(f"users/42/videos/{HEX}/lesson.mp4")
    assert stored is not None and stored.content == data
    assert stored.mime_type == "video/mp4"
    assert stored.app_properties == {"presgen": "1", "learner_id": "42", "kind": "video"}
    assert storage.exists(name)
    assert storage.size(name) == FEW_MB
    with storage.open(name) as opened:
        assert opened.read() == data

    storage.delete(name)

    assert not storage.exists(name)
    assert fake.path_find(f"users/42/videos/{HEX}/lesson.mp4") is None
    storage.delete(name)  # deleting what is gone is not an error


def test_open_streams_through_a_spool_that_rolls_over_to_disk(options, fake):
    storage = GoogleDriveStorage(**options, spool_max_bytes=CHUNK)  # type: ignore[arg-type]
    data = os.urandom(FEW_MB)
    name = storage.save(f"videos/5/{HEX}/lesson.mp4", ContentFile(data))

    with storage.open(name) as opened:
        assert opened.file._rolled  # on disk, not held in memory
        assert opened.read() == data
    assert (
        len(fake.requests_to("GET", f"/drive/v3/files/{fake.path_find(drive_path_of(name)).id}"))
        > 1
    )


def test_captions_open_in_text_mode(storage):
    name = storage.save(
        f"videos/42/{HEX}/captions.vtt", ContentFile("WEBVTT\n\n00:00.000 --> 00:01.000\nHéllo\n")
    )

    with storage.open(name, "r") as opened:
        assert opened.read().startswith("WEBVTT")
    with pytest.raises(ValueError, match="reading only"):
        storage.open(name, "wb")


def test_a_taken_name_gets_another(fake, storage):
    name = f"videos/42/{HEX}/lesson.mp4"
    first = storage.save(name, ContentFile(b"one"))
    second = storage.save(name, ContentFile(b"two"))

    assert first == name and second != name
    assert second.startswith(f"videos/42/{HEX}/lesson_") and second.endswith(".mp4")
    with storage.open(first) as one, storage.open(second) as two:
        assert (one.read(), two.read()) == (b"one", b"two")


def test_a_missing_file(fake, storage):
    name = f"videos/42/{HEX}/nothing.mp4"

    assert not storage.exists(name)
    with pytest.raises(FileNotFoundError, match=r"nothing\.mp4"):
        storage.size(name)
    with pytest.raises(FileNotFoundError, match=r"nothing\.mp4"):
        storage.open(name)
    # Looking never makes folders.
    assert fake.requests_to("POST", "/drive/v3/files") == []


def test_media_is_never_given_a_drive_url(storage):
    assert storage.url(f"videos/42/{HEX}/lesson.mp4") == ""


def test_a_folder_deleted_on_drive_is_made_again(fake, storage):
    storage.save(f"videos/42/{HEX}/lesson.mp4", ContentFile(b"one"))
    learner_folder = fake.path_find("users/42")
    gdrive.file_delete(drive=storage.drive(), file_id=learner_folder.id)  # someone tidied up

    name = storage.save(f"videos/42/{HEX}/thumb.jpg", ContentFile(b"\xff\xd8\xff"))

    assert fake.path_find(drive_path_of(name)).content == b"\xff\xd8\xff"
    assert fake.path_find("users/42").id != learner_folder.id


def test_content_that_cannot_seek_is_spooled_first(fake, storage):
    data = os.urandom(3 * CHUNK + 5)
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    with os.fdopen(read_end, "rb") as pipe:
        name = storage.save(f"videos/9/{HEX}/piped.mp4", File(pipe))
    feeder.join()

    assert fake.path_find(drive_path_of(name)).content == data


def test_a_bad_service_account_file_names_the_setting_not_the_key(fake, tmp_path):
    path = tmp_path / "sa.json"
    path.write_text('{"type": "service_account", "private_key": "SEKRIT", "client_email": "x"}')
    storage = GoogleDriveStorage(service_account_file=str(path), api_url=fake.url)

    with pytest.raises(ImproperlyConfigured) as bad:
        storage.exists("videos/1/x/a.mp4")

    assert str(bad.value).startswith("GOOGLE_SERVICE_ACCOUNT_FILE: ")
    assert str(path) in str(bad.value) and "SEKRIT" not in str(bad.value)
    assert fake.requests == []


def test_options_default_to_the_settings(settings, options):
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = options["service_account_file"]
    settings.GOOGLE_DRIVE_FOLDER_ID = ROOT_FOLDER_ID
    settings.GOOGLE_DRIVE_API_URL = options["api_url"]

    drive = GoogleDriveStorage().drive()

    assert (drive.root_folder_id, drive.api_url) == (ROOT_FOLDER_ID, options["api_url"])


def test_the_storage_deconstructs_and_copies(storage, options):
    path, args, kwargs = storage.deconstruct()

    assert (path, args, kwargs) == ("videos.storage_gdrive.GoogleDriveStorage", (), options)
    assert copy.deepcopy(storage).drive() is not storage.drive()


def test_each_thread_has_its_own_connection(storage):
    theirs: list[gdrive.Drive] = []
    worker = threading.Thread(target=lambda: theirs.append(storage.drive()))
    worker.start()
    worker.join()

    assert storage.drive() is storage.drive()
    assert theirs[0] is not storage.drive()


def test_the_videos_storage_setting_selects_google_drive(settings, fake, options):
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {"BACKEND": "videos.storage_gdrive.GoogleDriveStorage", "OPTIONS": options},
    }
    # Changing STORAGES resets django.core.files.storage.storages (setting_changed).
    videos = storages["videos"]

    name = videos.save(f"videos/3/{HEX}/lesson.mp4", ContentFile(b"mp4 bytes"))

    assert isinstance(videos, GoogleDriveStorage)
    assert fake.path_find(f"users/3/videos/{HEX}/lesson.mp4").content == b"mp4 bytes"
    assert videos.exists(name)


@pytest.mark.django_db
def test_a_video_file_field_saves_to_drive(fake, storage, media_root, monkeypatch, tmp_path):
    built = video_build(job=video_job_build(learner=user_build()))
    for field_name in ("file", "thumbnail", "captions"):
        monkeypatch.setattr(Video._meta.get_field(field_name), "storage", storage)
    video = Video.objects.get(pk=built.pk)  # FieldFiles made now use the Drive storage
    data = os.urandom(FEW_MB)
    (tmp_path / "render.mp4").write_bytes(data)

    with (tmp_path / "render.mp4").open("rb") as fh:
        video.file.save("lesson.mp4", File(fh))
    video.thumbnail.save("thumb.jpg", ContentFile(b"\xff\xd8\xff\xe0"))
    video.captions.save("captions.vtt", ContentFile(b"WEBVTT\n"))

    video.refresh_from_db()
    learner = video.learner_id
    assert video.file.name.startswith(f"videos/{learner}/") and video.file.name.endswith(
        "/lesson.mp4"
    )
    stored = fake.path_find(drive_path_of(video.file.name))
    assert stored.content == data
    assert drive_path_of(video.file.name).startswith(f"users/{learner}/videos/")
    assert stored.app_properties == {"presgen": "1", "learner_id": str(learner), "kind": "video"}
    assert video.file.size == FEW_MB
    with video.file.open() as opened:
        assert opened.read() == data
    thumb = fake.path_find(drive_path_of(video.thumbnail.name))
    captions = fake.path_find(drive_path_of(video.captions.name))
    assert (thumb.mime_type, thumb.app_properties["kind"]) == ("image/jpeg", "thumbnail")
    assert (captions.mime_type, captions.app_properties["kind"]) == ("text/vtt", "captions")
