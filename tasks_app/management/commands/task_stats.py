"""Counts, throughput, durations and failures of recent tasks, for a person or a script."""

import json
from datetime import timedelta

from asgiref.sync import async_to_sync

from django.utils.translation import gettext as _

from tasks_app import maintenance
from tasks_app.management.durations import duration
from tasks_app.management.language import SpokenCommand
from tasks_app.realtime import connection_slots


class Command(SpokenCommand):
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
    rows = [
        (_("Since %(time)s") % {"time": stats["since"]}, None),
        (_("created"), f"{stats['created']} ({_pairs(stats['created_by_kind'])})"),
        (_("finished"), _pairs(stats["finished_by_status"])),
        (_("throughput"), _("%(count)s finished per hour") % {"count": stats["throughput_per_hour"]}),
        (_("duration (s)"), f"p50 {durations['p50']}, p95 {durations['p95']}, max {durations['max']}"),
        (_("failure rate"), failure_rate),
        (_("Now"), None),
        (_("tasks by status"), _pairs(stats["now_by_status"])),
        (_("connected clients"), _dash(stats["connected_clients"])),
    ]
    return "\n".join(heading if value is None else f"  {heading + ':':<20}{value}" for heading, value in rows)


def _pairs(counts: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or _("none")


def _dash(value) -> str:
    return "-" if value is None else str(value)
