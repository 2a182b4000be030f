"""A careful client for the fault tests: follows one task over /ws/tasks/<id>/, reconnects with
its last seq whenever the connection drops, and records every (task_id, seq) it received."""

import asyncio
import json
from collections.abc import Awaitable, Callable

import requests
import websockets

RECONNECT_DELAY = 0.3
PATIENCE_SECONDS = 90


class ResumingFollower:
    def __init__(self, http: requests.Session, base_url: str, task_id: str, *, max_queue: int = 16) -> None:
        self.max_queue = max_queue  # frames read ahead of the application, as websockets buffers them
        self.http = http
        self.base_url = base_url
        self.task_id = task_id
        self.received: list[tuple[str, int]] = []
        self.messages: list[dict] = []
        self.connections = 0
        self.close_codes: list[int | None] = []  # of every connection the server ended
        self.last_seq = 0

    async def follow(
        self, fault: Callable[["ResumingFollower", object], Awaitable[None]] | None = None
    ) -> dict:
        """Follow to the `complete`, from seq 1 (last_seq=0). `fault(self, ws)` runs after every
        message, so a test can break something mid-task. Returns the complete message."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE_SECONDS
        while loop.time() < deadline:
            try:
                complete = await self._one_connection(fault)
            except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, TimeoutError):
                complete = None
            if complete is not None:
                return complete
            await asyncio.sleep(RECONNECT_DELAY)
        raise AssertionError(f"no complete within {PATIENCE_SECONDS} s; received {self.received}")

    async def _one_connection(self, fault) -> dict | None:
        url = f"{self.base_url.replace('http', 'ws', 1)}/ws/tasks/{self.task_id}/?last_seq={self.last_seq}"
        cookie = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie}, origin=self.base_url, max_queue=self.max_queue
        ) as ws:
            self.connections += 1
            try:
                return await self._read(ws, fault)
            finally:
                self.close_codes.append(ws.close_code)

    async def _read(self, ws, fault) -> dict | None:
        async for frame in ws:
            message = json.loads(frame)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            self.messages.append(message)
            if message["type"] in ("progress", "complete"):
                self.received.append((message["task_id"], message["seq"]))
            if "seq" in message:
                self.last_seq = message["seq"]
            if message["type"] == "complete":
                return message
            if fault is not None:
                await fault(self, ws)
        return None

    def assert_exactly_once_up_to(self, final_seq: int) -> None:
        assert self.received == [(self.task_id, seq) for seq in range(1, final_seq + 1)], self.received
