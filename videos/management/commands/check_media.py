"""`manage.py check_media`: list the videos whose files are missing from storage.

Exits 1 when any file is missing (0 otherwise), so a deployment or a cron
job can alert on it; `run_local` runs it at start-up as a warning. Only ids
and storage names are printed: no learner names or emails.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from videos.models import Video
from videos.selectors import videos_missing_files


class Command(BaseCommand):
    help = "Report Video rows whose file, captions or thumbnail is missing from storage."

    def handle(self, *args: Any, **options: Any) -> None:
        missing = 0
        for gap in videos_missing_files():
            missing += 1
            what = f"{gap.field} {gap.name}" if gap.name else f"{gap.field} (no name recorded)"
            self.stdout.write(
                f"video #{gap.video_id} (learner #{gap.learner_id}): {what} is missing"
            )
        if missing:
            raise CommandError(f"{missing} video file(s) missing from storage", returncode=1)
        self.stdout.write(f"Every file of {Video.objects.count()} video(s) is in storage.")
