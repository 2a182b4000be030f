"""Serve HTTP and WebSocket with Daphne, its timeouts taken from settings.

On SIGTERM (a deploy, a restart) every open WebSocket is closed with 1012 "service restart"
before the server stops, so that clients reconnect at once and resume instead of waiting for
a timeout; and the process's connection slots are released, so that the same clients are not
refused (4429) by their own old connections when they come back.
"""

import asyncio
import logging
import os
import sys

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import reactor, tcp
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.task import LoopingCall

from django.conf import settings
from django.core.management.base import BaseCommand

from tasks_app import connection_slots, eager_writes, lazy_autobahn_logs

logger = logging.getLogger(__name__)

CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_SERVICE_RESTART = 1012
# Twisted listens with a backlog of 50. After a restart every client reconnects at once, and the
# connections past 50 are dropped and retried by the client's TCP after 1, 3, 7... s: 1,000
# clients took 13 s to be live again (bin/bench). The kernel caps this at net.core.somaxconn.
LISTEN_BACKLOG = 4096
# Registered codes of RFC 6455 and IANA that the contract has the server send.
_REGISTERED_CLOSE_CODES = frozenset({CLOSE_POLICY_VIOLATION, CLOSE_MESSAGE_TOO_BIG, CLOSE_SERVICE_RESTART})
# How long a stopping server waits, at most, for its clients to answer its close frames: exiting
# earlier could reset connections whose close frame has not yet left. It stops waiting once all
# have closed, which 1,000 clients did in well under this (bin/bench's storm).
CLOSE_FLUSH_SECONDS = 0.5
# How often it looks.
CLOSE_POLL_SECONDS = 0.01


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with Daphne; on SIGTERM, close WebSockets with 1012 first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        from project.asgi import application

        WebSocketFactory.protocol = RegisteredCloseCodesProtocol
        eager_writes.install()
        lazy_autobahn_logs.install()

        proxy_headers = (
            {
                "proxy_forwarded_address_header": "X-Forwarded-For",
                "proxy_forwarded_port_header": "X-Forwarded-Port",
                "proxy_forwarded_proto_header": "X-Forwarded-Proto",
            }
            if settings.TASKPULSE_BEHIND_PROXY
            else {}
        )
        server = Server(
            application=application,
            **proxy_headers,
            endpoints=[
                f"{endpoint}:backlog={LISTEN_BACKLOG}"
                for endpoint in build_endpoint_description_strings(host=host, port=port)
            ],
            ping_interval=settings.TASKPULSE_WS_PING_INTERVAL,
            ping_timeout=settings.TASKPULSE_WS_PING_TIMEOUT,
            websocket_handshake_timeout=settings.TASKPULSE_WS_HANDSHAKE_TIMEOUT,
            websocket_connect_timeout=settings.TASKPULSE_WS_HANDSHAKE_TIMEOUT,
            websocket_timeout=settings.TASKPULSE_WEBSOCKET_TIMEOUT,
            # Autobahn checks a frame's declared length before reading it, and fails the
            # connection with 1009: an over-size message is never buffered.
            websocket_max_message_size=settings.TASKPULSE_WS_MAX_MESSAGE_BYTES,
            websocket_max_frame_size=settings.TASKPULSE_WS_MAX_MESSAGE_BYTES,
            action_logger=AccessLogGenerator(sys.stdout),
        )
        reactor.addSystemEventTrigger("before", "shutdown", close_websockets_for_restart, server)
        server.run()
        # Once the reactor has stopped, what a restart needs is done: sockets closed with 1012,
        # slots released, applications ended. Tearing the interpreter down after that took 0.8 to
        # 0.9 s with a thousand connections just closed (bin/bench; py-spy: all of it in C, no
        # Python code), and a restart waits for it. So the process ends here, its output flushed.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class RegisteredCloseCodesProtocol(WebSocketProtocol):
    """Daphne's protocol, letting the application close with 1008 (origin refused) and 1012
    (restart). Autobahn's sendClose() admits only 1000 and 3000-4999 from applications, though
    these are registered codes a server is meant to send; sendCloseFrame() is the step after
    that check.

    It also fails a connection (an over-size message) with a close frame rather than by
    dropping TCP, so that the client learns the 1009 instead of seeing a broken connection."""

    failByDrop = False

    def serverClose(self, code=None):
        if code in _REGISTERED_CLOSE_CODES and self.state == self.STATE_OPEN:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code=code)


def close_websockets_for_restart(server: Server):
    # Clients told 1012 reconnect at once. A server that still listened would take them in, only
    # to drop them as it exits, after spending on their handshakes the time it had to stop; refused,
    # they retry until the new server listens (behind a proxy, they go to the other processes).
    for port in [reader for reader in reactor.getReaders() if isinstance(reader, tcp.Port)]:
        port.stopListening()
    sockets = [
        protocol
        for protocol in list(server.connections)
        if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN
    ]
    for protocol in sockets:
        try:
            protocol.serverClose(code=CLOSE_SERVICE_RESTART)
        except Exception:
            logger.exception("Could not close a WebSocket with %d", CLOSE_SERVICE_RESTART)
    logger.info("Shutting down: closed %d WebSockets with %d", len(sockets), CLOSE_SERVICE_RESTART)
    released = Deferred.fromFuture(asyncio.ensure_future(connection_slots.slots_release_held()))
    released.addCallback(lambda count: logger.info("Shutting down: released %d connection slots", count))
    return DeferredList([released, _all_closed(sockets, CLOSE_FLUSH_SECONDS)])


def _all_closed(sockets: list[WebSocketProtocol], seconds: float) -> Deferred:
    """Fires once every one of `sockets` has closed, or after `seconds`."""
    deadline = reactor.seconds() + seconds

    def look() -> None:
        closed = all(protocol.state == WebSocketProtocol.STATE_CLOSED for protocol in sockets)
        if closed or reactor.seconds() >= deadline:
            looking.stop()

    looking = LoopingCall(look)
    looking.clock = reactor
    return looking.start(CLOSE_POLL_SECONDS, now=True)
