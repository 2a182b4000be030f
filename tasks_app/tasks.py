"""Celery tasks: thin wrappers that run a task's work with a reporter and record how it ended."""

import logging
import uuid

from celery import shared_task

from tasks_app import services
from tasks_app.progress import ProgressReporter, TaskCancelled
from tasks_app.work import registry
from tasks_app.work.base import WorkError

logger = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "The task failed because of an error on our side; the operators can see the details in the logs."
)


@shared_task(name="tasks_app.run_task")
def run_task(task_id: str) -> None:
    task = services.task_start(task_id=uuid.UUID(task_id))
    if task is None:
        return
    try:
        _run_work(task, ProgressReporter(task.id))
    except services.TaskStateConflict:
        logger.warning("Task %s was deleted or ended elsewhere while it ran; its work stopped", task.id)


def _run_work(task, reporter: ProgressReporter) -> None:
    try:
        result = registry.kind_get(task.kind).run(task, reporter)
        reporter.flush()
    except TaskCancelled:
        services.task_mark_cancelled(task_id=task.id)
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


@shared_task(name="tasks_app.sweep_stale_tasks")
def sweep_stale_tasks() -> int:
    """Run by Celery beat every minute (see CELERY_BEAT_SCHEDULE)."""
    return services.tasks_sweep_stale()
