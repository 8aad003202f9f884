import pytest

from videos.studio.script_text import MAX_WORDS, ScriptError, script_parse


def test_headings_start_sections_and_markdown_is_read_as_plain_speech():
    script = script_parse(
        text="# Overview\n\n# Welcome\nHello **Alex**, see [the guide](http://x).\n\n"
        "## Plan\n- first step\n- second step\n",
        video_type="overview",
    )
    assert script.title == "Overview"
    assert [s.heading for s in script.sections] == ["Welcome", "Plan"]
    assert script.sections[0].text == "Hello Alex, see the guide."
    assert script.sections[1].text == "first step. second step."


def test_plain_text_without_headings_is_one_section():
    script = script_parse(text="Just talk.\nMore talk.", video_type="motivational", title="Pep")
    assert len(script.sections) == 1
    assert script.sections[0].heading == "Pep"


@pytest.mark.parametrize(
    ("text", "video_type", "message"),
    [
        ("", "overview", "no narration text"),
        ("# A\ntext\n# Empty\n", "overview", "section 'Empty' has a heading but no narration"),
        ("hello", "documentary", "unknown video type 'documentary'"),
        ("word " * (MAX_WORDS + 1), "overview", "the limit is"),
    ],
)
def test_bad_scripts_say_what_is_wrong(text, video_type, message):
    with pytest.raises(ScriptError, match=message):
        script_parse(text=text, video_type=video_type)
