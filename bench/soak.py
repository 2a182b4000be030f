"""The soak (bin/bench --soak MINUTES): the product under steady use for a long time, looking for
what grows. 1,000 clients follow rounds of ticker tasks to their end while 1 % of the open
connections are cut every second and resume; after each round the server's and the worker's
memory and open files, Redis's memory and the database's connections are sampled. Reports each
one's slope per hour (least squares), and the events lost or repeated (must be none)."""

import time
from dataclasses import dataclass
from pathlib import Path

import redis

from django.conf import settings
from django.db import connection

TASKS_PER_ROUND = 10
ROUND_SECONDS = 10
DROP_PER_SECOND = 0.01
SAMPLES = {
    "server memory (MB)": "server_mb",
    "worker memory (MB)": "worker_mb",
    "server open files": "server_fds",
    "worker open files": "worker_fds",
    "Redis memory (MB)": "redis_mb",
    "database connections": "database_connections",
}


@dataclass
class Sample:
    minute: float
    server_mb: float
    worker_mb: float
    server_fds: int
    worker_fds: int
    redis_mb: float
    database_connections: int | None


def soak(bench, minutes: float, clients: int = 1000) -> dict:
    server = bench.server()
    bench.start_worker()
    redis_client = redis.Redis.from_url(settings.REDIS_URL)
    run = bench.load(
        {
            "mode": "soak",
            "base_url": server.base_url,
            "clients": clients,
            "drop_per_second": DROP_PER_SECOND,
            "records": None,
            "patience": ROUND_SECONDS * 6 + 120,
        }  # fmt: skip
    )
    run.wait_ready()
    started = time.monotonic()
    samples, rounds, followed = [], 0, 0
    try:
        while time.monotonic() - started < minutes * 60:
            run.start_round(bench.tickers(TASKS_PER_ROUND, ROUND_SECONDS))
            bench.release()
            followed += run.wait_round()
            rounds += 1
            samples.append(_sample((time.monotonic() - started) / 60, server, bench.worker, redis_client))
        summary = run.finish(timeout=120, last_lines="\n")
    finally:
        server.stop()
        bench.stop_worker()
    return {
        "minutes": round((time.monotonic() - started) / 60, 1),
        "clients": clients,
        "rounds": rounds,
        "tasks": rounds * TASKS_PER_ROUND,
        "followed to the end": followed,
        "lost events": summary["gaps"],
        "repeated events": summary["duplicates"],
        "connections cut": summary["errors"].get("cut on purpose", 0),
        "gave up": summary["errors"].get("gave up", 0),
        "server tracebacks": server.tracebacks(),
        "first": samples[0].__dict__ if samples else None,
        "last": samples[-1].__dict__ if samples else None,
        "slopes per hour": {name: _slope(samples, field) for name, field in SAMPLES.items()},
        # Warm-up (caches filling, the allocator's arenas) shows in the first half; a leak in both.
        "second-half slopes per hour": {
            name: _slope(samples[len(samples) // 2 :], field) for name, field in SAMPLES.items()
        },
        "samples": [sample.__dict__ for sample in samples],
    }


def _sample(minute: float, server, worker, redis_client) -> Sample:
    worker_pids = [worker.pid, *_children(worker.pid)]
    return Sample(
        minute=round(minute, 2),
        server_mb=server.rss_bytes() / 2**20,
        worker_mb=sum(_rss(pid) for pid in worker_pids) / 2**20,
        server_fds=_open_files(server.pid),
        worker_fds=sum(_open_files(pid) for pid in worker_pids),
        redis_mb=int(redis_client.info("memory")["used_memory"]) / 2**20,
        database_connections=_database_connections(),
    )


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024


def _open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _database_connections() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _slope(samples: list[Sample], field: str) -> float | None:
    """Least-squares growth per hour of `field` over the samples."""
    points = [
        (sample.minute, getattr(sample, field)) for sample in samples if getattr(sample, field) is not None
    ]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if not spread:
        return None
    return round(60 * sum((x - mean_x) * (y - mean_y) for x, y in points) / spread, 2)


def markdown(result: dict) -> str:
    lines = [
        f"Soak: {result['minutes']} min, {result['clients']} clients, {result['tasks']} tasks in "
        f"{result['rounds']} rounds, {result['connections cut']} connections cut on purpose.",
        "",
        f"- followed to the end: {result['followed to the end']}; lost events: {result['lost events']}; "
        f"repeated events: {result['repeated events']}; gave up: {result['gave up']}; "
        f"server tracebacks: {result['server tracebacks']}",
        "",
        "| measure | first | last | slope per hour | over the second half |",
        "|---|---|---|---|---|",
    ]
    for name, field in SAMPLES.items():
        first = result["first"][field] if result["first"] else None
        last = result["last"][field] if result["last"] else None
        slope, late = result["slopes per hour"][name], result["second-half slopes per hour"][name]
        lines.append(f"| {name} | {_shown(first)} | {_shown(last)} | {_shown(slope)} | {_shown(late)} |")
    return "\n".join(lines) + "\n"


def _shown(value) -> str:
    return "n/a" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)
