import pytest
from django.core.exceptions import ValidationError

from tests.builders import user_build

pytestmark = pytest.mark.django_db


def test_profile_defaults_and_greeting():
    user = user_build(display_name="", first_name="Dana")
    assert user.experience_level == "1-3"
    assert user.learning_styles == []
    assert user.greeting_name == "Dana"


def test_several_learning_styles_are_kept():
    user = user_build(learning_styles=["visual", "hands_on"])
    user.full_clean()
    user.refresh_from_db()
    assert user.learning_styles == ["visual", "hands_on"]


def test_unknown_learning_style_and_time_zone_are_rejected():
    user = user_build(learning_styles=["telepathic"], time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as caught:
        user.full_clean()
    assert "telepathic" in str(caught.value.message_dict["learning_styles"])
    assert "Mars/Olympus is not a known time zone" in str(caught.value.message_dict["time_zone"])
