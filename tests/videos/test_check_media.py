"""`manage.py check_media` and `videos_missing_files()`: no Video row points at a missing file."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import user_build, video_build, video_job_build
from videos.models import Video
from videos.selectors import MissingFile, videos_missing_files

pytestmark = pytest.mark.django_db


def _video(learner=None, **fields) -> Video:
    learner = learner or user_build(display_name="Ada Lovelace", email="ada@example.com")
    fields.setdefault("captions", ContentFile(b"WEBVTT\n", name="captions.vtt"))
    fields.setdefault("thumbnail", ContentFile(b"\xff\xd8\xff", name="thumbnail.jpg"))
    return video_build(job=video_job_build(learner=learner), **fields)


def test_every_missing_file_is_found_and_present_or_blank_ones_are_not(media_root):
    whole = _video()
    no_file = _video()
    no_file.file.storage.delete(no_file.file.name)
    no_thumb = _video()
    no_thumb.thumbnail.storage.delete(no_thumb.thumbnail.name)
    without_extras = _video(captions="", thumbnail="")  # captions and thumbnail are optional

    missing = list(videos_missing_files())

    assert missing == [
        MissingFile(no_file.pk, no_file.learner_id, "file", no_file.file.name),
        MissingFile(no_thumb.pk, no_thumb.learner_id, "thumbnail", no_thumb.thumbnail.name),
    ]
    assert {whole.pk, without_extras.pk}.isdisjoint(m.video_id for m in missing)


def test_the_rows_are_streamed_in_chunks(media_root):
    videos = [_video() for _ in range(5)]
    for video in videos:
        video.captions.storage.delete(video.captions.name)

    with CaptureQueriesContext(connection) as queries:
        found = [m.video_id for m in videos_missing_files(chunk_size=2)]

    assert found == [v.pk for v in videos]
    # One query on PostgreSQL (a server-side cursor), or one per chunk of 2 on SQLite.
    assert 1 <= len(queries) <= 4


def test_the_command_lists_what_is_missing_without_personal_data_and_exits_1(media_root, capsys):
    learner = user_build(
        username="ada-l", display_name="Ada Lovelace", email="ada@example.com", first_name="Ada"
    )
    _video(learner)
    broken = _video(learner)
    broken.file.storage.delete(broken.file.name)
    broken.captions.storage.delete(broken.captions.name)

    with pytest.raises(CommandError) as failed:
        call_command("check_media")

    assert failed.value.returncode == 1
    assert str(failed.value) == "2 video file(s) missing from storage"
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"video #{broken.pk} (learner #{learner.pk}): file {broken.file.name} is missing",
        f"video #{broken.pk} (learner #{learner.pk}): captions {broken.captions.name} is missing",
    ]
    for personal in ("Ada", "Lovelace", "ada@example.com", "ada-l"):
        assert personal not in out


def test_the_command_exits_0_when_every_file_is_there(media_root, capsys):
    _video()
    _video()

    call_command("check_media")

    assert capsys.readouterr().out == "Every file of 2 video(s) is in storage.\n"
