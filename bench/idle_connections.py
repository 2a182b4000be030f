"""Capacity planning: what idle, authenticated WebSocket connections cost one server process.

    python bench/idle_connections.py [--connections N] [--idle-seconds S]

Starts `manage.py serve` (Daphne) on a free port, on the database and Redis of the environment
(migrated), opens N stream connections as a logged-in user, as browsers do, holds them idle
(heartbeats included), and prints the server's memory (RSS) and CPU against the same process
with no connection, measured in the same run. Figures vary with the machine; use them to plan.
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
import websockets  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def database_transactions() -> int | None:
    """Transactions committed or rolled back in this database so far (PostgreSQL's statistics;
    each query of Django's autocommit is one). None on another database."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def idle_load(pid: int, seconds: float) -> tuple[float, float | None]:
    """The server's CPU (percent of a core) and the database's transactions per second, idle.
    PostgreSQL publishes its counters within a second or so; the window allows for it."""
    cpu_before, transactions_before = cpu_seconds(pid), database_transactions()
    time.sleep(seconds)
    cpu = 100 * (cpu_seconds(pid) - cpu_before) / seconds
    time.sleep(1.5)
    if transactions_before is None:
        return cpu, None
    # Less the two reads of the counter made here (which may not be published yet: hence max).
    return cpu, max(0.0, (database_transactions() - transactions_before - 2) / seconds)


def session_cookie() -> str:
    user, _ = get_user_model().objects.get_or_create(username="bench-idle")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def open_connections(url: str, origin: str, cookie: str, count: int) -> list:
    async def one():
        ws = await websockets.connect(
            url, additional_headers={"Cookie": cookie}, origin=origin, open_timeout=60
        )
        await ws.recv()  # the `connection` message: authenticated and subscribed to the user group
        return ws

    sockets = []
    for start in range(0, count, 100):  # in batches, as a crowd of browsers would arrive
        sockets += await asyncio.gather(*(one() for _ in range(min(100, count - start))))
    return sockets


async def hold(url, origin, cookie, count, idle_seconds, pid, settle) -> tuple[int, float, float | None]:
    sockets = await open_connections(url, origin, cookie, count)
    await asyncio.sleep(settle)
    rss = rss_bytes(pid)
    cpu, queries = await asyncio.to_thread(idle_load, pid, idle_seconds)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return rss, cpu, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=12,
        help="wait before measuring: PostgreSQL's idle backends publish their statistics up to 10 s "
        "late, and the queries of connecting must not count as idle ones",
    )
    parser.add_argument(
        "--recheck-seconds",
        type=float,
        default=10,
        help="the server's TASKPULSE_AUTH_RECHECK_SECONDS, short so that a window holds rounds",
    )
    options = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TASKPULSE_MAX_CONNECTIONS_PER_USER": "0",
        "TASKPULSE_AUTH_RECHECK_SECONDS": str(options.recheck_seconds),
        "LOG_LEVEL": "WARNING",
    }
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        while True:
            try:
                requests.get(f"{base}/accounts/login/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        cookie = session_cookie()
        url = f"ws://127.0.0.1:{port}/ws/stream/"
        asyncio.run(hold(url, base, cookie, 10, 1, server.pid, 0))  # warm-up: imports, pools
        time.sleep(options.settle_seconds)
        base_rss = rss_bytes(server.pid)
        base_cpu, base_queries = idle_load(server.pid, options.idle_seconds)
        rss, cpu, queries = asyncio.run(
            hold(
                url,
                base,
                cookie,
                options.connections,
                options.idle_seconds,
                server.pid,
                options.settle_seconds,
            )
        )
        time.sleep(2)  # the closes are handled
    finally:
        server.terminate()
        server.wait()
    log.seek(0)
    errors = log.read().count("Traceback")
    per_connection = (rss - base_rss) / options.connections
    print(
        f"one Daphne process, {options.connections} idle authenticated /ws/stream/ connections, "
        f"heartbeat {settings.TASKPULSE_HEARTBEAT_SECONDS:.0f} s, credentials re-checked every "
        f"{options.recheck_seconds:.0f} s, idle {options.idle_seconds:.0f} s"
    )
    print(f"{'':24}{'no connection':>16}{'with them':>16}")
    print(f"{'server RSS':24}{base_rss / 2**20:13.1f} MB{rss / 2**20:13.1f} MB")
    print(f"{'CPU while idle':24}{base_cpu:14.1f} %{cpu:14.1f} %")
    if queries is not None:
        print(f"{'database queries/s idle':24}{base_queries:16.2f}{queries:16.2f}")
    print(
        f"RSS per connection: {per_connection / 1024:.1f} KB (ratio to the empty process: "
        f"{rss / base_rss:.2f}x for {options.connections} connections)"
    )
    print(f"server errors (tracebacks) while connecting, idling and closing: {errors}")


if __name__ == "__main__":
    main()
