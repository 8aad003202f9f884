"""The playlist pages and forms: owner only (404 otherwise), each change via POST."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from django.urls import URLPattern, URLResolver, include, path, reverse

import presgen.urls
from library.models import Playlist, PlaylistKind, WatchProgress
from library.playlists import playlist_create, playlist_video_add, playlist_videos
from tests.builders import (
    assessment_build,
    certification_build,
    user_build,
    video_build,
    video_job_build,
)
from videos.models import JobStatus, Video


def _includes_library(patterns: list[URLPattern | URLResolver]) -> bool:
    return any(
        isinstance(p, URLResolver)
        and isinstance(p.urlconf_module, ModuleType)
        and p.urlconf_module.__name__ == "library.urls"
        for p in patterns
    )


# Until presgen/urls.py includes library.urls, these tests add it themselves.
if _includes_library(presgen.urls.urlpatterns):
    URLCONF = "presgen.urls"
else:
    urlpatterns = [*presgen.urls.urlpatterns, path("", include("library.urls"))]
    URLCONF = __name__

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root"),
    pytest.mark.urls(URLCONF),
]


def ready_video(learner, certification=None, video_type="overview", **fields) -> Video:
    job = video_job_build(
        learner=learner, certification=certification, video_type=video_type, status=JobStatus.READY
    )
    fields.setdefault("title", f"{video_type} {job.pk}")
    return video_build(job=job, **fields)


@pytest.fixture
def learner():
    return user_build()


@pytest.fixture
def owner(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def playlist(learner):
    playlist = playlist_create(learner=learner, title="Night before")
    for name in ("First", "Second", "Third"):
        playlist_video_add(playlist=playlist, video=ready_video(learner, title=name))
    return playlist


def titles(playlist):
    return [video.title for video in playlist_videos(playlist=playlist)]


def detail_url(playlist):
    return reverse("playlists:detail", args=[playlist.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- anonymous visitors and other learners -----------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, playlist):
    video = playlist_videos(playlist=playlist)[0]
    for url in (reverse("playlists:list"), detail_url(playlist)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    for name in ("rename", "delete", "video_add", "video_remove", "video_move"):
        response = client.post(
            reverse(f"playlists:{name}", args=[playlist.pk]),
            {"title": "x", "video": video.pk, "direction": "up"},
        )
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("playlists:create"), {"title": "x"})
    assert response["Location"].startswith(reverse("login"))
    assert Playlist.objects.count() == 1
    assert titles(playlist) == ["First", "Second", "Third"]


def test_another_learners_playlist_is_a_404_for_every_action(client, playlist):
    client.force_login(user_build())
    video = playlist_videos(playlist=playlist)[0]
    assert client.get(detail_url(playlist)).status_code == 404
    for name in ("rename", "delete", "video_add", "video_remove", "video_move"):
        response = client.post(
            reverse(f"playlists:{name}", args=[playlist.pk]),
            {"title": "Stolen", "video": video.pk, "direction": "down"},
        )
        assert response.status_code == 404, name
    playlist.refresh_from_db()
    assert playlist.title == "Night before"
    assert titles(playlist) == ["First", "Second", "Third"]


def test_a_missing_playlist_is_a_404(owner):
    assert owner.get(reverse("playlists:detail", args=[999999])).status_code == 404


def test_changes_are_posts_only(owner, playlist):
    response = owner.get(reverse("playlists:delete", args=[playlist.pk]))
    assert response.status_code == 405
    assert Playlist.objects.filter(pk=playlist.pk).exists()


# --- the list page -------------------------------------------------------------------


def test_the_list_builds_generated_playlists_and_shows_progress(owner, learner, playlist):
    cert = certification_build(name="Cloud Practitioner")
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40})
    overview = ready_video(learner, cert, "overview", title="Cloud overview")
    ready_video(learner, cert, "practice_session", title="Cloud practice")
    WatchProgress.objects.create(learner=learner, video=overview, completed=True)
    other = user_build()
    playlist_create(learner=other, title="Not yours")

    response = owner.get(reverse("playlists:list"))

    assert response.status_code == 200
    page = response.content.decode()
    kinds = set(Playlist.objects.filter(learner=learner).values_list("kind", flat=True))
    assert kinds == {"custom", "complete_preparation", "quick_review"}
    assert "Complete preparation: Cloud Practitioner" in page
    assert "Quick review: Cloud Practitioner" in page
    assert "Night before" in page
    assert "Not yours" not in page
    assert "1 of 2 watched" in page
    assert "0 of 3 watched" in page
    assert "Continue: Cloud practice" in page
    assert 'name="csrfmiddlewaretoken"' in page
    # Visiting again changes nothing.
    owner.get(reverse("playlists:list"))
    assert Playlist.objects.filter(learner=learner).count() == 3


def test_create_a_playlist(owner, learner):
    response = owner.post(reverse("playlists:create"), {"title": "Weekend"}, follow=True)
    playlist = Playlist.objects.get(learner=learner, title="Weekend")
    assert response.redirect_chain[-1][0] == detail_url(playlist)
    assert "Playlist “Weekend” created." in messages_of(response)


def test_create_shows_the_error(owner, learner):
    response = owner.post(reverse("playlists:create"), {"title": "  "}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("playlists:list")
    assert "Give the playlist a name." in response.content.decode()
    assert not Playlist.objects.filter(learner=learner).exists()


# --- the detail page and its forms ----------------------------------------------------


def test_detail_lists_items_in_order_with_player_links_and_continue(owner, learner, playlist):
    first, second, _ = playlist_videos(playlist=playlist)
    WatchProgress.objects.create(learner=learner, video=first, completed=True)
    ready_video(learner, title="Not in it yet")

    page = owner.get(detail_url(playlist)).content.decode()

    found = re.findall(r'<a class="name" href="([^"]+)">([^<]+)</a>', page)
    assert [name for _, name in found] == ["First", "Second", "Third"]
    assert found[0][0] == reverse("portal:video_player", args=[first.pk])
    assert "1 of 3 watched" in page
    continue_link = re.search(r'<a id="continue"[^>]*href="([^"]+)"', page)
    assert continue_link and continue_link.group(1) == reverse(
        "portal:video_player", args=[second.pk]
    )
    for name in ("rename", "delete", "video_add", "video_remove", "video_move"):
        assert reverse(f"playlists:{name}", args=[playlist.pk]) in page
    assert page.count('name="csrfmiddlewaretoken"') >= 8
    assert '<option value="' in page and "Not in it yet" in page


def test_rename(owner, playlist):
    response = owner.post(
        reverse("playlists:rename", args=[playlist.pk]), {"title": "Exam eve"}, follow=True
    )
    assert response.redirect_chain[-1][0] == detail_url(playlist)
    playlist.refresh_from_db()
    assert playlist.title == "Exam eve"
    assert "Renamed to “Exam eve”." in messages_of(response)


def test_add_own_video_and_refuse_others(owner, learner, playlist):
    mine = ready_video(learner, title="Extra")
    theirs = ready_video(user_build(), title="Theirs")
    url = reverse("playlists:video_add", args=[playlist.pk])

    response = owner.post(url, {"video": mine.pk}, follow=True)
    assert titles(playlist) == ["First", "Second", "Third", "Extra"]
    assert "Added “Extra”." in messages_of(response)

    response = owner.post(url, {"video": mine.pk}, follow=True)
    assert "“Extra” is already in this playlist." in messages_of(response)
    # Another learner's video is answered exactly like one that does not exist.
    response = owner.post(url, {"video": theirs.pk}, follow=True)
    assert "Choose a video to add." in messages_of(response)
    assert "Theirs" not in response.content.decode()
    response = owner.post(url, {"video": "nope"}, follow=True)
    assert "Choose a video to add." in messages_of(response)
    assert titles(playlist) == ["First", "Second", "Third", "Extra"]


def test_remove(owner, playlist):
    second = playlist_videos(playlist=playlist)[1]
    response = owner.post(
        reverse("playlists:video_remove", args=[playlist.pk]), {"video": second.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == detail_url(playlist)
    assert titles(playlist) == ["First", "Third"]
    assert "Removed “Second”." in messages_of(response)


def test_move_up_and_down(owner, playlist):
    first, _, third = playlist_videos(playlist=playlist)
    url = reverse("playlists:video_move", args=[playlist.pk])

    owner.post(url, {"video": third.pk, "direction": "up"})
    assert titles(playlist) == ["First", "Third", "Second"]
    owner.post(url, {"video": first.pk, "direction": "down"})
    assert titles(playlist) == ["Third", "First", "Second"]
    owner.post(url, {"video": third.pk, "direction": "up"})  # already first: no change
    assert titles(playlist) == ["Third", "First", "Second"]

    response = owner.post(url, {"video": first.pk, "direction": "sideways"}, follow=True)
    assert "Move a video up or down." in messages_of(response)


def test_delete(owner, playlist):
    response = owner.post(reverse("playlists:delete", args=[playlist.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("playlists:list")
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    assert "Playlist “Night before” deleted." in messages_of(response)


def test_generated_playlists_show_no_edit_forms_and_refuse_changes(owner, learner):
    cert = certification_build(name="Security")
    video = ready_video(learner, cert, "overview", title="Security overview")
    assessment_build(learner=learner, certification=cert, scores={"alpha": 40})
    owner.get(reverse("playlists:list"))
    generated = Playlist.objects.get(learner=learner, kind=PlaylistKind.QUICK_REVIEW)

    page = owner.get(detail_url(generated)).content.decode()
    assert "Security overview" in page
    assert reverse("playlists:rename", args=[generated.pk]) not in page
    assert reverse("playlists:delete", args=[generated.pk]) not in page

    response = owner.post(reverse("playlists:delete", args=[generated.pk]), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(generated)
    assert any("cannot be deleted" in m for m in messages_of(response))
    response = owner.post(
        reverse("playlists:rename", args=[generated.pk]), {"title": "Mine"}, follow=True
    )
    assert any("cannot be renamed" in m for m in messages_of(response))
    owner.post(reverse("playlists:video_remove", args=[generated.pk]), {"video": video.pk})
    generated.refresh_from_db()
    assert generated.title == "Quick review: Security"
    assert titles(generated) == ["Security overview"]
