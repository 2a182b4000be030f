"""How database connections are held: HTTP requests close theirs when the response is done, and
the WebSocket side reaches the database through a few threads of its own that keep theirs.

Under ASGI, Django runs each request's sync code in a thread of its own, so a connection kept
for reuse (CONN_MAX_AGE) is never reused and piles up until PostgreSQL refuses more: the
benchmark's HTTP pollers hit "too many clients" within seconds. Django's docs say to disable
persistent connections with ASGI; so request threads' connections are closed here.

Channels' database_sync_to_async runs every consumer's queries in one thread, one after another.
When a thousand clients reconnect at once (a deploy), each needs five small queries, and that
one thread spent the storm waiting on PostgreSQL round trips, 40 % of them the health check
(SELECT 1) Django runs before the first query of every call (bin/bench, py-spy). So consumers call
the database through `consumer_database`: a small pool of threads whose round trips overlap, with
connections kept (CONN_MAX_AGE) and not health-checked. A connection that fails is still
replaced: the failing call raises, marks it, and the next call's close_old_connections closes it.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from asgiref.sync import sync_to_async

from django.core.signals import request_finished
from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created

# Each thread holds one connection per server process; a few overlap the round trips without
# crowding PostgreSQL's connection limit when many server processes run.
CONSUMER_DATABASE_THREADS = 4
_THREAD_NAME_PREFIX = "taskpulse-db"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def consumer_database(function):
    """`function`, to be awaited, run in the consumers' database threads: what Channels'
    database_sync_to_async is, with these threads instead of its one."""
    return _adapter(function)


# The callers pass the same few functions on every call: building asgiref's adapter anew each
# time was 5 % of the server's CPU through a connect storm (py-spy, bin/bench --profile).
@lru_cache(maxsize=128)
def _adapter(function):
    def call(*args, **kwargs):
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=False, executor=_consumer_executor())


def _consumer_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(CONSUMER_DATABASE_THREADS, thread_name_prefix=_THREAD_NAME_PREFIX)
        return _executor


def close_consumer_connections() -> None:
    """Close the connections the consumers' threads keep (a test run does before it drops its
    database). Each thread waits at the barrier for the others, so each closes its own."""
    if _executor is None:
        return
    barrier = threading.Barrier(CONSUMER_DATABASE_THREADS)

    def close() -> None:
        connections.close_all()
        barrier.wait(timeout=10)

    for future in [_executor.submit(close) for _ in range(CONSUMER_DATABASE_THREADS)]:
        future.result()


def close_request_connections(**kwargs) -> None:
    for connection in connections.all(initialized_only=True):
        # A test's transaction wraps the request when the test client calls in-process.
        if not connection.in_atomic_block:
            connection.close()


def skip_health_checks_in_consumer_threads(connection, **kwargs) -> None:
    if threading.current_thread().name.startswith(_THREAD_NAME_PREFIX):
        connection.health_check_enabled = False


def connect() -> None:
    request_finished.connect(close_request_connections, dispatch_uid="taskpulse-close-request-connections")
    connection_created.connect(
        skip_health_checks_in_consumer_threads, dispatch_uid="taskpulse-consumer-connections"
    )
