"""The server's WebSocket protocol bounds what waits for a slow reader: past
TASKPULSE_WS_MAX_QUEUED_BYTES unread, it closes the socket with 1013 instead of queuing more; and
it drops what the application sends to a socket already closing instead of raising it."""

import pytest

from tasks_app.realtime.close_codes import CloseCode
from tasks_app.server.websocket_protocol import RegisteredCloseCodesProtocol


class FakeTransport:
    """Twisted's buffer names, as tcp.Server has them (tests/test_upstream_contracts.py)."""

    def __init__(self, queued: int) -> None:
        self.dataBuffer = b"x" * queued
        self.offset = 0
        self._tempDataLen = 0


@pytest.fixture
def protocol(monkeypatch):
    sent, closed = [], []
    protocol = RegisteredCloseCodesProtocol.__new__(RegisteredCloseCodesProtocol)
    protocol.state = protocol.STATE_OPEN
    protocol.client_addr = ("127.0.0.1", 50000)
    monkeypatch.setattr(
        protocol, "sendMessage", lambda payload, isBinary=False: sent.append(payload), raising=False
    )
    monkeypatch.setattr(protocol, "sendCloseFrame", lambda code, isReply: closed.append(code), raising=False)
    protocol.sent, protocol.closed = sent, closed
    return protocol


def test_a_reader_within_the_limit_is_sent_to(protocol, settings):
    settings.TASKPULSE_WS_MAX_QUEUED_BYTES = 1000
    protocol.transport = FakeTransport(queued=999)

    protocol.serverSend("an event")

    assert (protocol.sent, protocol.closed) == ([b"an event"], [])


def test_a_reader_past_the_limit_is_closed_with_1013_and_sent_nothing_more(protocol, settings):
    settings.TASKPULSE_WS_MAX_QUEUED_BYTES = 1000
    protocol.transport = FakeTransport(queued=1001)

    protocol.serverSend("an event")

    assert (protocol.sent, protocol.closed) == ([], [CloseCode.TRY_AGAIN_LATER])


@pytest.mark.parametrize("state", ["STATE_CLOSING", "STATE_CLOSED"])
def test_a_message_for_a_closing_socket_is_dropped_without_an_error(state):
    protocol = RegisteredCloseCodesProtocol.__new__(RegisteredCloseCodesProtocol)
    protocol.state = getattr(protocol, state)

    protocol.serverSend('{"type": "pong"}')  # Autobahn's own sendMessage raises Disconnected here
