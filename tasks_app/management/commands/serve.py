"""Serve HTTP and WebSocket with Daphne, its timeouts taken from settings.

On SIGTERM (a deploy, a restart) every open WebSocket is closed with 1012 "service restart"
before the server stops, so that clients reconnect at once and resume instead of waiting for
a timeout.
"""

import logging
import sys

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor
from twisted.internet.task import deferLater

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)

CLOSE_SERVICE_RESTART = 1012
# Long enough for close frames to leave the process, short enough not to delay a deploy.
CLOSE_FLUSH_SECONDS = 0.5


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with Daphne; on SIGTERM, close WebSockets with 1012 first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        from project.asgi import application

        server = Server(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            ping_interval=settings.TASKPULSE_WS_PING_INTERVAL,
            ping_timeout=settings.TASKPULSE_WS_PING_TIMEOUT,
            websocket_timeout=settings.TASKPULSE_WEBSOCKET_TIMEOUT,
            action_logger=AccessLogGenerator(sys.stdout),
        )
        reactor.addSystemEventTrigger("before", "shutdown", close_websockets_for_restart, server)
        server.run()


def close_websockets_for_restart(server: Server):
    sockets = [
        protocol
        for protocol in list(server.connections)
        if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN
    ]
    for protocol in sockets:
        try:
            # Not serverClose(): Autobahn's sendClose() admits only 1000 and 3000-4999 from
            # applications, though 1012 is the registered "service restart" code the protocol
            # needs. sendCloseFrame() is the step after that check.
            protocol.sendCloseFrame(code=CLOSE_SERVICE_RESTART, isReply=False)
        except Exception:
            logger.exception("Could not close a WebSocket with %d", CLOSE_SERVICE_RESTART)
    logger.info("Shutting down: closed %d WebSockets with %d", len(sockets), CLOSE_SERVICE_RESTART)
    return deferLater(reactor, CLOSE_FLUSH_SECONDS if sockets else 0, lambda: None)
