"""Writes: create, start, advance, finish, cancel and retry a task, each as one persisted event."""

import json
import logging
import uuid
from contextlib import nullcontext
from copy import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tasks_app import metrics
from tasks_app.db import task_statements
from tasks_app.estimates import NO_ESTIMATE, Estimate
from tasks_app.models import WORKFLOW_SHAPES, EventType, Task, TaskEvent, TaskFile, TaskStatus
from tasks_app.realtime import broadcast, messages
from tasks_app.webhooks import endpoints as webhook_endpoints
from tasks_app.webhooks import outbox
from tasks_app.work.base import InvalidTaskInput

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

_ACTIVE = (TaskStatus.PENDING, TaskStatus.RUNNING)


def in_language_of(task_id: uuid.UUID) -> translation.override:
    """What Taskpulse writes about a task (its messages, its errors) is in the language of the
    person who started it, whoever's request or process writes it: an operator's action, a sweep.
    The worker runs a task in its language already (worker/running.py)."""
    language = Task.objects.filter(pk=task_id).values_list("language", flat=True).first()
    return translation.override(language or settings.LANGUAGE_CODE)


class TaskNotCancellable(Exception):
    """The task already reached a terminal status."""


class TaskStateConflict(Exception):
    """The task was not in a status that allows the change (for example, already finished)."""


def _record_event(
    *,
    task_id: uuid.UUID,
    event_type: EventType,
    allowed_from: tuple,
    increment: tuple = (),
    matching: dict | None = None,
    child: dict | None = None,
    moves_workflow: bool = True,
    **changes,
) -> Task:
    """Apply `changes` (and add one to each field named in `increment`) to the task and persist
    them as its next event, atomically. A workflow's event names the `child` that moved it; a
    step's event moves its workflow in the same transaction, unless `moves_workflow` is false.

    The UPDATE that bumps last_seq holds the row's write lock (PostgreSQL row lock, SQLite
    database lock) until commit, so concurrent writers queue and each gets the next seq.
    The event is published only after commit: a client never sees what history cannot replay.
    """
    with transaction.atomic():
        task = task_statements.task_update_returning(
            task_id,
            allowed_from,
            increment=("last_seq", *increment),
            matching=matching,
            changes={"updated_at": timezone.now(), **changes},
        )
        if task is None:
            raise TaskStateConflict(f"task {task_id} is not in {', '.join(allowed_from)}")
        payload = messages.event_payload(task, event_type, child=child)
        event = TaskEvent.objects.create(task=task, seq=task.last_seq, type=event_type, payload=payload)
        if event_type == EventType.COMPLETE or event.seq % settings.TASKPULSE_EVENTS_KEPT_PER_TASK == 0:
            _events_prune_beyond_kept(task=task)
        message = messages.event_message(payload, event.created_at)
        transaction.on_commit(lambda: broadcast.publish_task_event(task.id, message))
        webhook_event = outbox.event_of(task, message, changes)
        if webhook_event is not None:
            outbox.deliveries_record(task, message, webhook_event)
        if task.parent_id is not None and moves_workflow:
            _workflow_step_moved(task, task.parent_id)
    metrics.EVENTS_PERSISTED.labels(event_type).inc()
    return task


def task_create(
    *, owner: "User", kind: str, params: dict, upload: UploadedFile | None = None, callback_url: str = ""
) -> Task:
    """Validate the input, store the task with its first event, and enqueue it after commit.
    `callback_url` is called with the task's end, signed with the owner's webhook secret.

    Raises registry.InvalidTaskInput with field errors; nothing is stored then.
    """
    # Imported here: the kinds are @progress_tasks, whose module imports this one.
    from tasks_app.work import registry

    cleaned = registry.clean_params(kind=kind, params=params, upload=upload, owner=owner)
    if callback_url:
        refusal = webhook_endpoints.callback_refusal(callback_url, owner=owner)
        if refusal is not None:
            raise InvalidTaskInput({"callback_url": [refusal]})
    task = _task_store(owner=owner, kind=kind, params=cleaned, upload=upload, callback_url=callback_url)
    logger.info("Task %s (%s) created by user %s", task.id, kind, owner.pk)
    return task


def task_create_for_celery_task(*, owner: "User", name: str, params: dict) -> Task:
    """A task that runs the @progress_task called `name` (progress_tasks.start_task checked its
    arguments, stored in `params` as {"args": [...], "kwargs": {...}}); enqueued after commit."""
    task = _task_store(owner=owner, kind=name, params=params)
    logger.info("Task %s (%s) created by user %s", task.id, name, owner.pk)
    return task


def task_adopt(*, task_id: uuid.UUID, name: str, params: dict) -> None:
    """Store a @progress_task that was started without a task of its own (a plain `.delay()`,
    beat): it has no owner, so only staff see it. Nothing happens if it is stored already."""
    with transaction.atomic():
        defaults = {"owner": None, "kind": name, "params": params, "message": _("Waiting for a worker")}
        _task, created = Task.objects.get_or_create(pk=task_id, defaults=defaults)
        if created:
            _record_event(task_id=task_id, event_type=EventType.PROGRESS, allowed_from=_ACTIVE)
            logger.info("Task %s (%s) started without an owner; stored for staff to watch", task_id, name)


def task_retry(*, task_id: uuid.UUID) -> Task:
    """A new task with the failed or cancelled task's kind, params and input file, linked to it.

    Raises TaskStateConflict when the task did not end failed or cancelled.
    """
    original = Task.objects.select_related("owner").get(pk=task_id)
    with translation.override(original.language or settings.LANGUAGE_CODE):
        return _task_retry(original)


def _task_retry(original: Task) -> Task:
    task_id = original.id
    if original.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        raise TaskStateConflict(
            f"task {task_id} is {original.status}; only failed or cancelled tasks are retried"
        )
    if original.parent_id is not None:
        raise TaskStateConflict(
            f"task {task_id} is a workflow's step; retry its workflow, {original.parent_id}"
        )
    if original.is_workflow:
        steps = [
            WorkflowStep(name=step.kind, params=step.params, weight=step.weight)
            for step in original.children.order_by("position")
        ]
        task = _workflow_store(owner=original.owner, shape=original.kind, steps=steps, retry_of=original)
        logger.info("Workflow %s (%s) retries workflow %s", task.id, task.kind, original.id)
        return task
    # The input is copied by the storage chunk by chunk, never read into memory whole.
    with original.input_file.open("rb") if original.input_file else nullcontext() as upload:
        task = _task_store(
            owner=original.owner, kind=original.kind, params=original.params, upload=upload, retry_of=original
        )
    logger.info("Task %s (%s) retries task %s", task.id, task.kind, original.id)
    return task


def _language_now() -> str:
    """The language of the request (or process) that starts a task: LocaleMiddleware's choice."""
    return translation.get_language() or ""


def _task_store(
    *, owner: "User | None", kind: str, params: dict, upload=None, retry_of=None, callback_url: str = ""
) -> Task:
    with transaction.atomic():
        task = Task.objects.create(
            owner=owner,
            kind=kind,
            params=params,
            retry_of=retry_of,
            callback_url=callback_url,
            language=_language_now(),
            message=_("Waiting for a worker"),
        )
        if upload is not None:
            task.input_file.save(upload.name, upload, save=True)
        task = _record_event(task_id=task.id, event_type=EventType.PROGRESS, allowed_from=_ACTIVE)
        transaction.on_commit(lambda: _enqueue(task))
        if owner is not None:
            transaction.on_commit(lambda: broadcast.publish_task_created(owner.pk, task.id))
    return task


# Between the soft time limit (the work is interrupted and the task fails cleanly) and the hard
# one (the worker process is killed), for work that does not stop when asked.
HARD_TIME_LIMIT_GRACE_SECONDS = 30


def _enqueue(task: Task) -> None:
    # Imported here: the Celery tasks run the work through this module (HackSoft's styleguide
    # does the same).
    from tasks_app import progress_tasks

    progress_tasks.send(task)


def _revoke(task_id: uuid.UUID) -> None:
    """Tell the workers to drop the task's message unrun. The task has already ended, which a
    worker would see and skip anyway; revoking spares it even that."""
    from tasks_app.tasks import fail_stale_tasks

    try:
        fail_stale_tasks.app.control.revoke(str(task_id))
    except Exception:
        logger.warning("Could not revoke task %s; a worker will skip it as ended", task_id, exc_info=True)


def task_start(*, task_id: uuid.UUID, dispatch: int | None = None, holder: str = "") -> Task | None:
    """Mark the task running; None when it must not run (finished, cancelled, gone, given up, or
    `dispatch` is not the task's: the message is stale, the task having been sent again since).

    A task already `running` is started again: its worker died mid-run and the broker delivered
    the message again (late acks, reject on worker lost, RabbitMQ's requeue of a lost consumer's
    messages), or task_resend sent it again after its lease ran out. The new attempt continues
    the same event log from the beginning of the work, up to TASKPULSE_TASK_MAX_ATTEMPTS. Messages
    sent before dispatches existed carry none and are taken as the current one. `holder` names
    the worker process ("host:pid") that takes the lease. The caller checks first that no live
    process holds it (worker/lease.py): a message comes back too after a broker blip.
    """
    attempts, language = Task.objects.filter(pk=task_id).values_list("attempt", "language").first() or (
        None,
        "",
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        return _task_start(task_id, attempts, dispatch=dispatch, holder=holder)


def _task_start(
    task_id: uuid.UUID, attempts: int | None, *, dispatch: int | None, holder: str
) -> Task | None:
    if attempts is not None and attempts >= settings.TASKPULSE_TASK_MAX_ATTEMPTS:
        _give_up(task_id, attempts)
        return None
    now = timezone.now()
    try:
        task = _record_event(
            task_id=task_id,
            event_type=EventType.PROGRESS,
            allowed_from=_ACTIVE,
            increment=("attempt",),
            matching=None if dispatch is None else {"dispatch": dispatch},
            status=TaskStatus.RUNNING,
            started_at=now,
            lease_expires_at=now + _lease(),
            lease_holder=holder,
            progress=0.0,
            current=None,
            total=None,
            rate=None,
            eta_seconds=None,
            message=_("Started")
            if not attempts
            else _("Started again after its worker stopped (attempt %(attempt)s)")
            % {"attempt": attempts + 1},
        )
    except TaskStateConflict:
        logger.info(
            "Task %s is finished, gone, or sent again since dispatch %s; not running it", task_id, dispatch
        )
        return None
    if task.attempt > 1:
        logger.warning("Task %s started again, attempt %d", task_id, task.attempt)
    else:
        logger.info("Task %s started", task_id)
    return task


def _give_up(task_id: uuid.UUID, attempts: int) -> None:
    logger.warning("Task %s lost its worker %d times; giving up", task_id, attempts)
    try:
        _finish(
            task_id=task_id,
            status=TaskStatus.FAILED,
            error=_("The worker running this task stopped %(attempts)s times; it was not tried again.")
            % {"attempts": attempts},
            message=_("Failed"),
        )
    except TaskStateConflict:
        logger.info("Task %s had already ended", task_id)


def _lease() -> timedelta:
    return timedelta(seconds=settings.TASKPULSE_TASK_LEASE_SECONDS)


def task_lease_renew(*, run: Task) -> bool:
    """Extend the lease of the attempt `run` (as task_start returned it) by a lease from now.
    False once that attempt no longer runs: it ended, or the task was started again elsewhere."""
    return bool(
        Task.objects.filter(pk=run.pk, status=TaskStatus.RUNNING, attempt=run.attempt).update(
            lease_expires_at=timezone.now() + _lease()
        )
    )


def task_resend(*, task_id: uuid.UUID, now: datetime | None = None) -> Task | None:
    """Send a running task whose lease ran out (its worker is lost: killed, frozen, or cut off)
    to the workers again, as a new dispatch, and tell its followers; or fail it once it has
    used up TASKPULSE_TASK_MAX_ATTEMPTS. None when its lease was renewed or it ended meanwhile.

    Until a worker takes the new message, the queue holds the lease: the task is sent again only
    after another TASKPULSE_STALE_TASK_SECONDS without a worker.
    """
    now = now or timezone.now()
    with in_language_of(task_id), transaction.atomic():
        lost = (
            Task.objects.select_for_update()
            .filter(pk=task_id, status=TaskStatus.RUNNING, lease_expires_at__lt=now)
            .values_list("attempt", flat=True)
            .first()
        )
        if lost is None:
            return None
        if lost >= settings.TASKPULSE_TASK_MAX_ATTEMPTS:
            _give_up(task_id, lost)
            return None
        task = _record_event(
            task_id=task_id,
            event_type=EventType.PROGRESS,
            allowed_from=(TaskStatus.RUNNING,),
            increment=("dispatch",),
            lease_expires_at=now + timedelta(seconds=settings.TASKPULSE_STALE_TASK_SECONDS),
            lease_holder="",  # no process holds it: the queue does
            message=_("Its worker stopped responding; waiting for another (attempt %(attempt)s)")
            % {"attempt": lost + 1},
        )
        transaction.on_commit(lambda: _enqueue(task))
    logger.warning("Task %s lost its worker; sent again as dispatch %d", task_id, task.dispatch)
    return task


def task_progress(
    *,
    task_id: uuid.UUID,
    progress: float,
    current: int | None,
    total: int | None,
    message: str,
    estimate: Estimate = NO_ESTIMATE,
) -> bool:
    """Record a progress update of a running task, with the reporter's estimate of its rate and
    time left. Returns whether cancellation was asked for."""
    task = _record_event(
        task_id=task_id,
        event_type=EventType.PROGRESS,
        allowed_from=(TaskStatus.RUNNING,),
        progress=progress,
        current=current,
        total=total,
        message=message,
        rate=estimate.rate,
        eta_seconds=estimate.eta_seconds,
    )
    return task.cancel_requested


def task_progress_in_run(
    *,
    run: Task,
    progress: float,
    current: int | None,
    total: int | None,
    message: str,
    estimate: Estimate = NO_ESTIMATE,
) -> bool:
    """task_progress for the reporter of one run, where `run` is the task as task_start left it.

    An event's latency is mostly round trips to the database, and task_progress takes four
    (BEGIN, UPDATE … RETURNING, INSERT, COMMIT). While one attempt runs, only the progress fields
    change, so the event's payload is known before it is written, but for its seq: on PostgreSQL,
    one statement takes the next seq and inserts the event, atomically as any single statement is.
    Its WHERE clause holds the prediction true (still `running`, still this attempt); otherwise
    it writes nothing and TaskStateConflict is raised. Elsewhere (SQLite, inside a transaction,
    or a workflow's step, whose event moves its workflow too) the event is written as
    task_progress writes it, with the same condition.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block or run.parent_id is not None:
        return _record_event(
            task_id=run.id,
            event_type=EventType.PROGRESS,
            allowed_from=(TaskStatus.RUNNING,),
            matching={"attempt": run.attempt},
            progress=progress,
            current=current,
            total=total,
            message=message,
            rate=estimate.rate,
            eta_seconds=estimate.eta_seconds,
        ).cancel_requested
    now = timezone.now()
    payload = {
        **_progress_payload_of_run(run, run.attempt, run.started_at),
        "progress": round(progress, 2), "current": current, "total": total, "message": message,
        "rate": estimate.rate, "eta_seconds": estimate.eta_seconds,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            task_statements.progress_in_run_sql(),
            {
                "id": str(run.id), "attempt": run.attempt, "running": TaskStatus.RUNNING, "now": now,
                "progress": progress, "current": current, "total": total, "message": message,
                "rate": estimate.rate, "eta_seconds": estimate.eta_seconds,
                "type": EventType.PROGRESS, "payload": json.dumps(payload),
            },
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        raise TaskStateConflict(f"task {run.id} is no longer running attempt {run.attempt}")
    seq, cancel_requested = row
    if seq % settings.TASKPULSE_EVENTS_KEPT_PER_TASK == 0:
        written = copy(run)
        written.last_seq = seq
        _events_prune_beyond_kept(task=written)
    broadcast.publish_task_event(run.id, messages.event_message({**payload, "seq": seq}, now))
    metrics.EVENTS_PERSISTED.labels(EventType.PROGRESS).inc()
    return cancel_requested


@lru_cache(maxsize=64)
def _progress_payload_of_run(run: Task, attempt: int, started_at: datetime | None) -> dict:
    """The payload of the run's progress events, but for the progress fields and the seq, which
    each event sets. Built once per run: formatting its timestamps and copying the task for every
    event was a visible part of each event's latency (docs/performance.md). A Task
    hashes by its id alone, so the attempt and its start are part of the key."""
    return messages.event_payload(run, EventType.PROGRESS)


def _finish(*, task_id: uuid.UUID, status: TaskStatus, allowed_from: tuple = _ACTIVE, **changes) -> Task:
    task = _record_event(
        task_id=task_id,
        event_type=EventType.COMPLETE,
        allowed_from=allowed_from,
        status=status,
        finished_at=timezone.now(),
        rate=None,
        eta_seconds=None,
        **changes,
    )
    logger.info("Task %s ended %s", task_id, status)
    if task.started_at is not None and task.finished_at is not None:
        metrics.TASK_DURATION.labels(task.kind, status).observe(
            (task.finished_at - task.started_at).total_seconds()
        )
    return task


def task_complete(*, task_id: uuid.UUID, result, message: str | None = None) -> Task:
    """The work finished: the task ends `completed` with its result."""
    return _finish(
        task_id=task_id,
        status=TaskStatus.COMPLETED,
        progress=100.0,
        result=result,
        message=_("Done") if message is None else message,
    )


def task_fail(*, task_id: uuid.UUID, error: "str | Promise", allowed_from: tuple = _ACTIVE) -> Task:
    """The task ends `failed` with `error`: its work raised, ran out of time or lost its worker,
    or an operator ended it. Raises TaskStateConflict when it is not (or no longer) in
    `allowed_from`. A task that never started is also revoked, so that no worker runs it; a
    workflow's steps that have not ended are cancelled."""
    with in_language_of(task_id), transaction.atomic():
        task = _finish(
            task_id=task_id,
            status=TaskStatus.FAILED,
            error=str(error),  # a lazy translation is written in the task's language
            message=_("Failed"),
            allowed_from=allowed_from,
        )
        if task.is_workflow:
            _workflow_stop(task.id, message=_("Cancelled: its workflow was ended"))
        elif task.started_at is None:
            transaction.on_commit(lambda: _revoke(task_id))
    return task


def task_cancel(*, task_id: uuid.UUID, stopped: bool = False) -> Task:
    """Ask a task to stop: a pending one ends `cancelled` now, a running one once its work has
    stopped, which the worker says with `stopped=True` (the reporter raised TaskCancelled). A
    workflow's steps are asked to stop, and the workflow ends once they all have.

    Raises TaskNotCancellable when the task already ended.
    """
    with in_language_of(task_id):
        return _task_cancel(task_id, stopped=stopped)


def _task_cancel(task_id: uuid.UUID, *, stopped: bool) -> Task:
    if stopped:
        return _finish(task_id=task_id, status=TaskStatus.CANCELLED, message=_("Cancelled"))
    if Task.objects.filter(pk=task_id, kind__in=WORKFLOW_SHAPES).exists():
        return _workflow_cancel(task_id)
    try:
        task = _finish(
            task_id=task_id,
            status=TaskStatus.CANCELLED,
            message=_("Cancelled before it started"),
            allowed_from=(TaskStatus.PENDING,),
        )
    except TaskStateConflict:
        pass
    else:
        transaction.on_commit(lambda: _revoke(task_id))
        return task
    if Task.objects.filter(pk=task_id, status=TaskStatus.RUNNING).update(cancel_requested=True):
        logger.info("Cancellation of running task %s requested", task_id)
        return Task.objects.get(pk=task_id)
    raise TaskNotCancellable(f"task {task_id} has already ended")


@dataclass(frozen=True)
class WorkflowStep:
    """A step of a workflow to store: the @progress_task it runs, its params as start_task
    stores them ({"args", "kwargs"}, and "immutable" when it takes no earlier step's result),
    and its share of the workflow's progress relative to the other steps' weights."""

    name: str
    params: dict
    weight: float = 1.0


def workflow_create(*, owner: "User", shape: str, steps: list[WorkflowStep]) -> Task:
    """Store a workflow (kind: its shape, group, chain or chord) owned by `owner`, and a task of
    the owner's for each step, in the workflow's order. The steps that wait for no other (a
    group's, a chord's header, a chain's first) are sent once the transaction commits; the
    others once the steps before them complete."""
    task = _workflow_store(owner=owner, shape=shape, steps=steps)
    logger.info("Workflow %s (%s of %d steps) created by user %s", task.id, shape, len(steps), owner.pk)
    return task


def _workflow_store(*, owner: "User | None", shape: str, steps: list[WorkflowStep], retry_of=None) -> Task:
    if shape not in WORKFLOW_SHAPES:
        raise ValueError(f"A workflow is a {', '.join(WORKFLOW_SHAPES)}, not a {shape}.")
    if not steps or any(step.weight <= 0 for step in steps):
        raise ValueError("A workflow has at least one step, and every step's weight is over 0.")
    with transaction.atomic():
        # dispatch 0: a workflow is never sent to a worker itself.
        workflow = Task.objects.create(
            owner=owner,
            kind=shape,
            params={},
            retry_of=retry_of,
            language=_language_now(),
            message=_("Waiting for a worker"),
            dispatch=0,
        )
        first = _steps_sent_first(shape, len(steps))
        for position, step in enumerate(steps):
            created = Task.objects.create(
                owner=owner,
                kind=step.name,
                params=step.params,
                parent=workflow,
                position=position,
                weight=step.weight,
                dispatch=1 if position in first else 0,
                language=workflow.language,
                message=_("Waiting for a worker")
                if position in first
                else _("Waiting for the steps before it"),
            )
            created = _record_event(
                task_id=created.id, event_type=EventType.PROGRESS, allowed_from=_ACTIVE, moves_workflow=False
            )
            if position in first:
                transaction.on_commit(partial(_enqueue, created))
        workflow = _record_event(
            task_id=workflow.id,
            event_type=EventType.PROGRESS,
            allowed_from=_ACTIVE,
            current=0,
            total=len(steps),
        )
        if owner is not None:
            transaction.on_commit(lambda: broadcast.publish_task_created(owner.pk, workflow.id))
    return workflow


def _steps_sent_first(shape: str, count: int) -> range:
    if shape == "chain":
        return range(1)
    if shape == "chord":
        return range(count - 1)  # the header; the body waits for it
    return range(count)


def _workflow_step_moved(step: Task, workflow_id: uuid.UUID) -> None:
    """A step's event moves its workflow (in the step's transaction, holding the workflow's row
    so that steps moving at once take turns): the workflow's event names the step as `child`,
    with the steps' weighted mean as progress (never lower than before: a step started again
    begins at 0), and the steps completed as its count. A completed step sends the steps that
    waited for it; one that failed or was cancelled stops the others. Once every step has ended,
    so does the workflow."""
    workflow = Task.objects.select_for_update().get(pk=workflow_id)
    if workflow.is_terminal:
        return
    if workflow.cancel_requested and step.status == TaskStatus.RUNNING and not step.cancel_requested:
        # Stopped while this step's event waited for the workflow's row (see _workflow_stop).
        Task.objects.filter(pk=step.id).update(cancel_requested=True)
    steps = _workflow_steps(workflow.id)
    started: dict[str, Any] = {
        "status": TaskStatus.RUNNING,
        "started_at": workflow.started_at or timezone.now(),
    }
    _record_event(
        task_id=workflow.id,
        event_type=EventType.PROGRESS,
        allowed_from=_ACTIVE,
        child=messages.step_state(step),
        progress=max(
            workflow.progress, sum(s.weight * s.progress for s in steps) / sum(s.weight for s in steps)
        ),
        current=sum(s.status == TaskStatus.COMPLETED for s in steps),
        total=len(steps),
        message=_("Step %(step)s of %(steps)s: %(message)s")
        % {"step": _step_number(step), "steps": len(steps), "message": step.message},
        # Started once, when its first step starts (a webhook's task.started).
        **(started if workflow.started_at is None and any(s.started_at for s in steps) else {}),
    )
    if step.status == TaskStatus.COMPLETED:
        for waiting in _steps_ready(workflow.kind, steps):
            Task.objects.filter(pk=waiting.id).update(dispatch=1)
            waiting.dispatch = 1
            transaction.on_commit(partial(_enqueue, waiting))
    elif step.is_terminal and not workflow.cancel_requested:
        what = (
            _("Cancelled: step %(step)s failed")
            if step.status == TaskStatus.FAILED
            else _("Cancelled: step %(step)s was cancelled")
        )
        _workflow_stop(workflow.id, message=what % {"step": _step_number(step)})
    _workflow_end_if_done(workflow.id)


def _step_number(step: Task) -> int:
    """The step's place in its workflow, counted from 1 as people count."""
    return (step.position or 0) + 1


def _workflow_steps(workflow_id: uuid.UUID) -> list[Task]:
    return list(Task.objects.filter(parent_id=workflow_id).order_by("position"))


def _steps_ready(shape: str, steps: list[Task]) -> list[Task]:
    """The steps not sent yet whose earlier steps have all completed."""
    waiting = [step for step in steps if step.dispatch == 0 and step.status == TaskStatus.PENDING]
    if shape == "chain":
        waiting = waiting[:1]
    return [
        step
        for step in waiting
        if all(earlier.status == TaskStatus.COMPLETED for earlier in steps[: step.position])
    ]


def _workflow_stop(workflow_id: uuid.UUID, *, message: str) -> None:
    """Cancel the workflow's steps that have not ended: pending ones now, running ones once their
    work stops. The workflow is marked first, so that the steps' ends do not stop it again.

    The caller holds the workflow's row. A step whose row another transaction holds is passed
    over rather than waited for: that transaction is a step's event waiting for the workflow's
    row, so waiting would deadlock; its own turn then asks the step to stop
    (_workflow_step_moved)."""
    Task.objects.filter(pk=workflow_id).update(cancel_requested=True)
    unlocked = Task.objects.select_for_update(skip_locked=True).filter(parent_id=workflow_id)
    for step in unlocked.order_by("position"):
        if step.status == TaskStatus.RUNNING:
            Task.objects.filter(pk=step.id).update(cancel_requested=True)
        elif step.status == TaskStatus.PENDING:
            try:
                _finish(
                    task_id=step.id,
                    status=TaskStatus.CANCELLED,
                    message=message,
                    allowed_from=(TaskStatus.PENDING,),
                )
            except TaskStateConflict:
                continue
            if step.dispatch:
                transaction.on_commit(partial(_revoke, step.id))


def _workflow_end_if_done(workflow_id: uuid.UUID) -> None:
    """End the workflow once all its steps have: failed if one failed (with the first failed
    step's error), cancelled if one was cancelled, else completed with its result (a group's:
    every step's, in order; a chain's or a chord's: the last step's)."""
    steps = _workflow_steps(workflow_id)
    if not all(step.is_terminal for step in steps):
        return
    workflow = Task.objects.get(pk=workflow_id)
    if workflow.is_terminal:
        return
    failed = next((step for step in steps if step.status == TaskStatus.FAILED), None)
    if failed is not None:
        _finish(
            task_id=workflow_id,
            status=TaskStatus.FAILED,
            message=_("Failed"),
            error=_("Step %(step)s of %(steps)s (%(kind)s) failed: %(error)s")
            % {"step": _step_number(failed), "steps": len(steps), "kind": failed.kind, "error": failed.error},
        )
    elif any(step.status == TaskStatus.CANCELLED for step in steps):
        _finish(task_id=workflow_id, status=TaskStatus.CANCELLED, message=_("Cancelled"))
    else:
        result = [step.result for step in steps] if workflow.kind == "group" else steps[-1].result
        task_complete(task_id=workflow_id, result=result)


def _workflow_cancel(workflow_id: uuid.UUID) -> Task:
    with transaction.atomic():
        workflow = Task.objects.select_for_update().get(pk=workflow_id)
        if workflow.is_terminal:
            raise TaskNotCancellable(f"task {workflow_id} has already ended")
        _workflow_stop(workflow_id, message=_("Cancelled with its workflow"))
        _workflow_end_if_done(workflow_id)
    logger.info("Cancellation of workflow %s requested", workflow_id)
    return Task.objects.get(pk=workflow_id)


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
