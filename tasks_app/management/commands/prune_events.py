"""Delete task events older than TASKPULSE_EVENTS_MAX_AGE_SECONDS (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from tasks_app import services


class Command(BaseCommand):
    help = "Delete task events older than TASKPULSE_EVENTS_MAX_AGE_SECONDS."

    def handle(self, *args, **options) -> None:
        deleted = services.events_prune_expired()
        self.stdout.write(f"Deleted {deleted} expired events.")
