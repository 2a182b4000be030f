"""Counts, throughput, durations and failures of recent tasks, for a person or a script."""

import json
from datetime import timedelta

from asgiref.sync import async_to_sync

from django.core.management.base import BaseCommand

from tasks_app import maintenance
from tasks_app.management.durations import duration
from tasks_app.realtime import connection_slots


class Command(BaseCommand):
    help = (
        "Tasks created and finished since --since (default 24h): by status and kind, throughput, "
        "duration p50/p95/max, failure rate, and the clients connected now. "
        "Exit codes: 0 done, 1 error, 2 bad arguments."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=duration, default=timedelta(hours=24), help="e.g. 24h (default)")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON object, for scripts."
        )

    def handle(self, *args, since, as_json: bool, **options) -> None:
        connected = async_to_sync(connection_slots.slots_total)()
        stats = maintenance.task_stats(since=since, connected_clients=connected)
        self.stdout.write(_as_json(stats) if as_json else _as_text(stats))


def _as_json(stats: dict) -> str:
    return json.dumps(stats, indent=2, sort_keys=True)


def _as_text(stats: dict) -> str:
    durations = stats["duration_seconds"]
    failure_rate = "-" if stats["failure_rate"] is None else f"{stats['failure_rate']:.1%}"
    lines = [
        f"Since {stats['since']}",
        f"  created:            {stats['created']} ({_pairs(stats['created_by_kind'])})",
        f"  finished:           {_pairs(stats['finished_by_status'])}",
        f"  throughput:         {stats['throughput_per_hour']} finished per hour",
        f"  duration (s):       p50 {durations['p50']}, p95 {durations['p95']}, max {durations['max']}",
        f"  failure rate:       {failure_rate}",
        "Now",
        f"  tasks by status:    {_pairs(stats['now_by_status'])}",
        f"  connected clients:  {_dash(stats['connected_clients'])}",
    ]
    return "\n".join(lines)


def _pairs(counts: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def _dash(value) -> str:
    return "-" if value is None else str(value)
