"""Server-Sent Events through the real Daphne, Celery worker and Redis."""

import json
import time

import pytest
import requests

from tasks_app import services
from tests.contract import assert_task_message
from tests.processes import HEARTBEAT_SECONDS

pytestmark = pytest.mark.integration


def read_events(http: requests.Session, url: str, *, headers=None, seconds: float = 60) -> list[dict]:
    """Parse the stream into events (and comments) until the server ends it or time runs out."""
    events, current = [], {}
    deadline = time.monotonic() + seconds
    # What a browser's EventSource on the same site sends instead of an Origin.
    headers = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
    with http.get(url, stream=True, timeout=seconds, headers=headers) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for line in response.iter_lines(decode_unicode=True):
            if line == "":
                if current:
                    events.append(current)
                current = {}
            elif line.startswith(":"):
                events.append({"comment": line[1:].strip()})
            else:
                field, _, value = line.partition(": ")
                current[field] = value
            if time.monotonic() > deadline:
                break
    return events


def submit_ticker(http: requests.Session, *, steps: int, interval: float) -> dict:
    return http.post(
        f"{http.base_url}/api/tasks/",
        json={"kind": "ticker", "params": {"steps": steps, "interval": interval}},
        timeout=10,
    ).json()


def test_a_task_is_followed_over_sse_until_it_completes(http):
    task = submit_ticker(http, steps=5, interval=0.2)

    events = read_events(http, task["sse_url"])

    assert events[0] == {"retry": "3000"}
    messages = [json.loads(event["data"]) for event in events[1:] if "data" in event]
    ids = [int(event["id"]) for event in events[1:] if "id" in event]
    assert ids == [message["seq"] for message in messages]
    assert ids == sorted(set(ids))
    assert [event["event"] for event in events[1:] if "event" in event][-1] == "complete"
    assert messages[-1]["result"] == {"steps": 5, "interval": 0.2}
    for message in messages:
        assert_task_message(message)


def test_last_event_id_resumes_with_exactly_the_events_after_it(http):
    task = submit_ticker(http, steps=3, interval=0)
    read_events(http, task["sse_url"])  # to the end: the task is complete

    resumed = read_events(http, task["sse_url"], headers={"Last-Event-ID": "2"})

    ids = [int(event["id"]) for event in resumed if "id" in event]
    final_seq = http.get(f"{http.base_url}/api/tasks/{task['task_id']}/", timeout=10).json()["seq"]
    assert ids == list(range(3, final_seq + 1))


def test_an_idle_event_stream_sends_comment_heartbeats(http, live_user, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})

    events = read_events(http, f"{http.base_url}/sse/tasks/{task.id}/", seconds=HEARTBEAT_SECONDS * 2.5)
    services.task_cancel(task_id=task.id)

    assert {"comment": "heartbeat"} in events
