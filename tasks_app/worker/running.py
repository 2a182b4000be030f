"""Runs one task's work in a worker: takes the task's lease, hands the work a reporter, and
records once how the work ended. Every @progress_task runs through here (progress_tasks.py):
the built-in kinds' and a host project's."""

import logging
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tasks_app import services
from tasks_app.db import outages
from tasks_app.models import Task
from tasks_app.progress import ProgressReporter, TaskCancelled
from tasks_app.work.base import WorkError
from tasks_app.worker import lease

logger = logging.getLogger(__name__)

INTERNAL_ERROR = _(
    "The task failed because of an error on our side; the operators can see the details in the logs."
)
DATABASE_AWAY = _("The task was stopped because our database was unreachable for too long; try it again.")

Work = Callable[[Task, ProgressReporter], Any]


def run(
    celery_task,
    *,
    task_id: str,
    dispatch: int | None,
    work: Work,
    time_limit_of: Callable[[Task], int],
    adopt: Callable[[], object] | None = None,
) -> Any:
    """Run `work` for the task, unless it must not run (ended, stale message, held by a live
    process). `adopt` first stores the task if it was started without a row of its own. Returns
    what the work returned, or None when it did not complete."""
    task_uuid = uuid.UUID(task_id)
    try:
        held_for = outages.retrying(lambda: lease.held_elsewhere(task_uuid))
        if held_for is None:
            if adopt is not None:
                outages.retrying(adopt)
            task = outages.retrying(
                lambda: services.task_start(task_id=task_uuid, dispatch=dispatch, holder=lease.this_process())
            )
    except outages.DatabaseUnavailable as exc:
        # Sent to the queue again, so that the task starts once the database is back.
        raise celery_task.retry(exc=exc, countdown=outages.outage_limit(), max_retries=None) from exc
    if held_for is not None:
        # Put back after a broker blip while a live process runs it: asked again once its lease
        # would have run out, when it has ended (and is skipped) or its worker is gone.
        logger.info(
            "Task %s runs in a live worker process; its message comes back in %d s", task_id, held_for
        )
        raise celery_task.retry(countdown=held_for + 1, max_retries=None)
    if task is None:
        return None
    # The limit the message was sent with (services._enqueue), which is what the worker enforces.
    _hard, soft_limit = celery_task.request.timelimit or (None, None)
    try:
        # The work's messages are for the person who started it, in their language.
        with lease.LeaseKeeper(task), translation.override(task.language or settings.LANGUAGE_CODE):
            return _run_work(
                task, work, ProgressReporter(task.id, run=task), time_limit=soft_limit or time_limit_of(task)
            )
    except services.TaskStateConflict:
        logger.warning("Task %s was deleted or ended elsewhere while it ran; its work stopped", task.id)
        return None


def _run_work(task: Task, work: Work, reporter: ProgressReporter, *, time_limit: int) -> Any:
    try:
        result = work(task, reporter)
        reporter.flush()
    except TaskCancelled:
        _end(services.task_cancel, task_id=task.id, stopped=True)
    except SoftTimeLimitExceeded:
        logger.warning("Task %s (%s) ran past its limit of %d s; stopped", task.id, task.kind, time_limit)
        _end(
            services.task_fail,
            task_id=task.id,
            error=gettext("The task ran longer than its limit of %(seconds)s s and was stopped.")
            % {"seconds": time_limit},
        )
    except WorkError as exc:
        with suppress(outages.DatabaseUnavailable):  # how it ended matters more than its last progress
            reporter.flush()
        _end(services.task_fail, task_id=task.id, error=str(exc))
    except outages.DatabaseUnavailable as exc:
        logger.error("Task %s (%s) stopped: %s", task.id, task.kind, exc)
        _end(services.task_fail, task_id=task.id, error=str(DATABASE_AWAY))
    except services.TaskStateConflict:
        raise
    except Exception:
        logger.exception("Task %s (%s) crashed", task.id, task.kind)
        _end(services.task_fail, task_id=task.id, error=str(INTERNAL_ERROR))
    else:
        _end(services.task_complete, task_id=task.id, result=result)
        return result
    return None


def _end(service, **arguments) -> None:
    """Record how the task ended, waiting for the database however long it is away: the work is
    done and nothing else can be done for it. The lease is renewed meanwhile, so the task is not
    sent to another worker; the hard time limit bounds the wait."""
    outages.retrying(lambda: service(**arguments), within=float("inf"))
