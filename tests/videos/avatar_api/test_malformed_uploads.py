"""Malformed portraits sent to the PresGen-Avatar API's custom avatar upload.

test_views.py covers text as a PNG, a GIF, too small, too large, a 900-megapixel
header and a cut PNG; these are the other ways a portrait goes wrong, and two real
photos that were refused before (a phone camera's MPO JPEG, a transparent palette PNG).
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.builders import user_build

pytestmark = pytest.mark.django_db

CUSTOM = "/api/v1/avatar/custom"


@pytest.fixture
def api(media_root, settings) -> tuple[APIClient, Token]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    token = Token.objects.create(user=user_build())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client, token


def _named(data: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def _photo(fmt: str, *, mode: str = "RGB", size=(320, 320), **options) -> bytes:
    rng = random.Random(11)
    if mode == "RGB":
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new(mode, size)
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _corrupted(data: bytes, *, at: int, length: int = 64) -> bytes:
    broken = bytearray(data)
    for i in range(at, at + length):
        broken[i] ^= 0xFF
    return bytes(broken)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height`, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _stored_files(user_pk: int) -> list[str]:
    try:
        return default_storage.listdir(f"avatars/{user_pk}")[1]
    except FileNotFoundError:
        return []


PNG = _photo("PNG")
SECOND = Image.new("RGB", (8, 8))  # an MPO's second picture (a preview, a depth map)
JPEG = _photo("JPEG")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("me.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="400"/>', "not a PNG or JPEG"),
        ("me.png", b"MZ\x90\x00\x03" + bytes(2000), "not a PNG or JPEG"),
        ("me.jpg", JPEG[: len(JPEG) // 2], "cannot be read"),
        ("me.png", _corrupted(PNG, at=PNG.index(b"IDAT") + 200), "cannot be read"),
        ("me.webp", _photo("WEBP"), "the image is WEBP; upload a PNG or JPEG"),
        ("me.bmp", _photo("BMP"), "the image is BMP; upload a PNG or JPEG"),
        ("me.tiff", _photo("TIFF"), "the image is TIFF; upload a PNG or JPEG"),
        # Past Pillow's MAX_IMAGE_PIXELS (a warning, not an error, below twice that):
        # refused by its declared size before a pixel is decoded.
        ("bomb.png", _png_header(10_000, 10_000), "at most 4096×4096"),
        # Within the limits by its header, but the pixels are not there.
        ("hollow.png", _png_header(4000, 4000), "cannot be read"),
    ],
    ids=[
        "svg",
        "exe-as-png",
        "jpeg-cut",
        "png-corrupt-pixels",
        "webp",
        "bmp",
        "tiff",
        "bomb-between-pillow-limits",
        "header-without-pixels",
    ],
)
def test_a_malformed_portrait_is_a_400_on_the_image_field_and_stores_nothing(
    api, name, data, message
):
    client, token = api
    response = client.post(CUSTOM, {"image": _named(data, name), "name": "Me"}, format="multipart")

    assert response.status_code == 400
    assert any(message in error for error in response.json()["image"]), response.json()
    assert _stored_files(token.user.pk) == []


def test_an_empty_file_is_a_400_on_the_image_field(api):
    client, token = api
    response = client.post(
        CUSTOM, {"image": _named(b"", "me.png"), "name": "Me"}, format="multipart"
    )

    assert response.status_code == 400 and "image" in response.json()
    assert _stored_files(token.user.pk) == []


@pytest.mark.parametrize(
    ("name", "data", "mode"),
    [
        # A phone camera's JPEG with a second picture in it: Pillow calls it "MPO".
        (
            "phone.jpg",
            _photo("MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))]),
            "RGB",
        ),
        # A palette PNG with a transparent colour keeps its transparency.
        ("cutout.png", _photo("PNG", mode="P", transparency=0), "RGBA"),
    ],
    ids=["mpo-jpeg", "transparent-palette-png"],
)
def test_real_photos_in_less_common_encodings_are_accepted(api, name, data, mode):
    client, token = api
    response = client.post(CUSTOM, {"image": _named(data, name), "name": "Me"}, format="multipart")

    assert response.status_code == 201, response.json()
    stored = [f for f in _stored_files(token.user.pk) if f.endswith(".png")]
    assert len(stored) == 1
    with default_storage.open(f"avatars/{token.user.pk}/{stored[0]}") as handle:
        with Image.open(handle) as image:
            assert image.format == "PNG" and image.mode == mode and image.size == (320, 320)
