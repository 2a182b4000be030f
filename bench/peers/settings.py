"""The peers' Django settings: the project's, with each peer's app and the settings its docs ask
for. Only the peers' server and worker processes run with them; Taskpulse's rows run on
project.settings, unchanged."""

from urllib.parse import urlsplit

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS, REDIS_URL

INSTALLED_APPS = [*INSTALLED_APPS, "celery_progress", "django_eventstream"]
ROOT_URLCONF = "bench.peers.urls"
ASGI_APPLICATION = "bench.peers.asgi.application"

# celery-progress reads a task's progress from Celery's result backend.
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = False

# django-eventstream: Redis carries a worker's events to the server processes, and its model
# storage keeps them so that a client resumes with Last-Event-ID (its README's "Multiple
# instances" and "Event storage").
_redis = urlsplit(REDIS_URL)
EVENTSTREAM_REDIS = {
    "host": _redis.hostname or "127.0.0.1",
    "port": _redis.port or 6379,
    "db": int(_redis.path.lstrip("/") or 0),
}
EVENTSTREAM_STORAGE_CLASS = "django_eventstream.storage.DjangoModelStorage"

# celery-progress's WebSocket mode sends through Channels: channels-redis's core layer, as the
# Channels tutorial configures it, with the setting redis-py 8 needs so that idle consumers live
# (channels_redis issue 422) and room for a crowd: redis-py 8 lowered its asyncio pool's cap from
# 2**31 to 100 connections and fails a command past it (redis/redis-py issue 2517), which failed
# 1 of a crowd of 100 connects here. Measuring that would measure redis-py, not celery-progress.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None, "max_connections": 10_000}]},
    }
}
