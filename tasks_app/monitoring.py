"""The live monitoring page's figures (admin.py): samples of the same counters /metrics exposes,
kept in Redis for TASKPULSE_MONITOR_WINDOW_SECONDS so that every staff page (and every server
process) draws the same last minutes, and turned into per-second rates between samples.

A sample is taken by Celery beat (tasks.record_monitor_sample) and by an open monitoring page,
at most one per TASKPULSE_MONITOR_SAMPLE_SECONDS across all of them."""

import json
import time
from collections import defaultdict
from typing import cast

import redis
from asgiref.sync import async_to_sync
from prometheus_client import CollectorRegistry, multiprocess
from redis.sentinel import Sentinel

from django.conf import settings
from django.db.models import Count

from tasks_app.models import Task, TaskStatus
from tasks_app.realtime import connection_slots

_SAMPLES_KEY = "taskpulse:monitor:samples"
_TAKEN_KEY = "taskpulse:monitor:taken"
_COUNTED = {
    "taskpulse_messages_sent_total": "messages",
    "taskpulse_events_persisted_total": "events",
}


def sample_now() -> dict:
    """The counters' totals (this host's processes, as /metrics reads them), open connections by
    transport and server process, and tasks running and queued, at this moment."""
    sample: dict = {"time": time.time(), "messages": 0.0, "events": 0.0, "errors": 0.0, "refusals": 0.0}
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for family in registry.collect():
        for counted in family.samples:
            if counted.name in _COUNTED:
                sample[_COUNTED[counted.name]] += counted.value
            elif counted.name == "taskpulse_errors_total":
                # A numeric code closed or refused a connection; any other is a protocol error.
                sample["refusals" if counted.labels["code"].isdigit() else "errors"] += counted.value
    by_process = async_to_sync(connection_slots.slots_by_process)() or {}
    sample["connections"] = by_process
    statuses = dict(
        Task.objects.filter(status__in=(TaskStatus.RUNNING, TaskStatus.PENDING))
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    sample["running"] = statuses.get(TaskStatus.RUNNING, 0)
    sample["queued"] = statuses.get(TaskStatus.PENDING, 0)
    return sample


def sample_record() -> bool:
    """Take a sample and keep it, unless one was taken less than a sample interval ago."""
    client = _client()
    interval_ms = int(settings.TASKPULSE_MONITOR_SAMPLE_SECONDS * 1000)
    if not client.set(_TAKEN_KEY, 1, nx=True, px=interval_ms):
        return False
    sample = sample_now()
    window = settings.TASKPULSE_MONITOR_WINDOW_SECONDS
    with client.pipeline() as pipe:
        pipe.zadd(_SAMPLES_KEY, {json.dumps(sample, sort_keys=True): sample["time"]})
        pipe.zremrangebyscore(_SAMPLES_KEY, "-inf", sample["time"] - window - interval_ms / 1000)
        pipe.expire(_SAMPLES_KEY, int(window * 2))
        pipe.execute()
    return True


def samples_recent() -> list[dict]:
    window = settings.TASKPULSE_MONITOR_WINDOW_SECONDS
    members = cast(list[bytes], _client().zrangebyscore(_SAMPLES_KEY, time.time() - window, "+inf"))
    return [json.loads(member) for member in members]


def series(samples: list[dict]) -> dict:
    """What the page draws: for each interval between two samples, the rates per second of
    messages sent, events persisted, errors and refusals; for each sample, the open connections
    (by transport, and by server process) and the tasks running and queued."""
    points: dict = {"time": [], "messages": [], "events": [], "errors": [], "refusals": []}
    for before, after in zip(samples, samples[1:], strict=False):
        seconds = after["time"] - before["time"]
        if seconds <= 0:
            continue
        points["time"].append(after["time"])
        for name in ("messages", "events", "errors", "refusals"):
            # A restarted host's counters start again from 0: not a negative rate.
            points[name].append(round(max(0.0, after[name] - before[name]) / seconds, 2))
    by_process: dict[str, list[int]] = defaultdict(lambda: [0] * len(samples))
    transports: dict[str, list[int]] = {"websocket": [0] * len(samples), "sse": [0] * len(samples)}
    for index, sample in enumerate(samples):
        for process, counts in sample["connections"].items():
            by_process[process][index] = sum(counts.values())
            for transport, count in counts.items():
                transports[transport][index] += count
    return {
        "rates": points,
        "gauges": {
            "time": [sample["time"] for sample in samples],
            "running": [sample["running"] for sample in samples],
            "queued": [sample["queued"] for sample in samples],
            "connections": transports,
            "connections_by_process": dict(sorted(by_process.items())),
        },
    }


def _client() -> redis.Redis:
    if settings.REDIS_SENTINELS:
        return Sentinel(settings.REDIS_SENTINELS).master_for(
            settings.REDIS_SENTINEL_MASTER, db=settings.REDIS_SENTINEL_DB, socket_timeout=5
        )
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
