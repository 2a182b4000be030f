"""Issue 4 against the real server: Daphne on loopback, a Celery worker, Redis and the database.
Who may connect and see what, and the limits that keep one hostile client from hurting anyone."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import pytest
import requests
import websockets
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django.contrib.auth import get_user_model

from tasks_app import services
from tasks_app.access import api_tokens
from tasks_app.models import Task
from tests.contract import CLOSE_CODES, assert_server_message
from tests.hostile import frames
from tests.processes import AUTH_RECHECK_SECONDS, PASSWORD, log_in

pytestmark = pytest.mark.integration

TIMEOUT = 15
TICKER = {"kind": "ticker", "params": {"steps": 10, "interval": 0.1}}


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def ws_url(base_url: str, path: str = "/ws/stream/") -> str:
    return base_url.replace("http://", "ws://") + path


def connect(
    base_url: str,
    *,
    http=None,
    origin: str | None = "same",
    token=None,
    subprotocols=None,
    path="/ws/stream/",
):
    headers = {}
    if http is not None:
        headers["Cookie"] = cookie_header(http)
    if token is not None and subprotocols is None:
        headers["Authorization"] = f"Bearer {token}"
    return websockets.connect(
        ws_url(base_url, path),
        additional_headers=headers,
        origin=base_url if origin == "same" else origin,
        subprotocols=subprotocols,
        open_timeout=TIMEOUT,
        max_size=None,
    )


async def close_code_of(ws) -> int:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    except websockets.ConnectionClosed:
        assert ws.close_code in CLOSE_CODES, f"{ws.close_code} is not a close code of the contract"
        return ws.close_code


async def answers_until_barrier(ws) -> list[dict]:
    """Everything the server sent up to the echo of a marker of ours (heartbeat pings aside)."""
    barrier = f"barrier-{uuid.uuid4()}"
    await ws.send(json.dumps({"type": "echo", "data": barrier}))
    answers = []
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if answer.get("type") == "echo" and answer.get("data") == barrier:
            return answers
        if answer["type"] != "ping":
            answers.append(answer)


def refused_close_code(base_url: str, **options) -> int:
    async def run():
        async with connect(base_url, **options) as ws:
            return await close_code_of(ws)

    return asyncio.run(run())


def wait_for_status(task_id: str, statuses: set[str]) -> None:
    deadline = time.monotonic() + 60
    while Task.objects.get(pk=task_id).status not in statuses:
        assert time.monotonic() < deadline, f"task {task_id} never reached {statuses}"
        time.sleep(0.1)


@pytest.fixture
def token(live_user) -> str:
    return api_tokens.api_token_create(user=live_user, name="integration test")[1]


@pytest.fixture
def other_http(daphne_server, live_user) -> requests.Session:
    other = get_user_model().objects.create_user("mallory", password=PASSWORD)
    return log_in(daphne_server.base_url, other)


class TestOrigin:
    def test_a_socket_opened_by_another_site_is_closed_with_1008(self, http, daphne_server):
        assert refused_close_code(daphne_server.base_url, http=http, origin="http://evil.example") == 1008

    def test_a_session_socket_without_an_origin_is_closed_with_1008(self, http, daphne_server):
        assert refused_close_code(daphne_server.base_url, http=http, origin=None) == 1008

    @pytest.mark.parametrize(
        "headers",
        [{"Origin": "http://evil.example"}, {}, {"Sec-Fetch-Site": "cross-site"}],
        ids=["foreign origin", "no origin", "cross-site fetch"],
    )
    def test_an_event_stream_not_opened_by_this_site_is_refused_403(self, http, headers):
        task = http.post(f"{http.base_url}/api/tasks/", json=TICKER, timeout=TIMEOUT).json()

        response = requests.get(
            task["sse_url"], headers={"Cookie": cookie_header(http), **headers}, timeout=TIMEOUT
        )

        assert response.status_code == 403


class TestApiTokens:
    def test_a_script_creates_and_follows_a_task_with_a_token_alone(self, daphne_server, live_user, token):
        base = daphne_server.base_url
        bearer = {"Authorization": f"Bearer {token}"}
        created = requests.post(f"{base}/api/tasks/", json=TICKER, headers=bearer, timeout=TIMEOUT)

        async def follow():
            async with connect(
                base, origin=None, token=token, path=f"/ws/tasks/{created.json()['task_id']}/"
            ) as ws:
                received = []
                while True:
                    try:
                        received.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
                    except websockets.ConnectionClosed:
                        return received, ws.close_code

        received, close_code = asyncio.run(follow())

        assert created.status_code == 201, created.text
        assert (received[-1]["type"], received[-1]["status"], close_code) == ("complete", "completed", 1000)

    def test_a_token_in_the_subprotocol_is_accepted_and_the_subprotocol_selected(self, daphne_server, token):
        async def run():
            async with connect(daphne_server.base_url, origin=None, subprotocols=[f"bearer.{token}"]) as ws:
                return ws.subprotocol, json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))

        subprotocol, first = asyncio.run(run())

        assert subprotocol == f"bearer.{token}"
        assert (first["type"], first["user"]) == ("connection", "iris")

    def test_a_token_follows_a_task_over_sse(self, daphne_server, token):
        bearer = {"Authorization": f"Bearer {token}"}
        task = requests.post(
            f"{daphne_server.base_url}/api/tasks/", json=TICKER, headers=bearer, timeout=TIMEOUT
        )

        with requests.get(task.json()["sse_url"], headers=bearer, stream=True, timeout=60) as response:
            body = "".join(response.iter_content(decode_unicode=True))

        assert response.status_code == 200
        assert "event: complete" in body

    def test_a_revoked_token_is_refused_on_http_and_websocket(self, daphne_server, live_user):
        record, token = api_tokens.api_token_create(user=live_user, name="leaked")
        api_tokens.api_token_revoke(token_id=record.pk)

        response = requests.get(
            f"{daphne_server.base_url}/api/tasks/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )

        assert response.status_code == 401
        assert refused_close_code(daphne_server.base_url, origin=None, token=token) == 4401

    def test_revoking_a_token_closes_its_open_socket_with_4401(self, daphne_server, live_user):
        record, token = api_tokens.api_token_create(user=live_user, name="to revoke")

        async def run():
            async with connect(daphne_server.base_url, origin=None, token=token) as ws:
                await answers_until_barrier(ws)
                await asyncio.to_thread(api_tokens.api_token_revoke, token_id=record.pk)
                return await close_code_of(ws)

        assert asyncio.run(run()) == 4401


class TestSessionEnd:
    def test_logging_out_closes_the_open_socket_with_4401_at_once(self, http, daphne_server):
        async def run():
            async with connect(daphne_server.base_url, http=http) as ws:
                await answers_until_barrier(ws)
                logged_out = await asyncio.to_thread(
                    http.post, f"{http.base_url}/accounts/logout/", headers={"Referer": http.base_url}
                )
                assert logged_out.status_code in (200, 302)
                started = time.monotonic()
                return await close_code_of(ws), time.monotonic() - started

        close_code, waited = asyncio.run(run())

        assert close_code == 4401
        assert waited < TIMEOUT < AUTH_RECHECK_SECONDS

    def test_logging_out_ends_an_open_event_stream(self, http):
        long_ticker = {"kind": "ticker", "params": {"steps": 300, "interval": 0.1}}
        task = http.post(f"{http.base_url}/api/tasks/", json=long_ticker, timeout=TIMEOUT).json()
        with http.get(
            task["sse_url"], headers={"Sec-Fetch-Site": "same-origin"}, stream=True, timeout=60
        ) as stream:
            chunks = stream.iter_content(chunk_size=None, decode_unicode=True)
            first = next(chunks)
            http.post(
                f"{http.base_url}/accounts/logout/", headers={"Referer": http.base_url}, timeout=TIMEOUT
            )
            started = time.monotonic()
            rest = "".join(chunks)
            ended_after = time.monotonic() - started
        services.task_cancel(task_id=task["task_id"])

        assert first.startswith("retry:")
        assert "event: complete" not in rest
        assert ended_after < TIMEOUT < AUTH_RECHECK_SECONDS, "the stream went on as long as the task"


class TestAuthorisation:
    def test_another_users_task_is_not_found_like_a_missing_one_and_nothing_of_it_arrives(
        self, http, other_http, daphne_server
    ):
        theirs = other_http.post(f"{other_http.base_url}/api/tasks/", json=TICKER, timeout=TIMEOUT).json()[
            "task_id"
        ]
        missing = str(uuid.uuid4())

        async def run():
            async with connect(daphne_server.base_url, http=http) as ws:
                await answers_until_barrier(ws)  # the connection message
                answers = {}
                for task_id in (theirs, missing):
                    await ws.send(json.dumps({"type": "subscribe", "task_id": task_id, "last_seq": 0}))
                    answers[task_id] = await answers_until_barrier(ws)
                await asyncio.to_thread(wait_for_status, theirs, {"completed"})
                later = await answers_until_barrier(ws)
                return answers, later

        answers, later = asyncio.run(run())

        errors = {
            task_id: [(a["type"], a["code"], a["message"]) for a in got] for task_id, got in answers.items()
        }
        assert errors[theirs] == errors[missing] == [("error", "not_found", "No such task.")]
        assert [message for message in later if message.get("task_id") == theirs] == []


class TestLimits:
    def test_an_over_size_message_is_closed_with_1009_and_not_kept_in_memory(self, http, daphne_server):
        rss_before = daphne_rss_bytes(daphne_server)

        async def send(size: int) -> int:
            async with connect(daphne_server.base_url, http=http) as ws:
                await answers_until_barrier(ws)
                try:
                    await ws.send(json.dumps({"type": "echo", "data": "x" * size}))
                except websockets.ConnectionClosed:
                    pass
                return await close_code_of(ws)

        just_over = asyncio.run(send(64 * 1024))
        huge = asyncio.run(send(32 * 1024 * 1024))

        assert (just_over, huge) == (1009, 1009)
        assert daphne_rss_bytes(daphne_server) - rss_before < 16 * 1024 * 1024

    def test_a_flood_is_rate_limited_then_closed_with_4429(self, http, daphne_server):
        async def flood():
            async with connect(daphne_server.base_url, http=http) as ws:
                await answers_until_barrier(ws)
                try:
                    for _ in range(1000):
                        await ws.send('{"type": "ping"}')
                except websockets.ConnectionClosed:
                    pass
                codes = []
                try:
                    while True:
                        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                        assert_server_message(message)
                        codes.append(message.get("code", message["type"]))
                except websockets.ConnectionClosed:
                    return codes, ws.close_code

        codes, close_code = asyncio.run(flood())

        assert "rate_limited" in codes
        assert close_code == 4429

    def test_the_connection_past_the_users_limit_is_refused_on_websocket_and_sse(self, http, daphne_server):
        limit = 20

        async def run():
            sockets = [await connect(daphne_server.base_url, http=http) for _ in range(limit)]
            try:
                async with connect(daphne_server.base_url, http=http) as extra:
                    refused = await close_code_of(extra)
                task = await asyncio.to_thread(http.post, f"{http.base_url}/api/tasks/", json=TICKER)
                sse = await asyncio.to_thread(
                    http.get,
                    task.json()["sse_url"],
                    headers={"Sec-Fetch-Site": "same-origin"},
                    timeout=TIMEOUT,
                )
            finally:
                for ws in sockets:
                    await ws.close()
            return refused, sse.status_code, await admitted_once_slots_are_released()

        async def admitted_once_slots_are_released() -> str:
            """Closed sockets release their slots as Daphne processes the close, a moment later."""
            for _ in range(20):
                async with connect(daphne_server.base_url, http=http) as again:
                    first = json.loads(await asyncio.wait_for(again.recv(), TIMEOUT))
                    if first["type"] == "connection":
                        return "connection"
                await asyncio.sleep(0.25)
            return "still refused"

        assert asyncio.run(run()) == (4429, 429, "connection")


class TestInput:
    def test_an_upload_is_stored_under_a_generated_name_and_served_to_its_owner_only(self, http, other_http):
        created = http.post(
            f"{http.base_url}/api/tasks/",
            data={"kind": "document"},
            files={"file": ("../../../etc/passwd.txt", b"Plain words here.")},
            timeout=TIMEOUT,
        )
        task = Task.objects.get(pk=created.json()["task_id"])
        wait_for_status(str(task.id), {"completed"})

        assert created.status_code == 201
        assert Path(task.input_file.name).name == "input.txt"
        assert task.params["filename"] == "passwd.txt"
        assert (
            other_http.get(f"{other_http.base_url}/api/tasks/{task.id}/", timeout=TIMEOUT).status_code == 404
        )

    def test_a_file_that_is_not_what_it_says_is_refused_with_the_field_error(self, http):
        response = http.post(
            f"{http.base_url}/api/tasks/",
            data={"kind": "document"},
            files={"file": ("scan.pdf", b"MZ\x90\x00 an executable")},
            timeout=TIMEOUT,
        )

        assert response.status_code == 400
        assert "not a PDF" in response.json()["errors"]["file"][0]

    def test_a_session_post_without_the_csrf_token_is_refused(self, http):
        response = requests.post(
            f"{http.base_url}/api/tasks/",
            json=TICKER,
            headers={"Cookie": cookie_header(http)},
            timeout=TIMEOUT,
        )

        assert response.status_code == 403


@pytest.fixture
def watched_task(live_user, monkeypatch):
    """A running task of the live user that the worker never takes: the test advances it."""
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1000, "interval": 0})
    services.task_start(task_id=task.id)
    yield task
    services.task_complete(task_id=task.id, result=None)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_frames_get_valid_answers_from_daphne_and_the_subscription_keeps_working(
    http, daphne_server, watched_task, data
):
    sent = data.draw(st.lists(frames(str(watched_task.id)), min_size=1, max_size=5), label="frames")
    progress = data.draw(st.integers(min_value=1, max_value=99), label="progress")

    async def run():
        async with connect(daphne_server.base_url, http=http) as ws:
            await ws.send(json.dumps({"type": "subscribe", "task_id": str(watched_task.id)}))
            await answers_until_barrier(ws)
            for kind, frame in sent:
                await ws.send(
                    frame
                    if kind == "bytes"
                    else frame.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                )
            answers = await answers_until_barrier(ws)
            await asyncio.to_thread(
                services.task_progress,
                task_id=watched_task.id,
                progress=progress,
                current=progress,
                total=100,
                message="still here",
            )
            live = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            return answers, live

    answers, live = asyncio.run(run())

    for answer in answers:
        assert_server_message(answer)
    assert (live["type"], live["current"]) == ("progress", progress)


def daphne_rss_bytes(server) -> int:
    status = Path(f"/proc/{server.popen.pid}/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kilobytes) * 1024
