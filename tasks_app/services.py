"""Writes: create, start, advance, finish and cancel a task, each as one persisted event."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tasks_app import broadcast, messages
from tasks_app.models import EventType, Task, TaskEvent, TaskFile, TaskStatus
from tasks_app.work import registry

logger = logging.getLogger(__name__)

_ACTIVE = (TaskStatus.PENDING, TaskStatus.RUNNING)


class TaskNotCancellable(Exception):
    """The task already reached a terminal status."""


class TaskStateConflict(Exception):
    """The task was not in a status that allows the change (for example, already finished)."""


def _record_event(*, task_id: uuid.UUID, event_type: EventType, allowed_from: tuple, **changes) -> Task:
    """Apply `changes` to the task and persist them as its next event, atomically.

    The UPDATE that bumps last_seq holds the row's write lock (PostgreSQL row lock, SQLite
    database lock) until commit, so concurrent writers queue and each gets the next seq.
    The event is published only after commit: a client never sees what history cannot replay.
    """
    with transaction.atomic():
        updated = Task.objects.filter(pk=task_id, status__in=allowed_from).update(
            last_seq=F("last_seq") + 1, updated_at=timezone.now(), **changes
        )
        if not updated:
            raise TaskStateConflict(f"task {task_id} is not in {', '.join(allowed_from)}")
        task = Task.objects.get(pk=task_id)
        payload = messages.event_payload(task, event_type)
        event = TaskEvent.objects.create(task=task, seq=task.last_seq, type=event_type, payload=payload)
        if event_type == EventType.COMPLETE or event.seq % settings.TASKPULSE_EVENTS_KEPT_PER_TASK == 0:
            _events_prune_beyond_kept(task=task)
        message = messages.event_message(payload, event.created_at)
        transaction.on_commit(lambda: broadcast.publish_task_event(task.id, message))
    return task


def task_create(
    *, owner: AbstractBaseUser, kind: str, params: dict, upload: UploadedFile | None = None
) -> Task:
    """Validate the input, store the task with its first event, and enqueue it after commit.

    Raises registry.InvalidTaskInput with field errors; nothing is stored then.
    """
    cleaned = registry.clean_params(kind=kind, params=params, upload=upload, owner=owner)
    with transaction.atomic():
        task = Task.objects.create(owner=owner, kind=kind, params=cleaned, message="Waiting for a worker")
        if upload is not None:
            task.input_file.save(upload.name, upload, save=True)
        task = _record_event(task_id=task.id, event_type=EventType.PROGRESS, allowed_from=_ACTIVE)
        transaction.on_commit(lambda: _enqueue(task.id))
        transaction.on_commit(lambda: broadcast.publish_task_created(owner.pk, task.id))
    logger.info("Task %s (%s) created by user %s", task.id, kind, owner.pk)
    return task


def _enqueue(task_id: uuid.UUID) -> None:
    # Imported here because tasks.py imports this module to record how a run ends.
    from tasks_app.tasks import run_task

    run_task.delay(str(task_id))


def task_start(*, task_id: uuid.UUID) -> Task | None:
    """Mark the task running; None when it must not run (finished, cancelled, gone, or given up).

    A task already `running` is started again: its worker died mid-run and Celery (late acks,
    reject on worker lost) delivered it again. The new attempt continues the same event log
    from the beginning of the work, up to TASKPULSE_TASK_MAX_ATTEMPTS.
    """
    attempts = Task.objects.filter(pk=task_id).values_list("attempt", flat=True).first()
    if attempts is not None and attempts >= settings.TASKPULSE_TASK_MAX_ATTEMPTS:
        logger.warning("Task %s lost its worker %d times; giving up", task_id, attempts)
        try:
            _finish(
                task_id=task_id,
                status=TaskStatus.FAILED,
                error=f"The worker running this task stopped {attempts} times; it was not tried again.",
                message="Failed",
            )
        except TaskStateConflict:
            logger.info("Task %s had already ended", task_id)
        return None
    try:
        task = _record_event(
            task_id=task_id,
            event_type=EventType.PROGRESS,
            allowed_from=_ACTIVE,
            status=TaskStatus.RUNNING,
            started_at=timezone.now(),
            attempt=F("attempt") + 1,
            progress=0.0,
            current=None,
            total=None,
            message="Started"
            if not attempts
            else f"Started again after its worker stopped (attempt {attempts + 1})",
        )
    except TaskStateConflict:
        logger.info("Task %s is finished or gone; not running it", task_id)
        return None
    if task.attempt > 1:
        logger.warning("Task %s started again, attempt %d", task_id, task.attempt)
    return task


def task_progress(
    *, task_id: uuid.UUID, progress: float, current: int | None, total: int | None, message: str
) -> bool:
    """Record a progress update of a running task. Returns whether cancellation was asked for."""
    task = _record_event(
        task_id=task_id,
        event_type=EventType.PROGRESS,
        allowed_from=(TaskStatus.RUNNING,),
        progress=progress,
        current=current,
        total=total,
        message=message,
    )
    return task.cancel_requested


def _finish(*, task_id: uuid.UUID, status: TaskStatus, allowed_from: tuple = _ACTIVE, **changes) -> Task:
    task = _record_event(
        task_id=task_id,
        event_type=EventType.COMPLETE,
        allowed_from=allowed_from,
        status=status,
        finished_at=timezone.now(),
        **changes,
    )
    logger.info("Task %s ended %s", task_id, status)
    return task


def task_complete(*, task_id: uuid.UUID, result, message: str = "Done") -> Task:
    return _finish(
        task_id=task_id, status=TaskStatus.COMPLETED, progress=100.0, result=result, message=message
    )


def task_fail(*, task_id: uuid.UUID, error: str) -> Task:
    return _finish(task_id=task_id, status=TaskStatus.FAILED, error=error, message="Failed")


def task_mark_cancelled(*, task_id: uuid.UUID, message: str = "Cancelled") -> Task:
    return _finish(task_id=task_id, status=TaskStatus.CANCELLED, message=message)


def task_cancel(*, task_id: uuid.UUID) -> Task:
    """Ask a task to stop: a pending one ends `cancelled` now, a running one at its next update.

    Raises TaskNotCancellable when the task already ended.
    """
    try:
        return _finish(
            task_id=task_id,
            status=TaskStatus.CANCELLED,
            message="Cancelled before it started",
            allowed_from=(TaskStatus.PENDING,),
        )
    except TaskStateConflict:
        pass
    if Task.objects.filter(pk=task_id, status=TaskStatus.RUNNING).update(cancel_requested=True):
        logger.info("Cancellation of running task %s requested", task_id)
        return Task.objects.get(pk=task_id)
    raise TaskNotCancellable(f"task {task_id} has already ended")


def task_file_add(*, task_id: uuid.UUID, name: str, content: bytes, content_type: str) -> TaskFile:
    """Store one output file of a task under a name unique to that task."""
    task_file = TaskFile(task_id=task_id, name=name, content_type=content_type, size=len(content))
    task_file.file.save(f"outputs/{task_id}/{name}", ContentFile(content), save=False)
    task_file.save()
    return task_file


def _events_prune_beyond_kept(*, task: Task) -> None:
    # Done every TASKPULSE_EVENTS_KEPT_PER_TASK events and at the end, not on every write, so
    # that a task holds at most twice the limit in between at the price of one DELETE now and then.
    TaskEvent.objects.filter(
        task=task, seq__lte=task.last_seq - settings.TASKPULSE_EVENTS_KEPT_PER_TASK
    ).delete()


def events_prune_expired(*, now: datetime | None = None) -> int:
    """Delete events older than TASKPULSE_EVENTS_MAX_AGE_SECONDS; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TASKPULSE_EVENTS_MAX_AGE_SECONDS)
    deleted, _ = TaskEvent.objects.filter(created_at__lt=cutoff).delete()
    logger.info("Pruned %d events older than %s", deleted, cutoff.isoformat())
    return deleted


def tasks_sweep_stale(*, now: datetime | None = None) -> int:
    """End `failed` every running task with no event for TASKPULSE_STALE_TASK_SECONDS: its worker
    is gone and will not come back for it. Its followers get the `complete` event."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TASKPULSE_STALE_TASK_SECONDS)
    swept = 0
    for task_id in Task.objects.filter(status=TaskStatus.RUNNING, updated_at__lt=cutoff).values_list(
        "id", flat=True
    ):
        try:
            _finish(
                task_id=task_id,
                status=TaskStatus.FAILED,
                allowed_from=(TaskStatus.RUNNING,),
                error="The worker running this task stopped responding, and the task was ended.",
                message="Failed",
            )
        except TaskStateConflict:
            continue  # it ended meanwhile
        swept += 1
        logger.warning(
            "Task %s had no news for %s s; marked failed", task_id, settings.TASKPULSE_STALE_TASK_SECONDS
        )
    return swept
