"""What a browser of each design does to follow a task, for the load process (bench/load.py).

`await open_stream(design, ...)` returns once the client is subscribed: from then on, whatever
its task reports reaches it. Iterating the stream gives the task's messages in one shape,
`{"task_id", "seq", "message", "status"}`; it ends when the connection does. `resume` is what
the design's own client sends to carry on after a drop (Taskpulse's `last_seq`, the SSE
`Last-Event-ID`); designs without one start again from whatever comes next.

- `taskpulse`: a WebSocket on /ws/tasks/<id>/?last_seq=, subscribed when the server answers the
  `ping` sent on opening (it does after the socket has joined and been sent what it missed);
- `db-poll`: the seed design's consumer that re-reads its task every second (bench/
  polling_server.py), /ws/poll/<id>/, subscribed at its first snapshot;
- `celery-progress-ws`: celery-progress's WebSocket mode, /ws/progress/<id>/, sending
  `check_task_completion` on opening as its websockets.js does;
- `celery-progress-http`: celery-progress's polling, GET /celery-progress/<id>/ every 500 ms
  (its celery_progress.js default) on one kept-alive connection;
- `eventstream`: django-eventstream's Server-Sent Events, GET /events/<id>/ with Last-Event-ID,
  subscribed at its `stream-open` event;
- `socketio`: a Socket.IO client over WebSocket (Engine.IO 4), joining the task's room with an
  acknowledged `join` event.
"""

import asyncio
import json
import random
import time

import websockets

POLL_SECONDS = 0.5
TERMINAL = {"completed", "failed", "cancelled"}


class Closed(Exception):
    """The connection ended."""


async def open_stream(
    design: str, base_url: str, cookie: str, task_id: str, resume=None, timeout: float = 120
):
    stream = STREAMS[design](base_url, cookie, task_id)
    await asyncio.wait_for(stream.open(resume), timeout)
    return stream


class Stream:
    def __init__(self, base_url: str, cookie: str, task_id: str) -> None:
        self.base_url = base_url
        self.cookie = cookie
        self.task_id = task_id
        self.resume = None
        self._pending: list[dict] = []

    def __aiter__(self):
        return self

    async def __anext__(self) -> dict:
        while not self._pending:
            try:
                self._pending.extend(await self._receive())
            except Closed:
                raise StopAsyncIteration from None
        return self._pending.pop(0)

    @property
    def close_code(self) -> int | None:
        return None

    def message(self, seq, message, status) -> dict:
        return {"task_id": self.task_id, "seq": seq, "message": message, "status": status}


class WebSocketStream(Stream):
    path = ""

    async def connect(self, path: str):
        self.ws = await websockets.connect(
            self.base_url.replace("http", "ws", 1) + path,
            additional_headers={"Cookie": self.cookie},
            origin=self.base_url,
            open_timeout=120,
            ping_interval=None,
            max_size=None,
        )

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def frame(self) -> str:
        try:
            return await self.ws.recv()
        except websockets.ConnectionClosed as closed:
            raise Closed(f"code {closed.rcvd.code if closed.rcvd else None}") from None

    def abort(self) -> None:
        self.ws.transport.abort()

    async def close(self) -> None:
        await self.ws.close()


class TaskpulseStream(WebSocketStream):
    async def open(self, resume) -> None:
        self.resume = resume or 0
        await self.connect(f"/ws/tasks/{self.task_id}/?last_seq={self.resume}")
        await self.ws.send('{"type":"ping"}')
        while True:
            try:
                messages = await self._receive(pong=True)
            except Closed:
                # A task that ended meanwhile: its end was sent, then a 1000 close, before the pong.
                if any(message.get("status") in TERMINAL for message in self._pending):
                    return
                raise
            if messages is None:
                return
            self._pending.extend(messages)

    async def _receive(self, pong: bool = False):
        message = json.loads(await self.frame())
        if message["type"] == "pong":
            return None if pong else []
        if message["type"] == "ping":
            await self.ws.send('{"type":"pong"}')
            return []
        if message.get("seq") is not None:
            self.resume = max(self.resume, message["seq"])
        return [message]


class DBPollStream(WebSocketStream):
    async def open(self, resume) -> None:
        await self.connect(f"/ws/poll/{self.task_id}/")
        self._pending.extend(await self._receive())

    async def _receive(self):
        return [json.loads(await self.frame())]


def _celery_progress_message(stream: Stream, state: dict) -> dict:
    progress = state.get("progress") or {}
    status = "completed" if state.get("complete") else "running"
    return stream.message(progress.get("current"), progress.get("description", ""), status)


class CeleryProgressWebSocketStream(WebSocketStream):
    async def open(self, resume) -> None:
        # Its consumer joins the task's group before it accepts: subscribed once open.
        await self.connect(f"/ws/progress/{self.task_id}/")
        await self.ws.send(json.dumps({"type": "check_task_completion"}))

    async def _receive(self):
        return [_celery_progress_message(self, json.loads(await self.frame()))]


class SocketIOStream(WebSocketStream):
    async def open(self, resume) -> None:
        await self.connect("/socket.io/?EIO=4&transport=websocket")
        if not (await self.frame()).startswith("0"):  # Engine.IO's open packet
            raise Closed
        await self.ws.send("40")  # Socket.IO connect to the default namespace
        while not (await self.frame()).startswith("40"):
            pass
        await self.ws.send("420" + json.dumps(["join", self.task_id]))
        while True:
            packet = await self.frame()
            if packet.startswith("430"):  # the join's acknowledgement
                return
            self._pending.extend(await self._handle(packet))

    async def _receive(self):
        return await self._handle(await self.frame())

    async def _handle(self, packet: str) -> list[dict]:
        if packet == "2":  # Engine.IO ping: a client that does not answer is dropped
            await self.ws.send("3")
            return []
        if packet.startswith("42"):
            name, data = json.loads(packet[2:])
            if name == "progress":
                return [self.message(data["seq"], data["message"], data["status"])]
        return []


class HTTPStream(Stream):
    async def connect(self) -> None:
        self.host = self.base_url.removeprefix("http://")
        self.reader, self.writer = await asyncio.open_connection(*self.host.split(":"))

    def request(self, path: str, headers: str = "") -> None:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n{headers}\r\n".encode()
        )

    def abort(self) -> None:
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()


class CeleryProgressPollingStream(HTTPStream):
    async def open(self, resume) -> None:
        self.path = f"/celery-progress/{self.task_id}/"
        self.seen = None
        await self.connect()
        self._pending.extend(await self._poll())

    async def _receive(self):
        await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - self.asked)))
        return await self._poll()

    async def _poll(self) -> list[dict]:
        self.asked = time.monotonic()
        self.request(self.path, "Accept: application/json\r\n")
        return self._changed(await self._response())

    async def _response(self) -> dict:
        try:
            return await read_json_response(self.reader)
        except (OSError, ValueError, asyncio.IncompleteReadError) as error:
            raise Closed from error

    def _changed(self, state: dict) -> list[dict]:
        message = _celery_progress_message(self, state)
        key = (message["seq"], message["status"])
        if key == self.seen:
            return []
        self.seen = key
        return [message]


class EventStreamStream(HTTPStream):
    async def open(self, resume) -> None:
        self.resume = resume
        headers = "Accept: text/event-stream\r\n" + (f"Last-Event-ID: {resume}\r\n" if resume else "")
        await self.connect()
        self.request(f"/events/{self.task_id}/", headers)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise Closed(f"HTTP {status}")
        self.chunked = b"chunked" in head.lower()
        self.buffer = ""
        while True:
            event = await self._event()
            if event[0] == "stream-open":
                return
            self._pending.extend(self._messages(event))

    async def _receive(self):
        return self._messages(await self._event())

    def _messages(self, event) -> list[dict]:
        kind, event_id, data = event
        if kind != "message" or not data:  # a comment (the stream's padding), a keep-alive
            return []
        if event_id:
            self.resume = event_id
        data = json.loads(data)
        return [self.message(data["seq"], data["message"], data["status"])]

    async def _event(self) -> tuple[str, str | None, str]:
        while "\n\n" not in self.buffer:
            self.buffer += await self._chunk()
        block, self.buffer = self.buffer.split("\n\n", 1)
        kind, event_id, data = "message", None, []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                kind = value
            elif field == "id":
                event_id = value
            elif field == "data":
                data.append(value)
        return kind, event_id, "\n".join(data)

    async def _chunk(self) -> str:
        try:
            if not self.chunked:
                data = await self.reader.read(65536)
                if not data:
                    raise Closed
                return data.decode()
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                raise Closed
            data = await self.reader.readexactly(size + 2)
            return data[:-2].decode()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise Closed from error


def _full_jitter(attempt: int) -> float:
    """taskpulse-client.js: a random share of a cap of 0.5 s that doubles with each failed
    attempt, up to 15 s."""
    return random.random() * min(15.0, 0.5 * 2**attempt)


def _socketio_backoff(attempt: int) -> float:
    """socket.io-client's Manager defaults: 1 s doubling to 5 s, each off by up to half of
    itself either way (reconnectionDelay, reconnectionDelayMax, randomizationFactor)."""
    delay = 1.0 * 2**attempt
    deviation = random.random() * 0.5 * delay
    return min(5.0, delay + random.choice((-deviation, deviation)))


# How long each design's own client waits before it reconnects, by failed attempts since its
# last good connection. celery-progress's polling tries a failed request again after 1 s (its
# celery_progress.js); its websockets.js never reconnects, and the load, like a user reloading
# the page, does so after 1 s too. django-eventstream's ReconnectingEventSource waits a random
# share of 3 s.
RECONNECT_DELAYS = {
    "taskpulse": _full_jitter,
    "db-poll": _full_jitter,
    "celery-progress-ws": lambda attempt: 1.0,
    "celery-progress-http": lambda attempt: 1.0,
    "eventstream": lambda attempt: random.random() * 3.0,
    "socketio": _socketio_backoff,
}

STREAMS = {
    "taskpulse": TaskpulseStream,
    "db-poll": DBPollStream,
    "celery-progress-ws": CeleryProgressWebSocketStream,
    "celery-progress-http": CeleryProgressPollingStream,
    "eventstream": EventStreamStream,
    "socketio": SocketIOStream,
}


async def read_json_response(reader: asyncio.StreamReader) -> dict:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    if status != 200:
        raise ValueError(f"HTTP {status}: {body[:200]!r}")
    return json.loads(body)
