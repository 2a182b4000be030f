"""The one call a project's asgi.py makes to serve Taskpulse: its own Django application for
HTTP, and the WebSocket routes (realtime/routing.py) behind Taskpulse's handshake checks (the
session or an API token, and the Origin), with any WebSocket routes of the project's own."""

import sys

from channels.routing import ProtocolTypeRouter, URLRouter


def taskpulse_application(http_application, *, websocket_routes=()) -> ProtocolTypeRouter:
    """Call it after django.core.asgi.get_asgi_application(), which sets Django up."""
    from tasks_app.access.websocket import websocket_auth_stack
    from tasks_app.realtime.routing import websocket_urlpatterns

    _tune_daphne()
    return ProtocolTypeRouter(
        {
            "http": http_application,
            "websocket": websocket_auth_stack(URLRouter([*websocket_urlpatterns, *websocket_routes])),
        }
    )


def _tune_daphne() -> None:
    """Under Daphne's own command (`daphne project.asgi:application`, as the Channels docs deploy),
    apply the tuning `manage.py serve` applies: Daphne's command imports its server before the
    application, and builds its WebSocket factory and listening port after. Measured with 400
    watchers of one task before this, plain Daphne's p99 was 224 ms against 82 ms
    (docs/performance.md). Under any other server nothing happens, and Twisted is not imported."""
    if "daphne.server" in sys.modules:
        from tasks_app import server

        server.install()
