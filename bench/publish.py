"""Cost of publishing one progress event from a worker: our publisher loop against the
baseline of `async_to_sync(channel_layer.group_send)` per call, measured in the same run.

    python bench/publish.py [--events N]

Prints, for each, the time per event and the Redis connections it opened, then the ratios.
Needs Redis at $REDIS_URL. Figures vary with the machine; the ratio is what to compare.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from asgiref.sync import async_to_sync  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402

from django.conf import settings  # noqa: E402

from tasks_app.realtime import broadcast  # noqa: E402

GROUP_TASK_ID = "00000000-0000-0000-0000-00000000beef"


def _connections_received(client: redis.Redis) -> int:
    return client.info("stats")["total_connections_received"]


def measure(name: str, publish, events: int, client: redis.Redis) -> tuple[float, int]:
    publish(0)  # warm-up: imports, first pool
    before = _connections_received(client)
    started = time.perf_counter()
    for number in range(1, events + 1):
        publish(number)
    elapsed = time.perf_counter() - started
    opened = _connections_received(client) - before
    print(f"{name:<34} {elapsed / events * 1e6:9.1f} µs/event  {opened:6d} Redis connections opened")
    return elapsed, opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    events = parser.parse_args().events
    client = redis.Redis.from_url(settings.REDIS_URL)
    layer = get_channel_layer()
    group = broadcast.task_group(GROUP_TASK_ID)

    def baseline(number: int) -> None:
        async_to_sync(layer.group_send)(group, {"type": "task.event", "message": {"seq": number}})

    def ours(number: int) -> None:
        broadcast.publish_task_event(GROUP_TASK_ID, {"seq": number})

    print(f"{events} events to one group, Redis at {settings.REDIS_URL}")
    base_time, base_opened = measure("baseline: async_to_sync per call", baseline, events, client)
    our_time, our_opened = measure("ours: one publisher loop", ours, events, client)
    print(f"time per event: ours / baseline = {our_time / base_time:.2f}")
    print(f"connections opened: ours {our_opened} vs baseline {base_opened}")


if __name__ == "__main__":
    main()
