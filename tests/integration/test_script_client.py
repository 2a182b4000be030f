"""The script client (tasks_app/client.py) against the live server: a command with a progress bar
and watch_task's exit codes, run with Django made unimportable; and its iterator resuming
through dropped connections with nothing lost or repeated."""

import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from tasks_app.access.api_tokens import api_token_create
from tasks_app.client import NotAuthenticated, TaskNotFound, follow
from tests.fault_proxy import FaultProxy
from tests.processes import ROOT

pytestmark = pytest.mark.integration

# `import django` fails in the command's process: the client must not need it.
WITHOUT_DJANGO = (
    "import runpy, sys; sys.modules['django'] = None; sys.argv[0] = 'client'; "
    "runpy.run_module('tasks_app.client', run_name='__main__')"
)


@pytest.fixture
def token(live_user) -> str:
    _record, token = api_token_create(user=live_user, name="a script")
    return token


def submit(base_url: str, token: str, steps: int, interval: float) -> str:
    response = requests.post(
        f"{base_url}/api/tasks/",
        json={"kind": "ticker", "params": {"steps": steps, "interval": interval}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["task_id"]


def run_command(*arguments: str, token: str | None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", **({"TASKPULSE_TOKEN": token} if token else {})}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DJANGO, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_follows_a_task_to_its_end_and_exits_0(daphne_server, token):
    task_id = submit(daphne_server.base_url, token, steps=5, interval=0.1)

    done = run_command(daphne_server.base_url, task_id, token=token)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("#") and "100.0% 5/5 completed" in lines[-1], done.stdout


def test_the_command_exits_4_for_a_task_cancelled_while_it_watched(daphne_server, token):
    task_id = submit(daphne_server.base_url, token, steps=50, interval=0.2)
    cancel_soon = threading.Timer(
        1.5,
        lambda: requests.post(
            f"{daphne_server.base_url}/api/tasks/{task_id}/cancel/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ),
    )
    cancel_soon.start()

    done = run_command(daphne_server.base_url, task_id, token=token)

    cancel_soon.join()
    assert done.returncode == 4, done.stdout + done.stderr
    assert "ended cancelled" in done.stderr


@pytest.mark.parametrize(
    "case, code", [("no such task", 5), ("a revoked or unknown token", 1), ("no token", 2)]
)
def test_the_command_exits_as_watch_task_does_when_it_cannot_follow(daphne_server, token, case, code):
    task_id = str(uuid.uuid4()) if case == "no such task" else submit(daphne_server.base_url, token, 1, 0)
    given = {"no such task": token, "a revoked or unknown token": "not-a-token", "no token": None}[case]

    done = run_command(daphne_server.base_url, task_id, token=given)

    assert done.returncode == code, done.stdout + done.stderr


def test_the_iterator_raises_for_a_task_it_may_not_see_and_a_refused_token(daphne_server, token):
    with pytest.raises(TaskNotFound):
        list(follow(daphne_server.base_url, str(uuid.uuid4()), token=token))
    with pytest.raises(NotAuthenticated):
        list(follow(daphne_server.base_url, str(uuid.uuid4()), token="not-a-token"))


def test_the_iterator_resumes_through_dropped_connections_with_nothing_lost_or_repeated(daphne_server, token):
    proxy = FaultProxy("127.0.0.1", int(daphne_server.base_url.rsplit(":", 1)[1]))
    task_id = submit(daphne_server.base_url, token, steps=30, interval=0.1)
    received = []
    try:
        for message in follow(proxy.url("http://127.0.0.1:{port}"), task_id, token=token):
            received.append(message)
            if len(received) in (5, 15):
                proxy.drop_all(refuse_for=0.5)
                time.sleep(0.3)  # events are sent meanwhile, to no one
    finally:
        proxy.close()

    seqs = [message["seq"] for message in received if message["type"] != "snapshot"]
    assert seqs == sorted(set(seqs)) and seqs == list(range(seqs[0], received[-1]["seq"] + 1)), seqs
    assert (received[-1]["type"], received[-1]["status"]) == ("complete", "completed")
