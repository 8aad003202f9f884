from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from videos.reconciler import jobs_reconcile


class Command(BaseCommand):
    help = "Re-enqueue video jobs Redis lost, check overdue remote renders, expire old jobs."

    def handle(self, *args: Any, **options: Any) -> None:
        report = jobs_reconcile()
        self.stdout.write(
            f"{report.requeued} job(s) re-enqueued, {report.checks} remote check(s) "
            f"scheduled, {report.expired} job(s) expired"
        )
