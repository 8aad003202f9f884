"""A throwaway PresGen for a bench run: temp folder, fresh SQLite, embedded Redis, migrated.

with bench_sandbox(prefix="presgen-bench-x-", VIDEO_QUALITY="480p"):
    ...  # Django is set up; import models here
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextmanager
def bench_sandbox(*, prefix: str, **env: str) -> Iterator[Path]:
    from presgen.embedded_redis import EmbeddedRedis

    work = Path(tempfile.mkdtemp(prefix=prefix))
    redis_server = EmbeddedRedis(socket_path=work / "redis.sock")
    redis_server.start()
    # Settings are read once, at django.setup(): the environment comes first.
    os.environ.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="presgen.settings",
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        REDIS_URL=redis_server.url,
        MEDIA_ROOT=str(work / "media"),
        RENDER_WORK_DIR=str(work / "render"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        **env,
    )
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield work
    finally:
        redis_server.stop()
        shutil.rmtree(work, ignore_errors=True)
