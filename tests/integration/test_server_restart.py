"""What a client sees when the server is stopped for a deploy or restart."""

import asyncio

import pytest
import redis
import websockets

from django.conf import settings

from tasks_app import services
from tests.helpers import open_websocket

pytestmark = pytest.mark.integration


def test_stopping_the_server_closes_sockets_with_1012_so_clients_reconnect_at_once(
    http, daphne_server, live_user, monkeypatch
):
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    ws_url = f"{http.base_url.replace('http', 'ws')}/ws/tasks/{task.id}/"

    async def close_code_on_stop() -> int:
        async with await open_websocket(http, ws_url) as ws:
            await ws.recv()
            await asyncio.to_thread(daphne_server.stop, keep_log_open=True)
            with pytest.raises(websockets.ConnectionClosed):
                while True:  # heartbeats may come first
                    await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    try:
        code = asyncio.run(close_code_on_stop())
    finally:
        daphne_server.start_again(daphne_server.answers)
    services.task_cancel(task_id=task.id)

    assert code == 1012


def test_stopping_the_server_releases_its_sockets_connection_slots(
    http, daphne_server, live_user, monkeypatch
):
    """Else the same user's reconnecting clients would find them still held, and some be refused
    with 4429 until the old slots' leases ended."""
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    ws_url = f"{http.base_url.replace('http', 'ws')}/ws/tasks/{task.id}/"
    slots = redis.Redis.from_url(settings.REDIS_URL)
    key = f"taskpulse:connections:{live_user.pk}"

    async def slots_held_before_and_after_stop() -> tuple[int, int]:
        sockets = [await open_websocket(http, ws_url) for _ in range(3)]
        for ws in sockets:
            await ws.recv()
        before = slots.zcard(key)
        # Stopped from the clients' own loop, so that none answers the server's close: as with a
        # crowd on slow links, their sockets are not closed before the server stops.
        daphne_server.stop(keep_log_open=True)
        for ws in sockets:
            await ws.close()
        return before, slots.zcard(key)

    try:
        before, after = asyncio.run(slots_held_before_and_after_stop())
    finally:
        daphne_server.start_again(daphne_server.answers)
    services.task_cancel(task_id=task.id)

    assert (before, after) == (3, 0)
