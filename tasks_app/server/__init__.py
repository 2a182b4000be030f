"""Server tuning: the adjustments of Daphne, Twisted and Autobahn that Taskpulse's server runs with,
behind one install(), and the Daphne server built from settings (daphne_server.py).
May import: Daphne, Twisted, Autobahn, and tasks_app.realtime's close codes and connection slots."""

# Daphne's server module installs Twisted's asyncio reactor, which must happen before anything
# else imports a reactor.
from daphne import server as _daphne_server  # noqa: F401
from daphne.ws_protocol import WebSocketFactory

from tasks_app.server import eager_writes, lazy_autobahn_logs
from tasks_app.server.websocket_protocol import RegisteredCloseCodesProtocol


def install() -> None:
    """Apply every adjustment to this process; idempotent. Call before the server listens."""
    WebSocketFactory.protocol = RegisteredCloseCodesProtocol
    eager_writes.install()
    lazy_autobahn_logs.install()
