"""The task socket, /ws/tasks/<task_id>/, through the real ASGI stack (origin check, session
auth, Redis channel layer), driven by Channels' WebsocketCommunicator."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels import consumer as consumer_module
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tasks_app import services
from tasks_app.models import Task
from tasks_app.realtime import broadcast, messages
from tests.contract import assert_task_message
from tests.helpers import TICKER, TIMEOUT, close_code, open_socket, run_kind

pytestmark = pytest.mark.django_db(transaction=True)


def path_of(task_id) -> str:
    return f"/ws/tasks/{task_id}/"


@pytest.fixture
def task(create_task):
    return create_task("ticker", TICKER)


def test_the_owner_gets_a_snapshot_then_progress_then_complete_then_close_1000(task, user):
    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        snapshot = await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_start)(task_id=task.id)
        started = await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_progress)(
            task_id=task.id, progress=50.0, current=1, total=2, message="Tick 1 of 2"
        )
        progress = await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_complete)(task_id=task.id, result={"steps": 2})
        complete = await socket.receive_json_from(TIMEOUT)
        return snapshot, started, progress, complete, await close_code(socket)

    snapshot, started, progress, complete, code = async_to_sync(scenario)()

    assert (snapshot["type"], snapshot["status"], snapshot["seq"]) == ("snapshot", "pending", 1)
    assert (started["type"], started["status"], started["seq"]) == ("progress", "running", 2)
    assert (progress["progress"], progress["current"], progress["total"], progress["seq"]) == (50.0, 1, 2, 3)
    assert (complete["type"], complete["status"], complete["result"], complete["seq"]) == (
        "complete",
        "completed",
        {"steps": 2},
        4,
    )
    assert code == 1000


def test_an_anonymous_client_is_closed_with_4401(task):
    async def scenario():
        return await close_code(await open_socket(path_of(task.id)))

    assert async_to_sync(scenario)() == 4401


@pytest.mark.parametrize("whose", ["another user's", "a missing", "a malformed"])
def test_a_task_the_user_may_not_see_is_closed_with_4404_whatever_the_reason(task, other_user, whose):
    target = {"another user's": task.id, "a missing": uuid.uuid4(), "a malformed": "not-a-uuid"}[whose]
    viewer = other_user if whose == "another user's" else task.owner

    async def scenario():
        return await close_code(await open_socket(path_of(target), viewer))

    assert async_to_sync(scenario)() == 4404


def test_staff_may_watch_any_task(task, staff_user):
    async def scenario():
        socket = await open_socket(path_of(task.id), staff_user)
        message = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return message

    assert async_to_sync(scenario)()["type"] == "snapshot"


def test_bad_json_gets_an_error_and_the_connection_stays_open(task, user):
    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        await socket.send_to(text_data="{not json")
        error = await socket.receive_json_from(TIMEOUT)
        await socket.send_json_to({"type": "ping"})
        pong = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return error, pong

    error, pong = async_to_sync(scenario)()

    assert (error["type"], error["code"]) == ("error", "invalid_json")
    assert pong["type"] == "pong"


@pytest.mark.parametrize(
    ("sent", "expected_type", "expected_code"),
    [
        ({"action": "ping"}, "pong", None),
        ({"type": "echo", "data": {"n": 1}}, "echo", None),
        ({"type": "get_status"}, "snapshot", None),
        ([1, 2], "error", "invalid_message"),
        ({"data": 1}, "error", "invalid_message"),
        ({"type": "launch"}, "error", "unknown_type"),
    ],
)
def test_client_messages_get_the_answer_the_contract_names(task, user, sent, expected_type, expected_code):
    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        await socket.send_json_to(sent)
        answer = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return answer

    answer = async_to_sync(scenario)()

    assert answer["type"] == expected_type
    assert answer.get("code") == expected_code
    if expected_type == "echo":
        assert answer["data"] == {"n": 1}


def test_a_client_resuming_with_last_seq_gets_exactly_the_events_it_missed(task, user):
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=50.0, current=1, total=2, message="half")

    async def scenario():
        socket = await open_socket(f"{path_of(task.id)}?last_seq=1", user)
        replayed = [await socket.receive_json_from(TIMEOUT), await socket.receive_json_from(TIMEOUT)]
        await database_sync_to_async(services.task_complete)(task_id=task.id, result=None)
        live = await socket.receive_json_from(TIMEOUT)
        return replayed, live

    replayed, live = async_to_sync(scenario)()

    assert [(message["type"], message["seq"]) for message in replayed] == [("progress", 2), ("progress", 3)]
    assert (live["type"], live["seq"]) == ("complete", 4)


@pytest.mark.parametrize("last_seq", ["99", "-1", "three"])
def test_a_resume_history_cannot_serve_gets_a_snapshot_that_says_so(task, user, last_seq):
    async def scenario():
        socket = await open_socket(f"{path_of(task.id)}?last_seq={last_seq}", user)
        message = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return message

    message = async_to_sync(scenario)()

    assert (message["type"], message["recovered"], message["seq"]) == ("snapshot", False, 1)


def test_a_finished_task_sends_its_snapshot_with_the_result_and_closes_1000(task, user):
    services.task_start(task_id=task.id)
    services.task_complete(task_id=task.id, result={"steps": 2})

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        return await socket.receive_json_from(TIMEOUT), await close_code(socket)

    snapshot, code = async_to_sync(scenario)()

    assert (snapshot["status"], snapshot["result"], code) == ("completed", {"steps": 2}, 1000)


def test_an_event_already_sent_is_not_sent_again(task, user):
    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        stale = await database_sync_to_async(lambda: messages.snapshot(Task.objects.get(pk=task.id)))()
        await database_sync_to_async(broadcast.publish_task_event)(task.id, {**stale, "type": "progress"})
        await socket.send_json_to({"type": "ping"})
        next_message = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return next_message

    assert async_to_sync(scenario)()["type"] == "pong"


def test_a_client_that_reads_only_progress_status_and_message_works_unchanged(create_task, user):
    """The seed documents' client: read progress, status, message; stop on type == "complete"."""
    task = create_task("ticker", TICKER)
    received = []

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        first = await socket.receive_json_from(TIMEOUT)
        received.append(first)
        seen = [(first["progress"], first["status"], first["message"])]
        await database_sync_to_async(_run_ticker)(task.id)
        while True:
            data = await socket.receive_json_from(TIMEOUT)
            received.append(data)
            seen.append((data["progress"], data["status"], data["message"]))
            if data["type"] == "complete":
                return seen

    seen = async_to_sync(scenario)()

    for message in received:
        assert_task_message(message)
    assert seen[-1] == (100.0, "completed", "Done")
    assert [progress for progress, _, _ in seen] == sorted(progress for progress, _, _ in seen)


def _run_ticker(task_id) -> None:
    run_kind(Task.objects.get(pk=task_id))


def test_an_idle_socket_gets_a_heartbeat_ping(task, user, settings):
    settings.TASKPULSE_HEARTBEAT_SECONDS = 0.3

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        heartbeat = await socket.receive_json_from(TIMEOUT)
        await socket.send_json_to({"type": "pong"})
        await socket.send_json_to({"type": "echo", "data": "still here"})
        answers = [await socket.receive_json_from(TIMEOUT) for _ in range(2)]
        await socket.disconnect()
        return heartbeat, answers

    heartbeat, answers = async_to_sync(scenario)()

    assert heartbeat["type"] == "ping"
    assert "echo" in [answer["type"] for answer in answers], "a pong is taken without an error"
    assert "error" not in [answer["type"] for answer in answers]


def test_an_event_the_channel_layer_dropped_is_filled_in_from_history(task, user, monkeypatch):
    publish = broadcast.publish_task_event

    def lose_seq_2(task_id, message):
        if message["seq"] != 2:  # as a full channel drops a message
            publish(task_id, message)

    monkeypatch.setattr(broadcast, "publish_task_event", lose_seq_2)

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_start)(task_id=task.id)
        await database_sync_to_async(services.task_complete)(task_id=task.id, result=None)
        return [await socket.receive_json_from(TIMEOUT) for _ in range(2)]

    received = async_to_sync(scenario)()

    assert [(message["type"], message["seq"]) for message in received] == [("progress", 2), ("complete", 3)]


def test_a_published_event_reaches_the_socket_without_a_thread_hop(task, user, monkeypatch):
    hops = []
    real_close_old_connections = consumer_module.aclose_old_connections

    async def counted():
        hops.append(True)
        await real_close_old_connections()

    monkeypatch.setattr(consumer_module, "aclose_old_connections", counted)

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)
        await database_sync_to_async(services.task_start)(task_id=task.id)
        received = await socket.receive_json_from(TIMEOUT)
        await socket.disconnect()
        return received

    assert async_to_sync(scenario)()["status"] == "running"
    assert hops == []


def test_a_socket_closing_just_as_an_event_arrives_gives_back_its_channel(task, user):
    """The event and the close are both ready when the consumer next runs: Channels handles the
    close and stops, with no receive left waiting on the channel to cancel."""
    layer = get_channel_layer()

    async def scenario():
        socket = await open_socket(path_of(task.id), user)
        await socket.receive_json_from(TIMEOUT)  # the snapshot
        pubsub = layer._get_layer()
        (channel,) = pubsub.groups[pubsub._get_group_channel_name(broadcast.task_group(task.id))]
        event = {"type": broadcast.TASK_EVENT_HANDLER, "message": {"task_id": str(task.id), "seq": 2}}
        pubsub.channels[channel].put_nowait(layer.serialize(event))
        socket.input_queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
        await socket.wait(TIMEOUT)
        return channel in pubsub.channels, pubsub.groups

    kept, groups = async_to_sync(scenario)()

    assert not kept
    assert broadcast.task_group(task.id) not in str(groups)
