from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from redis.exceptions import RedisError

from library.services import DEMO_LEARNER, DEMO_STAFF, demo_load
from videos.services import series_plan


class Command(BaseCommand):
    help = "Load the demo certification, learner, staff user and assessment (safe to repeat)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-published-passwords",
            action="store_true",
            help="load the demo users even with DEBUG off (their passwords are in the README)",
        )

    def handle(self, *args: Any, allow_published_passwords: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_published_passwords:
            raise CommandError(
                "Refusing to create demo users with published passwords while DEBUG is off; "
                "pass --allow-published-passwords if this really is a demo site.",
                returncode=2,
            )
        result = demo_load()
        what = ", ".join(result.created) if result.created else "nothing new (already loaded)"
        self.stdout.write(self.style.SUCCESS(f"Demo data: created {what}."))
        try:
            django_rq.get_connection("default").ping()
            redis_up = True
        except RedisError:  # `make run` loads the demo before it starts Redis
            redis_up = False
        plan = series_plan(assessment=result.assessment, enqueue=redis_up)
        when = "queued now" if redis_up else "queued when PresGen starts"
        self.stdout.write(
            f"  demo learner's video series: {len(plan.jobs)} videos planned "
            f"({len(plan.created)} new, {when})"
        )
        self.stdout.write(f"  learner login: {DEMO_LEARNER[0]} / {DEMO_LEARNER[1]}")
        self.stdout.write(f"  staff login:   {DEMO_STAFF[0]} / {DEMO_STAFF[1]}")
