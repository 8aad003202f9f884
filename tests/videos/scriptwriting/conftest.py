from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from library.services import DemoResult, demo_load
from tests.builders import video_job_build
from videos.models import VideoJob


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    """Builders hash passwords; the default hasher costs ~0.3 s a user by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db) -> DemoResult:
    """The demo knowledge base: Alex Rivera, 1-3 years, visual; weakest in Security and
    Identity (42), strong in Cloud Concepts (88) and Compute and Storage (81)."""
    return demo_load()


@pytest.fixture
def demo_job(demo: DemoResult) -> Callable[..., VideoJob]:
    def build(video_type: str, learner: Any = None, **parameters: Any) -> VideoJob:
        return video_job_build(
            learner=learner or demo.learner,
            certification=demo.certification,
            assessment=demo.assessment if learner is None else None,
            video_type=video_type,
            parameters=parameters,
        )

    return build
