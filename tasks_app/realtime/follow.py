"""One task followed by one client, on any transport: the highest seq sent, so that nothing
is sent twice, nothing is skipped, and the client knows when the task has finished."""

import uuid

from tasks_app.db.threads import consumer_database
from tasks_app.models import TERMINAL_STATUSES
from tasks_app.realtime import resume


class TaskFollower:
    def __init__(self, task_id: uuid.UUID) -> None:
        self.task_id = task_id
        self.sent_seq = 0
        self.finished = False

    async def opening(self, last_seq: str | None) -> list[dict]:
        """What to send first: a snapshot, or the events after `last_seq` (see resume.py)."""
        return self._take(await _opening_messages(self.task_id, last_seq))

    async def opening_if_visible(self, user, last_seq: str | None) -> list[dict] | None:
        """As opening(), or None if the user may not see the task."""
        opening = await consumer_database(resume.opening_messages_if_visible)(
            user=user, task_id=self.task_id, last_seq=last_seq
        )
        return None if opening is None else self._take(opening)

    async def live(self, message: dict) -> list[dict]:
        """What to send for a published event: it, preceded by any the channel layer dropped.

        The channel layer delivers at most once (a full channel drops messages), so an event
        that skips past what was sent is preceded by the missing ones, read from history.
        """
        if self.sent_seq and message["seq"] > self.sent_seq + 1:
            missed = await _opening_messages(self.task_id, str(self.sent_seq))
            return self._take([*missed, message])
        return self._take([message])

    def current(self, snapshot: dict) -> list[dict]:
        return self._take([snapshot])

    def _take(self, messages: list[dict]) -> list[dict]:
        taken = []
        for message in messages:
            if self.finished or (message["type"] != "snapshot" and message["seq"] <= self.sent_seq):
                continue
            self.sent_seq = max(self.sent_seq, message["seq"])
            self.finished = message["type"] == "complete" or message["status"] in TERMINAL_STATUSES
            taken.append(message)
        return taken


async def _opening_messages(task_id: uuid.UUID, last_seq: str | None) -> list[dict]:
    return await consumer_database(resume.opening_messages)(task_id=task_id, last_seq=last_seq)
