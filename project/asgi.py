"""The ASGI entry point Daphne serves: HTTP to Django, WebSocket to the task consumers."""

import os

from django.core.asgi import get_asgi_application

from tasks_app.asgi import taskpulse_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# The session user is resolved first; then the Origin is checked, and an API token may take the
# session's place (tasks_app/access/websocket.py).
application = taskpulse_application(get_asgi_application())
