"""The benchmark's load process: many asyncio clients that authenticate like browsers.

    python bench/load.py <plan.json>

Every client sends the session cookie and a same-site Origin, as a browser does, and speaks the
plan's `design` (bench/clients.py: Taskpulse, the DB-polling baseline, or a peer). The plan's
`mode` says what the clients do:

- `follow`: each client follows one task until it ends;
- `poll-http`: each client polls Taskpulse's `GET /api/tasks/<id>/` every `interval` seconds, as
  the HTTP-polling seed design's browser does, until the task ends (or for `duration` seconds);
- `storm`: as `follow`, resuming whenever its connection drops, as the design's client does;
- `drop`: as `storm`; on a line on stdin every connection is cut, and the clients reconnect and
  resume once the network has been down for `drop_seconds`;
- `watch`: watchers of the plan's tasks, opened in `steps`, reading whatever comes: on a task
  that never moves, what a design costs while nothing happens;
- `stalled`: Taskpulse sockets opened in `steps` that then read nothing: on running tasks,
  stalled readers (a phone in a tunnel);
- `soak`: rounds of tasks read from stdin, a line of task ids each; the clients, spread over a
  round's tasks, follow them to their end, resuming whenever their connection drops, while
  `drop_per_second` of the open connections are cut every second. After each round the process
  says `done <n>`; an empty line ends it.

Each receive is stamped with the wall clock and written as `time, task_id, seq, client, message`
to the plan's `records` file (the client's number in the resuming modes). The process says
`ready <n>` on stdout once its clients are in place (in `watch` and `stalled` modes after each
step, waiting for a line on stdin before the next), and at the end prints one JSON line of what
went wrong, if anything.
"""

import asyncio
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import websockets

from bench import clients

BATCH = 100  # connections opened at once, as a crowd of browsers arrives


class Load:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.design = plan.get("design", "taskpulse")
        self.base_url = plan["base_url"]
        self.ws_base = self.base_url.replace("http", "ws", 1)
        self.cookie = plan["cookie"]
        self.records = open(plan["records"], "w", buffering=1 << 20) if plan.get("records") else None
        self.errors: Counter = Counter()
        self.close_codes: Counter = Counter()
        self.failed_opens: Counter = Counter()  # opens tried again, by what failed them
        self.gaps = 0
        self.duplicates = 0
        self.completed = 0
        self.relive_times: list[float] = []

    def record(self, moment: float, message: dict, client: int | str = "") -> None:
        if self.records is not None:
            text = str(message.get("message", "")).replace("\t", " ").replace("\n", " ")
            self.records.write(
                f"{moment:.6f}\t{message['task_id']}\t{message.get('seq', '')}\t{client}\t{text}\n"
            )

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

    async def open(self, task_id: str, resume=None) -> clients.Stream:
        return await clients.open_stream(self.design, self.base_url, self.cookie, task_id, resume)

    async def open_all(self, count: int, open_one, first: int = 0) -> list:
        """Those that opened: a server that refuses some (django-eventstream's, out of database
        connections) is measured with the rest, and the refusals are counted as errors."""
        opened = []
        for start in range(first, first + count, BATCH):
            results = await asyncio.gather(
                *(open_one(n) for n in range(start, min(start + BATCH, first + count))),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    self.errors[f"not opened: {type(result).__name__} {result}"[:80]] += 1
                else:
                    opened.append(result)
        return opened

    def ready(self, count: int) -> None:
        print(f"ready {count}", flush=True)

    # follow ---------------------------------------------------------------------------------

    async def follow(self) -> None:
        streams = await self.open_all(self.plan["clients"], lambda n: self.open(self.task_for(n)))
        self.ready(len(streams))
        await asyncio.gather(*(self._read_to_end(stream) for stream in streams))

    async def _read_to_end(self, stream: clients.Stream) -> None:
        """Until the task's end, or `patience` seconds: a design that falls behind is measured
        on what it delivered by then, and its clients that gave up are counted."""
        last_seq = stream.resume or 0
        try:
            async with asyncio.timeout(self.plan["patience"]):
                async for message in stream:
                    moment = time.time()
                    last_seq = self._check_seq(message, last_seq)
                    self.record(moment, message)
                    if message.get("status") in clients.TERMINAL:
                        self.completed += 1
                        break
        except TimeoutError:
            self.errors["gave up"] += 1
        finally:
            await stream.close()

    def _check_seq(self, message: dict, last_seq: int) -> int:
        """Order and gaps, where the design promises them: Taskpulse's events. (The peers' losses
        are counted by the `drop` mode against what their tasks reported.)"""
        seq = message.get("seq")
        if seq is None or self.design != "taskpulse":
            return last_seq
        if seq <= last_seq:
            self.duplicates += 1
            return last_seq
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
                    state = await asyncio.wait_for(clients.read_json_response(reader), give_up_at - asked)
                    moment = time.time()
                    if not counted:
                        counted = True
                        count_in()
                    if state["seq"] != seen_seq:
                        seen_seq = state["seq"]
                        self.record(moment, state)
                    if state["status"] in clients.TERMINAL:
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

        pollers = [asyncio.create_task(one(n)) for n in range(self.plan["clients"])]
        await started.wait()
        self.ready(self.plan["clients"])
        await asyncio.gather(*pollers)

    # resuming: storm, drop, soak ------------------------------------------------------------

    async def _open_resuming(self, task_id: str, resume, deadline: float):
        """A stream on the task from `resume`, tried again after the design's client's delay
        until it opens; None once `deadline` has passed."""
        attempt = 1
        while time.monotonic() < deadline:
            try:
                return await self.open(task_id, resume)
            except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, clients.Closed,
                    websockets.InvalidHandshake, websockets.ConnectionClosed) as error:  # fmt: skip
                self.failed_opens[f"{type(error).__name__} {error}"[:80]] += 1
                await asyncio.sleep(clients.RECONNECT_DELAYS[self.design](attempt))
                attempt += 1
        return None

    async def _follow_resuming(self, client: int, task_id: str, *, on_live=None, open_streams=None,
                               back_online=None) -> None:  # fmt: skip
        """Follow the task to its end, reopening the stream whenever it drops (after the delay
        of the design's own client; or at once when `back_online` is set, as a browser does on
        its `online` event, when the drop was the network's), from where that client resumes."""
        try:
            async with asyncio.timeout(self.plan["patience"]):
                await self._follow_until_the_end(client, task_id, on_live, open_streams, back_online)
        except TimeoutError:
            self.errors["gave up"] += 1

    async def _follow_until_the_end(self, client, task_id, on_live, open_streams, back_online) -> None:
        resume, drops, last_seq = None, 0, 0
        deadline = time.monotonic() + self.plan["patience"]
        while (stream := await self._open_resuming(task_id, resume, deadline)) is not None:
            if on_live is not None:
                on_live(drops, time.time())
            if open_streams is not None:
                open_streams.add(stream)
            try:
                async for message in stream:
                    moment = time.time()
                    last_seq = self._check_seq(message, last_seq)
                    self.record(moment, message, client)
                    if message.get("status") in clients.TERMINAL:
                        self.completed += 1
                        await stream.close()
                        return
            finally:
                if open_streams is not None:
                    open_streams.discard(stream)
            if stream.close_code is not None:
                self.close_codes[stream.close_code] += 1
            resume = stream.resume
            drops += 1
            if back_online is not None and not back_online.is_set():
                await back_online.wait()
            else:
                await asyncio.sleep(clients.RECONNECT_DELAYS[self.design](0))
        self.errors["gave up"] += 1

    async def storm(self) -> None:
        """Follow with resume while the server restarts. A client is live again when its stream
        is subscribed again (clients.py says when that is for each design)."""
        arrivals = Arrivals(self.plan["clients"])

        def on_live(client):
            def live(drops, moment):
                if drops:
                    self.relive_times.append(moment)
                else:
                    arrivals.arrive(client)

            return live

        followers = []
        for start in range(0, self.plan["clients"], BATCH):
            followers += [
                asyncio.create_task(
                    arrivals.follow(n, self._follow_resuming(n, self.task_for(n), on_live=on_live(n)))
                )
                for n in range(start, min(start + BATCH, self.plan["clients"]))
            ]
            await asyncio.sleep(0.05)
        await arrivals.all_in.wait()
        self.ready(self.plan["clients"])
        await asyncio.gather(*followers)

    async def drop(self) -> None:
        """Follow with resume; on a line on stdin, every connection is cut and the network stays
        down for `drop_seconds` (2 s) before the clients reconnect, from where each resumes."""
        arrivals = Arrivals(self.plan["clients"])
        open_streams: set = set()
        back_online = asyncio.Event()
        back_online.set()

        def on_live(client):
            def live(drops, moment):
                if not drops:
                    arrivals.arrive(client)

            return live

        followers = [
            asyncio.create_task(
                arrivals.follow(
                    n,
                    self._follow_resuming(
                        n,
                        self.task_for(n),
                        on_live=on_live(n),
                        open_streams=open_streams,
                        back_online=back_online,
                    ),
                )
            )  # fmt: skip
            for n in range(self.plan["clients"])
        ]
        await arrivals.all_in.wait()
        self.ready(self.plan["clients"])
        lines = await _stdin_lines()
        await lines.readline()
        back_online.clear()
        for stream in list(open_streams):
            stream.abort()
            self.errors["cut on purpose"] += 1
        await asyncio.sleep(self.plan.get("drop_seconds", 2))
        back_online.set()
        await asyncio.gather(*followers)

    async def soak(self) -> None:
        lines = await _stdin_lines()
        self.ready(self.plan["clients"])
        while task_ids := (await lines.readline()).decode().split():
            completed = self.completed
            open_streams: set = set()
            cutter = asyncio.create_task(self._cut_every_second(open_streams))
            await asyncio.gather(
                *(
                    self._follow_resuming(n, task_ids[n % len(task_ids)], open_streams=open_streams)
                    for n in range(self.plan["clients"])
                )
            )
            cutter.cancel()
            print(f"done {self.completed - completed}", flush=True)

    async def _cut_every_second(self, open_streams: set) -> None:
        """Cut `drop_per_second` of the open connections each second, as networks do."""
        while True:
            await asyncio.sleep(1)
            count = round(len(open_streams) * self.plan["drop_per_second"])
            for stream in random.sample(sorted(open_streams, key=id), min(count, len(open_streams))):
                stream.abort()
                self.errors["cut on purpose"] += 1

    # watch, stalled -------------------------------------------------------------------------

    async def watch(self) -> None:
        """Watchers of the plan's tasks (round robin), opened in `steps`: each reads what comes
        (heartbeats, pings to answer, a poller's answers) until the load ends. On a task that
        never moves, what a design costs while nothing happens."""
        lines = await _stdin_lines()
        streams: list = []
        readers: list = []
        for total in self.plan["steps"]:
            opened = await self.open_all(
                total - len(streams), lambda n: self.open(self.task_for(n)), len(streams)
            )
            streams += opened
            readers += [asyncio.create_task(self._drain(stream)) for stream in opened]
            self.ready(len(streams))
            await lines.readline()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(stream.close() for stream in streams), return_exceptions=True)

    async def _drain(self, stream: clients.Stream) -> None:
        async for _message in stream:
            pass
        self.errors["watcher dropped"] += 1

    async def stalled(self) -> None:
        """Taskpulse sockets that open on the plan's tasks and then read nothing: on running
        tasks, stalled readers (a phone in a tunnel), whose frames pile up in their small buffers
        and then the server's. The WebSocket protocol's pings are answered by the library, as a
        backgrounded browser tab does."""
        lines = await _stdin_lines()

        async def open_one(n):
            ws = await self.connect(f"/ws/tasks/{self.task_for(n)}/")
            await ws.recv()  # the snapshot: authenticated, authorised, subscribed
            return ws

        sockets = []
        for total in self.plan["steps"]:
            sockets += await self.open_all(total - len(sockets), open_one, len(sockets))
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
            "failed_opens": dict(self.failed_opens.most_common(5)),
            "relive_times": self.relive_times,
        }


class Arrivals:
    """The clients of a resuming load, each counted in once: when first live, or when it ended
    (gave up) without ever being live, so that a design that cannot take them all is measured
    rather than waited on for ever."""

    def __init__(self, count: int) -> None:
        self.waiting = set(range(count))
        self.all_in = asyncio.Event()
        if not count:
            self.all_in.set()

    def arrive(self, client: int) -> None:
        self.waiting.discard(client)
        if not self.waiting:
            self.all_in.set()

    async def follow(self, client: int, following) -> None:
        try:
            await following
        finally:
            self.arrive(client)


async def _stdin_lines() -> asyncio.StreamReader:
    lines = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(lines), sys.stdin)
    return lines


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    load = Load(plan)
    run = {
        "follow": load.follow,
        "poll-http": load.poll_http,
        "storm": load.storm,
        "drop": load.drop,
        "watch": load.watch,
        "stalled": load.stalled,
        "soak": load.soak,
    }
    asyncio.run(run[plan["mode"]]())
    print(json.dumps(load.summary()), flush=True)


if __name__ == "__main__":
    main()
