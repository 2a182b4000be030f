"""What clients missed or were sent twice, counted against what their tasks reported.

For Taskpulse, the reference is the database: a task's persisted progress events. For a peer,
whose events are kept nowhere a client could ask again (or, for django-eventstream, kept only
as its own storage), it is what its ticker reported: every call of bench/peers/tasks.py is sent.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tasks_app.models import EventType, TaskEvent


@dataclass(frozen=True)
class Losses:
    clients: int
    reported: int  # events reported per task, summed over the clients that follow them
    missed: int
    repeated: int
    clients_missing: int

    @property
    def missed_per_client(self) -> float:
        return self.missed / self.clients if self.clients else 0.0


def reported_messages(design: str, task_ids: list[str], calls_file: Path) -> dict[str, set[str]]:
    if design == "taskpulse":
        reported: dict[str, set[str]] = {task_id: set() for task_id in task_ids}
        events = TaskEvent.objects.filter(task_id__in=task_ids, type=EventType.PROGRESS)
        for task_id, payload in events.values_list("task_id", "payload"):
            reported[str(task_id)].add(payload.get("message", ""))
        return reported
    wanted = set(task_ids)
    reported = defaultdict(set)
    for line in calls_file.read_text().splitlines():
        task_id, message, _moment = line.split("\t")
        if task_id in wanted:
            reported[task_id].add(message)
    return reported


def count(design: str, task_ids: list[str], clients: int, calls_file: Path, records_file: Path) -> Losses:
    """Client n follows task_ids[n % len(task_ids)], as the load process spreads them."""
    reported = reported_messages(design, task_ids, calls_file)
    received: dict[int, Counter] = defaultdict(Counter)
    for line in records_file.read_text().splitlines():
        _moment, task_id, _seq, client, message = line.split("\t", 4)
        if client and message in reported.get(task_id, ()):
            received[int(client)][message] += 1
    missed = repeated = clients_missing = total = 0
    for client in range(clients):
        expected = reported.get(task_ids[client % len(task_ids)], set())
        got = received[client]
        lost = len(expected - set(got))
        total += len(expected)
        missed += lost
        clients_missing += bool(lost)
        repeated += sum(times - 1 for times in got.values())
    return Losses(clients, total, missed, repeated, clients_missing)
