"""Riding out a database that went away (a restart, a failover, connections killed by an
administrator): tell a lost connection from other errors, drop it so that the next query opens
a new one, and retry for up to TASKPULSE_DATABASE_OUTAGE_SECONDS."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What psycopg2 (through Django) raises when the server is gone or the connection was killed.
DATABASE_LOST = (OperationalError, InterfaceError)
FIRST_BACKOFF_SECONDS = 0.1
LONGEST_BACKOFF_SECONDS = 2.0


class DatabaseUnavailable(Exception):
    """The database stayed away longer than the caller would wait."""


def outage_limit() -> float:
    return settings.TASKPULSE_DATABASE_OUTAGE_SECONDS


def drop_connection() -> None:
    """Close this thread's connection, which a lost server left unusable; the next query opens
    another. Inside a transaction nothing is dropped: the transaction is lost with it, and only
    its owner can start it again."""
    if not connection.in_atomic_block:
        connection.close()


def backoff(failures: int) -> float:
    """How long to wait after the `failures`-th failure in a row: doubling, capped."""
    return min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), LONGEST_BACKOFF_SECONDS)


def retrying(
    function: Callable[[], T],
    *,
    within: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """function(), called again while the database is lost, for up to `within` seconds (default
    TASKPULSE_DATABASE_OUTAGE_SECONDS); then DatabaseUnavailable. A write whose connection was
    lost at its commit may have been made: `function` must be safe to call again."""
    limit = outage_limit() if within is None else within
    started = clock()
    failures = 0
    while True:
        try:
            return function()
        except DATABASE_LOST as exc:
            if connection.in_atomic_block:
                raise
            drop_connection()
            failures += 1
            if clock() - started >= limit:
                raise DatabaseUnavailable(f"the database was unreachable for more than {limit:g} s") from exc
            if failures == 1:
                logger.warning("The database connection was lost (%s); retrying for up to %g s", exc, limit)
            sleep(backoff(failures))
