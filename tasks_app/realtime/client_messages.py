"""Parses what a WebSocket client sends into a message type and its fields, or a protocol error
(its message in the client's language: consumers.py activates it)."""

import json

from django.utils.translation import gettext as _

CLIENT_TYPES = frozenset({"ping", "pong", "get_status", "echo", "subscribe", "unsubscribe"})


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def parse(text: str | None) -> tuple[str, dict]:
    """`(type, message)`; `{"action": "ping"}` is accepted as `{"type": "ping"}`."""
    if text is None:
        raise ProtocolError(
            "invalid_message", _("Send JSON in text frames."), {"frame": "binary frames are not accepted"}
        )
    try:
        message = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise ProtocolError("invalid_json", _("The message is not valid JSON.")) from None
    if not isinstance(message, dict):
        raise ProtocolError(
            "invalid_message", _("The message must be a JSON object."), {"message": "not an object"}
        )
    message_type = message.get("type", message.get("action"))
    if not isinstance(message_type, str) or not message_type:
        raise ProtocolError(
            "invalid_message", _("The message needs a type."), {"type": "missing or not a string"}
        )
    if message_type not in CLIENT_TYPES:
        raise ProtocolError("unknown_type", _("Unknown message type %(type)r.") % {"type": message_type[:40]})
    return message_type, message


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON: echoed back, they would break a browser's JSON.parse."""
    raise ValueError(f"{name} is not JSON")


def task_id_of(message: dict) -> str:
    task_id = message.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise ProtocolError(
            "invalid_message", _("This message needs a task_id."), {"task_id": "missing or not a string"}
        )
    return task_id


def last_seq_of(message: dict) -> str | None:
    """The resume position as sent; a malformed one is passed on, to be answered with a
    snapshot marked recovered: false, like a malformed ?last_seq."""
    last_seq = message.get("last_seq")
    return None if last_seq is None else str(last_seq)
