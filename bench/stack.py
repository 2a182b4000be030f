"""The real stack on loopback for the benchmark: server, worker and load processes, and what they cost.

Every process is started from this repository with the benchmark's environment (its own database
and Redis database), and read from /proc for memory and CPU.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# One process per ticker that runs at once, as production runs Celery (prefork), plus spares.
WORKER_PROCESSES = 24
PEER_QUEUE = "bench.peers"
PEER_SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.peers.settings"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Process:
    """One process of the stack, its output kept in a temporary file for when it fails."""

    # Where the output of a process that wrote a traceback is copied when it stops (run.py sets it).
    kept_logs: Path | None = None

    def __init__(self, name: str, command: list[str], env: dict, *, stdin=None, stdout=None) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix=f"bench-{name}-", suffix=".log")
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=stdin,
            stdout=stdout if stdout is not None else self.log,
            stderr=self.log,
            text=True,
        )
        self.pid = self.popen.pid

    def rss_bytes(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(kilobytes) * 1024

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def tracebacks(self) -> int:
        return self.output().count("Traceback")

    def wait_until(self, condition, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not {what} after {timeout} s:\n{self.output()[-3000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.kept_logs and self.tracebacks():
            self.kept_logs.mkdir(parents=True, exist_ok=True)
            (self.kept_logs / f"{self.name}-{self.pid}.log").write_text(self.output())


def start_server(kind: str, env: dict, port: int | None = None) -> Process:
    """`daphne` (the product's `manage.py serve`), `daphne-plain` (the same application under
    Daphne's own command, as the Channels docs deploy), `uvicorn` (the same application),
    `polling` (the database-polling baseline of bench/polling_server.py, under Daphne), `peers`
    (celery-progress and django-eventstream, under Daphne's command as their docs deploy), or
    `socketio` (python-socketio's ASGI server, under Uvicorn as its docs deploy)."""
    port = port or free_port()
    daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    commands = {
        "daphne": [sys.executable, "manage.py", "serve", "--port", str(port)],
        "daphne-plain": [*daphne, "project.asgi:application"],
        "peers": [*daphne, "bench.peers.asgi:application"],
        "socketio": [*uvicorn, "--lifespan", "off", "bench.peers.socketio_server:application"],
        "uvicorn": [
            sys.executable, "-m", "uvicorn", "project.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets", "--ws-max-size", env.get("TASKPULSE_WS_MAX_MESSAGE_BYTES", "65536"),
            # As Daphne serves it: no compression, so memory per connection stays bounded.
            "--ws-per-message-deflate", "false",
            "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        ],
        "polling": [
            *daphne,
            # Its consumers read the database on every connect, in one thread: a crowd of 1,000
            # waits its turn longer than Daphne's 5 s default allows a handshake.
            "--websocket_connect_timeout", "120", "bench.polling_server:application",
        ],
    }  # fmt: skip
    server = Process(f"server-{kind}", commands[kind], {**env, **(PEER_SETTINGS if kind == "peers" else {})})
    server.port = port
    server.base_url = f"http://127.0.0.1:{port}"
    server.wait_until(lambda: listening(port), "listening")
    return server


def start_worker(
    env: dict,
    calls_file: Path,
    *,
    pool: str = "prefork",
    concurrency: int = WORKER_PROCESSES,
    hostname: str = "bench@%h",
) -> Process:
    """The instrumented Celery worker of bench/worker.py, prefork as in production, on the
    tickers' queue (run.Bench.release queues them)."""
    worker = Process(
        hostname.split("@")[0],
        [
            sys.executable, "bench/worker.py", "worker", "--pool", pool,
            "--concurrency", str(concurrency), "--queues", "kind.ticker", "--hostname", hostname,
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
        {**env, "BENCH_CALLS_FILE": str(calls_file)},
    )  # fmt: skip
    return worker


def cpu_seconds_of(command_name: str) -> dict[int, float]:
    """CPU seconds of every process of that name (`postgres`: the server and its backends)."""
    seconds = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name == command_name:
            fields = text.rsplit(")", 1)[1].split()
            seconds[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def migrate_peers(env: dict) -> None:
    """django-eventstream's tables, in the benchmark's database."""
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**env, **PEER_SETTINGS}, check=True)  # fmt: skip


def start_peer_worker(env: dict, calls_file: Path) -> Process:
    """The peers' tickers' worker (bench/peers/worker.py), prefork as bench/worker.py."""
    return Process(
        "peer-worker",
        [
            sys.executable, "bench/peers/worker.py", "worker", "--pool", "prefork",
            "--concurrency", str(WORKER_PROCESSES), "--queues", PEER_QUEUE, "--hostname", "bench-peers@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
        ],
        {**env, **PEER_SETTINGS, "BENCH_CALLS_FILE": str(calls_file)},
    )  # fmt: skip


def start_profile(process: Process, seconds: float, name: str) -> subprocess.Popen:
    """py-spy, sampling a process under load into collapsed stacks. A worker is sampled in its
    pool's processes, waits included (--idle): waiting on the database and Redis is its time. A
    server only while a thread holds the GIL (--gil): its CPU, which is what limits it, not its
    database threads' waits for PostgreSQL."""
    py_spy = str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(process.pid), "--duration", str(max(1, int(seconds))),
               "--format", "raw", "--output", name, "--nonblocking", "--rate", "200"]  # fmt: skip
    command += ["--idle", "--subprocesses"] if name.endswith("-worker.txt") else ["--gil"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
