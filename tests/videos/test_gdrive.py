"""videos.gdrive against a local fake Drive over real HTTP (tests/videos/fake_drive.py)."""

from __future__ import annotations

import json
import math
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.videos.fake_drive import GOOGLE_TOKEN_AUDIENCE, ROOT_FOLDER_ID, FakeDrive
from videos import gdrive

CHUNK = gdrive.CHUNK_MULTIPLE  # the smallest chunk Drive accepts: many chunks per test file
PEM_NOT_A_KEY = "-----BEGIN PRIVATE KEY-----\nSEKRIT\n-----END PRIVATE KEY-----\n"
FEW_MB = 2 * 1024 * 1024 + 12_345  # not a whole number of chunks: the last one is short


@pytest.fixture
def fake() -> Iterator[FakeDrive]:
    with FakeDrive() as server:
        yield server
    # Ports are reused across tests; folder ids from this fake must not outlive it.
    gdrive.folder_cache_clear()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def drive(fake: FakeDrive, tmp_path: Path, sleeps: list[float]) -> gdrive.Drive:
    return gdrive.drive_connect(
        service_account_file=fake.service_account_write(path=tmp_path / "sa.json"),
        root_folder_id=ROOT_FOLDER_ID,
        api_url=fake.url,
        chunk_size=CHUNK,
        num_retries=3,
        sleep=sleeps.append,  # backoff is recorded, not waited for
    )


def video_upload(drive: gdrive.Drive, source: Path, *, folder: str = "users/42/videos/abc"):
    return gdrive.file_upload(
        drive=drive,
        parent_id=gdrive.folder_ensure(drive=drive, path=folder),
        name=source.name,
        source=source,
        mime_type="video/mp4",
        description="PresGen video for learner 42",
        app_properties={"presgen": "1", "learner_id": "42", "kind": "video"},
    )


def bytes_write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_a_multi_chunk_resumable_upload_lands_whole_in_the_learners_folder(fake, drive, tmp_path):
    data = bytes_write(tmp_path / "lesson.mp4", FEW_MB)

    uploaded = video_upload(drive, tmp_path / "lesson.mp4")

    stored = fake.path_find("users/42/videos/abc/lesson.mp4")
    assert stored is not None and stored.content == data
    chunks = fake.requests_to("PUT", "/upload/drive/v3/files")
    assert len(chunks) == math.ceil(FEW_MB / CHUNK) > 1
    assert chunks[0].headers["content-range"] == f"bytes 0-{CHUNK - 1}/{FEW_MB}"
    started = fake.requests_to("POST", "/upload/drive/v3/files")
    assert [r.query["uploadType"] for r in started] == ["resumable"]
    assert uploaded == gdrive.DriveFile(
        id=stored.id,
        name="lesson.mp4",
        size=FEW_MB,
        mime_type="video/mp4",
        parents=(fake.path_find("users/42/videos/abc").id,),
        app_properties={"presgen": "1", "learner_id": "42", "kind": "video"},
    )
    assert stored.description == "PresGen video for learner 42"
    assert stored.mime_type == "video/mp4"


def test_a_503_mid_upload_is_resumed_from_what_drive_has_and_the_file_is_whole(
    fake, drive, tmp_path, sleeps
):
    data = bytes_write(tmp_path / "lesson.mp4", FEW_MB)
    fake.fail_upload_chunks(2, after=3)

    video_upload(drive, tmp_path / "lesson.mp4")

    assert fake.path_find("users/42/videos/abc/lesson.mp4").content == data
    ranges = [r.headers.get("content-range") for r in fake.requests_to("PUT", "/upload/")]
    # After each failure the client asks how much arrived, then re-sends from there.
    assert ranges.count(f"bytes */{FEW_MB}") == 2
    assert ranges.count(f"bytes {3 * CHUNK}-{4 * CHUNK - 1}/{FEW_MB}") == 3
    assert len(sleeps) == 2


def test_an_upload_that_keeps_failing_ends_in_a_retryable_drive_error(fake, drive, tmp_path):
    bytes_write(tmp_path / "lesson.mp4", FEW_MB)
    fake.fail_upload_chunks(10, after=1)

    with pytest.raises(gdrive.DriveError) as failed:
        video_upload(drive, tmp_path / "lesson.mp4")

    assert (failed.value.status, failed.value.reason, failed.value.retryable) == (
        503,
        "backendError",
        True,
    )
    assert fake.path_find("users/42/videos/abc/lesson.mp4") is None


def test_a_rate_limit_403_is_retried_but_a_permission_403_is_not(fake, drive, sleeps):
    fake.fail_requests(
        1, method="GET", path_prefix="/drive/v3/files", status=403, reason="rateLimitExceeded"
    )
    assert gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="nothing") is None
    assert len(sleeps) == 1

    fake.fail_requests(
        1,
        method="GET",
        path_prefix="/drive/v3/files",
        status=403,
        reason="insufficientFilePermissions",
    )
    with pytest.raises(gdrive.DriveError) as refused:
        gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="nothing")
    assert (refused.value.status, refused.value.reason, refused.value.retryable) == (
        403,
        "insufficientFilePermissions",
        False,
    )
    assert len(sleeps) == 1


def test_folders_are_made_once_and_then_found_from_the_cache(fake, drive):
    folder_id = gdrive.folder_ensure(drive=drive, path="users/42/videos")
    created = fake.requests_to("POST", "/drive/v3/files")
    assert len(created) == 3
    assert fake.path_find("users/42/videos").id == folder_id

    before = len(fake.requests)
    assert gdrive.folder_ensure(drive=drive, path="users/42/videos") == folder_id
    assert gdrive.folder_find(drive=drive, path="users/42/videos") == folder_id
    assert len(fake.requests) == before

    gdrive.folder_cache_clear()  # a fresh process finds them on Drive
    assert gdrive.folder_find(drive=drive, path="users/42/videos") == folder_id
    assert gdrive.folder_find(drive=drive, path="users/43/videos") is None
    assert len(fake.requests_to("POST", "/drive/v3/files")) == 3


def test_of_two_same_named_folders_everyone_uses_the_oldest(fake, drive):
    older = fake.folder_add(name="users")
    fake.folder_add(name="users")

    users = gdrive.folder_ensure(drive=drive, path="users")
    learner = gdrive.folder_ensure(drive=drive, path="users/7")

    assert users == older.id
    assert fake.files[learner].parents == [older.id]


def test_names_with_quotes_and_backslashes_are_found(fake, drive, tmp_path):
    odd = tmp_path / "it's a \\ test.mp4"
    bytes_write(odd, 10)
    video_upload(drive, odd, folder="users/1/videos/x")

    parent = gdrive.folder_find(drive=drive, path="users/1/videos/x")
    found = gdrive.file_find(drive=drive, parent_id=parent, name="it's a \\ test.mp4")

    assert found is not None and found.size == 10


def test_a_download_streams_to_disk_chunk_by_chunk(fake, drive, tmp_path):
    data = bytes_write(tmp_path / "lesson.mp4", FEW_MB)
    uploaded = video_upload(drive, tmp_path / "lesson.mp4")

    with (tmp_path / "copy.mp4").open("wb") as target:
        written = gdrive.file_download_to(drive=drive, file_id=uploaded.id, target=target)

    assert written == FEW_MB
    assert (tmp_path / "copy.mp4").read_bytes() == data
    reads = fake.requests_to("GET", f"/drive/v3/files/{uploaded.id}")
    assert all(r.query["alt"] == "media" for r in reads)
    assert [r.headers["range"] for r in reads][:2] == [
        f"bytes=0-{CHUNK - 1}",
        f"bytes={CHUNK}-{2 * CHUNK - 1}",
    ]
    assert len(reads) == math.ceil(FEW_MB / CHUNK)


def test_a_download_interrupted_by_a_503_carries_on(fake, drive, tmp_path, sleeps):
    data = bytes_write(tmp_path / "lesson.mp4", FEW_MB)
    uploaded = video_upload(drive, tmp_path / "lesson.mp4")
    fake.fail_requests(
        1, method="GET", path_prefix=f"/drive/v3/files/{uploaded.id}", status=503, reason="x"
    )

    with (tmp_path / "copy.mp4").open("wb") as target:
        gdrive.file_download_to(drive=drive, file_id=uploaded.id, target=target)

    assert (tmp_path / "copy.mp4").read_bytes() == data
    assert len(sleeps) == 1


def test_an_empty_file_goes_up_and_comes_back(fake, drive, tmp_path):
    (tmp_path / "empty.vtt").write_bytes(b"")
    uploaded = video_upload(drive, tmp_path / "empty.vtt")

    with (tmp_path / "copy.vtt").open("wb") as target:
        written = gdrive.file_download_to(drive=drive, file_id=uploaded.id, target=target)

    assert uploaded.size == 0 and written == 0
    assert fake.path_find("users/42/videos/abc/empty.vtt").content == b""


def test_a_missing_file_is_a_clear_not_found(fake, drive, tmp_path):
    with pytest.raises(gdrive.DriveError) as missing:
        gdrive.file_get(drive=drive, file_id="no-such-id")
    assert (missing.value.status, missing.value.reason, missing.value.retryable) == (
        404,
        "notFound",
        False,
    )
    assert "File not found: no-such-id" in str(missing.value)

    with (tmp_path / "copy").open("wb") as target, pytest.raises(gdrive.DriveError) as gone:
        gdrive.file_download_to(drive=drive, file_id="no-such-id", target=target)
    assert gone.value.status == 404
    assert gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="nothing.mp4") is None


def test_get_then_delete(fake, drive, tmp_path):
    bytes_write(tmp_path / "thumb.jpg", 100)
    uploaded = video_upload(drive, tmp_path / "thumb.jpg")

    assert gdrive.file_get(drive=drive, file_id=uploaded.id) == uploaded
    gdrive.file_delete(drive=drive, file_id=uploaded.id)

    assert uploaded.id not in fake.files
    with pytest.raises(gdrive.DriveError) as gone:
        gdrive.file_get(drive=drive, file_id=uploaded.id)
    assert gone.value.status == 404


def test_the_token_request_is_a_jwt_signed_with_the_service_account_key(fake, drive):
    gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="anything")

    # The fake verified the RS256 signature with the key's public half before issuing.
    [claims] = fake.token_claims
    assert claims["iss"] == fake.client_email
    assert claims["aud"] == GOOGLE_TOKEN_AUDIENCE
    assert claims["scope"] == "https://www.googleapis.com/auth/drive.file"
    [token_request] = fake.requests_to("POST", "/token")
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"


def test_a_key_drive_does_not_know_is_refused_with_a_clear_error(fake, tmp_path):
    stale = fake.service_account_write(path=tmp_path / "old.json")
    fake.service_account_write(path=tmp_path / "new.json")  # the key was rotated
    drive = gdrive.drive_connect(
        service_account_file=stale, root_folder_id=ROOT_FOLDER_ID, api_url=fake.url
    )

    with pytest.raises(gdrive.DriveError) as refused:
        gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="anything")

    assert refused.value.reason == "unauthorized"
    assert "Invalid JWT Signature" in str(refused.value)
    assert "PRIVATE KEY" not in str(refused.value)


def test_drive_requests_need_the_bearer_token_and_the_client_refreshes_it(fake, drive):
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{fake.url}drive/v3/files")  # noqa: S310
    assert anonymous.value.code == 401
    assert json.loads(anonymous.value.read())["error"]["errors"][0]["reason"] == "authError"

    gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="anything")
    fake.tokens_revoke()
    gdrive.file_find(drive=drive, parent_id=ROOT_FOLDER_ID, name="anything")

    assert len(fake.token_claims) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("not json", "not a valid service-account JSON key"),
        (
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": "x@y.iam.gserviceaccount.com",
                    "token_uri": "https://oauth2.googleapis.com/token",
                    "private_key": PEM_NOT_A_KEY,
                }
            ),
            "not a valid service-account JSON key",
        ),
    ],
)
def test_an_unusable_service_account_file_is_named_without_its_content(tmp_path, content, problem):
    path = tmp_path / "sa.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(gdrive.DriveCredentialsError) as bad:
        gdrive.drive_connect(service_account_file=path)

    assert str(bad.value) == f"service-account file {str(path)!r}: {problem}"
    assert bad.value.__cause__ is None and bad.value.__suppress_context__


def test_an_http_endpoint_gets_the_upload_too():
    # The client alone would send the upload to https://<host>/upload/... .
    assert gdrive._upload_uri_fix(
        "https://127.0.0.1:9/upload/drive/v3/files?uploadType=resumable", "http://127.0.0.1:9/"
    ) == ("http://127.0.0.1:9/upload/drive/v3/files?uploadType=resumable")
    assert gdrive._upload_uri_fix(
        "https://h/upload/drive/v3/files?a=1", "http://proxy:8080/google/"
    ) == ("http://proxy:8080/google/upload/drive/v3/files?a=1")


def test_forgetting_a_folder_forgets_its_ancestors_and_descendants_only(fake, drive):
    gdrive.folder_ensure(drive=drive, path="users/42/videos/x")
    gdrive.folder_ensure(drive=drive, path="users/43/videos")

    gdrive.folder_forget(drive=drive, path="users/42/videos")

    before = len(fake.requests)
    gdrive.folder_find(drive=drive, path="users/43")  # still cached ... but "users" is not
    assert len(fake.requests) == before + 1
    gdrive.folder_find(drive=drive, path="users/42/videos/x")
    assert len(fake.requests) == before + 1 + 3
