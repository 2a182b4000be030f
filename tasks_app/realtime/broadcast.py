"""The one module that talks to the channel layer: group names, publishing to them, joining and
leaving them, and listening on a channel of one's own."""

import asyncio
import logging
import os
import threading
import time
import uuid
from concurrent.futures import TimeoutError as FutureTimeoutError

from channels.layers import get_channel_layer

from tasks_app import metrics

logger = logging.getLogger(__name__)

# The consumer methods published messages are dispatched to (Channels maps "." to "_").
TASK_EVENT_HANDLER = "task.event"
USER_TASK_CREATED_HANDLER = "user.task_created"
# Every server process's credential watch (credential_checks) is in this one group.
CREDENTIALS_GROUP = "credentials"
CREDENTIALS_CHANGED_HANDLER = "credentials.changed"
# Sent by the channel layer itself (redis_layers.py) to every channel of a process whose
# connection to Redis came back: whatever was published meanwhile is lost, so re-read history.
RESYNC_HANDLER = "channel_layer.resync"
PUBLISH_TIMEOUT_SECONDS = 5.0


def task_group(task_id: uuid.UUID | str) -> str:
    """The group of everyone following one task. Built from a parsed UUID, never raw input."""
    return f"task.{uuid.UUID(str(task_id)).hex}"


def user_group(user_id: int) -> str:
    """The group of a user's stream connections, which learn of the user's new tasks."""
    return f"user.{int(user_id)}"


class _PublisherLoop:
    """Where publishes run: event loops kept for the process's life, reused by every publish.

    asgiref's async_to_sync, called from a thread with no event loop (a Celery worker), runs
    each call in a brand-new loop, and channels_redis keeps one connection pool per loop: so
    every progress event would open (and close) a Redis connection. The main thread (a prefork
    Celery worker's, which runs the work) runs the publish in a loop of its own, kept between
    calls: no other thread is woken before the event leaves, which is part of every event's
    latency (docs/performance.md). Other threads, such as the short-lived ones Django gives each request
    under ASGI, or a thread whose own loop is running, hand the publish to one long-lived loop
    in a daemon thread: a loop per request thread would be a pool per request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main_loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def run(self, coroutine, *, timeout: float):
        if threading.current_thread() is threading.main_thread() and not _loop_running():
            return self._own_loop().run_until_complete(asyncio.wait_for(coroutine, timeout))
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            return future.result(timeout)
        except FutureTimeoutError:
            future.cancel()
            raise

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            self._forget_if_forked()
            if self._main_loop is None:
                self._main_loop = asyncio.new_event_loop()
            return self._main_loop

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            self._forget_if_forked()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="taskpulse-publisher", daemon=True).start()
                self._loop = loop
            return self._loop

    def _forget_if_forked(self) -> None:
        # A forked Celery child inherits the loops, and their connections to Redis, but not the
        # thread running the shared one: it starts its own.
        if self._pid != os.getpid():
            self._loop = self._main_loop = None
            self._pid = os.getpid()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


_publisher = _PublisherLoop()


def publish_task_event(task_id: uuid.UUID | str, message: dict) -> None:
    """Send one wire message to everyone following the task."""
    _publish(task_group(task_id), {"type": TASK_EVENT_HANDLER, "message": message})


def publish_task_created(user_id: int, task_id: uuid.UUID | str) -> None:
    """Tell the owner's stream connections about a new task, so they follow it unasked."""
    _publish(user_group(user_id), {"type": USER_TASK_CREATED_HANDLER, "task_id": str(task_id)})


def publish_credentials_changed(change: dict) -> None:
    """Tell every server process that the credentials `change` names may no longer hold."""
    _publish(CREDENTIALS_GROUP, {"type": CREDENTIALS_CHANGED_HANDLER, **change})


def _publish(group: str, envelope: dict) -> None:
    # What is published was committed first, so a failure here loses nothing a client cannot
    # get back by resuming: it is logged, not raised into a task's work.
    started = time.perf_counter()
    try:
        _publisher.run(get_channel_layer().group_send(group, envelope), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("Could not publish %s to %s", envelope["type"], group)
        return
    metrics.PUBLISH_LATENCY.observe(time.perf_counter() - started)


def is_resync(envelope: dict) -> bool:
    return envelope.get("type") == RESYNC_HANDLER


async def group_join(group: str, channel: str) -> None:
    await get_channel_layer().group_add(group, channel)


async def group_leave(group: str, channel: str) -> None:
    await get_channel_layer().group_discard(group, channel)


async def channel_close(channel: str) -> None:
    """Give back a channel its holder is done with (redis_layers.py). A layer without such a call
    (Channels' in-memory one) expires what is queued by itself."""
    close = getattr(get_channel_layer(), "close_channel", None)
    if close is not None:
        await close(channel)


class Listener:
    """A channel of its own in `group`, for code that is not a consumer (an SSE stream, the
    credential watch), with one receive kept across waits: cancelling a pub/sub layer's receive
    drops the channel, and what arrived for it meanwhile."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.channel: str | None = None
        self._layer = get_channel_layer()
        self._receiving: asyncio.Future | None = None

    async def open(self) -> None:
        self.channel = await self._layer.new_channel()
        await self._layer.group_add(self.group, self.channel)

    async def rejoin(self) -> None:
        """The core layer forgets a group's members after its group_expiry; pub/sub never does."""
        await self._layer.group_add(self.group, self.channel)

    async def next(self, timeout: float, *, unless: asyncio.Future | None = None) -> dict | None:
        """The next message, or None after `timeout` seconds or once `unless` is done."""
        if self._receiving is None:
            self._receiving = asyncio.ensure_future(self._layer.receive(self.channel))
        waits = {self._receiving} if unless is None else {self._receiving, unless}
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not self._receiving.done():
            return None
        received, self._receiving = self._receiving, None
        return received.result()

    async def close(self) -> None:
        if self._receiving is not None:
            self._receiving.cancel()
            self._receiving = None
        if self.channel is not None:
            await self._layer.group_discard(self.group, self.channel)
            await channel_close(self.channel)
