"""Issue 5 against the real processes: cancellation that frees the worker, watch_task's exit
codes, and /metrics adding up what Daphne and the Celery worker did."""

import asyncio
import json
import re
import subprocess
import sys
import time

import pytest
import requests
import websockets

from tasks_app.models import Task, TaskEvent, TaskStatus
from tests.processes import METRICS_TOKEN, ROOT

pytestmark = pytest.mark.integration

TIMEOUT = 60
LONG_TICKER = {"kind": "ticker", "params": {"steps": 200, "interval": 0.2}}  # 40 s unless cancelled
QUICK_TICKER = {"kind": "ticker", "params": {"steps": 3, "interval": 0.1}}


def submit(http, body) -> str:
    response = http.post(f"{http.base_url}/api/tasks/", json=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    return response.json()["task_id"]


def wait_for(task_id: str, statuses: set[str], seconds: float = TIMEOUT) -> Task:
    deadline = time.monotonic() + seconds
    while (task := Task.objects.get(pk=task_id)).status not in statuses:
        assert time.monotonic() < deadline, f"task {task_id} stayed {task.status}"
        time.sleep(0.1)
    return task


def watch(process_env, task_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "watch_task", task_id],
        cwd=ROOT,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_cancelling_a_running_task_ends_it_with_one_complete_and_frees_the_worker_at_once(http):
    long = submit(http, LONG_TICKER)
    wait_for(long, {TaskStatus.RUNNING})

    cancel = http.post(f"{http.base_url}/api/tasks/{long}/cancel/", timeout=TIMEOUT)
    started = time.monotonic()
    quick = submit(http, QUICK_TICKER)
    wait_for(quick, {TaskStatus.COMPLETED}, seconds=30)

    assert cancel.status_code == 202
    assert Task.objects.get(pk=long).status == TaskStatus.CANCELLED
    assert TaskEvent.objects.filter(task_id=long, type="complete").count() == 1
    assert time.monotonic() - started < 30, "the next task waited for the cancelled one's 40 s"


def test_a_cancelled_pending_task_is_revoked_and_never_runs(http, celery_worker):
    busy = submit(http, {"kind": "ticker", "params": {"steps": 2, "interval": 1.5}})
    pending = submit(http, QUICK_TICKER)

    http.post(f"{http.base_url}/api/tasks/{pending}/cancel/", timeout=TIMEOUT)
    wait_for(busy, {TaskStatus.COMPLETED})
    deadline = time.monotonic() + 15
    while f"revoked task: ticker[{pending}]" not in celery_worker.log_since_start():
        assert time.monotonic() < deadline, "the worker never discarded the revoked message"
        time.sleep(0.2)

    statuses = [event.payload["status"] for event in TaskEvent.objects.filter(task_id=pending)]
    assert statuses == ["pending", "cancelled"]


class TestWatchTask:
    def test_a_completed_task_exits_0_after_showing_its_progress(self, http, process_env):
        # Long enough to outlast the watcher's start (Django's setup) on a busy machine.
        task_id = submit(http, {"kind": "ticker", "params": {"steps": 5, "interval": 1.0}})

        result = watch(process_env, task_id)

        lines = result.stdout.splitlines()
        assert result.returncode == 0, result.stderr
        assert len(lines) > 2, "one line per event as the task moves (stdout is not a terminal)"
        assert re.search(r"\] 100\.0% 5/5 completed: Done$", lines[-1])
        seqs = [int(line.split()[0][1:]) for line in lines]
        assert seqs == sorted(set(seqs))

    def test_a_failed_task_exits_3_with_its_error(self, http, process_env):
        response = http.post(
            f"{http.base_url}/api/tasks/",
            data={"kind": "data_import", "columns": "name:text"},
            files={"file": ("people.csv", "email\nada@example.org\n")},
            timeout=TIMEOUT,
        )

        result = watch(process_env, response.json()["task_id"])

        assert result.returncode == 3
        assert "header naming the declared columns" in result.stderr

    def test_a_task_cancelled_while_watched_exits_4(self, http, process_env):
        task_id = submit(http, LONG_TICKER)
        watcher = subprocess.Popen(
            [sys.executable, "manage.py", "watch_task", task_id],
            cwd=ROOT,
            env=process_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(task_id, {TaskStatus.RUNNING})
        http.post(f"{http.base_url}/api/tasks/{task_id}/cancel/", timeout=TIMEOUT)

        assert watcher.wait(TIMEOUT) == 4

    def test_no_such_task_exits_5(self, process_env, live_user):
        assert watch(process_env, "00000000-0000-4000-8000-000000000000").returncode == 5


def test_metrics_add_up_what_every_process_did(http, daphne_server):
    def scrape() -> str:
        response = requests.get(
            f"{daphne_server.base_url}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200
        return response.text

    def value(text: str, sample: str) -> float:
        match = re.search(re.escape(sample) + r" ([0-9.e+-]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    before = scrape()
    task_id = submit(http, QUICK_TICKER)
    wait_for(task_id, {TaskStatus.COMPLETED})
    events = TaskEvent.objects.filter(task_id=task_id).count()

    async def while_connected() -> str:
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        url = daphne_server.base_url.replace("http://", "ws://") + "/ws/stream/"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}, origin=http.base_url) as ws:
            json.loads(await ws.recv())
            return await asyncio.to_thread(scrape)

    during = asyncio.run(while_connected())
    deadline = time.monotonic() + 10  # the slot is released as Daphne handles the close
    while (
        value(after := scrape(), 'taskpulse_connections_open{transport="websocket"}')
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)

    persisted = 'taskpulse_events_persisted_total{type="progress"}'
    assert value(after, persisted) - value(before, persisted) >= events - 1, "the worker's events are counted"
    assert value(during, 'taskpulse_connections_open{transport="websocket"}') == 1
    assert value(after, 'taskpulse_connections_open{transport="websocket"}') == 0
    assert value(after, 'taskpulse_task_duration_seconds_count{kind="ticker",status="completed"}') >= 1
