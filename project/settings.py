"""Every setting of the deployment, read from the environment in this one place.

Defaults are for a developer's machine. Production (DEBUG off) refuses to start with an
unsafe value instead of running with it.
"""

import os
from pathlib import Path

import dj_database_url
from kombu import Queue

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TASKPULSE_VAR_DIR", BASE_DIR / "var"))

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def _env_number(name: str, default, cast):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return cast(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from exc


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = _env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY)
# Earlier keys, comma-separated, while a rotation settles: sessions and signatures made with them
# still verify (Django's SECRET_KEY_FALLBACKS).
SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

# TASKPULSE_ENV=production is the deployment's promise that this is the real thing: then DEBUG on,
# a development SECRET_KEY or a wildcard host stop the process instead of serving with them.
TASKPULSE_ENV = os.environ.get("TASKPULSE_ENV", "development")
if TASKPULSE_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"TASKPULSE_ENV must be development or production, not {TASKPULSE_ENV!r}")
if TASKPULSE_ENV == "production" and DEBUG:
    raise ImproperlyConfigured("DEBUG is on in production: set DEBUG=0.")

if not DEBUG:
    # Django's own deploy check asks for 50+ characters with 5+ distinct ones.
    if SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "Set SECRET_KEY to a random value of 50+ characters when DEBUG is off "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS='*' would let any site open WebSockets; list the real hosts."
        )
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _env_number("SECURE_HSTS_SECONDS", 365 * 24 * 3600, int)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
    # Behind a proxy that ends TLS, Django learns the request was HTTPS from this header only.
    if _env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "tasks_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The reader's language: the switcher's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tasks_app.access.token_middleware.api_token_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tasks_app.unavailable.database_unavailable_middleware",
]

# Django's database sessions, read with SQL made once: every WebSocket connect reads one.
SESSION_ENGINE = "tasks_app.access.session_store"

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'taskpulse.sqlite3'}"
# Seconds a connection is kept for reuse. The consumers' database threads reuse theirs; HTTP
# requests close theirs when done, whatever this says (see tasks_app/db_connections.py).
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=_env_number("DATABASE_CONN_MAX_AGE", 60, int), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the Daphne and Celery processes of the integration tests
    # see the same test database as the test process.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-taskpulse.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# English unless the reader's browser or the switcher asks for Simplified Chinese.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# This site's own strings (templates/, static/, project/); tasks_app has a locale/ of its own.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development WhiteNoise serves straight from STATICFILES_DIRS; production serves what
# `manage.py collectstatic` gathered here.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles")) if not DEBUG else None
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Connection life. Daphne pings idle sockets at the protocol level and closes one that does not
# answer in time; the consumers also send the contract's JSON `ping` on idle connections, which
# browsers can see (protocol pings are invisible to JavaScript) and use to detect a dead socket.
TASKPULSE_HEARTBEAT_SECONDS = _env_number("TASKPULSE_HEARTBEAT_SECONDS", 25.0, float)
TASKPULSE_STREAM_MAX_SUBSCRIPTIONS = _env_number("TASKPULSE_STREAM_MAX_SUBSCRIPTIONS", 100, int)
TASKPULSE_WS_PING_INTERVAL = _env_number("TASKPULSE_WS_PING_INTERVAL", 20, int)
TASKPULSE_WS_PING_TIMEOUT = _env_number("TASKPULSE_WS_PING_TIMEOUT", 30, int)
# How long a WebSocket handshake may take, from the TCP connection to the consumer's accept. After
# a restart every client reconnects at once and the last ones wait their turn: Daphne's 5 s
# dropped them (1006), and each retry cost the server a handshake again (docs/performance.md).
TASKPULSE_WS_HANDSHAKE_TIMEOUT = _env_number("TASKPULSE_WS_HANDSHAKE_TIMEOUT", 20, int)
# The longest a WebSocket may live. Group membership must not expire before it does, or a
# long-lived socket would silently stop receiving its task's events.
TASKPULSE_WEBSOCKET_TIMEOUT = _env_number("TASKPULSE_WEBSOCKET_TIMEOUT", 86400, int)

# What one client may cost the server. A bigger incoming WebSocket message is refused by Daphne
# with 1009 before it is buffered; the client's own messages are few and small.
TASKPULSE_WS_MAX_MESSAGE_BYTES = _env_number("TASKPULSE_WS_MAX_MESSAGE_BYTES", 64 * 1024, int)
# A token bucket per connection: this many messages a second on average, in bursts of up to
# TASKPULSE_WS_MESSAGE_BURST. A message over the limit is answered `rate_limited` and dropped;
# TASKPULSE_WS_FLOOD_STRIKES of them in a row close the connection with 4429.
TASKPULSE_WS_MESSAGES_PER_SECOND = _env_number("TASKPULSE_WS_MESSAGES_PER_SECOND", 10.0, float)
TASKPULSE_WS_MESSAGE_BURST = _env_number("TASKPULSE_WS_MESSAGE_BURST", 30, int)
TASKPULSE_WS_FLOOD_STRIKES = _env_number("TASKPULSE_WS_FLOOD_STRIKES", 20, int)
# Open WebSocket and SSE connections per user, counted across every server process in Redis.
TASKPULSE_MAX_CONNECTIONS_PER_USER = _env_number("TASKPULSE_MAX_CONNECTIONS_PER_USER", 20, int)
# A logout, password change, deactivation or revoked token closes open connections with 4401 at
# once (announced through the channel layer) and an expired session at its expiry. Every this
# many seconds, a process reads the credentials of connections opened since, renews open
# connections' slots, and re-reads sessions whose engine keeps no expiry date in a table.
TASKPULSE_AUTH_RECHECK_SECONDS = _env_number("TASKPULSE_AUTH_RECHECK_SECONDS", 60.0, float)
# What may wait, unread, for one WebSocket client before the server closes it with 1013 (the
# client resumes from its last seq). A task sends at most TASKPULSE_PROGRESS_EVENTS_PER_SECOND
# events of under 1 KB, so a reader this far behind has stopped reading.
TASKPULSE_WS_MAX_QUEUED_BYTES = _env_number("TASKPULSE_WS_MAX_QUEUED_BYTES", 256 * 1024, int)
# Behind a proxy (nginx), Daphne takes the client's address and scheme from X-Forwarded-For,
# -Port and -Proto. Only turn on when the proxy sets them: a client could otherwise forge them.
TASKPULSE_BEHIND_PROXY = _env_bool("TASKPULSE_BEHIND_PROXY", False)

# Redis high availability: with REDIS_SENTINELS (host:port,host:port,...), the channel layer, the
# Celery broker and the connection counts find the master named REDIS_SENTINEL_MASTER through
# those Sentinels, and follow a failover; REDIS_URL and CHANNEL_LAYER_REDIS_URLS are not used.
REDIS_SENTINELS = [
    (host, int(port)) for host, _, port in (item.rpartition(":") for item in _env_list("REDIS_SENTINELS", ""))
]
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "mymaster")
REDIS_SENTINEL_DB = _env_number("REDIS_SENTINEL_DB", 0, int)
# The channel layer may be spread over several Redis servers: channels-redis shards channels and
# groups across the hosts listed (the same list, in the same order, on every process).
CHANNEL_LAYER_REDIS_URLS = _env_list("CHANNEL_LAYER_REDIS_URLS", REDIS_URL)
# `pubsub` (channels-redis's Redis pub/sub layer, the default) or `core` (its list-based layer).
# bin/bench measures both; docs/performance.md says why pub/sub is the default.
CHANNEL_LAYER_KIND = os.environ.get("CHANNEL_LAYER_KIND", "pubsub")
# A Sentinel-managed master, as channels-redis takes it (its own Sentinel pool).
_SENTINEL_HOST = {
    "sentinels": REDIS_SENTINELS,
    "master_name": REDIS_SENTINEL_MASTER,
    "db": REDIS_SENTINEL_DB,
    "socket_timeout": None,
}
if CHANNEL_LAYER_KIND == "core":
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's layer with pools that wait for a free connection (see the module).
            "BACKEND": "tasks_app.realtime.redis_layers.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s, which aborts the layer's blocking
                # BZPOPMIN and drops every idle consumer (channels_redis issue 422). A command waits
                # up to `timeout` seconds for one of `max_connections` connections per process.
                "hosts": [_SENTINEL_HOST]
                if REDIS_SENTINELS
                else [
                    {
                        "address": url,
                        "socket_timeout": None,
                        "max_connections": _env_number("CHANNEL_LAYER_MAX_CONNECTIONS", 100, int),
                        "timeout": 20,
                    }
                    for url in CHANNEL_LAYER_REDIS_URLS
                ],
                "capacity": _env_number("CHANNEL_LAYER_CAPACITY", 1000, int),
                "expiry": 60,
                "group_expiry": TASKPULSE_WEBSOCKET_TIMEOUT + 60,
            },
        }
    }
elif CHANNEL_LAYER_KIND == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            # One subscribing connection per shard and process; idle subscribers must not time out.
            # Subscriptions are confirmed before group_add returns (see the module).
            "BACKEND": "tasks_app.realtime.redis_layers.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [_SENTINEL_HOST]
                if REDIS_SENTINELS
                else [{"address": url, "socket_timeout": None} for url in CHANNEL_LAYER_REDIS_URLS]
            },
        }
    }
else:
    raise ImproperlyConfigured(f"CHANNEL_LAYER_KIND must be core or pubsub, not {CHANNEL_LAYER_KIND!r}")

CELERY_BROKER_URL = os.environ.get(
    "CELERY_BROKER_URL",
    ";".join(f"sentinel://{host}:{port}/{REDIS_SENTINEL_DB}" for host, port in REDIS_SENTINELS) or REDIS_URL,
)
CELERY_TASK_ACKS_LATE = True
# A task whose worker process dies is delivered again; TASKPULSE_TASK_MAX_ATTEMPTS stops an
# input that kills its worker from doing so forever.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
# Results live in our own Task rows; a Celery result backend would be a second copy.
CELERY_TASK_IGNORE_RESULT = True
# Tasks run for minutes: a worker should not reserve work another worker could start now.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# kombu's Redis transport with the fix that lets the worker outlive a Redis crash (see the module).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "tasks_app.worker.redis_transport:Transport"
elif CELERY_BROKER_URL.startswith("sentinel://"):
    CELERY_BROKER_TRANSPORT = "tasks_app.worker.redis_transport:SentinelTransport"
# A task keeps running through a broker outage: its progress does not go through the broker,
# and its late acknowledgement is given once the broker is back.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ALWAYS_EAGER = False
# How often Celery beat runs fail_stale_tasks (see TASKPULSE_STALE_TASK_SECONDS).
TASKPULSE_STALE_SWEEP_SECONDS = _env_number("TASKPULSE_STALE_SWEEP_SECONDS", 60.0, float)
# Every kind of work has its own queue, so that a flood of one kind cannot starve the others: a
# worker takes from its queues in turn (and `-Q kind.document` dedicates one to a kind).
# Maintenance tasks use the default queue. tests/test_tasks.py checks every kind has its queue.
TASKPULSE_KIND_NAMES = ("document", "data_import", "batch_report", "ticker")
CELERY_TASK_DEFAULT_QUEUE = "celery"
# RabbitMQ (amqp://): quorum queues, replicated across a cluster's nodes and durable; a worker's
# unacknowledged messages go back to the queue as soon as its connection is gone. Celery then
# uses per-consumer prefetch, which quorum queues need (worker_detect_quorum_queues).
BROKER_IS_RABBITMQ = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
_QUEUE_ARGUMENTS = {"x-queue-type": "quorum"} if BROKER_IS_RABBITMQ else None
if BROKER_IS_RABBITMQ:
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
CELERY_TASK_QUEUES = [
    Queue(name, queue_arguments=_QUEUE_ARGUMENTS)
    for name in ["celery", "webhooks", *(f"kind.{kind}" for kind in TASKPULSE_KIND_NAMES)]
]
# A kind's Celery task is named as the kind (tasks_app/work/).
CELERY_TASK_ROUTES = {
    **{kind: {"queue": f"kind.{kind}"} for kind in TASKPULSE_KIND_NAMES},
    # Webhook deliveries, and beat's sweep of those due again, go to the webhooks worker.
    "tasks_app.deliver_webhook": {"queue": "webhooks"},
    "tasks_app.send_due_webhooks": {"queue": "webhooks"},
}
# The longest any task may run, unless a task sets its own. Past it the task ends `failed`.
TASKPULSE_TASK_TIME_LIMIT_SECONDS = _env_number("TASKPULSE_TASK_TIME_LIMIT_SECONDS", 3600, int)
# A message a worker took but never acknowledged (the worker was killed) is given to another
# worker after this long. It must exceed the longest run, or a slow task would run twice.
# (Redis only; RabbitMQ gives a lost consumer's messages back at once, and publishes confirmed.)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"confirm_publish": True}
    if BROKER_IS_RABBITMQ
    else {
        "visibility_timeout": _env_number(
            "TASKPULSE_BROKER_VISIBILITY_TIMEOUT", TASKPULSE_TASK_TIME_LIMIT_SECONDS + 300, int
        ),
        **({"master_name": REDIS_SENTINEL_MASTER} if CELERY_BROKER_URL.startswith("sentinel://") else {}),
    }
)
# The worker running a task renews its lease every third of this; a running task whose lease ran
# out has lost its worker, and Celery beat's recover_lost_tasks, every half of this, sends it to
# the workers again. So a task whose whole worker was killed runs again within 1.5 leases.
TASKPULSE_TASK_LEASE_SECONDS = _env_number("TASKPULSE_TASK_LEASE_SECONDS", 30.0, float)
# The admin's monitoring page (tasks_app/monitoring.py): a sample of the counters at most every
# this many seconds, kept for the window the page draws.
TASKPULSE_MONITOR_SAMPLE_SECONDS = _env_number("TASKPULSE_MONITOR_SAMPLE_SECONDS", 2.0, float)
TASKPULSE_MONITOR_WINDOW_SECONDS = _env_number("TASKPULSE_MONITOR_WINDOW_SECONDS", 900, int)
CELERY_BEAT_SCHEDULE = {
    "fail-stale-tasks": {"task": "tasks_app.fail_stale_tasks", "schedule": TASKPULSE_STALE_SWEEP_SECONDS},
    "recover-lost-tasks": {
        "task": "tasks_app.recover_lost_tasks",
        "schedule": TASKPULSE_TASK_LEASE_SECONDS / 2,
    },
    # The monitoring page's history while no one has it open.
    "record-monitor-sample": {"task": "tasks_app.record_monitor_sample", "schedule": 10.0},
    "send-due-webhooks": {"task": "tasks_app.send_due_webhooks", "schedule": 5.0},
}
# Outgoing webhooks (tasks_app/webhooks/, docs/webhooks.md). Deliveries run on a queue of their
# own, so that a slow receiver never holds a worker that runs tasks (bin/run starts a worker for it).
TASKPULSE_WEBHOOK_QUEUE = "webhooks"
# Development and tests only: let webhooks call private and loopback addresses, and plain http.
TASKPULSE_WEBHOOK_ALLOW_PRIVATE = _env_bool("TASKPULSE_WEBHOOK_ALLOW_PRIVATE", False)
TASKPULSE_WEBHOOK_ALLOW_HTTP = _env_bool("TASKPULSE_WEBHOOK_ALLOW_HTTP", False)
TASKPULSE_WEBHOOK_TIMEOUT_SECONDS = _env_number("TASKPULSE_WEBHOOK_TIMEOUT_SECONDS", 5.0, float)
# The first retry waits up to this, each next one up to twice as long (full jitter), at most 1 h.
TASKPULSE_WEBHOOK_BACKOFF_SECONDS = _env_number("TASKPULSE_WEBHOOK_BACKOFF_SECONDS", 10.0, float)
TASKPULSE_WEBHOOK_RETRY_SECONDS = _env_number("TASKPULSE_WEBHOOK_RETRY_SECONDS", 24 * 3600, int)
TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS = _env_number(
    "TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS", 24 * 3600, int
)
TASKPULSE_WEBHOOK_LOST_AFTER_SECONDS = _env_number("TASKPULSE_WEBHOOK_LOST_AFTER_SECONDS", 60.0, float)
TASKPULSE_WEBHOOK_SECRET_GRACE_SECONDS = _env_number("TASKPULSE_WEBHOOK_SECRET_GRACE_SECONDS", 86400, int)

TASKPULSE_TASK_MAX_ATTEMPTS = _env_number("TASKPULSE_TASK_MAX_ATTEMPTS", 3, int)
# How long a worker rides out a database that went away (db/outages.py): its reporter keeps the
# newest progress and writes it once the database is back, and the task's start and end are
# retried. Past this, the work is stopped and the task fails, once the database lets it.
TASKPULSE_DATABASE_OUTAGE_SECONDS = _env_number("TASKPULSE_DATABASE_OUTAGE_SECONDS", 60.0, float)
# A running task with no event for this long has lost its worker, and a pending one this old
# whose message the broker no longer holds was lost: fail_stale_tasks ends them `failed`.
# Work must report progress more often than this (every kind here reports many times a second).
TASKPULSE_STALE_TASK_SECONDS = _env_number("TASKPULSE_STALE_TASK_SECONDS", 600, int)

# The reporter persists and publishes at most this many progress events per second per task.
TASKPULSE_PROGRESS_EVENTS_PER_SECOND = _env_number("TASKPULSE_PROGRESS_EVENTS_PER_SECOND", 10.0, float)
# Event retention: a task keeps at most this many newest events, and no event older than this
# age. A resume from before what is kept gets a snapshot marked "recovered": false.
TASKPULSE_EVENTS_KEPT_PER_TASK = _env_number("TASKPULSE_EVENTS_KEPT_PER_TASK", 1000, int)
TASKPULSE_EVENTS_MAX_AGE_SECONDS = _env_number("TASKPULSE_EVENTS_MAX_AGE_SECONDS", 7 * 24 * 3600, int)
TASKPULSE_MAX_UPLOAD_BYTES = _env_number("TASKPULSE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, int)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = TASKPULSE_MAX_UPLOAD_BYTES + 1024 * 1024
TASKPULSE_TASKS_PAGE_SIZE = _env_number("TASKPULSE_TASKS_PAGE_SIZE", 20, int)

# Metrics. prometheus_client's multiprocess mode, in which every server and worker process adds to
# the same numbers, reads this variable itself when it is first imported, so it is set here,
# before any app module imports it. The directory is per deployment (one host); start empty.
PROMETHEUS_MULTIPROC_DIR = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
# A secret Prometheus sends as `Authorization: Bearer ...` to read /metrics; staff may read it too.
TASKPULSE_METRICS_TOKEN = os.environ.get("TASKPULSE_METRICS_TOKEN", "")

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
