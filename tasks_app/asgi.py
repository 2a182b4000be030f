"""The one call a project's asgi.py makes to serve Taskpulse: its own Django application for
HTTP, and the WebSocket routes (realtime/routing.py) behind Taskpulse's handshake checks (the
session or an API token, and the Origin), with any WebSocket routes of the project's own."""

from channels.routing import ProtocolTypeRouter, URLRouter


def taskpulse_application(http_application, *, websocket_routes=()) -> ProtocolTypeRouter:
    """Call it after django.core.asgi.get_asgi_application(), which sets Django up."""
    from tasks_app.access.websocket import websocket_auth_stack
    from tasks_app.realtime.routing import websocket_urlpatterns

    return ProtocolTypeRouter(
        {
            "http": http_application,
            "websocket": websocket_auth_stack(URLRouter([*websocket_urlpatterns, *websocket_routes])),
        }
    )
