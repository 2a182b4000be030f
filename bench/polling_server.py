"""Baseline: the seed design of a consumer that re-reads its task from the database every second.

    daphne bench.polling_server:application

Only the benchmark serves it. It authenticates and authorises as the product does (session,
owner or staff), then sends the task's state whenever a read finds a newer seq, and closes once
the task has ended. No channel layer, no events: what the product replaced.
"""

import asyncio
import os

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter

from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from tasks_app import selectors  # noqa: E402
from tasks_app.models import Task  # noqa: E402
from tasks_app.realtime import messages  # noqa: E402

POLL_SECONDS = 1.0


class PollingTaskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.poller = None
        user = self.scope["user"]
        task = user.is_authenticated and await database_sync_to_async(selectors.task_visible_to)(
            user=user, task_id=self.scope["url_route"]["kwargs"]["task_id"]
        )
        await self.accept()
        if not task:
            await self.close(code=4404)
            return
        self.poller = asyncio.create_task(self._poll(task.pk))

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()

    async def _poll(self, task_id) -> None:
        seen_seq = None
        while True:
            task = await database_sync_to_async(Task.objects.get)(pk=task_id)
            if task.last_seq != seen_seq:
                seen_seq = task.last_seq
                await self.send_json(messages.snapshot(task))
            if task.is_terminal:
                await self.close(code=1000)
                return
            await asyncio.sleep(POLL_SECONDS)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(
            URLRouter([path("ws/poll/<str:task_id>/", PollingTaskConsumer.as_asgi())])
        ),
    }
)
