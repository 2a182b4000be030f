"""The measurements of the benchmark, each beside the peers and the baselines, as rows of the
report."""

import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass

from bench import losses, many_tasks, stack
from bench.database import load_rates
from bench.latencies import percentiles
from bench.report import Row
from tasks_app import services
from tasks_app.models import Task, TaskEvent
from tasks_app.progress import ProgressReporter
from tasks_app.progress_tasks import progress_task
from tasks_app.work.data_import import parse_column_spec, validate_row


@dataclass(frozen=True)
class Sizes:
    clients: tuple[int, ...]
    tasks: int
    seconds: float
    fanout: int
    storm: int
    storm_seconds: float
    capacity: tuple[int, ...]
    database_watchers: int
    database_seconds: float
    reporter_updates: int


FULL = Sizes((100, 1000), 20, 12, 1000, 5000, 60, (2000, 4000, 6000, 8000, 10000), 1000, 20, 100_000)
SMOKE = Sizes((10,), 2, 2, 10, 10, 4, (10, 20), 10, 1, 2_000)
# As `docker stop` waits before it kills: a server that does not stop in time is killed, and the
# storm goes on from there.
STOP_GRACE_SECONDS = 10
STORM_MESSAGES_PER_SECOND = 200  # as in the latency test at 1,000 clients
POLL = {"mode": "follow", "design": "db-poll"}
HTTP_POLL = {"mode": "poll-http"}
REPORTER_ROUNDS = 5
OURS = "Taskpulse (events)"
# The peers: each one's row name, the client design that follows it (bench/clients.py), and the
# server that serves it (bench/stack.py).
PEERS = (
    ("celery-progress, HTTP polling", "celery-progress-http", "peers"),
    ("celery-progress, WebSocket", "celery-progress-ws", "peers"),
    ("django-eventstream, SSE", "eventstream", "peers"),
    ("python-socketio, Redis manager", "socketio", "socketio"),
)
# A peer that holds no connection between its requests has no memory per connection to measure.
CONNECTED_PEERS = tuple(peer for peer in PEERS if peer[1] != "celery-progress-http")
DROP_SECONDS = 2
DROP_EVENTS_PER_SECOND = 5  # under the reporter's throttle, so that every tick is an event


@contextmanager
def own_server(bench):
    """A Daphne for the HTTP-polling baseline alone. Its load, a thread and a PostgreSQL connection
    per request in flight, ran PostgreSQL out of connections ("too many clients already") and
    spoiled the Taskpulse rows measured on a server it shared."""
    server = bench.server("daphne")
    try:
        yield server
    finally:
        server.stop()


def http_polling(bench, label, **kwargs) -> dict:
    with own_server(bench) as server:
        return bench.follow(label=label, server=server, **HTTP_POLL, **kwargs)


def profiles(bench, sizes, daphne) -> None:
    """py-spy samples of the worker while tickers report, and of the server under fan-out, in runs
    of their own: sampling two dozen worker processes slows them, so no reported figure comes
    from a profiled run."""
    out = bench.options.out
    bench.follow(label="profile worker", server=daphne, clients=sizes.tasks, tasks=sizes.tasks,
                 seconds=sizes.seconds, profile=str(out / "profile-latency-worker.txt"))  # fmt: skip
    bench.follow(label="profile server", server=daphne, clients=sizes.fanout, tasks=1,
                 seconds=sizes.seconds / 2, profile=str(out / "profile-fanout.txt"))  # fmt: skip


MEASUREMENTS = (
    "reporter",
    "latency",
    "fanout",
    "database",
    "drop",
    "engines",
    "storm",
    "capacity",
    "many-tasks",
)


@contextmanager
def peer_servers(bench):
    """The peers' worker and their two servers, for the measurements that share them."""
    bench.start_peer_worker()
    servers = {"peers": bench.server("peers"), "socketio": bench.server("socketio")}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def run_all(bench, only: tuple[str, ...] = MEASUREMENTS) -> None:
    """Every measurement, or those named in `only` (to look into one without a 25-minute run)."""
    sizes = SMOKE if bench.smoke else FULL
    bench.sizes = sizes
    # First, on a quiet machine: measured last, after the capacity runs, it gave +30 % where runs
    # of it alone gave +9 to +14 %, the loop being the same.
    if "reporter" in only:
        reporter_cost(bench, sizes)
    bench.start_worker()
    # These share one Taskpulse server, one DB-polling server and the peers' servers.
    shared = [run for name, run in (("latency", latency), ("fanout", fanout), ("database", database),
                                    ("drop", drop)) if name in only]  # fmt: skip
    if shared:
        daphne, polling = bench.server("daphne"), bench.server("polling")
        try:
            with peer_servers(bench) as peers:
                for run in shared:
                    run(bench, sizes, daphne, polling, peers)
            if bench.options.profile and "fanout" in only:
                profiles(bench, sizes, daphne)
        finally:
            polling.stop()
            daphne.stop()
    if "engines" in only:
        engines(bench, sizes)
    if "storm" in only:
        storm(bench, sizes)
        bench.start_peer_worker()
        for name, design, kind in PEERS:
            storm(bench, sizes, design=design, kind=kind, name=name)
        if bench.options.profile:
            storm(bench, sizes, profile=str(bench.options.out / "profile-storm.txt"))
    if "capacity" in only:
        for kind in ("daphne", "uvicorn"):
            capacity(bench, sizes, kind)
        bench.start_peer_worker()
        for name, design, kind in CONNECTED_PEERS:
            capacity(bench, sizes, kind, design=design, name=name)
    if "many-tasks" in only:
        bench.stop_peer_worker()
        bench.stop_worker()
        many_tasks.run(bench, sizes)
        bench.start_worker()


def latency_figures(result: dict) -> dict:
    p50, p95, p99 = percentiles(result["latencies"])
    return {"p50 ms": p50, "p95 ms": p95, "p99 ms": p99}


def conditions(result: dict, clients: int, tasks: int, extra: str = "") -> str:
    rate = result["delivered"] / result["window"] if result["window"] else 0
    summary = result["summary"]
    problems = summary["errors"] | ({"gaps": summary["gaps"]} if summary["gaps"] else {})
    text = (
        f"{clients:,} clients, {tasks} task{'s' if tasks > 1 else ''} × 10 events/s; "
        f"{rate:,.0f} msgs/s delivered; server CPU {result['server_cpu']:.0f} %"
    )
    if extra:
        text += f"; {extra}"
    if problems:
        text += f"; problems: {problems}"
    if result["errors"]:
        text += f"; {result['errors']} server tracebacks"
    return text


def latency(bench, sizes, daphne, polling, peers) -> None:
    """At 100 clients all follow the 20 running tasks (1,000 msgs/s delivered), alone and again
    beside 100 clients on the same tasks that read nothing (slow readers must not slow the
    others); at 1,000, one client follows each running task and the rest wait on tasks that do
    not move, so that 200 events/s are delivered in all (the issue's target). Each peer the
    same way, on its own server."""
    for clients in sizes.clients:
        watching = clients if clients == sizes.clients[0] else sizes.tasks
        common = {"clients": watching, "tasks": sizes.tasks, "seconds": sizes.seconds,
                  "idle_clients": clients - watching}  # fmt: skip
        ours = bench.follow(label=f"events, {clients}", server=daphne, **common)
        beside_stalled = None
        if clients == sizes.clients[0]:
            beside_stalled = bench.follow(
                label=f"events beside stalled, {clients}", server=daphne, stalled_clients=clients, **common
            )
        peer_results = [
            (name, bench.follow(label=f"{design}, {clients}", server=peers[kind], design=design, **common))
            for name, design, kind in PEERS
        ]
        db = bench.follow(label=f"db-poll, {clients}", server=polling, **POLL, **common)
        http = http_polling(bench, f"http-poll, {clients}", **common)
        extra = (
            f"{watching:,} following, {clients - watching:,} waiting on a still task"
            if watching < clients
            else ""
        )
        rows = [(OURS, ours), *peer_results, ("DB-polling consumer", db), ("HTTP polling", http)]
        if beside_stalled is not None:
            stalled_design = f"Taskpulse (events), {clients:,} stalled readers beside"
            rows.insert(1, (stalled_design, beside_stalled))
        for design, result in rows:
            bench.latencies[f"{design}, {clients:,} clients"] = result["latencies"]
            bench.rows.append(
                Row(
                    "1. latency",
                    design,
                    conditions(result, clients, sizes.tasks, extra or f"server {result['server_mb']:.0f} MB"),
                    latency_figures(result),
                    baseline_of=None if result is ours else OURS,
                    group=str(clients),
                )
            )


def fanout_seconds(sizes) -> float:
    # Half the latency runs, as a fan-out backs up; at least two of the DB-poller's 1 s polls.
    return max(2.0, sizes.seconds / 2)


def fanout(bench, sizes, daphne, polling, peers) -> None:
    # 10,000 messages/s asked of one server process: as much as it delivers, so this measures
    # its most, and the latency of a backlog.
    common = {"clients": sizes.fanout, "tasks": 1, "seconds": fanout_seconds(sizes)}
    ours = bench.follow(label="fan-out", server=daphne, **common)
    peer_results = [
        (name, bench.follow(label=f"fan-out {design}", server=peers[kind], design=design, **common))
        for name, design, kind in PEERS
    ]
    db = bench.follow(label="fan-out db-poll", server=polling, **POLL, **common)
    http = http_polling(bench, "fan-out http-poll", **common)
    for design, result in ((OURS, ours), *peer_results, ("DB-polling consumer", db), ("HTTP polling", http)):
        rate = result["delivered"] / result["window"] if result["window"] else 0
        figures = {"msgs/s": rate, **latency_figures(result)}
        bench.rows.append(
            Row(
                "2. fan-out",
                design,
                conditions(result, sizes.fanout, 1),
                figures,
                baseline_of=None if result is ours else OURS,
            )
        )


def engines(bench, sizes) -> None:
    """Uvicorn and Daphne's own command against `manage.py serve`, and channels-redis's core layer
    against its pub/sub layer (the product's default, the baseline of the ratios), each on a
    server of its own."""
    clients = sizes.clients[-1]
    names = {"daphne": "Daphne", "uvicorn": "Uvicorn", "daphne-plain": "Daphne's own command"}
    for kind, layer in (("daphne", "pubsub"), ("daphne-plain", "pubsub"), ("uvicorn", "pubsub"),
                        ("daphne", "core"), ("uvicorn", "core")):  # fmt: skip
        bench.start_worker(layer)
        server = bench.server(kind, layer)
        try:
            lat = bench.follow(
                label=f"{kind}/{layer}",
                server=server,
                clients=sizes.tasks,
                tasks=sizes.tasks,
                seconds=sizes.seconds,
                idle_clients=clients - sizes.tasks,
            )
            fan = bench.follow(
                label=f"{kind}/{layer} fan-out",
                server=server,
                clients=sizes.fanout,
                tasks=1,
                seconds=fanout_seconds(sizes),
            )
        finally:
            server.stop()
        design = f"{names[kind]}, {layer} layer"
        fan_rate = fan["delivered"] / fan["window"] if fan["window"] else 0
        bench.rows.append(
            Row(
                "engines",
                design,
                conditions(lat, clients, sizes.tasks, "one following each task, the rest waiting")
                + f" | fan-out {sizes.fanout:,} clients of one task",
                {
                    **latency_figures(lat),
                    "fan-out msgs/s": fan_rate,
                    "fan-out p99 ms": percentiles(fan["latencies"])[2],
                },
                baseline_of=None if (kind, layer) == ("daphne", "pubsub") else "Daphne, pubsub layer",
            )
        )
    bench.start_worker()


def storm(bench, sizes, profile: str | None = None, *, design="taskpulse", kind="daphne", name=OURS) -> None:
    """Clients following tasks when their server restarts: how long until all are live again.

    The clients follow 20 tasks at the latency test's load, 200 messages/s delivered in all:
    1,000 followers of one task at 10 events/s would need 10,000 messages/s, twice the fan-out
    target, and measure the backlog of that rather than reconnecting. A peer's server is
    restarted the same way, and its clients reconnect as its own client does."""
    server = bench.server(kind)
    port = server.port
    # The ticker's slowest is an event every 10 s: at 5,000 clients, 500 messages/s delivered.
    per_second = max(STORM_MESSAGES_PER_SECOND / sizes.storm, 0.1)
    task_ids = bench.tickers(sizes.tasks, sizes.storm_seconds, per_second=per_second, design=design)
    run = bench.load({"mode": "storm", "design": design, "base_url": server.base_url, "clients": sizes.storm,
                      "task_ids": task_ids})  # fmt: skip
    run.wait_ready()
    bench.release()
    time.sleep(min(3, sizes.storm_seconds / 4))
    restart = time.time()
    server.popen.send_signal(signal.SIGTERM)
    try:
        server.popen.wait(STOP_GRACE_SECONDS)
        killed = ""
    except subprocess.TimeoutExpired:
        server.popen.kill()
        server.popen.wait()
        killed = f"; the old server had not stopped {STOP_GRACE_SECONDS} s after SIGTERM and was killed"
    stopped = time.time()
    server = bench.server(kind, port=port)
    listening = time.time()
    spy = profile and stack.start_profile(server, sizes.storm_seconds, profile)
    summary = run.finish(timeout=sizes.storm_seconds * 4 + 120)
    server.stop()
    if spy:
        spy.wait()
        return  # a profiled run is slower: its figures are not reported
    relive = summary["relive_times"]
    lost = losses.count(design, task_ids, sizes.storm, bench.calls_file, run.records)
    figures = {
        "all live again, s after SIGTERM": (max(relive) - restart) if relive else float("nan"),
        "s after new server listened": (max(relive) - listening) if relive else float("nan"),
        "s the old server took to stop": stopped - restart,
        "s the new one took to listen": listening - stopped,
        "reconnected": len(relive),
        "events missed per client": lost.missed_per_client,
        "events repeated": lost.repeated,
    }
    bench.rows.append(
        Row(
            "4. connect storm",
            name,
            f"{sizes.storm:,} clients following {sizes.tasks} tasks ({per_second:.2g} events/s "
            f"each, {per_second * sizes.storm:,.0f} messages/s delivered); SIGTERM, a new server on the "
            f"same port; each client reconnects as its design's does (Taskpulse resumes with last_seq); "
            f"live again: subscribed again (Taskpulse: the server answered the ping a client sends on "
            f"opening, which it does once the socket has joined and been sent what it missed); "
            f"{lost.clients_missing} of {lost.clients:,} clients missed events, of {lost.reported:,} "
            f"reported; {summary['completed']:,} followed to the end; close codes {summary['close_codes']}"
            + killed
            + (f"; problems: {summary['errors']}" if summary["errors"] else "")
            + (f"; failed opens, tried again: {summary['failed_opens']}" if summary["failed_opens"] else ""),
            figures,
            baseline_of=None if design == "taskpulse" else OURS,
        )
    )


def capacity(bench, sizes, kind: str, *, design: str = "taskpulse", name: str | None = None) -> None:
    """Idle watchers held by one server process: memory per connection, CPU, database load."""
    server = bench.server(kind)
    steps = (10, *sizes.capacity)
    run = bench.load(
        {
            "mode": "watch",
            "design": design,
            "base_url": server.base_url,
            "task_ids": bench.still_tasks(design, steps[-1]),
            "steps": list(steps),
        }
    )
    points = []
    try:
        for count in steps:
            opened = run.wait_ready()
            time.sleep(2 if not bench.smoke else 0.2)
            points.append((opened, server.rss_bytes()))
            if count != steps[-1]:
                run.next_step()
        cpu_before, started = server.cpu_seconds(), time.time()
        time.sleep(sizes.database_seconds)
        cpu = 100 * (server.cpu_seconds() - cpu_before) / (time.time() - started)
        summary = run.finish()
    finally:
        server.stop()
    name = name or kind.capitalize()
    bench.memory[name] = [(count, rss / 2**20) for count, rss in points]
    (base_count, base_rss), (top_count, top_rss) = points[0], points[-1]
    per_connection = (
        (top_rss - base_rss) / (top_count - base_count) / 1024 if top_count > base_count else None
    )
    figures = {
        "connections": top_count,
        "KB RSS/conn": per_connection,
        "idle CPU %": cpu,
        "RSS MB": top_rss / 2**20,
    }
    what = (
        f"idle authenticated /ws/tasks/ watchers of one task, heartbeat 25 s, a credentials round "
        f"every {bench.env['TASKPULSE_AUTH_RECHECK_SECONDS']} s"
        if design == "taskpulse"
        else "idle watchers, each of a task of its own that never moves, reading what comes"
    )
    problems = f"; problems: {summary['errors']}" if summary["errors"] else ""
    bench.rows.append(
        Row(
            "3. capacity",
            name,
            f"{what}; RSS from {base_count} connections; {server.tracebacks()} server tracebacks{problems}",
            figures,
            baseline_of=None if kind == "daphne" else "Daphne",
        )
    )


def database(bench, sizes, daphne, polling, peers) -> None:
    """Database transactions and Redis commands per second: idle watchers, and tasks sending 100
    events/s."""
    watchers = sizes.database_watchers
    idle_rates, idle_problems = {}, {}
    for design, name, server in (
        ("taskpulse", OURS, daphne),
        *((design, name, peers[kind]) for name, design, kind in PEERS),
        ("db-poll", "DB-polling consumer", polling),
    ):
        idle = bench.load({"mode": "watch", "design": design, "base_url": server.base_url,
                           "steps": [watchers], "task_ids": bench.still_tasks(design, watchers)})  # fmt: skip
        idle.wait_ready()
        # Past the round that reads the new connections' credentials: idle is what follows.
        time.sleep(float(bench.env["TASKPULSE_AUTH_RECHECK_SECONDS"]) + 2)
        idle_rates[name] = load_rates(sizes.database_seconds)
        idle_problems[name] = idle.finish()["errors"]
    with own_server(bench) as server:
        http_idle = bench.load(
            {
                "mode": "poll-http",
                "base_url": server.base_url,
                "clients": watchers,
                "interval": 0.5,
                "task_ids": [str(bench.still.id)],
                "duration": sizes.database_seconds + 4,
            }
        )
        http_idle.wait_ready()
        time.sleep(2)
        idle_rates["HTTP polling"] = load_rates(sizes.database_seconds)
        http_idle.finish(timeout=sizes.database_seconds * 4 + 60)

    tasks = max(1, sizes.tasks // 2)
    common = {
        "clients": tasks * 10 if not bench.smoke else tasks,
        "tasks": tasks,
        "seconds": sizes.seconds * 2,
        "measure_database": True,
    }
    busy = {
        OURS: bench.follow(label="db busy", server=daphne, **common),
        **{
            name: bench.follow(label=f"db busy {design}", server=peers[kind], design=design, **common)
            for name, design, kind in PEERS
        },
        "DB-polling consumer": bench.follow(label="db busy db-poll", server=polling, **POLL, **common),
        "HTTP polling": http_polling(bench, "db busy http-poll", **common),
    }
    for design, result in busy.items():
        idle_database, idle_redis = idle_rates[design]
        busy_database, busy_redis = result["database"]
        bench.rows.append(
            Row(
                "6. database",
                design,
                f"{watchers:,} idle watchers of tasks that do not move, after their first round"
                + (f" (problems: {idle_problems[design]})" if idle_problems.get(design) else "")
                + " | "
                + conditions(
                    result,
                    common["clients"],
                    tasks,
                    f"a credentials round every {bench.env['TASKPULSE_AUTH_RECHECK_SECONDS']} s",
                ),
                {
                    "transactions/s idle": idle_database,
                    "Redis commands/s idle": idle_redis,
                    "transactions/s at events": busy_database,
                    "Redis commands/s at events": busy_redis,
                },
                baseline_of=None if design == OURS else OURS,
            )
        )


def drop(bench, sizes, daphne, polling, peers) -> None:
    """What a client loses across a 2-second drop of its network: clients follow tasks; all their
    connections are cut at once and stay down for 2 s; each client then reconnects as its
    design's does (Taskpulse with last_seq, django-eventstream with Last-Event-ID, the others
    afresh) and follows its task to the end. Missed and repeated events are counted against what
    was reported (bench/losses.py)."""
    tasks = max(1, sizes.tasks // 2)
    clients = tasks * 10
    seconds = max(6.0, sizes.seconds)
    for name, design, server in ((OURS, "taskpulse", daphne), *((n, d, peers[k]) for n, d, k in PEERS)):
        task_ids = bench.tickers(tasks, seconds, per_second=DROP_EVENTS_PER_SECOND, design=design)
        run = bench.load({"mode": "drop", "design": design, "base_url": server.base_url, "clients": clients,
                          "task_ids": task_ids, "drop_seconds": DROP_SECONDS})  # fmt: skip
        run.wait_ready()
        bench.release()
        time.sleep(seconds / 3)
        summary = run.finish(timeout=seconds * 6 + 120, last_lines="drop\n")
        lost = losses.count(design, task_ids, clients, bench.calls_file, run.records)
        problems = {k: v for k, v in summary["errors"].items() if k != "cut on purpose"}
        bench.rows.append(
            Row(
                "7. a 2-second drop",
                name,
                f"{clients} clients following {tasks} task{'s' if tasks > 1 else ''} "
                f"({DROP_EVENTS_PER_SECOND} events/s each); "
                f"{seconds / 3:.0f} s in, every connection cut and the network down {DROP_SECONDS} s; "
                f"{lost.reported:,} events reported to these clients in all; "
                f"{summary['completed']} followed to the end"
                + (f"; problems: {problems}" if problems else ""),
                {
                    "events missed per client": lost.missed_per_client,
                    "clients that missed any": lost.clients_missing,
                    "events repeated": lost.repeated,
                },
                baseline_of=None if design == "taskpulse" else OURS,
            )
        )


COLUMNS = "email:email, name:text, age:integer, score:number, joined:date"


def _rows(count: int) -> list[list[str]]:
    return [
        [f"user{n}@example.com", f"User {n}", str(20 + n % 50), f"{n * 0.37:.2f}", "2024-03-01"]
        for n in range(count)
    ]


@progress_task(name="bench.validate_rows")
def validate_rows(reporter, count: int) -> int:
    """The same loop as a project's own Celery task reports it, run here with Celery's apply()."""
    columns = parse_column_spec(COLUMNS)
    header = {column["name"]: index for index, column in enumerate(columns)}
    rows = _rows(count)
    started = time.perf_counter()
    reporter.step("Validating", until=100)
    for done, row in enumerate(rows, start=1):
        validate_row(row, header, columns, len(columns))
        reporter.update(done, count)
    reporter.flush()
    return time.perf_counter() - started


def reporter_cost(bench, sizes) -> None:
    """A loop validating CSV rows as the data import does, with and without reporting each row,
    and as a @progress_task's body."""
    columns = parse_column_spec(COLUMNS)
    header = {column["name"]: index for index, column in enumerate(columns)}
    rows = _rows(sizes.reporter_updates)

    def without():
        for row in rows:
            validate_row(row, header, columns, len(columns))

    def with_reporter(run):
        # As a @progress_task reports: on the run task_start returned, one statement per event.
        reporter = ProgressReporter(run.id, run=run)
        reporter.step("Validating", until=100)
        total = len(rows)
        for done, row in enumerate(rows, start=1):
            validate_row(row, header, columns, len(columns))
            reporter.update(done, total)
        reporter.flush()

    timings: dict[str, list[float]] = {"without": [], "with": [], "decorated": []}
    events = 0
    # Alternated, the fastest of each kept: the machine is shared.
    for _ in range(REPORTER_ROUNDS):
        started = time.perf_counter()
        without()
        timings["without"].append(time.perf_counter() - started)
        task = Task.objects.create(owner=bench.user, kind="ticker", params={})
        run = services.task_start(task_id=task.id)
        started = time.perf_counter()
        with_reporter(run)
        timings["with"].append(time.perf_counter() - started)
        events = TaskEvent.objects.filter(task=task).count()
        # The loop's own time, from inside the task: not the task's start and end around it.
        timings["decorated"].append(validate_rows.apply(args=[sizes.reporter_updates]).get())
    base, ours = min(timings["without"]), min(timings["with"])
    bench.rows.append(
        Row(
            "5. reporter cost",
            "update() per row",
            f"{sizes.reporter_updates:,} rows validated (5 typed columns, an e-mail check), throttled to "
            f"10 events/s, each one statement, as a @progress_task reports; "
            f"fastest of {REPORTER_ROUNDS}, alternated",
            {
                "s without": base,
                "s with": ours,
                "added %": 100 * (ours - base) / base,
                "µs per update": (ours - base) / sizes.reporter_updates * 1e6,
                "events persisted": events,
            },
        )
    )
    decorated = min(timings["decorated"])
    bench.rows.append(
        Row(
            "5. reporter cost",
            "@progress_task's reporter",
            f"the same loop as the body of a @progress_task, run by Celery's apply(); "
            f"fastest of {REPORTER_ROUNDS}, alternated with the others",
            {"s with": decorated, "added %": 100 * (decorated - base) / base},
        )
    )
