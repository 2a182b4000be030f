"""The multiplexed stream, /ws/stream/: one connection for all of a user's tasks."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tasks_app import services
from tasks_app.realtime import broadcast
from tests.contract import assert_server_message, assert_task_message
from tests.helpers import STREAM, TICKER, TIMEOUT, close_code, open_socket, open_stream

pytestmark = pytest.mark.django_db(transaction=True)


async def receive_until(socket, done) -> list[dict]:
    """Messages until `done(received)` holds: events published by another thread come through
    the channel layer, and a ping sent meanwhile may be answered before they arrive."""
    received = []
    while not done(received):
        received.append(await socket.receive_json_from(TIMEOUT))
    return received


def progress_seqs(received: list[dict], task) -> list[int]:
    return [m["seq"] for m in received if m.get("task_id") == str(task.id) and m["type"] == "progress"]


async def ping_through(socket) -> list[dict]:
    """Everything the server sent before it answers a ping."""
    await socket.send_json_to({"type": "ping"})
    received = []
    while (message := await socket.receive_json_from(TIMEOUT))["type"] != "pong":
        received.append(message)
    return received


def test_the_first_message_says_who_is_connected(user):
    async def scenario():
        socket = await open_socket(STREAM, user)
        message = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return message

    message = async_to_sync(scenario)()

    assert (message["status"], message["user"]) == ("connected", "alice")
    assert message["connection_id"]


def test_an_anonymous_stream_is_closed_with_4401():
    async def scenario():
        return await close_code(await open_socket(STREAM))

    assert async_to_sync(scenario)() == 4401


def test_a_subscription_is_answered_then_followed_to_complete(create_task, user):
    task = create_task("ticker", TICKER)

    async def scenario():
        socket = await open_stream(user)
        await socket.send_json_to({"type": "subscribe", "task_id": str(task.id)})
        answer = await socket.receive_json_from(TIMEOUT)
        snapshot = await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_start)(task_id=task.id)
        await database_sync_to_async(services.task_complete)(task_id=task.id, result={"ok": 1})
        live = [await socket.receive_json_from(TIMEOUT) for _ in range(2)]
        after = await ping_through(socket)
        await socket.disconnect()
        return answer, snapshot, live, after

    answer, snapshot, live, after = async_to_sync(scenario)()

    assert (answer["type"], answer["status"], answer["recovered"]) == ("subscription", "subscribed", True)
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", 1)
    assert [(message["type"], message["seq"]) for message in live] == [("progress", 2), ("complete", 3)]
    for message in (snapshot, *live):
        assert_task_message(message)
    assert after == [], "the stream stays open after a task completes"


def subscribe_and_read(user, task_id, last_seq: int) -> list[dict]:
    """What a new stream gets for one subscribe with `last_seq`, up to a ping's answer."""

    async def scenario():
        socket = await open_stream(user)
        await socket.send_json_to({"type": "subscribe", "task_id": str(task_id), "last_seq": last_seq})
        received = await ping_through(socket)
        await socket.disconnect()
        return received

    return async_to_sync(scenario)()


def test_subscribing_with_last_seq_replays_what_was_missed(create_task, user):
    task = create_task("ticker", TICKER)
    services.task_start(task_id=task.id)

    received = subscribe_and_read(user, task.id, last_seq=1)

    assert [(message["type"], message.get("seq")) for message in received] == [
        ("subscription", None),
        ("progress", 2),
    ]


def test_a_subscription_history_cannot_serve_says_it_did_not_recover(create_task, user):
    task = create_task("ticker", TICKER)

    answer, snapshot = subscribe_and_read(user, task.id, last_seq=50)

    assert (answer["recovered"], snapshot["type"], snapshot["recovered"]) == (False, "snapshot", False)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "subscribe"}, "invalid_message"),
        ({"type": "subscribe", "task_id": "00000000-0000-0000-0000-000000000000"}, "not_found"),
        ({"type": "get_status", "task_id": "not-a-uuid"}, "not_found"),
    ],
)
def test_a_bad_subscription_gets_an_error_and_the_stream_stays_open(user, message, code):
    async def scenario():
        socket = await open_stream(user)
        await socket.send_json_to(message)
        received = await ping_through(socket)
        await socket.disconnect()
        return received

    (error,) = async_to_sync(scenario)()

    assert (error["type"], error["code"]) == ("error", code)


def test_another_users_task_cannot_be_subscribed_to(create_task, user, other_user):
    task = create_task("ticker", TICKER, owner=other_user)

    async def scenario():
        socket = await open_stream(user)
        await socket.send_json_to({"type": "subscribe", "task_id": str(task.id)})
        received = await ping_through(socket)
        await socket.disconnect()
        return received

    (error,) = async_to_sync(scenario)()

    assert error["code"] == "not_found"


def test_subscriptions_per_connection_are_limited(create_task, user, settings):
    settings.TASKPULSE_STREAM_MAX_SUBSCRIPTIONS = 1
    first, second = create_task("ticker", TICKER), create_task("ticker", TICKER)

    async def scenario():
        socket = await open_stream(user)
        await ping_through(socket)  # the two creations above may arrive first; they predate the socket
        await socket.send_json_to({"type": "subscribe", "task_id": str(first.id)})
        await socket.send_json_to({"type": "subscribe", "task_id": str(second.id)})
        received = await ping_through(socket)
        await socket.disconnect()
        return received

    received = async_to_sync(scenario)()

    assert [message["type"] for message in received] == ["subscription", "snapshot", "error"]
    assert received[-1]["code"] == "too_many_subscriptions"


def test_after_unsubscribing_no_more_events_arrive(create_task, user):
    task = create_task("ticker", TICKER)

    async def scenario():
        socket = await open_stream(user)
        await socket.send_json_to({"type": "subscribe", "task_id": str(task.id)})
        await ping_through(socket)
        await socket.send_json_to({"type": "unsubscribe", "task_id": str(task.id)})
        answer = (await ping_through(socket))[0]
        await database_sync_to_async(services.task_start)(task_id=task.id)
        after = await ping_through(socket)
        await socket.disconnect()
        return answer, after

    answer, after = async_to_sync(scenario)()

    assert (answer["type"], answer["status"]) == ("subscription", "unsubscribed")
    assert after == []


def test_a_task_the_user_creates_while_connected_arrives_unasked(create_task, user):
    async def scenario():
        socket = await open_stream(user)
        task = await database_sync_to_async(create_task)("ticker", TICKER)
        first = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return task, first

    task, first = async_to_sync(scenario)()

    assert (first["type"], first["task_id"], first["seq"], first["status"]) == (
        "progress",
        str(task.id),
        1,
        "pending",
    )


def test_two_tasks_share_one_stream_each_in_seq_order(create_task, user):
    one, two = create_task("ticker", TICKER), create_task("ticker", TICKER)

    async def scenario():
        socket = await open_stream(user)
        for task in (one, two):
            await socket.send_json_to({"type": "subscribe", "task_id": str(task.id), "last_seq": 0})
        for task in (one, two, one, two):
            await database_sync_to_async(services.task_start)(task_id=task.id)
        received = await receive_until(
            socket, lambda got: all(3 in progress_seqs(got, t) for t in (one, two))
        )
        received += await ping_through(socket)
        await socket.disconnect()
        return received

    received = async_to_sync(scenario)()

    for task in (one, two):
        assert progress_seqs(received, task) == [1, 2, 3]


def test_subscribing_to_a_task_already_followed_sends_nothing_twice(create_task, user):
    async def scenario():
        socket = await open_stream(user)
        task = await database_sync_to_async(create_task)("ticker", TICKER)
        await database_sync_to_async(services.task_start)(task_id=task.id)
        first = await receive_until(socket, lambda got: 2 in progress_seqs(got, task))
        first += await ping_through(socket)
        await socket.send_json_to({"type": "subscribe", "task_id": str(task.id), "last_seq": 1})
        second = await ping_through(socket)
        await socket.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()

    assert [message["seq"] for message in first if message["type"] == "progress"] == [1, 2]
    assert [message["type"] for message in second] == ["subscription"]


@pytest.fixture
def rate_limit(settings):
    """A bucket that does not refill within a test: the burst is all a client gets."""

    def set_limit(*, burst: int, flood_strikes: int = 100) -> None:
        settings.TASKPULSE_WS_MESSAGES_PER_SECOND = 0.01
        settings.TASKPULSE_WS_MESSAGE_BURST = burst
        settings.TASKPULSE_WS_FLOOD_STRIKES = flood_strikes

    return set_limit


async def send_pings(socket, count: int) -> None:
    for _ in range(count):
        await socket.send_json_to({"type": "ping"})


def test_messages_over_the_rate_are_dropped_with_a_rate_limited_error(user, rate_limit):
    rate_limit(burst=3)

    async def scenario():
        socket = await open_stream(user)
        await send_pings(socket, 5)
        answers = [await socket.receive_json_from(TIMEOUT) for _ in range(5)]
        await socket.disconnect()
        return answers

    answers = async_to_sync(scenario)()

    for answer in answers:
        assert_server_message(answer)
    assert [answer["type"] for answer in answers] == ["pong"] * 3 + ["error"] * 2
    assert answers[-1]["code"] == "rate_limited"
    assert answers[-1]["details"]["retry_after"] > 0


def test_a_connection_that_keeps_flooding_is_closed_with_4429(user, rate_limit):
    rate_limit(burst=1, flood_strikes=3)

    async def scenario():
        socket = await open_stream(user)
        await send_pings(socket, 10)
        answers = []
        while (output := await socket.receive_output(TIMEOUT))["type"] == "websocket.send":
            answers.append(json.loads(output["text"])["type"])
        return answers, output["code"]

    assert async_to_sync(scenario)() == (["pong", "error", "error", "error"], 4429)


def test_after_the_channel_layer_says_its_redis_came_back_the_stream_reads_what_it_missed(
    create_task, user, monkeypatch
):
    task = create_task("ticker", TICKER)
    monkeypatch.setattr(broadcast, "publish_task_event", lambda task_id, message: None)  # Redis away

    async def scenario():
        socket = await open_socket(STREAM, user)
        connection_id = (await socket.receive_json_from(TIMEOUT))["connection_id"]  # its channel
        await socket.send_json_to({"type": "subscribe", "task_id": str(task.id)})
        await socket.receive_json_from(TIMEOUT)  # subscription
        await socket.receive_json_from(TIMEOUT)  # snapshot, seq 1
        await database_sync_to_async(services.task_start)(task_id=task.id)
        await database_sync_to_async(services.task_complete)(task_id=task.id, result=None)
        nothing_yet = await socket.receive_nothing(0.3)
        await get_channel_layer().send(connection_id, {"type": broadcast.RESYNC_HANDLER})
        missed = [await socket.receive_json_from(TIMEOUT) for _ in range(2)]
        await socket.disconnect()
        return nothing_yet, missed

    nothing_yet, missed = async_to_sync(scenario)()

    assert nothing_yet
    assert [(message["type"], message["seq"]) for message in missed] == [("progress", 2), ("complete", 3)]
