"""The app's settings that a host project need not set, with their defaults: applied when the
app is ready (apps.py), so that every module reads `settings.TASKPULSE_...` whether the project
set it or not. docs/configuration.md says what each does; this project's settings.py reads them
from the environment."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Redis for the connection counts (realtime/connection_slots.py), or Sentinel's.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_SENTINELS": [],
    "REDIS_SENTINEL_MASTER": "mymaster",
    "REDIS_SENTINEL_DB": 0,
    "TASKPULSE_HEARTBEAT_SECONDS": 25.0,
    "TASKPULSE_STREAM_MAX_SUBSCRIPTIONS": 100,
    "TASKPULSE_WS_PING_INTERVAL": 20,
    "TASKPULSE_WS_PING_TIMEOUT": 30,
    "TASKPULSE_WS_HANDSHAKE_TIMEOUT": 20,
    "TASKPULSE_WEBSOCKET_TIMEOUT": 86400,
    "TASKPULSE_WS_MAX_MESSAGE_BYTES": 64 * 1024,
    "TASKPULSE_WS_MESSAGES_PER_SECOND": 10.0,
    "TASKPULSE_WS_MESSAGE_BURST": 30,
    "TASKPULSE_WS_FLOOD_STRIKES": 20,
    "TASKPULSE_MAX_CONNECTIONS_PER_USER": 20,
    "TASKPULSE_AUTH_RECHECK_SECONDS": 60.0,
    "TASKPULSE_WS_MAX_QUEUED_BYTES": 256 * 1024,
    "TASKPULSE_BEHIND_PROXY": False,
    "TASKPULSE_TASK_TIME_LIMIT_SECONDS": 3600,
    "TASKPULSE_TASK_LEASE_SECONDS": 30.0,
    "TASKPULSE_TASK_MAX_ATTEMPTS": 3,
    "TASKPULSE_DATABASE_OUTAGE_SECONDS": 60.0,
    "TASKPULSE_STALE_TASK_SECONDS": 600,
    "TASKPULSE_PROGRESS_EVENTS_PER_SECOND": 10.0,
    "TASKPULSE_EVENTS_KEPT_PER_TASK": 1000,
    "TASKPULSE_EVENTS_MAX_AGE_SECONDS": 7 * 24 * 3600,
    "TASKPULSE_MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "TASKPULSE_TASKS_PAGE_SIZE": 20,
    "TASKPULSE_MONITOR_SAMPLE_SECONDS": 2.0,
    "TASKPULSE_MONITOR_WINDOW_SECONDS": 900,
    "TASKPULSE_WEBHOOK_QUEUE": "webhooks",
    "TASKPULSE_WEBHOOK_ALLOW_PRIVATE": False,
    "TASKPULSE_WEBHOOK_ALLOW_HTTP": False,
    "TASKPULSE_WEBHOOK_TIMEOUT_SECONDS": 5.0,
    "TASKPULSE_WEBHOOK_BACKOFF_SECONDS": 10.0,
    "TASKPULSE_WEBHOOK_RETRY_SECONDS": 24 * 3600,
    "TASKPULSE_WEBHOOK_DISABLE_AFTER_SECONDS": 24 * 3600,
    "TASKPULSE_WEBHOOK_LOST_AFTER_SECONDS": 60.0,
    "TASKPULSE_WEBHOOK_SECRET_GRACE_SECONDS": 24 * 3600,
    # Empty: only staff may read /metrics.
    "TASKPULSE_METRICS_TOKEN": "",
}


def apply_defaults() -> None:
    """Give every setting the project did not set its default."""
    for name, default in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, default)


# Celery beat's sweeps, for a project's CELERY_BEAT_SCHEDULE, at the default lease and sweep
# intervals: failing tasks no worker runs any more, and sending again those whose worker is lost;
# and the monitoring page's samples, so that it has a history when opened.
BEAT_SCHEDULE = {
    "taskpulse-fail-stale-tasks": {"task": "tasks_app.fail_stale_tasks", "schedule": 60.0},
    "taskpulse-recover-lost-tasks": {
        "task": "tasks_app.recover_lost_tasks",
        "schedule": DEFAULTS["TASKPULSE_TASK_LEASE_SECONDS"] / 2,
    },
    "taskpulse-record-monitor-sample": {"task": "tasks_app.record_monitor_sample", "schedule": 10.0},
    # Webhook deliveries due again: retries, and those whose message or worker was lost.
    "taskpulse-send-due-webhooks": {"task": "tasks_app.send_due_webhooks", "schedule": 5.0},
}
