"""Server-Sent Events for one task: GET /sse/tasks/<task_id>/.

An async view, so that a waiting client holds neither a thread nor a database connection:
the database is read only to authorise and to replay history, and live events come from the
channel layer on Daphne's event loop. `id:` lines carry each event's seq, so the browser's
automatic reconnect sends `Last-Event-ID` and resumes exactly.
"""

import asyncio
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from tasks_app import broadcast, selectors
from tasks_app.follow import TaskFollower

# How long a browser waits before reconnecting after the stream ends or drops.
RETRY_MILLISECONDS = 3000


async def task_events(request: HttpRequest, task_id: str) -> HttpResponse:
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Log in first.", status=401, content_type="text/plain")
    task = await sync_to_async(selectors.task_visible_to)(user=user, task_id=task_id)
    if task is None:
        return HttpResponse("No such task.", status=404, content_type="text/plain")
    last_seq = request.headers.get("Last-Event-ID") or request.GET.get("last_seq")
    response = StreamingHttpResponse(
        _stream(TaskFollower(task.id), last_seq), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a buffering proxy (nginx) would hold events back
    return response


def format_event(message: dict) -> str:
    return f"id: {message['seq']}\nevent: {message['type']}\ndata: {json.dumps(message)}\n\n"


async def _stream(follower: TaskFollower, last_seq: str | None) -> AsyncIterator[str]:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = broadcast.task_group(follower.task_id)
    # Join before reading history, so an event committed meanwhile arrives live rather than never.
    await layer.group_add(group, channel)
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        for message in await follower.opening(last_seq):
            yield format_event(message)
        while not follower.finished:
            try:
                envelope = await asyncio.wait_for(
                    layer.receive(channel), settings.TASKPULSE_HEARTBEAT_SECONDS
                )
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            for message in await follower.live(envelope["message"]):
                yield format_event(message)
    finally:
        await layer.group_discard(group, channel)
