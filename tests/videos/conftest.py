from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import django_rq
import pytest
from rq.worker import SimpleWorker

from tests.videos import fake_providers
from videos.models import ProviderAccount
from videos.studio.renderer import video_render
from videos.studio.types import Script, Section, VideoType


@pytest.fixture(scope="session")
def studio_clip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A real 480p studio render, made once per session, that the fake providers hand back."""
    script = Script(
        video_type=VideoType.OVERVIEW,
        title="Test clip",
        sections=(Section("Welcome", "Hello. This short clip stands in for a full video."),),
    )
    result = video_render(
        script=script, dest=tmp_path_factory.mktemp("clip") / "clip.mp4", quality="480p"
    )
    fake_providers.CLIP.update(
        mp4=result.video_path,
        vtt=result.captions_path,
        jpg=result.thumbnail_path,
        duration=result.report.duration,
    )
    return fake_providers.CLIP


@dataclass
class Pipeline:
    queues: dict[str, django_rq.queues.DjangoRQ]

    def drain(self) -> None:
        """A real RQ worker in burst mode: runs until every queue is empty."""
        connection = self.queues["default"].connection
        worker = SimpleWorker(list(self.queues.values()), connection=connection)
        worker.work(burst=True)

    def providers(self, *names: str, studio: bool = False) -> None:
        """Enable exactly these fake providers, first named first; priority alone decides."""
        ProviderAccount.objects.create(kind="studio", name="studio", enabled=studio)
        for priority, name in enumerate(names, start=1):
            ProviderAccount.objects.create(kind=name, name=name, priority=priority)


@pytest.fixture
def pipeline(settings, rq_queues, media_root: Path, tmp_path: Path, studio_clip) -> Pipeline:
    settings.VIDEO_QUALITY = "480p"
    settings.RENDER_WORK_DIR = tmp_path / "work"
    settings.VIDEO_PROVIDER_CLASSES = {
        **settings.VIDEO_PROVIDER_CLASSES,
        **fake_providers.FAKE_PROVIDERS,
    }
    settings.JOB_RETRY_BASE_SECONDS = 0
    # Selection by priority only, so each test decides the order of providers.
    settings.PROVIDER_SELECTION_WEIGHTS = {"quality": 0, "reliability": 0, "speed": 0, "cost": 0}
    return Pipeline(rq_queues)
