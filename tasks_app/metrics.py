"""The Prometheus metrics: what is counted where it happens, and what is read when scraped.

Counters and histograms live in prometheus_client's multiprocess files (PROMETHEUS_MULTIPROC_DIR),
so that the numbers of every Daphne and Celery process on a host add up. What is true "now"
(open connections, tasks by status) is not a per-process gauge, which a crashed process would
leave stale, but read when scraped: connections from the slots in Redis, tasks from the database.
"""

from asgiref.sync import async_to_sync
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from django.db.models import Count

from tasks_app.realtime import connection_slots

MESSAGES_SENT = Counter(
    "taskpulse_messages_sent_total", "Protocol messages sent to clients.", ["transport", "type"]
)
ERRORS = Counter(
    "taskpulse_errors_total",
    "Protocol errors sent, and connections refused or closed by the server, by code.",
    ["code"],
)
EVENTS_PERSISTED = Counter(
    "taskpulse_events_persisted_total", "Task events written to the event log.", ["type"]
)
WEBHOOK_DELIVERIES = Counter(
    "taskpulse_webhook_deliveries_total",
    "Webhook delivery tries, by outcome (delivered, retried, failed) and the answer's status class.",
    ["outcome", "status_class"],
)
TASK_DURATION = Histogram(
    "taskpulse_task_duration_seconds",
    "From a task's start to its end.",
    ["kind", "status"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
PUBLISH_LATENCY = Histogram(
    "taskpulse_publish_latency_seconds",
    "From a committed event to its hand-over to the channel layer.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)


class _Now:
    """Read at scrape time: open connections by transport, tasks by status."""

    def collect(self):
        from tasks_app.models import Task  # the app registry is ready by the first scrape

        connections = GaugeMetricFamily(
            "taskpulse_connections_open",
            "Open WebSocket and SSE connections, all processes.",
            labels=["transport"],
        )
        for transport, count in sorted((async_to_sync(connection_slots.slots_by_transport)() or {}).items()):
            connections.add_metric([transport], count)
        yield connections
        tasks = GaugeMetricFamily("taskpulse_tasks", "Tasks by status.", labels=["status"])
        for status, count in Task.objects.values_list("status").annotate(n=Count("id")).order_by("status"):
            tasks.add_metric([status], count)
        yield tasks


def exposition() -> bytes:
    """The text every process's metrics add up to, in Prometheus's format."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_Now())
    return generate_latest(registry)
