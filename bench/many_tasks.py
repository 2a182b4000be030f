"""Many tasks at once: the write path under the load this product really has.

Tickers run concurrently on two worker processes (threads, so that hundreds run at once), each
reporting as fast as the reporter sends (its throttle, 10 events/s), while 1,000 clients follow
them on one server process. Each step asks for more tasks at once; a step reports persisted
events per second, end-to-end latency, and what an event costs: PostgreSQL transactions, Redis
commands, and CPU of each process. The highest rate sustained with p99 ≤ 50 ms is the answer.
"""

import math
import socket
import time

import redis

from django.conf import settings
from django.db import connection

from bench import stack
from bench.database import load_rates
from bench.latencies import join_latencies, percentiles
from bench.report import Row
from tasks_app.models import TaskEvent

FULL_STEPS = (50, 100, 200, 300)
SMOKE_STEPS = (2, 4)
CLIENTS = 1000
SMOKE_CLIENTS = 20
SECONDS = 14
WORKERS = 2
P99_LIMIT_MS = 50
PROFILED_TASKS = 200
# Connections PostgreSQL keeps for everything else: the server's threads, beat, psql.
SPARE_CONNECTIONS = 60


def max_tasks_at_once() -> int:
    """Each running task holds a database connection (one per thread): PostgreSQL's limit caps
    the tasks that can run at once."""
    if connection.vendor != "postgresql":
        return 20
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        return int(cursor.fetchone()[0]) - SPARE_CONNECTIONS


def run(bench, sizes) -> None:
    steps = SMOKE_STEPS if bench.smoke else FULL_STEPS
    limit = max_tasks_at_once()
    steps = tuple(step for step in steps if step <= limit) or (limit,)
    clients = SMOKE_CLIENTS if bench.smoke else CLIENTS
    seconds = 4 if bench.smoke else SECONDS
    per_worker = math.ceil(max(steps) / WORKERS)
    workers = [
        stack.start_worker(
            bench.env, bench.calls_file, pool="threads", concurrency=per_worker, hostname=f"bench-many{n}@%h"
        )  # fmt: skip
        for n in range(WORKERS)
    ]
    server = bench.server("daphne")
    sustained = 0.0
    try:
        for worker in workers:
            worker.wait_until(
                lambda w=worker: bench._worker_answers(f"{w.name}@{socket.gethostname()}"), "answering"
            )
        for tasks in steps:
            result = _step(bench, server, workers, tasks, clients, seconds)
            p50, _p95, p99 = percentiles(result["latencies"])
            if p99 <= P99_LIMIT_MS and result["persisted"] >= 0.9 * tasks * 10:
                sustained = max(sustained, result["persisted"])
            events = result["persisted"] or float("nan")
            cpu = result["cpu"]
            bench.latencies[f"many tasks, {tasks} at once"] = result["latencies"]
            bench.rows.append(
                Row(
                    "8. many tasks",
                    f"Taskpulse, {tasks} tasks at once",
                    f"{tasks} tickers at 10 events/s on {WORKERS} worker processes (threads), "
                    f"{clients:,} clients following them on one server; CPU % of a core: workers "
                    f"{cpu['workers']:.0f}, server {cpu['server']:.0f}, PostgreSQL {cpu['postgres']:.0f}, "
                    f"Redis {cpu['redis']:.0f}; {result['delivered_rate']:,.0f} msgs/s delivered"
                    + (f"; {result['tracebacks']} tracebacks" if result["tracebacks"] else "")
                    + (f"; problems: {result['problems']}" if result["problems"] else ""),
                    {
                        "events/s persisted": result["persisted"],
                        "p50 ms": p50,
                        "p99 ms": p99,
                        "transactions/event": result["transactions"] / events,
                        "Redis commands/event": result["redis"] / events,
                        "CPU ms/event": sum(cpu.values()) * 10 / events,
                    },
                )
            )
        if bench.options.profile:
            # A run of its own: py-spy slows the worker it samples, so no figure comes from it.
            profile = str(bench.options.out / "profile-many-tasks-worker.txt")
            _step(bench, server, workers, PROFILED_TASKS, clients, seconds, profile)
        bench.rows.append(
            Row(
                "8. many tasks",
                "Taskpulse, sustained",
                f"the highest rate of the steps above persisted (≥ 90 % of what was asked) with p99 ≤ "
                f"{P99_LIMIT_MS} ms",
                {"events/s": sustained},
            )
        )
    finally:
        server.stop()
        for worker in workers:
            worker.stop()


def _step(bench, server, workers, tasks, clients, seconds, profile=None) -> dict:
    task_ids = bench.tickers(tasks, seconds)
    run = bench.load(
        {"mode": "follow", "base_url": server.base_url, "clients": clients, "task_ids": task_ids}
    )
    run.wait_ready()
    bench.release()
    time.sleep(min(3.0, seconds / 4))  # the tickers started, their threads connected
    window = seconds / 2
    processes = {"workers": workers, "server": [server]}
    before = {name: sum(p.cpu_seconds() for p in group) for name, group in processes.items()}
    postgres, redis_cpu = stack.cpu_seconds_of("postgres"), _redis_cpu()
    events = TaskEvent.objects.filter(task_id__in=task_ids).count()
    spy = profile and stack.start_profile(workers[0], window, profile)
    started = time.time()
    transactions, commands = load_rates(window)
    elapsed = time.time() - started
    events = TaskEvent.objects.filter(task_id__in=task_ids).count() - events
    cpu = {name: 100 * (sum(p.cpu_seconds() for p in group) - before[name]) / elapsed
           for name, group in processes.items()}  # fmt: skip
    postgres_after = stack.cpu_seconds_of("postgres")
    cpu["postgres"] = 100 * sum(t - postgres.get(pid, 0.0) for pid, t in postgres_after.items()) / elapsed
    cpu["redis"] = 100 * (_redis_cpu() - redis_cpu) / elapsed
    summary = run.finish(timeout=seconds * 6 + 300)
    if spy:
        spy.wait()
    latencies, delivered, delivered_window = join_latencies(bench.calls_file, run.records, set(task_ids))
    return {
        "latencies": latencies,
        "persisted": events / elapsed,
        "delivered_rate": delivered / delivered_window if delivered_window else 0.0,
        "transactions": transactions or 0.0,
        "redis": commands,
        "cpu": cpu,
        "tracebacks": sum(w.tracebacks() for w in workers) + server.tracebacks(),
        "problems": summary["errors"],
    }


def _redis_cpu() -> float:
    info = redis.Redis.from_url(settings.REDIS_URL).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]
