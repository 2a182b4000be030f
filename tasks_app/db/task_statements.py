"""The statements that write a task's events, as SQL of our own: each takes one round trip where
the ORM would take two or more, and an event's latency is mostly round trips."""

import uuid
from functools import cache

from django.db import connection

from tasks_app.db.model_reader import column, concrete_field
from tasks_app.models import Task, TaskEvent


def task_update_returning(
    task_id, allowed_from: tuple, *, increment: tuple, changes: dict, matching: dict | None = None
) -> Task | None:
    """UPDATE … RETURNING: the task as the statement left it, or None when it is not in
    `allowed_from` (or a field named in `matching` holds another value: another attempt, another
    dispatch). One round trip to the database instead of an UPDATE and a SELECT. PostgreSQL and
    SQLite 3.35+ both have RETURNING; Django's update() does not use it, so it is written here."""
    meta = Task._meta

    def quoted(name: str) -> str:
        return connection.ops.quote_name(column(concrete_field(meta, name)))

    assignments = [f"{quoted(name)} = {quoted(name)} + 1" for name in increment]
    params = []
    for name, value in changes.items():
        assignments.append(f"{quoted(name)} = %s")
        params.append(concrete_field(meta, name).get_db_prep_save(value, connection))
    conditions = [
        f"{quoted('id')} = %s",
        f"{quoted('status')} IN ({', '.join(['%s'] * len(allowed_from))})",
    ]
    params += [
        concrete_field(meta, "id").get_db_prep_value(uuid.UUID(str(task_id)), connection),
        *allowed_from,
    ]
    for name, value in (matching or {}).items():
        conditions.append(f"{quoted(name)} = %s")
        params.append(concrete_field(meta, name).get_db_prep_value(value, connection))
    columns = ", ".join(connection.ops.quote_name(column(field)) for field in meta.concrete_fields)
    sql = (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {', '.join(assignments)} "
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

    def quoted(meta, name: str) -> str:
        return quote(column(concrete_field(meta, name)))

    return f"""
        WITH task AS (
            UPDATE {quote(task.db_table)}
            SET {quoted(task, "last_seq")} = {quoted(task, "last_seq")} + 1,
                {quoted(task, "updated_at")} = %(now)s, {quoted(task, "progress")} = %(progress)s,
                {quoted(task, "current")} = %(current)s, {quoted(task, "total")} = %(total)s,
                {quoted(task, "message")} = %(message)s, {quoted(task, "rate")} = %(rate)s,
                {quoted(task, "eta_seconds")} = %(eta_seconds)s
            WHERE {quoted(task, "id")} = %(id)s AND {quoted(task, "status")} = %(running)s
                AND {quoted(task, "attempt")} = %(attempt)s
            RETURNING {quoted(task, "id")} AS id, {quoted(task, "last_seq")} AS seq,
                {quoted(task, "cancel_requested")} AS cancel_requested
        ), event AS (
            INSERT INTO {quote(event.db_table)} ({quoted(event, "task")}, {quoted(event, "seq")},
                {quoted(event, "type")}, {quoted(event, "payload")}, {quoted(event, "created_at")})
            SELECT id, seq, %(type)s, jsonb_set(%(payload)s::jsonb, '{{seq}}', to_jsonb(seq)), %(now)s
            FROM task
        )
        SELECT seq, cancel_requested FROM task
    """
