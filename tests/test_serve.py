"""What `manage.py serve` does on SIGTERM before its reactor stops (tests/integration/
test_server_restart.py runs it whole against clients)."""

import asyncio
from unittest import mock

from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp

from tasks_app import connection_slots
from tasks_app.management.commands import serve


def test_a_stopping_server_stops_listening_before_it_closes_its_sockets(monkeypatch):
    """Clients told 1012 reconnect at once: a server still listening would take them in, only to
    drop them as it exits."""
    happened = []
    port = mock.Mock(spec=tcp.Port)
    port.stopListening.side_effect = lambda: happened.append("stop listening")
    socket = mock.Mock(spec=WebSocketProtocol, state=WebSocketProtocol.STATE_OPEN)
    socket.serverClose.side_effect = lambda code: happened.append(f"close {code}")
    monkeypatch.setattr(serve.reactor, "getReaders", lambda: [port, mock.Mock()])

    async def none_held() -> int:
        return 0

    monkeypatch.setattr(connection_slots, "slots_release_held", none_held)

    async def shut_down() -> None:
        serve.close_websockets_for_restart(mock.Mock(connections={socket: {}}))
        await asyncio.sleep(0)

    asyncio.run(shut_down())

    assert happened == ["stop listening", "close 1012"]
