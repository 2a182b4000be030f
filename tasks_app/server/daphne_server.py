"""A Daphne server configured from settings: its timeouts, limits, proxy headers and listen
backlog, and the restart handling of restart.py."""

import logging
import os
import sys
from typing import Any

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from twisted.internet import reactor as installed_reactor

from django.conf import settings

from tasks_app.server.restart import close_websockets_for_restart

# Twisted types its reactor module as an interface class; this is the running reactor.
reactor: Any = installed_reactor

# Twisted listens with a backlog of 50: after a restart every client reconnects at once, and the
# connections past 50 were dropped and retried by the client's TCP after 1, 3, 7... s. The kernel
# caps this at net.core.somaxconn.
LISTEN_BACKLOG = 4096


def server_for(application, *, host: str, port: int) -> Server:
    proxy_headers = (
        {
            "proxy_forwarded_address_header": "X-Forwarded-For",
            "proxy_forwarded_port_header": "X-Forwarded-Port",
            "proxy_forwarded_proto_header": "X-Forwarded-Proto",
        }
        if settings.TASKPULSE_BEHIND_PROXY
        else {}
    )
    return Server(
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
        # Autobahn checks a frame's declared length before reading it, and fails the connection
        # with 1009: an over-size message is never buffered.
        websocket_max_message_size=settings.TASKPULSE_WS_MAX_MESSAGE_BYTES,
        websocket_max_frame_size=settings.TASKPULSE_WS_MAX_MESSAGE_BYTES,
        action_logger=AccessLogGenerator(sys.stdout),
    )


def serve(server: Server) -> None:
    """Run until stopped, then end the process at once."""
    reactor.addSystemEventTrigger("before", "shutdown", close_websockets_for_restart, server)
    server.run()
    # Once the reactor has stopped, what a restart needs is done: sockets closed with 1012, slots
    # released, applications ended. Tearing the interpreter down after that took most of a second
    # with a thousand connections just closed (all of it in C), and a restart waits for it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
