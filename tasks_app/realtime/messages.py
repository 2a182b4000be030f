"""The wire shapes of ../shared/protocol.md, built here and nowhere else.

WebSocket consumers, Server-Sent Events and the JSON API all call these functions, so the transports
cannot drift apart.
"""

from datetime import UTC, datetime

from django.conf import settings

from tasks_app.models import EventType, Task


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. 2026-11-23T07:46:00.123Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _optional_timestamp(moment: datetime | None) -> str | None:
    return timestamp(moment) if moment else None


def task_state(task: Task) -> dict:
    """The task fields every task message carries, as of `task.last_seq`."""
    state = {
        "task_id": str(task.id),
        "kind": task.kind,
        "status": task.status,
        "progress": round(task.progress, 2),
        "current": task.current,
        "total": task.total,
        "message": task.message,
        "seq": task.last_seq,
        "rate": task.rate,
        "eta_seconds": task.eta_seconds,
        "parent_id": str(task.parent_id) if task.parent_id else None,
        "attempt": task.attempt,
        "created_at": _optional_timestamp(task.created_at),
        "started_at": _optional_timestamp(task.started_at),
        "finished_at": _optional_timestamp(task.finished_at),
    }
    if task.is_terminal:
        state["result"] = task.result
        state["error"] = task.error
    return state


def step_state(step: Task) -> dict:
    """A workflow's step as its workflow's messages list it: its `children`, or the `child` that moved."""
    return {
        "task_id": str(step.id),
        "kind": step.kind,
        "status": step.status,
        "progress": round(step.progress, 2),
    }


def event_payload(task: Task, event_type: EventType, *, child: dict | None = None) -> dict:
    """What a TaskEvent stores: the message minus its timestamp, which is the event's own. A
    workflow's event names the step that moved it, `child`."""
    payload = {"type": event_type, **task_state(task)}
    if child is not None:
        payload["child"] = child
    return payload


def event_message(payload: dict, created_at: datetime) -> dict:
    return {**payload, "timestamp": timestamp(created_at)}


def snapshot(task: Task, *, recovered: bool | None = None, children: list[Task] | None = None) -> dict:
    """The task's state now; a workflow's lists its steps, `children`, in the workflow's order."""
    message = {"type": "snapshot", "timestamp": timestamp(), **task_state(task)}
    if children is not None:
        message["children"] = [step_state(step) for step in children]
    if recovered is not None:
        message["recovered"] = recovered
    return message


def connection(*, connection_id: str, user: str) -> dict:
    return {
        "type": "connection",
        "timestamp": timestamp(),
        "status": "connected",
        "connection_id": connection_id,
        "user": user,
        "heartbeat": settings.TASKPULSE_HEARTBEAT_SECONDS,
    }


def subscription(task_id: str, *, subscribed: bool, recovered: bool) -> dict:
    return {
        "type": "subscription",
        "timestamp": timestamp(),
        "task_id": task_id,
        "status": "subscribed" if subscribed else "unsubscribed",
        "recovered": recovered,
    }


def ping() -> dict:
    return {"type": "ping", "timestamp": timestamp()}


def pong() -> dict:
    return {"type": "pong", "timestamp": timestamp()}


def echo(data) -> dict:
    return {"type": "echo", "timestamp": timestamp(), "data": data}


def error(code: str, message: str, *, details: dict | None = None) -> dict:
    body: dict = {"type": "error", "timestamp": timestamp(), "code": code, "message": message}
    if details:
        body["details"] = details
    return body


def task_resource(task: Task, *, ws_url: str, sse_url: str, children: list[Task] | None = None) -> dict:
    """A task as the JSON API returns it: its state plus where to follow it live, and a
    workflow's steps."""
    resource = {**task_state(task), "params": task.params, "ws_url": ws_url, "sse_url": sse_url}
    if children is not None:
        resource["children"] = [step_state(step) for step in children]
    return resource
