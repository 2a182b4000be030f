"""Every kind of task end to end: submitted over HTTP to Daphne, run by a Celery worker process,
followed live over a plain WebSocket client, with Redis and the database in between."""

import asyncio
import json

import pytest
import requests
import websockets

from tasks_app import services
from tests.helpers import open_websocket

pytestmark = pytest.mark.integration

FOLLOW_TIMEOUT = 60
IDLE_SECONDS = 35  # well past redis-py 8's 5 s default socket timeout (channels_redis issue 422)


def follow(http: requests.Session, ws_url: str) -> tuple[list[dict], int]:
    """Read the task socket the way a plain client does, until the server closes it."""

    async def read_all():
        received = []
        async with await open_websocket(http, ws_url) as ws:
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), FOLLOW_TIMEOUT))
                    if message["type"] == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
                    else:
                        received.append(message)
            except websockets.ConnectionClosed:
                return received, ws.close_code

    return asyncio.run(read_all())


async def _answer_heartbeats_for(ws, seconds: float) -> int:
    """Stay idle for `seconds`, answering the server's pings; anything else fails the test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    heartbeats = 0
    while (left := deadline - loop.time()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        assert message["type"] == "ping", f"an idle socket got {message}"
        heartbeats += 1
        await ws.send(json.dumps({"type": "pong"}))
    return heartbeats


async def _next_answer(ws) -> dict:
    """The next message that is not the server's heartbeat (which is answered on the way)."""
    while (message := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] == "ping":
        await ws.send(json.dumps({"type": "pong"}))
    return message


def keep_worker_busy(http: requests.Session) -> None:
    """Occupy the only worker process, so that the next task is still pending when followed."""
    response = http.post(
        f"{http.base_url}/api/tasks/",
        json={"kind": "ticker", "params": {"steps": 2, "interval": 1.5}},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def submit_and_follow(http: requests.Session, **request) -> tuple[dict, list[dict], int]:
    keep_worker_busy(http)
    response = http.post(f"{http.base_url}/api/tasks/", timeout=30, **request)
    assert response.status_code == 201, response.text
    task = response.json()
    received, close_code = follow(http, task["ws_url"])
    return task, received, close_code


def assert_followed_whole_run(received: list[dict], close_code: int) -> dict:
    """The contract for one task socket; returns the `complete` message."""
    assert received[0]["type"] == "snapshot"
    assert received[0]["status"] == "pending", "the task should still be queued behind the busy worker"
    seqs = [message["seq"] for message in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"seq must grow by exactly 1: {seqs}"
    progress = [message["progress"] for message in received]
    assert progress == sorted(progress), f"progress went backwards: {progress}"
    assert [message["type"] for message in received].count("complete") == 1
    assert received[-1]["type"] == "complete"
    assert close_code == 1000
    return received[-1]


def test_a_ticker_is_followed_step_by_step(http):
    task, received, close_code = submit_and_follow(
        http, json={"kind": "ticker", "params": {"steps": 5, "interval": 0.2}}
    )

    complete = assert_followed_whole_run(received, close_code)
    assert complete["result"] == {"steps": 5, "interval": 0.2}
    counted = [
        message["current"] for message in received if message["type"] == "progress" and message["current"]
    ]
    assert counted == sorted(counted)
    assert counted[-1] == 5, "the last update before complete is never coalesced away"


def test_a_document_is_analysed_live(http):
    text = "Taskpulse counts every word here.\n" * 2000

    task, received, close_code = submit_and_follow(
        http, data={"kind": "document"}, files={"file": ("words.txt", text.encode())}
    )

    complete = assert_followed_whole_run(received, close_code)
    assert (complete["status"], complete["result"]["words"], complete["result"]["sentences"]) == (
        "completed",
        10_000,
        2_000,
    )


def test_a_csv_import_reports_per_batch_and_rejects_bad_rows(http):
    rows = "".join(f"Person {i},person{i}@example.org,{i % 90}\n" for i in range(3000))
    bad_rows = "".join(f"Broken {i},not-an-email,{i}\n" for i in range(10))

    task, received, close_code = submit_and_follow(
        http,
        data={"kind": "data_import", "columns": "name:text, email:email, age:integer"},
        files={"file": ("people.csv", ("name,email,age\n" + rows + bad_rows).encode())},
    )

    complete = assert_followed_whole_run(received, close_code)
    assert (complete["result"]["rows_imported"], complete["result"]["rows_rejected"]) == (3000, 10)
    assert complete["result"]["rejected"][0] == {
        "line": 3002,
        "reason": "email: 'not-an-email' is not a valid email",
    }
    assert any(message["total"] == 3010 for message in received), "counted progress per batch"


def test_a_batch_of_reports_can_be_downloaded_by_its_owner(http):
    task, received, close_code = submit_and_follow(
        http, json={"kind": "batch_report", "params": {"dataset": "sample", "reports": 3}}
    )

    complete = assert_followed_whole_run(received, close_code)
    reports = complete["result"]["reports"]
    assert len(reports) == 3
    download = http.get(http.base_url + reports[0]["files"][0]["url"], timeout=10)
    assert download.status_code == 200
    assert download.text.splitlines()[0] == "order_date,region,product,units,unit_price,revenue"


def test_a_failed_import_is_reported_with_its_error(http):
    task, received, close_code = submit_and_follow(
        http,
        data={"kind": "data_import", "columns": "name:text"},
        files={"file": ("people.csv", "email\nada@example.org\n")},
    )

    complete = assert_followed_whole_run(received, close_code)
    assert complete["status"] == "failed"
    assert "header naming the declared columns" in complete["error"]


def test_an_idle_socket_stays_open_and_still_delivers(http, live_user, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)  # stays pending: no worker takes it
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    ws_url = f"{http.base_url.replace('http', 'ws')}/ws/tasks/{task.id}/"

    async def idle_then_cancel():
        async with await open_websocket(http, ws_url) as ws:
            snapshot = json.loads(await ws.recv())
            heartbeats = await _answer_heartbeats_for(ws, IDLE_SECONDS)
            assert heartbeats, "an idle socket gets the server's ping heartbeat"
            await ws.send(json.dumps({"type": "ping"}))
            pong = await _next_answer(ws)
            cancel = await asyncio.to_thread(
                http.post, f"{http.base_url}/api/tasks/{task.id}/cancel/", timeout=10
            )
            complete = await _next_answer(ws)
            return snapshot, pong, cancel.status_code, complete

    snapshot, pong, cancel_status, complete = asyncio.run(idle_then_cancel())

    assert (snapshot["type"], pong["type"], cancel_status) == ("snapshot", "pong", 202)
    assert (complete["type"], complete["status"]) == ("complete", "cancelled")
