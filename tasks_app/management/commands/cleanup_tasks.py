"""Delete finished tasks past an age, with their events and files."""

from django.utils.translation import gettext as _

from tasks_app import maintenance
from tasks_app.management.durations import duration
from tasks_app.management.language import SpokenCommand
from tasks_app.models import TERMINAL_STATUSES


class Command(SpokenCommand):
    help = (
        "Delete the tasks that finished more than --older-than ago (of --status, default all "
        "finished ones), with their events, uploads and report files, and the datasets left "
        "half-imported by a worker that died. Imported datasets are kept. "
        "Exit codes: 0 done, 1 error, 2 bad arguments."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", type=duration, required=True, help="e.g. 30d")
        parser.add_argument(
            "--status",
            action="append",
            choices=sorted(TERMINAL_STATUSES),
            help="Only tasks that ended so; repeat for several.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")

    def handle(self, *args, older_than, status, dry_run: bool, **options) -> None:
        result = maintenance.tasks_cleanup(older_than=older_than, statuses=status, dry_run=dry_run)
        said = (
            _("Would delete %(tasks)s tasks, %(files)s files and %(datasets)s abandoned datasets.")
            if dry_run
            else _("Deleted %(tasks)s tasks, %(files)s files and %(datasets)s abandoned datasets.")
        )
        self.stdout.write(said % {"tasks": result.tasks, "files": result.files, "datasets": result.datasets})
