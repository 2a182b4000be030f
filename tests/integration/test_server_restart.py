"""What a client sees when the server is stopped for a deploy or restart."""

import asyncio

import pytest
import websockets

from tasks_app import services
from tests.integration.test_live_progress import _open

pytestmark = pytest.mark.integration


def test_stopping_the_server_closes_sockets_with_1012_so_clients_reconnect_at_once(
    http, daphne_server, live_user, monkeypatch
):
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    ws_url = f"{http.base_url.replace('http', 'ws')}/ws/tasks/{task.id}/"

    async def close_code_on_stop() -> int:
        async with await _open(http, ws_url) as ws:
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
