"""How the workers take work: a queue per kind, so that a flood of one kind does not starve the
others, and a time limit that stops a run that goes on too long."""

import time
import uuid

import pytest

from tasks_app import services
from tasks_app.models import Task, TaskStatus

pytestmark = pytest.mark.integration


def test_a_flood_of_one_kind_does_not_hold_back_another(http):
    """One worker process (see tests/processes.py): it takes from the kinds' queues in turn, so the
    document waits for the ticker running now, not for every ticker queued before it."""
    flood = [
        http.post(
            f"{http.base_url}/api/tasks/",
            json={"kind": "ticker", "params": {"steps": 3, "interval": 0.4}},
            timeout=10,
        ).json()["task_id"]
        for _ in range(6)
    ]
    document = http.post(
        f"{http.base_url}/api/tasks/",
        data={"kind": "document"},
        files={"file": ("a.txt", b"A few words.")},
        timeout=10,
    ).json()["task_id"]

    deadline = time.monotonic() + 60
    while Task.objects.filter(pk__in=[*flood, document]).exclude(status=TaskStatus.COMPLETED).exists():
        assert time.monotonic() < deadline, "the tasks did not all complete"
        time.sleep(0.2)

    started = dict(Task.objects.filter(pk__in=[*flood, document]).values_list("id", "started_at"))
    tickers_before = sum(started[uuid.UUID(ticker)] < started[uuid.UUID(document)] for ticker in flood)
    assert tickers_before <= 2, f"the document waited behind {tickers_before} of the 6 tickers"


def test_a_run_past_its_time_limit_is_stopped_and_the_task_fails_saying_so(live_user, settings):
    settings.TASKPULSE_TASK_TIME_LIMIT_SECONDS = 2  # sent with the message; the worker enforces it
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 40, "interval": 0.5})

    deadline = time.monotonic() + 30
    while (task := Task.objects.get(pk=task.id)).status != TaskStatus.FAILED:
        assert time.monotonic() < deadline, f"the task is still {task.status}"
        time.sleep(0.2)

    assert task.error == "The task ran longer than its limit of 2 s and was stopped."
    assert task.progress < 50
