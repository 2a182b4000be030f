"""Property: whatever a client sends, the stream answers with valid messages (an `error` with a
contract code for anything it cannot take), never fails, and the connection's subscription keeps
working. Through the real ASGI stack with WebsocketCommunicator; tests/integration/test_security.py
sends the same frames to Daphne."""

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tasks_app import services
from tests.contract import assert_server_message
from tests.helpers import TIMEOUT, open_stream
from tests.hostile import frames

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running_task(create_task):
    task = create_task("ticker", {"steps": 1000, "interval": 0})
    services.task_start(task_id=task.id)
    return task


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """The rate limit has tests of its own; here every frame must reach the parser."""
    settings.TASKPULSE_WS_MESSAGE_BURST = 1_000_000


def strict_json(text: str):
    """As a browser's JSON.parse reads it: NaN and Infinity are not JSON."""

    def refuse(name):
        raise AssertionError(f"the server sent {name}, which is not JSON: {text[:200]}")

    return json.loads(text, parse_constant=refuse)


async def answers_until_barrier(socket) -> list[dict]:
    """Every answer to what was sent before, up to the echo of a marker of ours (a `ping` could be
    answered by a pong the frames asked for); fails on a close."""
    barrier = f"barrier-{uuid.uuid4()}"
    await socket.send_json_to({"type": "echo", "data": barrier})
    answers = []
    while True:
        output = await socket.receive_output(TIMEOUT)
        assert output["type"] == "websocket.send", f"the server closed the connection: {output}"
        answer = strict_json(output["text"])
        if answer == {**answer, "type": "echo", "data": barrier}:
            return answers
        answers.append(answer)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_frames_get_valid_answers_and_the_subscription_keeps_working(user, running_task, data):
    sent = data.draw(st.lists(frames(str(running_task.id)), min_size=1, max_size=6), label="frames")
    progress = data.draw(st.integers(min_value=1, max_value=99), label="progress")

    async def scenario():
        socket = await open_stream(user)
        try:
            await socket.send_json_to({"type": "subscribe", "task_id": str(running_task.id)})
            await answers_until_barrier(socket)  # the subscription and its snapshot
            for kind, frame in sent:
                await socket.send_input({"type": "websocket.receive", kind: frame})
            answers = await answers_until_barrier(socket)
            await database_sync_to_async(services.task_progress)(
                task_id=running_task.id, progress=progress, current=progress, total=100, message="still here"
            )
            return answers, await socket.receive_json_from(TIMEOUT)
        finally:
            await socket.disconnect()

    answers, live = async_to_sync(scenario)()

    for answer in answers:
        assert_server_message(answer)
    assert (live["type"], live["task_id"], live["current"]) == ("progress", str(running_task.id), progress)
