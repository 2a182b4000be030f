"""The benchmark's database: brought to a known state first, and its load counted by PostgreSQL;
and the load on Redis, counted by Redis."""

import logging
import time

import redis

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def database_settle() -> None:
    """Vacuum the benchmark's database and write a checkpoint before measuring, as pgbench
    vacuums before its runs. Each run deletes its ~100,000 events and updated task rows at the
    end; where autovacuum is off (as on the machine of docs/performance.md's figures) the next run wrote
    among all of them, and its first measurement, the reporter's, gave +52 % where runs of it
    alone gave +9 to +14 %."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            logger.warning("Could not write a checkpoint (it needs a superuser); measuring without")


def database_transactions() -> int | None:
    """Transactions so far in this database, by PostgreSQL's statistics. Django runs in autocommit,
    so a query outside `atomic()` is one transaction; an event is one of three statements."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


def redis_commands() -> int:
    """Commands Redis has run since it started, from every client (its INFO stats)."""
    return redis.Redis.from_url(settings.REDIS_URL).info("stats")["total_commands_processed"]


def load_rates(seconds: float) -> tuple[float | None, float]:
    """Database transactions and Redis commands per second over a window of steady load; the
    Redis server is the benchmark's own, its other databases idle."""
    before, commands = database_transactions(), redis_commands()
    time.sleep(seconds)
    after, commands = database_transactions(), redis_commands() - commands - 1
    database = None if before is None else max(0.0, (after - before - 3) / seconds)
    return database, max(0.0, commands / seconds)
