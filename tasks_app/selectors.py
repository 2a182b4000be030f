"""Reads: the tasks a user may see, their events and files, and the datasets they may use."""

import uuid
from collections.abc import Iterator

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from tasks_app.db.model_reader import ModelReader
from tasks_app.models import Dataset, DatasetRow, DatasetStatus, Task, TaskEvent, TaskFile

# Every WebSocket connect reads its task, and a resuming one its missed events: these two run as
# SQL made once (see sql_reads.py), not built by the ORM per call.
_TASK = ModelReader(Task, where=("id",))
_OWN_TASK = ModelReader(Task, where=("id", "owner"))
_EVENT_ROWS_AFTER = ModelReader(
    TaskEvent, fields=("seq", "payload", "created_at"), where=("task", "seq__gt"), order_by="seq"
)


def tasks_visible_to(*, user: AbstractBaseUser) -> QuerySet[Task]:
    """Everything for staff, the user's own tasks for everyone else, newest first."""
    tasks = Task.objects.all() if user.is_staff else Task.objects.filter(owner=user)
    return tasks.order_by("-created_at")


def task_visible_to(*, user: AbstractBaseUser, task_id: uuid.UUID | str) -> Task | None:
    """The task if it exists and the user may see it; None for both "missing" and "not yours"."""
    try:
        task_id = uuid.UUID(str(task_id))
    except ValueError:
        return None
    # tasks_visible_to's rule, as two reads of one row.
    found = _TASK.instances(task_id) if user.is_staff else _OWN_TASK.instances(task_id, user.pk)
    return found[0] if found else None


def task_owned_by(*, user: AbstractBaseUser, task_id: uuid.UUID | str) -> Task | None:
    """The task if the user owns it: downloads and cancellation are the owner's alone."""
    task = task_visible_to(user=user, task_id=task_id)
    return task if task is not None and task.owner_id == user.pk else None


def event_rows_after(*, task_id: uuid.UUID, seq: int) -> list[list]:
    """The task's events after `seq` as [seq, payload, created_at] rows, oldest first: what a
    resume sends, without making a model instance of each."""
    return _EVENT_ROWS_AFTER.rows(task_id, seq)


def task_file_for(*, user: AbstractBaseUser, task_id: uuid.UUID | str, name: str) -> TaskFile | None:
    task = task_owned_by(user=user, task_id=task_id)
    if task is None:
        return None
    return TaskFile.objects.filter(task=task, name=name).first()


def dataset_ready_for_owner(*, owner: AbstractBaseUser, dataset_id: int) -> Dataset | None:
    return Dataset.objects.filter(owner=owner, pk=dataset_id, status=DatasetStatus.READY).first()


def datasets_ready_for_owner(*, owner: AbstractBaseUser) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=owner, status=DatasetStatus.READY).order_by("-created_at")


def dataset_rows(*, dataset: Dataset, chunk_size: int) -> Iterator[dict]:
    return (
        DatasetRow.objects.filter(dataset=dataset)
        .order_by("line")
        .values_list("values", flat=True)
        .iterator(chunk_size=chunk_size)
    )
