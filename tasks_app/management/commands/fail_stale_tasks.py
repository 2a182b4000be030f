"""Fail the tasks that will never finish by themselves; Celery beat also runs this periodically."""

from django.utils.translation import gettext as _

from tasks_app import maintenance
from tasks_app.management.durations import duration
from tasks_app.management.language import SpokenCommand


class Command(SpokenCommand):
    help = (
        "Mark failed (and tell their clients) the running tasks with no event for --after, and the "
        "pending tasks older than --after whose message the broker no longer holds. "
        "Exit codes: 0 done (whether or not any task was stale), 1 error, 2 bad arguments."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--after",
            type=duration,
            default=None,
            help="How long without news makes a task stale (default: TASKPULSE_STALE_TASK_SECONDS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List the stale tasks; change nothing.")

    def handle(self, *args, after, dry_run: bool, **options) -> None:
        after = after or maintenance.stale_after_default()
        stale = maintenance.tasks_fail_stale(after=after, dry_run=dry_run)
        for task in stale:
            self.stdout.write(f"{task.task_id} {task.status}: {task.reason}")
        said = (
            _("Would mark %(count)s stale tasks failed.")
            if dry_run
            else _("Marked %(count)s stale tasks failed.")
        )
        self.stdout.write(said % {"count": len(stale)})
