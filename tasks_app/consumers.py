"""WebSocket consumers: authenticate, authorise, join groups, replay from history, forward."""

import asyncio
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from django.conf import settings

from tasks_app import broadcast, client_messages, messages, resume, selectors
from tasks_app.models import TERMINAL_STATUSES, Task

CLOSE_NORMAL = 1000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class ProtocolConsumer(AsyncWebsocketConsumer):
    """What every socket of the protocol does: JSON frames, errors for bad ones, ping/pong and
    echo, and a `ping` heartbeat whenever the connection has been idle for
    TASKPULSE_HEARTBEAT_SECONDS, which lets a browser notice a dead connection."""

    _heartbeat: asyncio.Task | None = None
    _last_sent = 0.0

    async def start_heartbeat(self) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        self._heartbeat = asyncio.create_task(self._send_heartbeats())

    async def disconnect(self, code: int) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message_type, message = client_messages.parse(text_data)
        except client_messages.ProtocolError as exc:
            await self.send_json(messages.error(exc.code, exc.message, details=exc.details))
            return
        if message_type == "ping":
            await self.send_json(messages.pong())
        elif message_type == "echo":
            await self.send_json(messages.echo(message.get("data")))
        elif message_type != "pong":
            await self.handle(message_type, message)

    async def handle(self, message_type: str, message: dict) -> None:
        """The message types particular to one endpoint."""
        raise NotImplementedError

    async def send_json(self, message: dict) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        await self.send(text_data=json.dumps(message))

    async def _send_heartbeats(self) -> None:
        interval = settings.TASKPULSE_HEARTBEAT_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            idle_for = loop.time() - self._last_sent
            if idle_for >= interval:
                await self.send_json(messages.ping())
            else:
                await asyncio.sleep(interval - idle_for)


class TaskConsumer(ProtocolConsumer):
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
        if not self.finished:
            await self.start_heartbeat()

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def handle(self, message_type: str, message: dict) -> None:
        if message_type == "get_status":
            task = await database_sync_to_async(Task.objects.filter(pk=self.task_id).first)()
            if task is None:  # deleted while this socket was open
                await self.close(code=CLOSE_NOT_FOUND)
                return
            await self._forward(messages.snapshot(task))
        else:
            await self.send_json(
                messages.error("unknown_type", f"{message_type} is for the multiplexed stream, /ws/stream/.")
            )

    async def task_event(self, event: dict) -> None:
        """A persisted event published to this task's group (see broadcast.publish_task_event).

        The channel layer delivers at most once (a full channel drops messages), so an event
        that skips past what was sent is preceded by the missing ones, read from history.
        """
        message = event["message"]
        if self.sent_seq and message["seq"] > self.sent_seq + 1:
            missed = await database_sync_to_async(resume.opening_messages)(
                task_id=self.task_id, last_seq=str(self.sent_seq)
            )
            for earlier in missed:
                await self._forward(earlier)
        await self._forward(message)

    async def _forward(self, message: dict) -> None:
        if self.finished or (message["type"] != "snapshot" and message["seq"] <= self.sent_seq):
            return
        self.sent_seq = max(self.sent_seq, message["seq"])
        await self.send_json(message)
        if message["type"] == "complete" or message["status"] in TERMINAL_STATUSES:
            self.finished = True
            await self.close(code=CLOSE_NORMAL)

    def _last_seq(self) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("last_seq")
        return values[-1] if values else None
