"""Server-Sent Events for one task: GET /sse/tasks/<task_id>/.

An async view, so that a waiting client holds neither a thread nor a database connection:
the database is read only to authorise and to replay history, and live events come from the
channel layer on Daphne's event loop. `id:` lines carry each event's seq, so the browser's
automatic reconnect sends `Last-Event-ID` and resumes exactly.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from tasks_app import metrics, selectors
from tasks_app.access import credential_checks
from tasks_app.access.credentials import Credentials, request_credentials
from tasks_app.access.origins import request_origin_allowed
from tasks_app.db.threads import consumer_database
from tasks_app.realtime import broadcast, connection_slots
from tasks_app.realtime.follow import TaskFollower

logger = logging.getLogger(__name__)

# How long a browser waits before reconnecting after the stream ends or drops.
RETRY_MILLISECONDS = 3000


async def task_events(request: HttpRequest, task_id: str) -> HttpResponseBase:
    # On the consumers' database threads, as every read here: through request.auser() and
    # sync_to_async, each open stream held a PostgreSQL connection of its own until it ended.
    user = await consumer_database(_user_of)(request)
    if not user.is_authenticated:
        return HttpResponse(_("Log in first."), status=401, content_type="text/plain")
    if not request_origin_allowed(request):
        logger.info("SSE %s refused: origin %r not allowed", request.path, request.headers.get("Origin"))
        metrics.ERRORS.labels("403").inc()
        return HttpResponse(_("This site may not open the stream."), status=403, content_type="text/plain")
    task = await consumer_database(selectors.task_visible_to)(user=user, task_id=task_id)
    if task is None:
        return HttpResponse(_("No such task."), status=404, content_type="text/plain")
    connection_id = f"{connection_slots.SSE_PREFIX}{uuid.uuid4().hex}"
    if not await connection_slots.slot_take(user_id=user.pk, connection_id=connection_id):
        logger.info("SSE %s refused: user %s has too many connections", request.path, user.pk)
        metrics.ERRORS.labels("429").inc()
        response = HttpResponse(_("Too many open connections."), status=429, content_type="text/plain")
        response["Retry-After"] = str(connection_slots.lease_seconds())
        return response
    last_seq = request.headers.get("Last-Event-ID") or request.GET.get("last_seq")
    held = _HeldCredentials(request_credentials(request, user), user_id=user.pk, connection_id=connection_id)
    streaming = StreamingHttpResponse(
        _stream(TaskFollower(task.id), last_seq, held), content_type="text/event-stream"
    )
    streaming["Cache-Control"] = "no-cache"
    streaming["X-Accel-Buffering"] = "no"  # a buffering proxy (nginx) would hold events back
    return streaming


def _user_of(request: HttpRequest):
    """The request's user, looked up (its session, then the user) on the calling thread."""
    return request.user if request.user.is_authenticated else AnonymousUser()


def format_event(message: dict) -> str:
    metrics.MESSAGES_SENT.labels("sse", message["type"]).inc()
    return f"id: {message['seq']}\nevent: {message['type']}\ndata: {json.dumps(message)}\n\n"


async def _stream(
    follower: TaskFollower, last_seq: str | None, held: "_HeldCredentials"
) -> AsyncIterator[str]:
    """The events, until the task's complete or until the session or token stops being valid
    (credential_checks; the browser's reconnect then gets 401)."""
    listener = broadcast.Listener(broadcast.task_group(follower.task_id))
    credentials = held.credentials
    # Join before reading history, so an event committed meanwhile arrives live rather than never.
    await listener.open()
    revoked = asyncio.ensure_future(held.revoked.wait())
    try:
        await credential_checks.watch().add(held, credentials)
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        for message in await follower.opening(last_seq):
            yield format_event(message)
        while not follower.finished:
            envelope = await listener.next(settings.TASKPULSE_HEARTBEAT_SECONDS, unless=revoked)
            if revoked.done():
                logger.info(
                    "SSE of task %s ended: user %s's %s is no longer valid",
                    follower.task_id,
                    credentials.user_id,
                    credentials.method,
                )
                return
            if envelope is None:
                yield ": heartbeat\n\n"
                continue
            if broadcast.is_resync(envelope):
                outgoing = await follower.opening(str(follower.sent_seq))
            else:
                outgoing = await follower.live(envelope["message"])
            for message in outgoing:
                yield format_event(message)
    finally:
        revoked.cancel()
        credential_checks.watch().discard(held)
        await listener.close()
        await connection_slots.slot_release(user_id=held.user_id, connection_id=held.connection_id)


class _HeldCredentials:
    """A stream's side of the credential watch: renews its slot, or marks it revoked."""

    def __init__(self, credentials: Credentials, *, user_id: int, connection_id: str) -> None:
        self.credentials = credentials
        self.user_id = user_id
        self.connection_id = connection_id
        self.revoked = asyncio.Event()

    async def credentials_checked(self, valid: bool) -> None:
        if valid:
            await connection_slots.slot_take(user_id=self.user_id, connection_id=self.connection_id)
        else:
            self.revoked.set()
