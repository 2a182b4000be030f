"""What operators run on the whole system (the management commands and Celery beat): send again
the tasks whose worker was lost, fail stale ones, delete old ones, and count what happened."""

import logging
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tasks_app import broker_queue, services
from tasks_app.models import (
    TERMINAL_STATUSES,
    WORKFLOW_SHAPES,
    Dataset,
    DatasetStatus,
    Task,
    TaskFile,
    TaskStatus,
)

logger = logging.getLogger(__name__)

# Lazy: written in each task's language (services.task_fail).
RUNNING_STALE_REASON = _("The worker running this task stopped responding, and the task was ended.")
PENDING_LOST_REASON = _(
    "The task's message was lost by the queue before a worker took it, and the task was ended."
)


@dataclass(frozen=True)
class StaleTask:
    task_id: uuid.UUID
    status: str
    reason: "str | Promise"


def tasks_fail_stale(
    *, after: timedelta, now: datetime | None = None, dry_run: bool = False
) -> list[StaleTask]:
    """End `failed`, telling their clients, the tasks that will never finish by themselves:
    running ones with no event for `after` (their worker is gone), and pending ones older than
    `after` whose message the broker no longer holds. A workflow is left to end with its steps.
    With `dry_run`, only list them."""
    cutoff = (now or timezone.now()) - after
    stale = [
        StaleTask(task_id, TaskStatus.RUNNING, RUNNING_STALE_REASON)
        for task_id in Task.objects.filter(status=TaskStatus.RUNNING, updated_at__lt=cutoff)
        .exclude(kind__in=WORKFLOW_SHAPES)
        .values_list("id", flat=True)
    ]
    stale += [
        StaleTask(task_id, TaskStatus.PENDING, PENDING_LOST_REASON) for task_id in _pending_lost(cutoff)
    ]
    if dry_run:
        return stale
    failed = []
    for task in stale:
        try:
            services.task_fail(task_id=task.task_id, error=task.reason, allowed_from=(task.status,))
        except services.TaskStateConflict:
            continue  # it moved on meanwhile
        logger.warning(
            "Task %s was %s with no news since %s; marked failed", task.task_id, task.status, cutoff
        )
        failed.append(task)
    return failed


def tasks_recover_lost(*, now: datetime | None = None) -> list[uuid.UUID]:
    """Send again to the workers the running tasks whose lease ran out (their worker was lost),
    or fail those that lost their worker TASKPULSE_TASK_MAX_ATTEMPTS times. Returns those sent."""
    now = now or timezone.now()
    lost = Task.objects.filter(status=TaskStatus.RUNNING, lease_expires_at__lt=now).values_list(
        "id", flat=True
    )
    return [task_id for task_id in list(lost) if services.task_resend(task_id=task_id, now=now) is not None]


def _pending_lost(cutoff: datetime) -> list[uuid.UUID]:
    # Not a workflow, nor its steps that wait for earlier ones: neither is sent to the broker.
    candidates = list(
        Task.objects.filter(status=TaskStatus.PENDING, created_at__lt=cutoff)
        .exclude(dispatch=0)
        .values_list("id", flat=True)
    )
    if not candidates:
        return []
    from project.celery import app

    try:
        held = broker_queue.task_ids_held(app=app)
    except broker_queue.BrokerNotInspectable as exc:
        logger.warning("Pending tasks were not checked against the broker: %s", exc)
        return []
    return [task_id for task_id in candidates if str(task_id) not in held]


@dataclass(frozen=True)
class CleanupResult:
    tasks: int
    files: int
    datasets: int


def tasks_cleanup(
    *, older_than: timedelta, statuses: list[str] | None = None, dry_run: bool = False
) -> CleanupResult:
    """Delete finished tasks (of `statuses`, default every terminal one) that finished more than
    `older_than` ago, with their events and files, and datasets left `importing` by a worker that
    died mid-import. Datasets a finished import made are the user's and are kept."""
    cutoff = timezone.now() - older_than
    tasks = Task.objects.filter(status__in=statuses or TERMINAL_STATUSES, finished_at__lt=cutoff)
    abandoned = Dataset.objects.filter(status=DatasetStatus.IMPORTING, created_at__lt=cutoff).exclude(
        task__status__in=[TaskStatus.PENDING, TaskStatus.RUNNING]
    )
    inputs = list(tasks.exclude(input_file="").values_list("input_file", flat=True))
    outputs = list(TaskFile.objects.filter(task__in=tasks).values_list("file", flat=True))
    result = CleanupResult(tasks=tasks.count(), files=len(inputs) + len(outputs), datasets=abandoned.count())
    if dry_run:
        return result
    abandoned.delete()
    tasks.delete()
    storage = Task._meta.get_field("input_file").storage
    for name in inputs + outputs:
        storage.delete(name)
    logger.info(
        "Cleaned up %d tasks finished before %s, %d files, %d abandoned datasets",
        result.tasks,
        cutoff.isoformat(),
        result.files,
        result.datasets,
    )
    return result


def task_stats(*, since: timedelta, connected_clients: int | None) -> dict:
    """What happened since then: counts by status and kind, throughput, durations, failure rate."""
    start = timezone.now() - since
    created = Task.objects.filter(created_at__gte=start)
    finished = Task.objects.filter(finished_at__gte=start, started_at__isnull=False)
    durations = sorted(
        (finished_at - started_at).total_seconds()
        for started_at, finished_at in finished.values_list("started_at", "finished_at")
        if started_at is not None and finished_at is not None
    )
    by_status = dict(finished.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    ended = sum(by_status.values())
    return {
        "since": start.isoformat(),
        "created": created.count(),
        "created_by_kind": dict(created.values_list("kind").annotate(n=Count("id")).values_list("kind", "n")),
        "now_by_status": dict(
            Task.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
        ),
        "finished_by_status": by_status,
        "throughput_per_hour": round(ended / (since.total_seconds() / 3600), 2),
        "duration_seconds": {
            "p50": _percentile(durations, 50),
            "p95": _percentile(durations, 95),
            "max": round(durations[-1], 3) if durations else None,
        },
        "failure_rate": round(by_status.get(TaskStatus.FAILED, 0) / ended, 4) if ended else None,
        "connected_clients": connected_clients,
    }


def _percentile(sorted_values: list[float], percent: int) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return round(sorted_values[0], 3)
    return round(statistics.quantiles(sorted_values, n=100, method="inclusive")[percent - 1], 3)


def stale_after_default() -> timedelta:
    return timedelta(seconds=settings.TASKPULSE_STALE_TASK_SECONDS)
