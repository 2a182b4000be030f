"""WebSocket consumers: authenticate, authorise, join groups, replay from history, forward."""

import asyncio
import json
import logging
import uuid
from collections import OrderedDict
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from tasks_app import metrics, selectors
from tasks_app.access import credential_checks
from tasks_app.db.threads import consumer_database
from tasks_app.realtime import (
    broadcast,
    client_language,
    client_messages,
    connection_slots,
    messages,
    resume,
)
from tasks_app.realtime.close_codes import CloseCode
from tasks_app.realtime.follow import TaskFollower
from tasks_app.realtime.rate_limit import TokenBucket

logger = logging.getLogger(__name__)

_EVENT_TYPES = ("progress", "complete")
# Enough for every event of a few hundred tasks: a storm of resumes replays the same recent events
# of a task to every socket following it.
_ENCODED_EVENTS_KEPT = 4096
_encoded_events: OrderedDict[tuple, str] = OrderedDict()


def _encoded(message: dict) -> str:
    """The message's JSON text. A task event is a persisted event, so the same task and seq is
    the same message: it is encoded once for the whole process, whether a fan-out sends it to
    1,000 sockets or 1,000 resuming sockets are sent it from history. The consumers of a process
    share one event loop, so the cache needs no lock."""
    if message["type"] not in _EVENT_TYPES:
        return json.dumps(message)
    key = (message["task_id"], message["seq"])
    text = _encoded_events.get(key)
    if text is None:
        text = _encoded_events[key] = json.dumps(message)
        if len(_encoded_events) > _ENCODED_EVENTS_KEPT:
            _encoded_events.popitem(last=False)
    return text


class ProtocolConsumer(AsyncWebsocketConsumer):
    """What every socket of the protocol does: authenticate and hold a connection slot, keep
    checking that the session or token is still valid, take JSON frames within the rate limit,
    answer errors for bad ones, ping/pong and echo, send a `ping` heartbeat whenever the
    connection has been idle for TASKPULSE_HEARTBEAT_SECONDS (which lets a browser notice a dead
    connection), and send what a TaskFollower lets through."""

    _heartbeat: asyncio.Task | None = None
    _groups: set[str]
    _last_sent = 0.0
    _slot_user_id: int | None = None
    _bucket: TokenBucket | None = None
    _strikes = 0
    _client_language: str | None = None

    async def __call__(self, scope, receive, send) -> None:
        self._groups = set()
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Here, not in disconnect(): a connect() that raised never gets a disconnect. And
            # Channels gives the channel back only by cancelling a receive waiting on it, which a
            # consumer whose last receive had just returned does not have (redis_layers.py).
            if getattr(self, "channel_name", None) is not None:
                await self._give_back_channel()

    async def _give_back_channel(self) -> None:
        await self._tolerating_redis_away(broadcast.channel_close(self.channel_name))
        for group in list(self._groups):
            await self._tolerating_redis_away(self.leave(group))

    async def _tolerating_redis_away(self, step) -> None:
        try:
            await step
        except Exception:
            # What the process holds is forgotten all the same (before the layer's first await),
            # and Redis dropped the subscriptions with the connection.
            logger.warning("Could not give back channel %s", self.channel_name, exc_info=True)

    async def join(self, group: str) -> None:
        """Join the group; left by leave(), or when the consumer ends (even if joining fails)."""
        self._groups.add(group)
        await broadcast.group_join(group, self.channel_name)

    async def leave(self, group: str) -> None:
        self._groups.discard(group)
        await broadcast.group_leave(group, self.channel_name)

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections before every handler, through a thread of
        # its own: a thread hop per message, the largest cost under fan-out (docs/performance.md).
        # Every database call here goes through
        # db.threads.consumer_database, which closes stale connections around the call itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def accept_user(self):
        """Accept the handshake and return the authenticated user; or close with 4401 (not
        authenticated) or 4429 (the user has too many connections) and return None. Accepting
        first is what lets these close codes reach the client."""
        credentials = self.scope["credentials"]  # set by access.websocket.HandshakeAuthMiddleware
        user = self.scope.get("user")
        authenticated = user is not None and user.is_authenticated
        # The slot is taken before the handshake completes, so connections get slots in the
        # order they connect.
        has_slot = authenticated and await connection_slots.slot_take(
            user_id=user.pk, connection_id=self.channel_name
        )
        await self.accept(subprotocol=credentials.subprotocol)
        if not authenticated:
            logger.info("WebSocket %s refused: not authenticated", self.scope["path"])
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return None
        if not has_slot:
            logger.info("WebSocket %s refused: user %s has too many connections", self.scope["path"], user.pk)
            await self.close(code=CloseCode.TOO_MANY)
            return None
        self._slot_user_id = user.pk
        logger.info(
            "WebSocket %s opened by user %s (%s)",
            self.scope["path"],
            user.pk,
            credentials.method,
        )
        self._bucket = TokenBucket(
            rate=settings.TASKPULSE_WS_MESSAGES_PER_SECOND, burst=settings.TASKPULSE_WS_MESSAGE_BURST
        )
        await credential_checks.watch().add(self, credentials)
        return user

    async def start_heartbeat(self) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        self._heartbeat = asyncio.create_task(self._send_heartbeats())

    async def disconnect(self, code: int) -> None:
        credential_checks.watch().discard(self)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self._slot_user_id is not None:
            await connection_slots.slot_release(user_id=self._slot_user_id, connection_id=self.channel_name)
            logger.info("WebSocket %s of user %s closed (%s)", self.scope["path"], self._slot_user_id, code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._bucket is not None and not self._bucket.take():
            await self._refuse_over_rate(self._bucket)
            return
        self._strikes = 0
        with translation.override(self._language()):
            await self._answer(text_data)

    async def _answer(self, text_data: str | None) -> None:
        try:
            message_type, message = client_messages.parse(text_data)
            if message_type == "ping":
                await self.send_json(messages.pong())
            elif message_type == "echo":
                await self.send_json(messages.echo(message.get("data")))
            elif message_type != "pong":
                await self.handle(message_type, message)
        except client_messages.ProtocolError as exc:
            await self.send_json(messages.error(exc.code, exc.message, details=exc.details))

    async def _refuse_over_rate(self, bucket: TokenBucket) -> None:
        """Drop the message with a `rate_limited` error; close with 4429 a client that keeps on."""
        self._strikes += 1
        if self._strikes > settings.TASKPULSE_WS_FLOOD_STRIKES:
            logger.info("WebSocket %s closed: user %s kept flooding", self.scope["path"], self._slot_user_id)
            await self.close(code=CloseCode.TOO_MANY)
            return
        retry_after = round(bucket.seconds_until_next(), 3)
        with translation.override(self._language()):
            refusal = messages.error(
                "rate_limited",
                _("Too many messages; this one was dropped."),
                details={"retry_after": retry_after},
            )
        await self.send_json(refusal)

    def _language(self) -> str:
        """The client's language, for the errors it is sent (client_language.py)."""
        if self._client_language is None:
            self._client_language = client_language.language_of(self.scope)
        return self._client_language

    async def credentials_checked(self, valid: bool) -> None:
        """The outcome of a credentials check (see credential_checks): close with 4401 once the
        session has logged out or expired or the token was revoked; otherwise renew the
        connection's slot."""
        if valid:
            if self._slot_user_id is not None:
                await connection_slots.slot_take(user_id=self._slot_user_id, connection_id=self.channel_name)
            return
        logger.info(
            "WebSocket %s closed: user %s's %s is no longer valid",
            self.scope["path"],
            self._slot_user_id,
            self.scope["credentials"].method,
        )
        await self.close(code=CloseCode.UNAUTHENTICATED)

    async def handle(self, message_type: str, message: dict) -> None:
        """The message types particular to one endpoint; raise ProtocolError to answer an error."""
        raise NotImplementedError

    async def send_json(self, message: dict) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        await self.send(text_data=_encoded(message))
        metrics.MESSAGES_SENT.labels("websocket", message["type"]).inc()
        if message["type"] == "error":
            metrics.ERRORS.labels(message["code"]).inc()

    async def close(self, code=None, reason=None) -> None:
        if code not in (None, CloseCode.NORMAL):
            metrics.ERRORS.labels(str(code)).inc()
        # A plain int: Autobahn refuses any other type for a close code, an int enum included.
        await super().close(code=None if code is None else int(code), reason=reason)

    async def send_all(self, follower: TaskFollower, outgoing: list[dict]) -> None:
        for message in outgoing:
            await self.send_json(message)
        if outgoing and follower.finished:
            await self.task_finished(follower)

    async def task_finished(self, follower: TaskFollower) -> None:
        """Called once a followed task's terminal message has been sent."""

    def followed(self) -> list[TaskFollower]:
        """The tasks this socket follows now."""
        return []

    async def channel_layer_resync(self, message: dict) -> None:
        """The process's connection to Redis came back (redis_layers.py): events published while
        it was away never arrived, so each followed task's are read from history."""
        for follower in self.followed():
            await self.send_all(follower, await follower.opening(str(follower.sent_seq)))

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
    """`/ws/tasks/<task_id>/`: one task's snapshot (or missed events), live progress, complete,
    then a 1000 close."""

    follower: TaskFollower | None = None

    async def connect(self) -> None:
        user = await self.accept_user()
        if user is None:
            return
        try:
            task_id = uuid.UUID(self.scope["url_route"]["kwargs"]["task_id"])
        except ValueError:
            await self.close(code=CloseCode.NOT_FOUND)
            return
        # Join before reading history, so an event committed meanwhile arrives live rather than
        # never. No event is handled before connect() returns, and none after a refusal.
        group = broadcast.task_group(task_id)
        await self.join(group)
        follower = TaskFollower(task_id)
        opening = await follower.opening_if_visible(user, self._last_seq())
        if opening is None:
            await self.leave(group)
            await self.close(code=CloseCode.NOT_FOUND)
            return
        self.follower = follower
        await self.send_all(self.follower, opening)
        if not self.follower.finished:
            await self.start_heartbeat()

    async def handle(self, message_type: str, message: dict) -> None:
        if self.follower is None:  # the task was not found, and the socket is closing
            return
        if message_type != "get_status":
            raise client_messages.ProtocolError(
                "unknown_type",
                _("%(type)s is for the multiplexed stream, /ws/stream/.") % {"type": message_type},
            )
        task = await consumer_database(selectors.task_visible_to)(
            user=self.scope["user"], task_id=self.follower.task_id
        )
        if task is None:  # deleted while this socket was open
            await self.close(code=CloseCode.NOT_FOUND)
            return
        await self.send_all(
            self.follower, self.follower.current(await consumer_database(resume.snapshot)(task))
        )

    async def task_event(self, event: dict) -> None:
        """A persisted event published to this task's group (see broadcast.publish_task_event)."""
        if self.follower is not None:  # None: the task was not found, and the socket is closing
            await self.send_all(self.follower, await self.follower.live(event["message"]))

    async def task_finished(self, follower: TaskFollower) -> None:
        await self.close(code=CloseCode.NORMAL)

    def followed(self) -> list[TaskFollower]:
        return [] if self.follower is None or self.follower.finished else [self.follower]

    def _last_seq(self) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("last_seq")
        return values[-1] if values else None


class StreamConsumer(ProtocolConsumer):
    """`/ws/stream/`: one connection for all of a user's tasks.

    `connection` first; then `subscribe` (with an optional `last_seq`) and `unsubscribe` per task,
    at most TASKPULSE_STREAM_MAX_SUBSCRIPTIONS at once. Tasks the user creates while connected
    are subscribed to without asking. A task is unsubscribed by itself once its `complete` (or
    terminal snapshot) has been sent.
    """

    followers: dict[str, TaskFollower]

    async def connect(self) -> None:
        user = await self.accept_user()
        if user is None:
            return
        self.followers = {}
        await self.join(broadcast.user_group(user.pk))
        await self.send_json(messages.connection(connection_id=self.channel_name, user=user.get_username()))
        await self.start_heartbeat()

    async def handle(self, message_type: str, message: dict) -> None:
        task_id = client_messages.task_id_of(message)
        if message_type == "subscribe":
            await self._subscribe(task_id, client_messages.last_seq_of(message), answer=True)
        elif message_type == "unsubscribe":
            await self._unsubscribe(task_id)
            await self.send_json(messages.subscription(task_id, subscribed=False, recovered=True))
        elif message_type == "get_status":
            task = await self._visible_task(task_id)
            await self.send_json(await consumer_database(resume.snapshot)(task))

    async def task_event(self, event: dict) -> None:
        follower = self.followers.get(event["message"]["task_id"])
        if follower is not None:
            await self.send_all(follower, await follower.live(event["message"]))

    async def user_task_created(self, event: dict) -> None:
        """A task this user just created, here or in another tab: follow it from its first event."""
        if event["task_id"] not in self.followers:
            await self._subscribe(event["task_id"], "0", answer=False)

    async def task_finished(self, follower: TaskFollower) -> None:
        await self._unsubscribe(str(follower.task_id))

    def followed(self) -> list[TaskFollower]:
        return list(getattr(self, "followers", {}).values())

    async def _subscribe(self, task_id: str, last_seq: str | None, *, answer: bool) -> None:
        task = await self._visible_task(task_id)
        task_id = str(task.id)
        if (
            task_id not in self.followers
            and len(self.followers) >= settings.TASKPULSE_STREAM_MAX_SUBSCRIPTIONS
        ):
            limit = settings.TASKPULSE_STREAM_MAX_SUBSCRIPTIONS
            raise client_messages.ProtocolError(
                "too_many_subscriptions",
                _("At most %(limit)s tasks per connection; unsubscribe one first.") % {"limit": limit},
            )
        # One follower per task per connection: a second subscribe (the page asking for a task the
        # stream already follows unasked) never sends an event twice.
        follower = self.followers.setdefault(task_id, TaskFollower(task.id))
        await self.join(broadcast.task_group(task.id))
        opening = await follower.opening(last_seq)
        if answer:
            recovered = not any(message.get("recovered") is False for message in opening)
            await self.send_json(messages.subscription(task_id, subscribed=True, recovered=recovered))
        await self.send_all(follower, opening)

    async def _unsubscribe(self, task_id: str) -> None:
        if self.followers.pop(task_id, None) is not None:
            await self.leave(broadcast.task_group(task_id))

    async def _visible_task(self, task_id: str):
        task = await consumer_database(selectors.task_visible_to)(user=self.scope["user"], task_id=task_id)
        if task is None:
            raise client_messages.ProtocolError("not_found", _("No such task."), {"task_id": task_id})
        return task
