"""Django system checks of a host project's settings (`manage.py check`, and before runserver
and migrate): what the app needs of the project, each with what to set."""

import os

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MIDDLEWARE_WANTED = {
    "tasks_app.access.token_middleware.api_token_middleware": (
        "API tokens (Authorization: Bearer) are not accepted on /api/ and /sse/",
        "after django.contrib.auth.middleware.AuthenticationMiddleware",
    ),
    "tasks_app.unavailable.database_unavailable_middleware": (
        "while the database is away, the API answers Django's 500 page instead of a JSON 503",
        "last",
    ),
}


def require_channel_layer() -> None:
    """Stop any process of a project without a channel layer: nothing could reach a browser."""
    if "default" not in getattr(settings, "CHANNEL_LAYERS", {}):
        raise ImproperlyConfigured(
            "Taskpulse needs CHANNEL_LAYERS['default'], a Redis channel layer that the web and "
            "worker processes share: for example {'BACKEND': "
            "'tasks_app.realtime.redis_layers.RedisPubSubChannelLayer', 'CONFIG': {'hosts': "
            "[{'address': 'redis://127.0.0.1:6379/0', 'socket_timeout': None}]}}."
        )


@checks.register()
def project_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    if backend.endswith("InMemoryChannelLayer"):
        found.append(
            checks.Warning(
                "The channel layer is in memory: the Celery workers' progress never reaches the browsers.",
                hint="Use tasks_app.realtime.redis_layers.RedisPubSubChannelLayer.",
                id="taskpulse.W001",
            )
        )
    for path, (without, where) in MIDDLEWARE_WANTED.items():
        if path not in settings.MIDDLEWARE:
            found.append(
                checks.Warning(
                    f"{path} is not in MIDDLEWARE: {without}.", hint=f"Add it {where}.", id="taskpulse.W002"
                )
            )
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        found.append(
            checks.Warning(
                "PROMETHEUS_MULTIPROC_DIR is not set: /metrics cannot add up the processes' metrics.",
                hint="Set it in the environment of every web and worker process to one writable directory.",
                id="taskpulse.W003",
            )
        )
    return found
