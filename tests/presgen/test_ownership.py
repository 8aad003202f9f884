import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from library.models import Playlist
from presgen.ownership import owned_by, owned_or_404
from tests.builders import user_build, video_build, video_job_build
from videos.models import Video, VideoJob

pytestmark = pytest.mark.django_db


def test_a_learner_gets_only_their_own_rows():
    alice, bob = user_build(), user_build()
    mine = Playlist.objects.create(learner=alice, title="Mine")
    theirs = Playlist.objects.create(learner=bob, title="Theirs")

    assert list(owned_by(Playlist, user=alice)) == [mine]
    assert owned_or_404(Playlist, user=alice, pk=mine.pk) == mine
    with pytest.raises(Http404):
        owned_or_404(Playlist, user=alice, pk=theirs.pk)


@pytest.mark.parametrize("pk", [10**9, "abc", None])
def test_missing_or_malformed_ids_are_not_found(pk):
    with pytest.raises(Http404):
        owned_or_404(VideoJob, user=user_build(), pk=pk)


def test_anonymous_users_see_nothing():
    Playlist.objects.create(learner=user_build(), title="Someone's")
    assert not owned_by(Playlist, user=AnonymousUser()).exists()


def test_acting_for_another_learner_needs_staff():
    alice, bob = user_build(), user_build()
    staff = user_build(is_staff=True)
    theirs = Playlist.objects.create(learner=bob, title="Theirs")

    assert not owned_by(Playlist, user=alice, learner=bob).exists()
    assert list(owned_by(Playlist, user=staff, learner=bob)) == [theirs]


def test_hidden_videos_are_not_the_learners_to_see():
    video = video_build(job=video_job_build(learner=user_build()))
    assert owned_by(Video, user=video.learner).exists()
    Video.objects.filter(pk=video.pk).update(hidden=True)
    assert not owned_by(Video, user=video.learner).exists()
