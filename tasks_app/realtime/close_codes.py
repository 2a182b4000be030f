"""The WebSocket close codes of the contract (../shared/protocol.md, "Close codes"), defined once.

The browser client (tasks_app/static/tasks_app/taskpulse-client.js) mirrors them in its CLOSE object, and a
test fails when the two differ."""

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000  # the task finished, or a normal close: do not reconnect
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008  # origin not allowed: do not reconnect
    MESSAGE_TOO_BIG = 1009
    SERVICE_RESTART = 1012  # reconnect at once and resume
    TRY_AGAIN_LATER = 1013  # the client read too slowly and fell too far behind: back off, resume
    HEARTBEAT_MISSED = 4000  # sent by a client that abandons a socket silent past the heartbeat
    UNAUTHENTICATED = 4401
    NOT_FOUND = 4404  # no such task, or not yours: do not reconnect
    TOO_MANY = 4429


# After these a client must not reconnect.
FINAL = frozenset({CloseCode.NORMAL, CloseCode.POLICY_VIOLATION, CloseCode.NOT_FOUND})
# Registered codes (RFC 6455, IANA) the server sends; Autobahn lets applications send only 1000
# and 3000-4999 (see server/websocket_protocol.py).
REGISTERED_SENT_BY_SERVER = frozenset(
    {
        CloseCode.POLICY_VIOLATION,
        CloseCode.MESSAGE_TOO_BIG,
        CloseCode.SERVICE_RESTART,
        CloseCode.TRY_AGAIN_LATER,
    }
)
