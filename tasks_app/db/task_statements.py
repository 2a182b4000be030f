"""The statements that write a task's events, as SQL of our own: each takes one round trip where
the ORM would take two or more, and an event's latency is mostly round trips."""

import uuid
from functools import cache

from django.db import connection

from tasks_app.models import Task, TaskEvent


def task_update_returning(
    task_id, allowed_from: tuple, *, increment: tuple, changes: dict, attempt: int | None = None
) -> Task | None:
    """UPDATE … RETURNING: the task as the statement left it, or None when it is not in
    `allowed_from` (or, with `attempt`, runs another attempt). One round trip to the database
    instead of an UPDATE and a SELECT. PostgreSQL and SQLite 3.35+ both have RETURNING; Django's
    update() does not use it, so the statement is written here."""
    quote = connection.ops.quote_name
    meta = Task._meta
    assignments = [
        f"{quote(meta.get_field(name).column)} = {quote(meta.get_field(name).column)} + 1"
        for name in increment
    ]
    params = []
    for name, value in changes.items():
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    conditions = [
        f"{quote(meta.pk.column)} = %s",
        f"{quote(meta.get_field('status').column)} IN ({', '.join(['%s'] * len(allowed_from))})",
    ]
    params += [meta.pk.get_db_prep_value(uuid.UUID(str(task_id)), connection), *allowed_from]
    if attempt is not None:
        conditions.append(f"{quote(meta.get_field('attempt').column)} = %s")
        params.append(attempt)
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {' AND '.join(conditions)} RETURNING {columns}"
    )
    # raw() runs the statement once and converts each column as a query would (JSON, dates).
    return next(iter(Task.objects.raw(sql, params)), None)


@cache
def progress_in_run_sql() -> str:
    """One statement that takes the task's next seq and inserts its progress event, atomically
    as any single statement is, while the task still runs the same attempt (PostgreSQL only)."""
    quote = connection.ops.quote_name
    task, event = Task._meta, TaskEvent._meta

    def column(meta, name):
        return quote(meta.get_field(name).column)

    return f"""
        WITH task AS (
            UPDATE {quote(task.db_table)}
            SET {column(task, "last_seq")} = {column(task, "last_seq")} + 1,
                {column(task, "updated_at")} = %(now)s, {column(task, "progress")} = %(progress)s,
                {column(task, "current")} = %(current)s, {column(task, "total")} = %(total)s,
                {column(task, "message")} = %(message)s
            WHERE {column(task, "id")} = %(id)s AND {column(task, "status")} = %(running)s
                AND {column(task, "attempt")} = %(attempt)s
            RETURNING {column(task, "id")} AS id, {column(task, "last_seq")} AS seq,
                {column(task, "cancel_requested")} AS cancel_requested
        ), event AS (
            INSERT INTO {quote(event.db_table)} ({column(event, "task")}, {column(event, "seq")},
                {column(event, "type")}, {column(event, "payload")}, {column(event, "created_at")})
            SELECT id, seq, %(type)s, jsonb_set(%(payload)s::jsonb, '{{seq}}', to_jsonb(seq)), %(now)s
            FROM task
        )
        SELECT seq, cancel_requested FROM task
    """
