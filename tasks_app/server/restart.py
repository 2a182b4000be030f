"""What a Daphne server does as it stops (SIGTERM: a deploy, a restart): stop listening, close
every open WebSocket with 1012 so that clients reconnect at once and resume, and release this
process's connection slots, so that the same clients are not refused (4429) by their own old
connections when they come back."""

import asyncio
import logging
from typing import Any

from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor as installed_reactor
from twisted.internet import tcp
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.task import LoopingCall

from tasks_app.realtime import connection_slots
from tasks_app.realtime.close_codes import CloseCode

logger = logging.getLogger(__name__)
# Twisted types its reactor module as an interface class; this is the running reactor.
reactor: Any = installed_reactor

# How long a stopping server waits, at most, for its clients to answer its close frames: exiting
# earlier could reset connections whose close frame has not yet left. It stops waiting once all
# have closed.
CLOSE_FLUSH_SECONDS = 0.5
# How often it looks.
CLOSE_POLL_SECONDS = 0.01


def close_websockets_for_restart(server: Server) -> Deferred:
    # A server that still listened would take reconnecting clients in, only to drop them as it
    # exits; refused, they retry until the new server listens (or go to the other processes).
    for port in [reader for reader in reactor.getReaders() if isinstance(reader, tcp.Port)]:
        port.stopListening()
    sockets = [
        protocol
        for protocol in list(server.connections)
        if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN
    ]
    for protocol in sockets:
        try:
            protocol.serverClose(code=int(CloseCode.SERVICE_RESTART))
        except Exception:
            logger.exception("Could not close a WebSocket with %d", CloseCode.SERVICE_RESTART)
    logger.info("Shutting down: closed %d WebSockets with %d", len(sockets), CloseCode.SERVICE_RESTART)
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
