"""The contract's required fields (../shared/protocol.md), checked on messages as they arrive
over each transport, so that no transport can drift from it unnoticed."""

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
}


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
