"""End `failed` the running tasks whose worker stopped responding (Celery beat does it every minute)."""

from django.core.management.base import BaseCommand

from tasks_app import services


class Command(BaseCommand):
    help = "Mark failed every running task with no event for TASKPULSE_STALE_TASK_SECONDS."

    def handle(self, *args, **options) -> None:
        swept = services.tasks_sweep_stale()
        self.stdout.write(f"Marked {swept} stale tasks failed.")
