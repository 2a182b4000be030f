"""Delete task events older than TASKPULSE_EVENTS_MAX_AGE_SECONDS (run it daily, e.g. from cron)."""

from django.utils.translation import gettext as _

from tasks_app import services
from tasks_app.management.language import SpokenCommand


class Command(SpokenCommand):
    help = "Delete task events older than TASKPULSE_EVENTS_MAX_AGE_SECONDS."

    def handle(self, *args, **options) -> None:
        deleted = services.events_prune_expired()
        self.stdout.write(_("Deleted %(count)s expired events.") % {"count": deleted})
