"""Database connections of HTTP requests are closed when the response is done.

Under ASGI, Django runs each request's sync code in a thread of its own, so a connection kept
for reuse (CONN_MAX_AGE) is never reused and piles up until PostgreSQL refuses more: the
benchmark's HTTP pollers hit "too many clients" within seconds. Django's docs say to disable
persistent connections with ASGI. The consumers, though, reach the database through one shared
thread (database_sync_to_async), where a kept connection is reused by every socket; a new
connection per query would cost each of a thousand reconnecting sockets several connects. So
connections are kept (CONN_MAX_AGE), and only those of request threads closed here.
"""

from django.core.signals import request_finished
from django.db import connections


def close_request_connections(**kwargs) -> None:
    for connection in connections.all(initialized_only=True):
        # A test's transaction wraps the request when the test client calls in-process.
        if not connection.in_atomic_block:
            connection.close()


def connect() -> None:
    request_finished.connect(close_request_connections, dispatch_uid="taskpulse-close-request-connections")
