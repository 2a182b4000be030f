"""What a Daphne server does on SIGTERM before its reactor stops (tests/integration/
test_server_restart.py runs it whole against clients)."""

import asyncio
from unittest import mock

from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import task, tcp

from tasks_app.realtime import connection_slots
from tasks_app.server import restart


def test_a_stopping_server_stops_listening_before_it_closes_its_sockets(monkeypatch):
    """Clients told 1012 reconnect at once: a server still listening would take them in, only to
    drop them as it exits."""
    happened = []
    port = mock.Mock(spec=tcp.Port)
    port.stopListening.side_effect = lambda: happened.append("stop listening")
    socket = mock.Mock(spec=WebSocketProtocol, state=WebSocketProtocol.STATE_OPEN)
    socket.serverClose.side_effect = lambda code: happened.append(f"close {code}")
    monkeypatch.setattr(restart.reactor, "getReaders", lambda: [port, mock.Mock()])

    async def none_held() -> int:
        return 0

    monkeypatch.setattr(connection_slots, "slots_release_held", none_held)

    async def shut_down() -> None:
        restart.close_websockets_for_restart(mock.Mock(connections={socket: {}}))
        await asyncio.sleep(0)

    asyncio.run(shut_down())

    assert happened == ["stop listening", "close 1012"]


def test_a_stopping_server_stops_waiting_once_every_socket_it_closed_has_closed(monkeypatch):
    clock = task.Clock()
    monkeypatch.setattr(restart, "reactor", clock)
    sockets = [mock.Mock(spec=WebSocketProtocol, state=WebSocketProtocol.STATE_CLOSING) for _ in range(3)]
    done = []
    restart._all_closed(sockets, seconds=0.5).addCallback(lambda _: done.append(clock.seconds()))

    clock.advance(0.05)
    for protocol in sockets:
        protocol.state = WebSocketProtocol.STATE_CLOSED
    clock.pump([restart.CLOSE_POLL_SECONDS] * 50)

    assert done and done[0] < 0.1


def test_a_stopping_server_waits_no_longer_than_its_flush_time_for_a_client_that_never_answers(monkeypatch):
    clock = task.Clock()
    monkeypatch.setattr(restart, "reactor", clock)
    silent = mock.Mock(spec=WebSocketProtocol, state=WebSocketProtocol.STATE_CLOSING)
    done = []
    restart._all_closed([silent], seconds=0.5).addCallback(lambda _: done.append(clock.seconds()))

    clock.pump([restart.CLOSE_POLL_SECONDS] * 100)

    assert done and 0.5 <= done[0] < 0.5 + 2 * restart.CLOSE_POLL_SECONDS
