"""Celery tasks: thin wrappers that run a task's work with a reporter and record how it ended."""

import logging
import uuid

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from tasks_app import maintenance, services
from tasks_app.progress import ProgressReporter, TaskCancelled
from tasks_app.work import registry
from tasks_app.work.base import WorkError
from tasks_app.worker.lease import LeaseKeeper

logger = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "The task failed because of an error on our side; the operators can see the details in the logs."
)


@shared_task(name="tasks_app.run_task", bind=True)
def run_task(self, task_id: str, dispatch: int | None = None) -> None:
    task = services.task_start(task_id=uuid.UUID(task_id), dispatch=dispatch)
    if task is None:
        return
    # The limit the message was sent with (services._enqueue), which is what the worker enforces.
    _hard, soft_limit = self.request.timelimit or (None, None)
    try:
        with LeaseKeeper(task):
            _run_work(task, ProgressReporter(task.id, run=task), time_limit=soft_limit)
    except services.TaskStateConflict:
        logger.warning("Task %s was deleted or ended elsewhere while it ran; its work stopped", task.id)


def _run_work(task, reporter: ProgressReporter, *, time_limit: int | None) -> None:
    try:
        result = registry.kind_get(task.kind).run(task, reporter)
        reporter.flush()
    except TaskCancelled:
        services.task_cancel(task_id=task.id, stopped=True)
    except SoftTimeLimitExceeded:
        limit = time_limit or registry.kind_get(task.kind).time_limit()
        logger.warning("Task %s (%s) ran past its time limit of %d s; stopped", task.id, task.kind, limit)
        services.task_fail(
            task_id=task.id, error=f"The task ran longer than its limit of {limit} s and was stopped."
        )
    except WorkError as exc:
        reporter.flush()
        services.task_fail(task_id=task.id, error=str(exc))
    except services.TaskStateConflict:
        raise
    except Exception:
        logger.exception("Task %s (%s) crashed", task.id, task.kind)
        services.task_fail(task_id=task.id, error=INTERNAL_ERROR)
    else:
        services.task_complete(task_id=task.id, result=result)


@shared_task(name="tasks_app.fail_stale_tasks")
def fail_stale_tasks() -> int:
    """Run by Celery beat every TASKPULSE_STALE_SWEEP_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return len(maintenance.tasks_fail_stale(after=maintenance.stale_after_default()))


@shared_task(name="tasks_app.recover_lost_tasks")
def recover_lost_tasks() -> int:
    """Run by Celery beat every half TASKPULSE_TASK_LEASE_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return len(maintenance.tasks_recover_lost())
