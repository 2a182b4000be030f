"""How database connections are held: HTTP requests close theirs when the response is done, and
the consumers' threads (threads.py) keep theirs without Django's health check.

Under ASGI, Django runs each request's sync code in a thread of its own, so a connection kept for
reuse (CONN_MAX_AGE) is never reused and piles up until PostgreSQL refuses more. Django's docs say
to disable persistent connections with ASGI; so request threads' connections are closed here.
"""

from django.core.signals import request_finished
from django.db import connections
from django.db.backends.signals import connection_created

from tasks_app.db.threads import skip_health_checks_in_consumer_threads


def close_request_connections(**kwargs) -> None:
    for connection in connections.all(initialized_only=True):
        # A test's transaction wraps the request when the test client calls in-process.
        if not connection.in_atomic_block:
            connection.close()


def connect() -> None:
    request_finished.connect(close_request_connections, dispatch_uid="taskpulse-close-request-connections")
    connection_created.connect(
        skip_health_checks_in_consumer_threads, dispatch_uid="taskpulse-consumer-connections"
    )
