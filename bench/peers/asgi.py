"""The ASGI application Daphne serves for celery-progress and django-eventstream:
`daphne bench.peers.asgi:application`, as the Channels docs deploy it. HTTP goes to Django
(celery-progress's polling view, django-eventstream's async stream view); WebSocket to
celery-progress's consumer, routed as its README shows."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.settings")
django_application = get_asgi_application()

from celery_progress.websockets import routing  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AuthMiddlewareStack(URLRouter(routing.urlpatterns)),
    }
)
