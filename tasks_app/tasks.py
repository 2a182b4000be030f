"""Celery tasks: thin wrappers that run a task's work with a reporter and record how it ended."""

import logging
import uuid
from contextlib import suppress

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from tasks_app import maintenance, services
from tasks_app.db import outages
from tasks_app.progress import ProgressReporter, TaskCancelled
from tasks_app.work import registry
from tasks_app.work.base import WorkError
from tasks_app.worker import lease

logger = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "The task failed because of an error on our side; the operators can see the details in the logs."
)
DATABASE_AWAY = "The task was stopped because our database was unreachable for too long; try it again."


@shared_task(name="tasks_app.run_task", bind=True)
def run_task(self, task_id: str, dispatch: int | None = None) -> None:
    task_uuid = uuid.UUID(task_id)
    try:
        held_for = outages.retrying(lambda: lease.held_elsewhere(task_uuid))
        if held_for is None:
            task = outages.retrying(
                lambda: services.task_start(task_id=task_uuid, dispatch=dispatch, holder=lease.this_process())
            )
    except outages.DatabaseUnavailable as exc:
        # Sent to the queue again, so that the task starts once the database is back.
        raise self.retry(exc=exc, countdown=outages.outage_limit(), max_retries=None) from exc
    if held_for is not None:
        # Put back after a broker blip while a live process runs it: asked again once its lease
        # would have run out, when it has ended (and is skipped) or its worker is gone.
        logger.info(
            "Task %s runs in a live worker process; its message comes back in %d s", task_id, held_for
        )
        raise self.retry(countdown=held_for + 1, max_retries=None)
    if task is None:
        return
    # The limit the message was sent with (services._enqueue), which is what the worker enforces.
    _hard, soft_limit = self.request.timelimit or (None, None)
    try:
        with lease.LeaseKeeper(task):
            _run_work(task, ProgressReporter(task.id, run=task), time_limit=soft_limit)
    except services.TaskStateConflict:
        logger.warning("Task %s was deleted or ended elsewhere while it ran; its work stopped", task.id)


def _run_work(task, reporter: ProgressReporter, *, time_limit: int | None) -> None:
    try:
        result = registry.kind_get(task.kind).run(task, reporter)
        reporter.flush()
    except TaskCancelled:
        _end(services.task_cancel, task_id=task.id, stopped=True)
    except SoftTimeLimitExceeded:
        limit = time_limit or registry.kind_get(task.kind).time_limit()
        logger.warning("Task %s (%s) ran past its time limit of %d s; stopped", task.id, task.kind, limit)
        _end(
            services.task_fail,
            task_id=task.id,
            error=f"The task ran longer than its limit of {limit} s and was stopped.",
        )
    except WorkError as exc:
        with suppress(outages.DatabaseUnavailable):  # how it ended matters more than its last progress
            reporter.flush()
        _end(services.task_fail, task_id=task.id, error=str(exc))
    except outages.DatabaseUnavailable as exc:
        logger.error("Task %s (%s) stopped: %s", task.id, task.kind, exc)
        _end(services.task_fail, task_id=task.id, error=DATABASE_AWAY)
    except services.TaskStateConflict:
        raise
    except Exception:
        logger.exception("Task %s (%s) crashed", task.id, task.kind)
        _end(services.task_fail, task_id=task.id, error=INTERNAL_ERROR)
    else:
        _end(services.task_complete, task_id=task.id, result=result)


def _end(service, **arguments) -> None:
    """Record how the task ended, waiting for the database however long it is away: the work is
    done and nothing else can be done for it. The lease is renewed meanwhile, so the task is not
    sent to another worker; the hard time limit bounds the wait."""
    outages.retrying(lambda: service(**arguments), within=float("inf"))


@shared_task(name="tasks_app.fail_stale_tasks")
def fail_stale_tasks() -> int:
    """Run by Celery beat every TASKPULSE_STALE_SWEEP_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return _sweep(lambda: maintenance.tasks_fail_stale(after=maintenance.stale_after_default()))


@shared_task(name="tasks_app.recover_lost_tasks")
def recover_lost_tasks() -> int:
    """Run by Celery beat every half TASKPULSE_TASK_LEASE_SECONDS (see CELERY_BEAT_SCHEDULE)."""
    return _sweep(maintenance.tasks_recover_lost)


def _sweep(sweep) -> int:
    """A beat sweep; skipped while the database is away, since beat runs it again soon."""
    try:
        return len(sweep())
    except outages.DATABASE_LOST as exc:
        outages.drop_connection()
        logger.warning("Sweep skipped, the database is away: %s", exc)
        return 0
