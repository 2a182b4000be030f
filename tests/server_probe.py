"""Run as a program (python -m tests.server_probe [--without-install]): a Daphne server built as
`manage.py serve` builds it, after tasks_app.server.install(), on a free port; one WebSocket
opened against it over a real socket; and what that connection runs with, printed as JSON."""

import json
import os
import socket
import sys
import threading

import django

UPGRADE = (
    "GET /ws/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Origin: http://127.0.0.1\r\n\r\n"
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    from tasks_app import server  # noqa: I001 (installs Twisted's asyncio reactor first)
    from autobahn.websocket import protocol as autobahn_protocol
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor, tcp

    import tasks_app.asgi

    if "--without-install" in sys.argv:
        # The application tunes Daphne when Daphne is loaded (tasks_app/asgi.py): the control
        # run builds it untuned.
        tasks_app.asgi._tune_daphne = lambda: None
    from project.asgi import application
    from tasks_app.server.daphne_server import server_for

    if "--without-install" not in sys.argv:
        server.install()
    daphne = server_for(application, host="127.0.0.1", port=0)
    report = {}

    def inspect(handshake: bytes) -> None:
        sockets = [
            connection for connection in daphne.connections if isinstance(connection, WebSocketProtocol)
        ]
        ports = [reader for reader in reactor.getReaders() if isinstance(reader, tcp.Port)]
        report.update(
            handshake=handshake.split(b"\r\n", 1)[0].decode(),
            protocol=[type(connection).__name__ for connection in sockets],
            transport=[type(connection.transport).__name__ for connection in sockets],
            backlog=[port.backlog for port in ports],
            lazy_autobahn_logs=hasattr(autobahn_protocol.pformat, "original"),
        )
        reactor.stop()

    def client() -> None:
        while not daphne.listening_addresses:
            threading.Event().wait(0.05)
        host, port = daphne.listening_addresses[0]
        with socket.create_connection((host, port), timeout=10) as connection:
            connection.sendall(UPGRADE.encode())
            handshake = b""
            while b"\r\n\r\n" not in handshake:
                handshake += connection.recv(4096)
            reactor.callFromThread(inspect, handshake)
            threading.Event().wait(5)  # held open until the server has looked

    threading.Thread(target=client, daemon=True).start()
    daphne.run()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
