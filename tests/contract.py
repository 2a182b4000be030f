"""The contract's required fields (../shared/protocol.md), checked on messages as they arrive
over each transport, so that no transport can drift from it unnoticed."""

import json
import re

ISO_MILLISECONDS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STATUSES = {"pending", "running", "completed", "failed", "cancelled"}
FIELD_TYPES = {
    "type": str,
    "timestamp": str,
    "task_id": str,
    "kind": str,
    "status": str,
    "progress": (int, float),
    "current": (int, type(None)),
    "total": (int, type(None)),
    "message": str,
    "seq": int,
    "rate": (int, float, type(None)),
    "eta_seconds": (int, float, type(None)),
    "parent_id": (str, type(None)),
}
STEP_FIELD_TYPES = {"task_id": str, "kind": str, "status": str, "progress": (int, float)}


def assert_task_message(message: dict) -> None:
    """A snapshot, progress or complete message carries every field the contract names."""
    for field, expected in FIELD_TYPES.items():
        assert isinstance(message.get(field), expected), f"{field} of {message}"
    assert message["type"] in {"snapshot", "progress", "complete"}
    assert ISO_MILLISECONDS_UTC.match(message["timestamp"]), message["timestamp"]
    assert message["status"] in STATUSES
    assert 0.0 <= message["progress"] <= 100.0
    if message["type"] == "complete" or message["status"] in STATUSES - {"pending", "running"}:
        assert "result" in message and "error" in message, message
    # A workflow's snapshot lists its steps; its progress names the step that moved it.
    for step in [*message.get("children", []), *([message["child"]] if "child" in message else [])]:
        assert_step(step)
    assert "children" not in message or message["type"] == "snapshot", message
    assert "child" not in message or message["type"] == "progress", message


def assert_step(step: dict) -> None:
    assert set(step) == set(STEP_FIELD_TYPES), step
    for field, expected in STEP_FIELD_TYPES.items():
        assert isinstance(step[field], expected), f"{field} of {step}"
    assert step["status"] in STATUSES
    assert 0.0 <= step["progress"] <= 100.0


WEBHOOK_EVENTS = {"task.started", "task.completed", "task.failed", "task.cancelled"}
WEBHOOK_SIGNATURE = re.compile(r"^t=\d+(,v1=[0-9a-f]{64}){1,2}$")


def assert_webhook_delivery(headers: dict, raw_body: str) -> dict:
    """A webhook call as the contract's "Webhooks" says: its three headers and its body
    {id, event, created_at, data}, `data` a task message (a complete one for an end). Returns
    the body."""
    body = json.loads(raw_body)
    assert set(body) == {"id", "event", "created_at", "data"}, body
    assert body["event"] in WEBHOOK_EVENTS
    assert headers["Taskpulse-Event"] == body["event"]
    assert headers["Taskpulse-Delivery"] == body["id"]
    assert WEBHOOK_SIGNATURE.match(headers["Taskpulse-Signature"]), headers["Taskpulse-Signature"]
    assert headers["Content-Type"] == "application/json"
    assert_task_message(body["data"])
    ended = body["event"] != "task.started"
    assert body["data"]["type"] == ("complete" if ended else "progress"), body
    assert body["data"]["status"] == (body["event"].removeprefix("task.") if ended else "running"), body
    return body


SERVER_TYPES = {
    "connection",
    "snapshot",
    "progress",
    "complete",
    "subscription",
    "ping",
    "pong",
    "echo",
    "error",
}
ERROR_CODES = {
    "invalid_json",
    "invalid_message",
    "unknown_type",
    "not_found",
    "rate_limited",
    "too_many_subscriptions",
}
CLOSE_CODES = {1000, 1001, 1008, 1009, 1012, 4401, 4404, 4429}


def assert_server_message(message: dict) -> None:
    """Any message the server sends: a known type and a timestamp; an error with a known code."""
    assert isinstance(message, dict), message
    assert message.get("type") in SERVER_TYPES, message
    assert ISO_MILLISECONDS_UTC.match(message["timestamp"]), message
    if message["type"] == "error":
        assert message["code"] in ERROR_CODES, message
        assert isinstance(message["message"], str), message
    elif message["type"] in {"snapshot", "progress", "complete"}:
        assert_task_message(message)
