"""What a client following a task is sent first: a snapshot, or exactly the events it missed."""

import uuid
from typing import TYPE_CHECKING

from tasks_app import selectors
from tasks_app.models import Task
from tasks_app.realtime import messages

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def opening_messages(*, task_id: uuid.UUID, last_seq: str | None) -> list[dict]:
    """A snapshot for a new client; the events after `last_seq` for a resuming one.

    A resume that history cannot serve exactly (a malformed or future `last_seq`, or events no
    longer kept) gets a snapshot marked `"recovered": false`, never silence.
    """
    return _opening(Task.objects.get(pk=task_id), last_seq)


def opening_messages_if_visible(
    *, user: "User | AnonymousUser", task_id: uuid.UUID | str, last_seq: str | None
) -> list[dict] | None:
    """As opening_messages, or None if the user may not see the task: one query fewer than
    asking each in turn, for every socket of a reconnecting crowd."""
    task = selectors.task_visible_to(user=user, task_id=task_id)
    return None if task is None else _opening(task, last_seq)


def snapshot(task: Task, *, recovered: bool | None = None) -> dict:
    """The task's snapshot, with a workflow's steps."""
    return messages.snapshot(task, recovered=recovered, children=selectors.workflow_steps(task=task))


def _opening(task: Task, last_seq: str | None) -> list[dict]:
    if last_seq is None:
        return [snapshot(task)]
    try:
        after = int(last_seq)
    except ValueError:
        return [snapshot(task, recovered=False)]
    if after < 0 or after > task.last_seq:
        return [snapshot(task, recovered=False)]
    # Rows, not model instances: a storm of resuming sockets reads tens of thousands of events.
    events = selectors.event_rows_after(task_id=task.id, seq=after)
    first_kept = events[0][0] if events else task.last_seq + 1
    if first_kept != after + 1:
        # The events right after `after` were pruned: a replay would leave a gap.
        return [snapshot(task, recovered=False)]
    return [messages.event_message(payload, created_at) for _seq, payload, created_at in events]
