"""The benchmark's load process: many asyncio clients that authenticate like browsers.

    python bench/load.py '<json plan>'

Every client sends the session cookie and a same-site Origin, as a browser does. The plan's
`mode` says what the clients do:

- `follow`: each client follows one task over a WebSocket (`path`, `/ws/tasks/{task_id}/` or the
  polling baseline's `/ws/poll/{task_id}/`) until it ends;
- `poll-http`: each client polls `GET /api/tasks/<id>/` every `interval` seconds, as the
  HTTP-polling seed design's browser does, until the task ends (or for `duration` seconds);
- `storm`: as `follow`, resuming with `?last_seq=` whenever its connection drops, as the bundled
  client does;
- `idle`: clients that open a socket on the plan's tasks (round robin), opened in `steps`, and
  then read nothing: on a task that never moves, idle clients; on running ones, stalled readers
  (a phone in a tunnel), whose frames pile up in their small buffers and then the server's;
- `soak`: rounds of tasks read from stdin, a line of task ids each; the clients, spread over a
  round's tasks, follow them to their end, resuming with `?last_seq=` whenever their connection
  drops, while `drop_per_second` of the open connections are cut every second. After each round
  the process says `done <n>`; an empty line ends it.

Each receive is stamped with the wall clock and written as `time, task_id, seq, message` to the
plan's `records` file. The process says `ready <n>` on stdout once its clients are in place
(in `idle` mode after each step, waiting for a line on stdin before the next), and at the end
prints one JSON line of what went wrong, if anything.
"""

import asyncio
import json
import random
import sys
import time
from collections import Counter

import websockets

BATCH = 100  # connections opened at once, as a crowd of browsers arrives
TERMINAL = {"completed", "failed", "cancelled"}


class Load:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.base_url = plan["base_url"]
        self.ws_base = self.base_url.replace("http", "ws", 1)
        self.cookie = plan["cookie"]
        self.records = open(plan["records"], "w", buffering=1 << 20) if plan.get("records") else None
        self.errors: Counter = Counter()
        self.close_codes: Counter = Counter()
        self.gaps = 0
        self.duplicates = 0
        self.completed = 0
        self.relive_times: list[float] = []

    def record(self, moment: float, message: dict) -> None:
        if self.records is not None:
            text = str(message.get("message", "")).replace("\t", " ").replace("\n", " ")
            self.records.write(f"{moment:.6f}\t{message['task_id']}\t{message.get('seq', '')}\t{text}\n")

    def task_for(self, client: int) -> str:
        task_ids = self.plan["task_ids"]
        return task_ids[client % len(task_ids)]

    async def connect(self, path: str):
        return await websockets.connect(
            f"{self.ws_base}{path}",
            additional_headers={"Cookie": self.cookie},
            origin=self.base_url,
            open_timeout=120,
            ping_interval=None,
        )

    async def open_all(self, count: int, open_one) -> list:
        opened = []
        for start in range(0, count, BATCH):
            opened += await asyncio.gather(*(open_one(n) for n in range(start, min(start + BATCH, count))))
        return opened

    def ready(self, count: int) -> None:
        print(f"ready {count}", flush=True)

    # follow ---------------------------------------------------------------------------------

    async def follow(self) -> None:
        async def open_one(client):
            task_id = self.task_for(client)
            ws = await self.connect(self.plan["path"].format(task_id=task_id))
            first = json.loads(await ws.recv())
            return ws, first.get("seq", 0)

        sockets = await self.open_all(self.plan["clients"], open_one)
        self.ready(len(sockets))
        await asyncio.gather(*(self._read_to_end(ws, seq) for ws, seq in sockets))

    async def _read_to_end(self, ws, last_seq: int) -> None:
        try:
            async for frame in ws:
                moment = time.time()
                message = json.loads(frame)
                if message["type"] == "ping":
                    await ws.send('{"type":"pong"}')
                    continue
                last_seq = self._check_seq(message, last_seq)
                self.record(moment, message)
                if message.get("status") in TERMINAL:
                    self.completed += 1
                    break
        except websockets.ConnectionClosed:
            pass
        finally:
            await ws.close()
            self.close_codes[ws.close_code] += 1

    def _check_seq(self, message: dict, last_seq: int) -> int:
        seq = message.get("seq")
        if seq is None:
            return last_seq
        if seq <= last_seq:
            self.duplicates += 1
            return last_seq
        # The polling baseline skips what happened between two reads by design; events must not.
        if seq != last_seq + 1 and message["type"] in ("progress", "complete"):
            self.gaps += 1
        return seq

    # poll-http ------------------------------------------------------------------------------

    async def poll_http(self) -> None:
        host = self.base_url.removeprefix("http://")
        started = asyncio.Event()
        waiting = [self.plan["clients"]]

        stop_at = time.monotonic() + self.plan.get("duration", 0)

        def count_in():
            waiting[0] -= 1
            if not waiting[0]:
                started.set()

        async def one(client):
            task_id = self.task_for(client)
            reader, writer = await asyncio.open_connection(*host.split(":"))
            request = (
                f"GET /api/tasks/{task_id}/ HTTP/1.1\r\nHost: {host}\r\nCookie: {self.cookie}\r\n"
                "Accept: application/json\r\n\r\n"
            ).encode()
            seen_seq, counted = None, False
            await asyncio.sleep(random.uniform(0, self.plan["interval"]))  # browsers are not in step
            # An overloaded server may never answer, or its task never end: a poller gives up
            # after `patience` seconds (counted as an error) rather than hold the run for ever.
            give_up_at = time.monotonic() + self.plan.get("duration", 0) + self.plan["patience"]
            try:
                while True:
                    asked = time.monotonic()
                    if asked > give_up_at:
                        self.errors["gave up"] += 1
                        return
                    writer.write(request)
                    state = await asyncio.wait_for(_read_json_response(reader), give_up_at - asked)
                    moment = time.time()
                    if not counted:
                        counted = True
                        count_in()
                    if state["seq"] != seen_seq:
                        seen_seq = state["seq"]
                        self.record(moment, state)
                    if state["status"] in TERMINAL:
                        self.completed += 1
                        return
                    if "duration" in self.plan and time.monotonic() > stop_at:
                        return
                    await asyncio.sleep(max(0.0, self.plan["interval"] - (time.monotonic() - asked)))
            except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError) as error:
                self.errors[type(error).__name__] += 1
            finally:
                writer.close()
                if not counted:  # a client that failed at once must not hold the others back
                    count_in()

        clients = [asyncio.create_task(one(n)) for n in range(self.plan["clients"])]
        await started.wait()
        self.ready(self.plan["clients"])
        await asyncio.gather(*clients)

    # storm ----------------------------------------------------------------------------------

    async def storm(self) -> None:
        """Follow with resume: a dropped connection is reopened at once (0-100 ms jitter, as the
        bundled client) with `?last_seq=`. A client is live again when the server answers the
        `ping` it sends as the socket opens: a consumer handles a message only after its connect,
        so the pong comes once the socket has joined the task's group and been sent what it
        missed; or, if its task ended meanwhile, when it is sent the end. (The first frame would
        not do: a client that missed nothing is sent nothing until its task's next event, up to
        5 s later at this load.)"""
        connected = asyncio.Event()
        waiting = [self.plan["clients"]]

        async def one(client):
            task_id = self.task_for(client)
            last_seq, drops = 0, 0
            deadline = time.monotonic() + self.plan["patience"]
            while (ws := await self._open_resuming(task_id, last_seq, deadline)) is not None:
                live = None
                try:
                    await ws.send('{"type":"ping"}')
                    async for frame in ws:
                        moment = time.time()
                        message = json.loads(frame)
                        terminal = message.get("status") in TERMINAL
                        if live is None and (message["type"] == "pong" or terminal):
                            live = moment
                            if drops:
                                self.relive_times.append(moment)
                            else:
                                waiting[0] -= 1
                                if not waiting[0]:
                                    connected.set()
                        if message["type"] in {"ping", "pong"}:
                            continue
                        last_seq = self._check_seq(message, last_seq)
                        self.record(moment, message)
                        if terminal:
                            self.completed += 1
                            await ws.close()
                            return
                except websockets.ConnectionClosed:
                    pass
                self.close_codes[ws.close_code] += 1
                drops += 1
                await asyncio.sleep(random.uniform(0, 0.1))
            self.errors["gave up"] += 1

        clients = []
        for start in range(0, self.plan["clients"], BATCH):
            clients += [
                asyncio.create_task(one(n)) for n in range(start, min(start + BATCH, self.plan["clients"]))
            ]
            await asyncio.sleep(0.05)
        await connected.wait()
        self.ready(self.plan["clients"])
        await asyncio.gather(*clients)

    # soak -----------------------------------------------------------------------------------

    async def soak(self) -> None:
        lines = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)
        self.ready(self.plan["clients"])
        while task_ids := (await lines.readline()).decode().split():
            completed = self.completed
            open_sockets: set = set()
            cutter = asyncio.create_task(self._cut_every_second(open_sockets))
            await asyncio.gather(
                *(
                    self._follow_resuming(task_ids[n % len(task_ids)], open_sockets)
                    for n in range(self.plan["clients"])
                )
            )
            cutter.cancel()
            print(f"done {self.completed - completed}", flush=True)

    async def _cut_every_second(self, open_sockets: set) -> None:
        """Cut `drop_per_second` of the open connections each second, as networks do."""
        while True:
            await asyncio.sleep(1)
            count = round(len(open_sockets) * self.plan["drop_per_second"])
            for ws in random.sample(sorted(open_sockets, key=id), min(count, len(open_sockets))):
                ws.transport.abort()
                self.errors["cut on purpose"] += 1

    async def _open_resuming(self, task_id: str, last_seq: int, deadline: float):
        """A socket on the task from `last_seq`, tried again with jitter until it opens; None once
        `deadline` has passed."""
        while time.monotonic() < deadline:
            try:
                return await self.connect(f"/ws/tasks/{task_id}/?last_seq={last_seq}")
            except (OSError, websockets.InvalidHandshake, TimeoutError):
                await asyncio.sleep(random.uniform(0.05, 0.15))
        return None

    async def _follow_resuming(self, task_id: str, open_sockets: set) -> None:
        last_seq = 0
        deadline = time.monotonic() + self.plan["patience"]
        while (ws := await self._open_resuming(task_id, last_seq, deadline)) is not None:
            open_sockets.add(ws)
            try:
                async for frame in ws:
                    message = json.loads(frame)
                    if message["type"] == "ping":
                        await ws.send('{"type":"pong"}')
                        continue
                    last_seq = self._check_seq(message, last_seq)
                    if message.get("status") in TERMINAL:
                        self.completed += 1
                        await ws.close()
                        return
            except websockets.ConnectionClosed:
                pass
            finally:
                open_sockets.discard(ws)
            self.close_codes[ws.close_code] += 1
            await asyncio.sleep(random.uniform(0, 0.1))
        self.errors["gave up"] += 1

    # idle -----------------------------------------------------------------------------------

    async def idle(self) -> None:
        task_ids = self.plan["task_ids"]
        sockets = []
        lines = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)

        async def open_one(n):
            ws = await self.connect(self.plan["path"].format(task_id=task_ids[n % len(task_ids)]))
            await ws.recv()  # the snapshot: authenticated, authorised, subscribed
            return ws

        # Nothing is read: heartbeats queue up in the client's small buffer, and the WebSocket
        # protocol's pings are answered by the library, as a backgrounded browser tab does.
        for total in self.plan["steps"]:
            sockets += await self.open_all(total - len(sockets), open_one)
            self.ready(len(sockets))
            await lines.readline()
        await asyncio.gather(*(ws.close() for ws in sockets))

    def summary(self) -> dict:
        if self.records is not None:
            self.records.close()
        return {
            "completed": self.completed,
            "gaps": self.gaps,
            "duplicates": self.duplicates,
            "errors": dict(self.errors),
            "close_codes": {str(code): count for code, count in self.close_codes.items()},
            "relive_times": self.relive_times,
        }


async def _read_json_response(reader: asyncio.StreamReader) -> dict:
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


def main() -> None:
    plan = json.loads(sys.argv[1])
    load = Load(plan)
    run = {
        "follow": load.follow,
        "poll-http": load.poll_http,
        "storm": load.storm,
        "idle": load.idle,
        "soak": load.soak,
    }
    asyncio.run(run[plan["mode"]]())
    print(json.dumps(load.summary()), flush=True)


if __name__ == "__main__":
    main()
