"""The ASGI entry point Daphne serves: HTTP to Django, WebSocket to the task consumers."""

import os

from channels.routing import ProtocolTypeRouter, URLRouter

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# Django must be set up before the routing imports consumers, which import models.
django_asgi_app = get_asgi_application()

from tasks_app.access.websocket import websocket_auth_stack  # noqa: E402
from tasks_app.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The session user is resolved first; then the Origin is checked, and an API token may
        # take the session's place.
        "websocket": websocket_auth_stack(URLRouter(websocket_urlpatterns)),
    }
)
