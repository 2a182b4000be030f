"""Slow readers (a phone in a tunnel): a client that stops reading while a burst of events is
sent to it. The server holds at most TASKPULSE_WS_MAX_QUEUED_BYTES for it, then closes it with
1013 (tests/test_websocket_protocol.py), resetting the connection a second later if the client
still does not read; the client resumes from its last seq with nothing lost, and the clients
reading alongside get every event."""

import asyncio
import base64
import json
import os
import socket
import struct
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websockets

from tasks_app import services
from tasks_app.models import EventType, Task, TaskEvent
from tasks_app.realtime import messages
from tasks_app.realtime.close_codes import CloseCode
from tests.integration.follower import ResumingFollower
from tests.integration.test_faults import assert_matches_database, submit
from tests.processes import log_in, start_daphne

pytestmark = pytest.mark.integration

EVENTS = 12_000
MESSAGE = "a long step description " * 20  # under the 500-character limit: ~700 bytes a frame
LIMIT = 64 * 1024
# Each stalled reader is sent BURST live events, 8 MB; a hundred would take minutes of the
# server's CPU here.
STALLED = 20
LIVE = 100
BURST = 12_000


@pytest.fixture
def task_with_a_long_history(transactional_db, live_user, monkeypatch) -> Task:
    """A running task with EVENTS events, written at once (not one by one through the services,
    which would take the test minutes): a reader that resumes from 0 is sent a burst of them,
    more than the kernel's send buffer (4 MB at most here) holds."""
    monkeypatch.setattr(services, "_enqueue", lambda task: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    task = services.task_start(task_id=task.id)
    events = []
    for seq in range(task.last_seq + 1, EVENTS + 1):
        task.last_seq, task.progress, task.message = seq, seq / EVENTS * 100, MESSAGE
        events.append(
            TaskEvent(
                task=task,
                seq=seq,
                type=EventType.PROGRESS,
                payload=messages.event_payload(task, EventType.PROGRESS),
            )
        )
    TaskEvent.objects.bulk_create(events, batch_size=2000)
    Task.objects.filter(pk=task.pk).update(last_seq=EVENTS, progress=task.progress, message=MESSAGE)
    yield task
    services.task_complete(task_id=task.id, result=None)


@pytest.fixture
def busy_task(transactional_db, live_user, monkeypatch) -> Task:
    """A running task the test process itself writes events for."""
    monkeypatch.setattr(services, "_enqueue", lambda task: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    yield services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result=None)


@pytest.fixture
def server(process_env, logs_dir, live_user):
    """Daphne of its own, with a small limit, production's pings and room for every client."""
    env = {
        **process_env,
        # Pings as in production, so that it is the limit, not a missed ping, that drops a reader.
        "TASKPULSE_WS_PING_INTERVAL": "20",
        "TASKPULSE_WS_PING_TIMEOUT": "20",
        "TASKPULSE_WS_MAX_QUEUED_BYTES": str(LIMIT),
        "TASKPULSE_MAX_CONNECTIONS_PER_USER": str(STALLED + LIVE + 10),
    }
    daphne = start_daphne(env, logs_dir, "daphne-slow-readers")
    yield daphne
    daphne.stop()


class StalledReader:
    """A WebSocket that reads its handshake and then nothing, with a receive buffer of 4 KB, so
    that what the server sends piles up on the server's side."""

    def __init__(self, base_url: str, path: str, cookies: dict) -> None:
        address = urlsplit(base_url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((address.hostname, address.port))
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {base_url}\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(1)
        assert self.buffer.startswith(b"HTTP/1.1 101"), self.buffer
        self.buffer = b""

    def read_to_the_end(self, timeout: float = 30) -> tuple[list[dict], int | None]:
        """Read again: the messages the server had sent, and the close code it ended with (None
        when it gave up on the close handshake and reset the connection, as it does with a
        client that still does not read a second after the close frame)."""
        self.sock.settimeout(timeout)
        try:
            while chunk := self.sock.recv(65536):
                self.buffer += chunk
        except ConnectionResetError:
            pass
        self.sock.close()
        messages, code, data = [], None, self.buffer
        while len(data) >= 2:
            opcode, length, offset = data[0] & 0x0F, data[1] & 0x7F, 2
            if length == 126:
                (length,), offset = struct.unpack("!H", data[2:4]), 4
            elif length == 127:
                (length,), offset = struct.unpack("!Q", data[2:10]), 10
            payload, data = data[offset : offset + length], data[offset + length :]
            if opcode == 1:
                messages.append(json.loads(payload))
            elif opcode == 8:
                code = struct.unpack("!H", payload[:2])[0]
        return messages, code


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_reader_that_stops_is_dropped_once_it_falls_behind_and_resumes_exactly(
    server, live_user, task_with_a_long_history
):
    http = log_in(server.base_url, live_user)
    task = task_with_a_long_history
    stalled = StalledReader(server.base_url, f"/ws/tasks/{task.id}/?last_seq=0", http.cookies.get_dict())
    time.sleep(3)  # the burst is sent meanwhile, unread

    received, code = stalled.read_to_the_end()

    assert code in (CloseCode.TRY_AGAIN_LATER, None)
    seqs = [message["seq"] for message in received if "seq" in message]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < EVENTS, "cut short, in order"

    async def resume() -> list[int]:
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        url = f"{server.base_url.replace('http', 'ws', 1)}/ws/tasks/{task.id}/?last_seq={seqs[-1]}"
        # Reading ahead without bound: this reader must keep up with the replay's burst against
        # the small limit, or on a loaded machine it is dropped as slow in turn.
        async with websockets.connect(
            url, additional_headers={"Cookie": cookie}, origin=server.base_url, max_queue=None
        ) as ws:
            return [
                json.loads(await asyncio.wait_for(ws.recv(), 10))["seq"] for _ in range(EVENTS - len(seqs))
            ]

    assert seqs + asyncio.run(resume()) == list(range(1, EVENTS + 1))


def test_stalled_readers_hold_bounded_memory_while_live_readers_get_every_event(server, live_user, busy_task):
    http = log_in(server.base_url, live_user)
    stalled = [
        StalledReader(server.base_url, f"/ws/tasks/{busy_task.id}/", http.cookies.get_dict())
        for _ in range(STALLED)
    ]
    before = resident_bytes(server.popen.pid)
    live = [ResumingFollower(http, server.base_url, submit(http)) for _ in range(1)]
    live += [ResumingFollower(http, server.base_url, live[0].task_id) for _ in range(LIVE - 1)]

    async def burst_and_follow():
        burst = asyncio.create_task(asyncio.to_thread(send_a_burst, busy_task))
        completes = await asyncio.gather(*(follower.follow() for follower in live))
        await burst
        return completes

    completes = asyncio.run(burst_and_follow())
    grown = resident_bytes(server.popen.pid) - before

    for follower, complete in zip(live, completes, strict=True):
        assert_matches_database(follower, complete)
    # Each was dropped: without the limit, each would still be open, waiting to be read.
    assert all(len(reader.read_to_the_end(timeout=5)[0]) < BURST for reader in stalled)
    # Unbounded, each stalled reader's backlog past what the kernel holds (4 MB) stayed in the
    # server: about STALLED x (BURST x 0.7 KB - 4 MB). Bounded, at most STALLED x LIMIT.
    assert grown < 40 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MiB"


def send_a_burst(task: Task) -> None:
    """BURST live events of the followed task, as fast as the database takes them."""
    from django.db import connection

    try:
        for number in range(BURST):
            services.task_progress(task_id=task.id, progress=50, current=number, total=BURST, message=MESSAGE)
    finally:
        connection.close()
