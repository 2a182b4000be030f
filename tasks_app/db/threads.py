"""The consumers' database threads: the WebSocket and SSE side reaches the database through a few
threads of its own, which keep their connections.

Channels' database_sync_to_async runs every consumer's queries in one thread, one after another.
When a thousand clients reconnect at once (a deploy), that one thread spent the storm waiting on
PostgreSQL round trips, many of them the health check (SELECT 1) Django runs before the first
query of every call. So consumers call the database through `consumer_database`: a small pool of
threads whose round trips overlap, with connections kept (CONN_MAX_AGE) and not health-checked. A
connection that fails is still replaced: the failing call raises, marks it, and the next call's
close_old_connections closes it.

The hand-over to those threads and back is our own rather than asgiref's sync_to_async on a
ThreadPoolExecutor, which made an asyncio future chained to a concurrent one for each call, each
with its locks, and woke the event loop once per call. Here the threads take calls from one
queue, and hand back the results of as many as have queued up meanwhile with one wake-up of the
loop. Measured in docs/performance.md.
"""

import asyncio
import contextvars
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from functools import lru_cache
from typing import ParamSpec, TypeVar, cast

from django.db import close_old_connections, connections

# Each thread holds one connection per server process; a few overlap the round trips without
# crowding PostgreSQL's connection limit when many server processes run.
CONSUMER_DATABASE_THREADS = 4
_THREAD_NAME_PREFIX = "taskpulse-db"
# At most this many results go back to an event loop with one wake-up, so that the first of a
# crowd's calls are answered while its last are still running. A held result waits while its
# thread runs the next queued calls (31 at most): only in a crowd, whose calls wait as long in
# the queue anyway. A thread that finds the queue empty hands back what it holds at once.
_RESULTS_PER_WAKE = 32


class DatabaseThreads:
    """Threads, started with the first call, that run calls from one queue and hand each event
    loop back its results together."""

    def __init__(self, count: int) -> None:
        self.count = count
        # (event loop or None, future, context, function, args, kwargs), or None: a thread's stop
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def call(self, function, args, kwargs):
        self._start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # In a copy of the caller's context, as sync_to_async runs it.
        self._calls.put((loop, future, contextvars.copy_context(), function, args, kwargs))
        return await future

    def on_each_thread(self, function) -> None:
        """Run `function` once on every thread that has started, and wait for all of them.
        Each must block until all have begun (a barrier), or one thread may take two."""
        futures: list[Future] = [Future() for _ in self._threads]
        for future in futures:
            self._calls.put((None, future, contextvars.copy_context(), function, (), {}))
        for future in futures:
            future.result()

    def stop(self) -> None:
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    @property
    def started(self) -> int:
        return len(self._threads)

    def _start(self) -> None:
        if len(self._threads) == self.count:
            return
        with self._lock:
            while len(self._threads) < self.count:
                name = f"{_THREAD_NAME_PREFIX}-{len(self._threads)}"
                thread = threading.Thread(target=self._serve, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _serve(self) -> None:
        answered: dict[asyncio.AbstractEventLoop, list] = {}
        pending = 0
        while True:
            try:
                call = self._calls.get_nowait() if pending else self._calls.get()
            except queue.Empty:  # no more calls for now: hand back what is done
                answered, pending = _hand_back(answered), 0
                continue
            if call is None:
                _hand_back(answered)
                return
            loop, future, context, function, args, kwargs = call
            if loop is None:  # maintenance of the threads themselves (on_each_thread)
                _settle(future, _outcome(context, function, args, kwargs))
                continue
            outcome = _run(context, function, args, kwargs)
            answered.setdefault(loop, []).append((future, outcome))
            pending += 1
            if pending == _RESULTS_PER_WAKE:
                answered, pending = _hand_back(answered), 0


def _hand_back(answered: dict) -> dict:
    """Settle each loop's futures with one wake-up of that loop; returns a new, empty dict."""
    for loop, outcomes in answered.items():
        try:
            loop.call_soon_threadsafe(_settle_all, outcomes)
        except RuntimeError:
            pass  # the loop was closed: no one awaits these any more
    return {}


def _run(context, function, args, kwargs):
    """(result, None) or (None, the exception): whatever is raised, closing stale connections
    included, is the caller's to handle, as with sync_to_async; a thread that died of it would
    leave every later call waiting."""
    return _outcome(context, _closing_stale_connections, (function, *args), kwargs)


def _closing_stale_connections(function, *args, **kwargs):
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


def _outcome(context, function, args, kwargs):
    try:
        return context.run(function, *args, **kwargs), None
    except BaseException as exc:
        return None, exc


def _settle_all(outcomes: list) -> None:
    for future, outcome in outcomes:
        _settle(future, outcome)


def _settle(future, outcome) -> None:
    result, exc = outcome
    if future.cancelled():  # its caller stopped waiting (the consumer of a closed socket, say)
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)


_threads = DatabaseThreads(CONSUMER_DATABASE_THREADS)

P = ParamSpec("P")
R = TypeVar("R")


def consumer_database(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function`, to be awaited, run in the consumers' database threads: what Channels'
    database_sync_to_async is, with these threads instead of its one."""
    return cast(Callable[P, Awaitable[R]], _adapter(function))


# The callers pass the same few functions on every call: an adapter is built once for each.
@lru_cache(maxsize=128)
def _adapter(function):
    async def call(*args, **kwargs):
        return await _threads.call(function, args, kwargs)

    return call


def close_consumer_connections() -> None:
    """Close the connections the consumers' threads keep (a test run does before it drops its
    database). Each thread waits at the barrier for the others, so each closes its own."""
    if not _threads.started:
        return
    barrier = threading.Barrier(_threads.started)

    def close() -> None:
        connections.close_all()
        barrier.wait(timeout=10)

    _threads.on_each_thread(close)


def skip_health_checks_in_consumer_threads(connection, **kwargs) -> None:
    if threading.current_thread().name.startswith(_THREAD_NAME_PREFIX):
        connection.health_check_enabled = False
