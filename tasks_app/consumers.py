"""WebSocket consumers: authenticate, authorise, join the task's group, replay, forward."""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from tasks_app import broadcast, client_messages, messages, resume, selectors
from tasks_app.models import TERMINAL_STATUSES, Task

CLOSE_NORMAL = 1000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class TaskConsumer(AsyncWebsocketConsumer):
    """`/ws/tasks/<task_id>/`: one task's snapshot (or missed events), live progress, complete.

    Every message sent carries a seq; `sent_seq` is the highest one sent, and anything at or
    below it is dropped, so the hand-over from history to live events has no duplicate.
    """

    group: str | None = None
    sent_seq = 0
    finished = False

    async def connect(self) -> None:
        # Accept first: a close code such as 4401 only reaches a client after the handshake.
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        task = await database_sync_to_async(selectors.task_visible_to)(
            user=user, task_id=self.scope["url_route"]["kwargs"]["task_id"]
        )
        if task is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.task_id = task.id
        # Join before reading history, so an event committed meanwhile arrives live rather than never.
        self.group = broadcast.task_group(task.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        opening = await database_sync_to_async(resume.opening_messages)(
            task_id=task.id, last_seq=self._last_seq()
        )
        for message in opening:
            await self._forward(message)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message_type, message = client_messages.parse(text_data)
        except client_messages.ProtocolError as exc:
            await self._send_json(messages.error(exc.code, exc.message, details=exc.details))
            return
        if message_type == "ping":
            await self._send_json(messages.pong())
        elif message_type == "echo":
            await self._send_json(messages.echo(message.get("data")))
        elif message_type == "get_status":
            task = await database_sync_to_async(Task.objects.filter(pk=self.task_id).first)()
            if task is None:  # deleted while this socket was open
                await self.close(code=CLOSE_NOT_FOUND)
                return
            await self._forward(messages.snapshot(task))
        elif message_type in ("subscribe", "unsubscribe"):
            await self._send_json(
                messages.error("unknown_type", f"{message_type} is for the multiplexed stream, /ws/stream/.")
            )

    async def task_event(self, event: dict) -> None:
        """A persisted event published to this task's group (see broadcast.publish_task_event)."""
        await self._forward(event["message"])

    async def _forward(self, message: dict) -> None:
        if self.finished or (message["type"] != "snapshot" and message["seq"] <= self.sent_seq):
            return
        self.sent_seq = max(self.sent_seq, message["seq"])
        await self._send_json(message)
        if message["type"] == "complete" or message["status"] in TERMINAL_STATUSES:
            self.finished = True
            await self.close(code=CLOSE_NORMAL)

    async def _send_json(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))

    def _last_seq(self) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("last_seq")
        return values[-1] if values else None
