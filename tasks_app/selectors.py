"""Reads: the tasks a user may see, their events and files, and the datasets they may use."""

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tasks_app.db.model_reader import ModelReader
from tasks_app.models import Dataset, DatasetRow, DatasetStatus, Task, TaskEvent, TaskFile, TaskStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Every WebSocket connect reads its task, and a resuming one its missed events: these two run as
# SQL made once (see db/model_reader.py), not built by the ORM per call.
_TASK = ModelReader(Task, where=("id",))
_OWN_TASK = ModelReader(Task, where=("id", "owner"))
_EVENT_ROWS_AFTER = ModelReader(
    TaskEvent, fields=("seq", "payload", "created_at"), where=("task", "seq__gt"), order_by="seq"
)


def tasks_visible_to(*, user: "User | AnonymousUser") -> QuerySet[Task]:
    """Everything for staff, the user's own tasks for everyone else, newest first; a workflow's
    steps are in its snapshot, not in the list."""
    tasks = Task.objects.all() if user.is_staff else Task.objects.filter(owner_id=user.pk)
    # A workflow's steps are listed by their workflow.
    return tasks.filter(parent__isnull=True).order_by("-created_at")


def task_visible_to(*, user: "User | AnonymousUser", task_id: uuid.UUID | str) -> Task | None:
    """The task if it exists and the user may see it; None for both "missing" and "not yours"."""
    try:
        task_id = uuid.UUID(str(task_id))
    except ValueError:
        return None
    # tasks_visible_to's rule, as two reads of one row.
    found = _TASK.instances(task_id) if user.is_staff else _OWN_TASK.instances(task_id, user.pk)
    return found[0] if found else None


def task_owned_by(*, user: "User | AnonymousUser", task_id: uuid.UUID | str) -> Task | None:
    """The task if the user owns it: downloads and cancellation are the owner's alone."""
    task = task_visible_to(user=user, task_id=task_id)
    return task if task is not None and task.owner_id == user.pk else None


def workflow_steps(*, task: Task) -> list[Task] | None:
    """A workflow's steps in its order; None for a task that is not a workflow."""
    if not task.is_workflow:
        return None
    return list(
        Task.objects.filter(parent_id=task.id)
        .order_by("position")
        .only("id", "kind", "status", "progress", "position", "parent_id")
    )


def workflow_step_input(*, step: Task) -> list:
    """What a workflow's step is handed before its own arguments, as Celery's canvas hands it:
    a chain's step, the result of the step before it; a chord's body, the list of its header's
    results; nothing for a group's step, a chain's first, or an immutable signature's step."""
    if step.parent_id is None or step.params.get("immutable") or not step.position:
        return []
    shape, steps = Task.objects.filter(pk=step.parent_id).values_list("kind", "total").get()
    earlier = Task.objects.filter(parent_id=step.parent_id, position__lt=step.position).order_by("position")
    if shape == "chain":
        return list(earlier.values_list("result", flat=True))[-1:]
    if shape == "chord" and step.position == (steps or 0) - 1:
        return [list(earlier.values_list("result", flat=True))]
    return []


def task_lease(*, task_id: uuid.UUID) -> tuple[str, datetime] | None:
    """(holder, expiry) of the lease of a running task; None when the task is not running."""
    lease = (
        Task.objects.filter(pk=task_id, status=TaskStatus.RUNNING, lease_expires_at__isnull=False)
        .values_list("lease_holder", "lease_expires_at")
        .first()
    )
    return None if lease is None or lease[1] is None else (lease[0], lease[1])


def event_rows_after(*, task_id: uuid.UUID, seq: int) -> list[list]:
    """The task's events after `seq` as [seq, payload, created_at] rows, oldest first: what a
    resume sends, without making a model instance of each."""
    return _EVENT_ROWS_AFTER.rows(task_id, seq)


def task_file_for(*, user: "User | AnonymousUser", task_id: uuid.UUID | str, name: str) -> TaskFile | None:
    task = task_owned_by(user=user, task_id=task_id)
    if task is None:
        return None
    return TaskFile.objects.filter(task=task, name=name).first()


def dataset_ready_for_owner(*, owner: "User | AnonymousUser", dataset_id: int) -> Dataset | None:
    return Dataset.objects.filter(owner_id=owner.pk, pk=dataset_id, status=DatasetStatus.READY).first()


def datasets_ready_for_owner(*, owner: "User | AnonymousUser") -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner_id=owner.pk, status=DatasetStatus.READY).order_by("-created_at")


def dataset_rows(*, dataset: Dataset, chunk_size: int) -> Iterator[dict]:
    return (
        DatasetRow.objects.filter(dataset=dataset)
        .order_by("line")
        .values_list("values", flat=True)
        .iterator(chunk_size=chunk_size)
    )
