"""The benchmark: the product against its peers and the two polling designs, on the real stack,
in one run.

    bin/bench [--smoke] [--out bench/results]
    bin/bench --soak [MINUTES] [--soak-clients N] [--out bench/results]

Starts the server process (Daphne, or Uvicorn to compare), an instrumented Celery worker
(bench/worker.py), the peers' servers and worker (bench/peers/), and, as baselines, the
database-polling consumer (bench/polling_server.py); drives them from a separate load process
(bench/load.py) on the database and Redis of the environment; and writes results.md and
results.png to --out. See docs/performance.md.
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# As in production (no query log, no debug pages), though over plain HTTP on loopback. This process
# signs the load's session, so it shares the key with the servers it starts.
os.environ.update(
    {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from bench import measurements, report, soak, stack  # noqa: E402
from bench.database import database_settle, load_rates  # noqa: E402
from bench.latencies import join_latencies  # noqa: E402
from project.celery import app  # noqa: E402
from tasks_app import services  # noqa: E402
from tasks_app.models import Task  # noqa: E402

WORKER_NAME = f"bench@{socket.gethostname()}"
PEER_WORKER_NAME = f"bench-peers@{socket.gethostname()}"
# Each peer's ticker (bench/peers/tasks.py) by the client design that follows it.
PEER_TASKS = {
    "celery-progress-http": ("bench.peers.celery_progress", {"websocket": False}),
    "celery-progress-ws": ("bench.peers.celery_progress", {"websocket": True}),
    "eventstream": ("bench.peers.eventstream", {}),
    "socketio": ("bench.peers.socketio", {}),
}
EVENTS_PER_TASK_PER_SECOND = 10  # the reporter's default throttle: every tick is sent


class Bench:
    def __init__(self, options) -> None:
        self.options = options
        self.smoke = options.smoke
        self.workdir = Path(tempfile.mkdtemp(prefix="taskpulse-bench-"))
        self.calls_file = self.workdir / "calls.tsv"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(stack.ROOT),
            "LOG_LEVEL": "WARNING",
            # One user holds every connection of the load process; per-user limits are not measured.
            "TASKPULSE_MAX_CONNECTIONS_PER_USER": "0",
            # Short, so that a measuring window holds credentials rounds (the default is 60 s).
            "TASKPULSE_AUTH_RECHECK_SECONDS": "10",
        }
        database_settle()
        app.control.purge()  # tickers queued by an interrupted run would start with this one's
        user, _ = get_user_model().objects.get_or_create(username="bench")
        self.user = user
        client = Client()
        client.force_login(user)
        self.cookie = f"sessionid={client.cookies['sessionid'].value}"
        self._unreleased: list[Task] = []
        self.still = Task.objects.create(owner=user, kind="ticker", params={"steps": 1, "interval": 0})
        self.worker = None
        self.peer_worker = None
        self._unreleased_peers: list[tuple[str, str, dict]] = []
        self.rows: list[report.Row] = []
        self.latencies: dict[str, list[float]] = {}
        self.memory: dict[str, list[tuple[int, float]]] = {}

    # the stack ------------------------------------------------------------------------------

    def server(
        self, kind: str = "daphne", layer: str | None = None, port: int | None = None
    ) -> stack.Process:
        """A server process on the product's channel layer unless `layer` says otherwise."""
        layer = layer or settings.CHANNEL_LAYER_KIND
        return stack.start_server(kind, {**self.env, "CHANNEL_LAYER_KIND": layer}, port=port)

    def start_worker(self, layer: str | None = None) -> None:
        self.stop_worker()
        layer = layer or settings.CHANNEL_LAYER_KIND
        self.worker = stack.start_worker({**self.env, "CHANNEL_LAYER_KIND": layer}, self.calls_file)
        self.worker.wait_until(self._worker_answers, "answering")

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def _worker_answers(self, name: str = WORKER_NAME) -> bool:
        return bool(app.control.ping(destination=[name], timeout=0.5))

    def start_peer_worker(self) -> None:
        """The peers' worker, once, beside the product's: they take different queues."""
        if self.peer_worker is None:
            stack.migrate_peers(self.env)
            self.peer_worker = stack.start_peer_worker(self.env, self.calls_file)
            self.peer_worker.wait_until(lambda: self._worker_answers(PEER_WORKER_NAME), "answering")

    def stop_peer_worker(self) -> None:
        if self.peer_worker is not None:
            self.peer_worker.stop()
            self.peer_worker = None

    def tickers(
        self,
        count: int,
        seconds: float,
        per_second: float = EVENTS_PER_TASK_PER_SECOND,
        design: str = "taskpulse",
    ) -> list[str]:
        """Ticker tasks of `per_second` events, created but not yet queued: `release()` queues them
        once the clients are in place, so that every event is measured. A peer's ticker is its
        Celery task's id, chosen here."""
        steps = max(2, int(seconds * per_second))
        params = {"steps": steps, "interval": 1 / per_second}
        if design in PEER_TASKS:
            name, extra = PEER_TASKS[design]
            ids = [str(uuid.uuid4()) for _ in range(count)]
            self._unreleased_peers += [(name, task_id, {**params, **extra}) for task_id in ids]
            return ids
        with mock.patch.object(services, "_enqueue", self._unreleased.append):
            return [
                str(services.task_create(owner=self.user, kind="ticker", params=params).id)
                for _ in range(count)
            ]

    def release(self) -> None:
        # Queued as task_create would have: the worker takes them as it takes any task. (Holding
        # them in a queue the worker was told to consume later hung two runs: some of the
        # tickers stayed pending after the worker's add_consumer.)
        for task in self._unreleased:
            services._enqueue(task)
        self._unreleased.clear()
        for name, task_id, kwargs in self._unreleased_peers:
            app.send_task(name, kwargs=kwargs, task_id=task_id, queue=stack.PEER_QUEUE)
        self._unreleased_peers.clear()

    def still_tasks(self, design: str, count: int) -> list[str]:
        """Tasks that never move, for idle watchers: the product's one still task, which every
        idle watcher of it shares; for a peer, a Celery task id of each watcher's own that is
        never sent (celery-progress's WebSocket client asks the whole group for the state each
        time one of them connects, so a thousand watchers of one task would measure that)."""
        if design in PEER_TASKS:
            return [str(uuid.uuid4()) for _ in range(count)]
        return [str(self.still.id)]

    def load(self, plan: dict) -> "LoadRun":
        plan = {"cookie": self.cookie, "patience": 120, **plan}
        return LoadRun(plan, self.env, self.workdir)

    # one scenario: clients follow tickers, latency from the reporter's call -----------------

    def follow(
        self,
        *,
        label,
        server,
        clients,
        tasks,
        seconds,
        mode="follow",
        design="taskpulse",
        idle_clients=0,
        stalled_clients=0,
        profile=None,
        measure_database=False,
    ):
        """`clients` follow `tasks` tickers (round robin, or the first `watchers` of them only, the
        rest idle on a task that never moves), beside `stalled_clients` that open sockets on the
        same tickers and read nothing. Returns latencies (ms) and what was measured."""
        task_ids = self.tickers(tasks, seconds, design=design)
        plan = {
            "mode": mode,
            "design": design,
            "base_url": server.base_url,
            "clients": clients,
            "task_ids": task_ids,
            "interval": 0.5,
        }
        idle = None
        if idle_clients:
            # Clients of the same design on tasks that never move: they cost what that design
            # costs while nothing happens (a poll each interval, a heartbeat, or nothing at all).
            still = {"base_url": server.base_url, "task_ids": self.still_tasks(design, idle_clients)}
            if mode == "poll-http":
                idle_plan = {**still, "mode": "poll-http", "clients": idle_clients, "interval": 0.5,
                             "duration": seconds * 6 + 60}  # fmt: skip
            else:
                idle_plan = {**still, "mode": "watch", "design": design, "steps": [idle_clients]}
            idle = self.load(idle_plan)
            idle.wait_ready()
        stalled = None
        if stalled_clients:
            stalled = self.load({"base_url": server.base_url, "mode": "stalled", "task_ids": task_ids,
                                 "steps": [stalled_clients]})  # fmt: skip
            stalled.wait_ready()
        run = self.load(plan)
        run.wait_ready()
        cpu_before = server.cpu_seconds()
        started = time.time()
        self.release()
        spy = profile and stack.start_profile(
            self.worker if profile.endswith("-worker.txt") else server, seconds * 0.8, profile
        )
        database = None
        if measure_database:
            time.sleep(min(2.0, seconds / 4))
            database = load_rates(seconds / 2)
        summary = run.finish(timeout=seconds * 6 + 300)
        elapsed = time.time() - started
        cpu = 100 * (server.cpu_seconds() - cpu_before) / elapsed
        server_mb = server.rss_bytes() / 2**20
        if idle is not None and mode == "poll-http":
            idle.process.popen.terminate()
        elif idle is not None:
            for problem, count in idle.finish()["errors"].items():
                summary["errors"][f"waiting clients {problem}"] = count
        if stalled is not None:
            stalled.finish()
        if spy:
            spy.wait()
        latencies, delivered, window = join_latencies(self.calls_file, run.records, set(task_ids))
        return {
            "label": label,
            "latencies": latencies,
            "delivered": delivered,
            "window": window,
            "summary": summary,
            "server_cpu": cpu,
            "server_mb": server_mb,
            "database": database,
            "errors": server.tracebacks(),
        }

    def close(self) -> None:
        self.stop_worker()
        self.stop_peer_worker()
        Task.objects.filter(owner=self.user).delete()
        shutil.rmtree(self.workdir, ignore_errors=True)


class LoadRun:
    """One load process (bench/load.py), talked to over its stdin and stdout."""

    def __init__(self, plan: dict, env: dict, workdir: Path) -> None:
        self.records = workdir / f"records-{uuid.uuid4().hex[:8]}.tsv"
        plan = {"records": str(self.records), **plan}
        self.plan = {key: value for key, value in plan.items() if key != "task_ids"}
        # A file, not an argument: 10,000 task ids are past Linux's 128 KB limit on one argument.
        plan_file = self.records.with_suffix(".plan.json")
        plan_file.write_text(json.dumps(plan))
        self.process = stack.Process(
            f"load-{plan['mode']}",
            [sys.executable, "bench/load.py", str(plan_file)],
            env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def wait_ready(self) -> int:
        line = self.process.popen.stdout.readline()
        if not line.startswith("ready"):
            self.process.popen.wait(30)
            raise self._failed(line)
        return int(line.split()[1])

    def start_round(self, task_ids: list[str]) -> None:
        self.process.popen.stdin.write(" ".join(task_ids) + "\n")
        self.process.popen.stdin.flush()

    def wait_round(self) -> int:
        """The tasks followed to their end in the round (`soak` mode)."""
        line = self.process.popen.stdout.readline()
        if not line.startswith("done"):
            raise self._failed(line)
        return int(line.split()[1])

    def next_step(self) -> None:
        self.process.popen.stdin.write("next\n")
        self.process.popen.stdin.flush()

    def finish(self, timeout: float = 120, *, last_lines: str = "next\n" * 100) -> dict:
        """The load's summary. `last_lines` go to its stdin first: by default, lines for the steps
        an `idle` load still waits on (other modes do not read them); a `soak` load ends at ""."""
        out, _ = self.process.popen.communicate(last_lines, timeout=timeout)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if self.process.popen.returncode or not lines:
            raise self._failed(out)
        return json.loads(lines[-1])

    def _failed(self, stdout: str) -> RuntimeError:
        return RuntimeError(
            f"the load process ({self.plan}) failed, exit code {self.process.popen.returncode}; "
            f"its output:\n{stdout[-1000:]}\nits errors:\n{self.process.output()[-3000:]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds of every measurement")
    parser.add_argument("--out", type=Path, default=stack.ROOT / "bench" / "results")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy under fan-out")
    parser.add_argument(
        "--only",
        action="append",
        choices=measurements.MEASUREMENTS,
        help="run this measurement only (repeatable)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        nargs="?",
        const=30.0,
        metavar="MINUTES",
        help="the soak instead (default 30 min)",
    )
    parser.add_argument("--soak-clients", type=int, default=1000)
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    stack.Process.kept_logs = options.out / "logs"
    shutil.rmtree(stack.Process.kept_logs, ignore_errors=True)
    bench = Bench(options)
    if options.soak is not None:
        try:
            result = soak.soak(bench, options.soak, clients=options.soak_clients)
        finally:
            bench.close()
        (options.out / "soak.json").write_text(json.dumps(result, indent=2))
        (options.out / "soak.md").write_text(soak.markdown(result))
        print(soak.markdown(result))
        return
    try:
        measurements.run_all(bench, tuple(options.only or measurements.MEASUREMENTS))
    finally:
        bench.close()
    report.write(bench, options.out)
    print((options.out / "results.md").read_text())


if __name__ == "__main__":
    main()
