"""Publishing to the channel layer from sync code: what arrives, and the Redis connections it
takes; and listening on a channel of one's own."""

import asyncio
import queue
import threading
import uuid
from contextlib import contextmanager

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from django.conf import settings

from tasks_app.realtime import broadcast

TIMEOUT = 5


@contextmanager
def listening(task_id):
    """Messages published to the task's group, received on a loop of a thread of their own."""
    received: queue.Queue = queue.Queue()
    joined, done = threading.Event(), threading.Event()

    async def listen():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(broadcast.task_group(task_id), channel)
        joined.set()
        while not done.is_set():
            try:
                received.put(await asyncio.wait_for(layer.receive(channel), 0.2))
            except TimeoutError:
                continue
        await layer.group_discard(broadcast.task_group(task_id), channel)

    thread = threading.Thread(target=asyncio.run, args=(listen(),))
    thread.start()
    assert joined.wait(TIMEOUT)
    try:
        yield received
    finally:
        done.set()
        thread.join(TIMEOUT)


def seqs(received: queue.Queue, count: int) -> list[int]:
    return [received.get(timeout=TIMEOUT)["message"]["seq"] for _ in range(count)]


def connections_opened_by(publishing) -> int:
    client = redis.Redis.from_url(settings.REDIS_URL)
    before = client.info("stats")["total_connections_received"]
    publishing()
    return client.info("stats")["total_connections_received"] - before


def test_a_worker_thread_publishes_every_event_over_one_redis_connection():
    task_id = uuid.uuid4()
    broadcast.publish_task_event(task_id, {"seq": 0})  # the first publish may open it
    with listening(task_id) as received:
        opened = connections_opened_by(
            lambda: [broadcast.publish_task_event(task_id, {"seq": seq}) for seq in range(1, 21)]
        )
        assert seqs(received, 20) == list(range(1, 21))
    assert opened == 0


def test_short_lived_threads_hand_their_publishes_to_one_shared_loop():
    task_id = uuid.uuid4()
    warm_up = threading.Thread(target=broadcast.publish_task_event, args=(task_id, {"seq": 0}))
    warm_up.start()
    warm_up.join()

    def publish_from_new_threads():
        for seq in range(1, 11):
            thread = threading.Thread(target=broadcast.publish_task_event, args=(task_id, {"seq": seq}))
            thread.start()
            thread.join()

    with listening(task_id) as received:
        opened = connections_opened_by(publish_from_new_threads)
        assert seqs(received, 10) == list(range(1, 11))
    assert opened == 0


def test_sync_code_called_inside_a_running_loop_can_still_publish():
    task_id = uuid.uuid4()

    async def publish_from_sync_code_in_a_loop():
        broadcast.publish_task_event(task_id, {"seq": 1})

    with listening(task_id) as received:
        asyncio.run(publish_from_sync_code_in_a_loop())
        assert seqs(received, 1) == [1]


def test_a_listener_closed_after_its_last_message_gives_back_its_channel():
    """An SSE stream ends right after the task's complete: no receive is left waiting, which is
    the only way channels-redis drops a channel by itself."""
    group = broadcast.task_group(uuid.uuid4())

    async def scenario():
        listener = broadcast.Listener(group)
        await listener.open()
        await get_channel_layer().group_send(group, {"type": broadcast.TASK_EVENT_HANDLER, "message": {}})
        received = await listener.next(TIMEOUT)
        await listener.close()
        return received["type"], listener.channel in get_channel_layer()._get_layer().channels

    assert async_to_sync(scenario)() == (broadcast.TASK_EVENT_HANDLER, False)
