"""Database load, by PostgreSQL's own count of transactions in the benchmark's database."""

import time

from django.db import connection


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


def database_rate(seconds: float) -> float | None:
    """Transactions per second over a window of steady load. Backends publish their counts up to
    a second late (10 s when idle), alike at both ends of the window; this process's own three
    reads are taken off."""
    before = database_transactions()
    time.sleep(seconds)
    after = database_transactions()
    if before is None:
        return None
    return max(0.0, (after - before - 3) / seconds)
