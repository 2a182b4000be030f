"""The channel layers: the core one under a crowd (more concurrent commands than its pool has
connections), the pub/sub one subscribed before it says so, and both giving back a channel."""

import asyncio
import uuid
from urllib.parse import urlsplit

import redis
from asgiref.sync import async_to_sync
from redis import exceptions as redis_exceptions
from redis.asyncio.sentinel import SentinelConnectionPool

from django.conf import settings

from tasks_app.realtime import broadcast, redis_layers
from tasks_app.realtime.redis_layers import RedisChannelLayer, RedisPubSubChannelLayer

CROWD = 500  # five times the pool's connections


def test_a_crowd_joining_and_leaving_at_once_waits_for_connections_instead_of_failing():
    layer = RedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "socket_timeout": None, "max_connections": 100}]
    )
    group = broadcast.task_group("00000000-0000-4000-8000-00000000c0de")

    async def crowd():
        channels = [f"{group}-member-{n}" for n in range(CROWD)]
        await asyncio.gather(*(layer.group_add(group, channel) for channel in channels))
        await asyncio.gather(*(layer.group_discard(group, channel) for channel in channels))

    async_to_sync(crowd)()  # redis-py's default pool fails this with MaxConnectionsError


def test_a_pub_sub_group_add_returns_only_once_redis_has_subscribed():
    # The subscriber reaches Redis through a link that delays what it sends; the publisher does not.
    group = f"subscribed-{uuid.uuid4().hex}"

    async def scenario():
        link = await _slow_link_to_redis(delay=0.3)
        port = link.sockets[0].getsockname()[1]
        subscriber = RedisPubSubChannelLayer(
            hosts=[{"address": f"redis://127.0.0.1:{port}", "socket_timeout": None}]
        )
        publisher = RedisPubSubChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}])
        try:
            channel = await subscriber.new_channel()
            await subscriber.group_add(group, channel)
            await publisher.group_send(group, {"type": "task.event", "seq": 1})
            return await asyncio.wait_for(subscriber.receive(channel), timeout=5)
        finally:
            await subscriber.flush()
            await publisher.flush()
            link.close()

    assert async_to_sync(scenario)() == {"type": "task.event", "seq": 1}


async def _slow_link_to_redis(delay: float) -> asyncio.Server:
    redis_address = urlsplit(settings.REDIS_URL)

    async def forward(source, sink, pause):
        while data := await source.read(65536):
            await asyncio.sleep(pause)
            sink.write(data)
            await sink.drain()
        sink.close()

    async def connect(client_reader, client_writer):
        redis_reader, redis_writer = await asyncio.open_connection(redis_address.hostname, redis_address.port)
        await asyncio.gather(
            forward(client_reader, redis_writer, delay),
            forward(redis_reader, client_writer, 0),
            return_exceptions=True,
        )

    return await asyncio.start_server(connect, "127.0.0.1", 0)


def test_sentinel_hosts_get_a_pool_that_asks_the_sentinels_for_the_master():
    layer = RedisChannelLayer(
        hosts=[{"master_name": "taskpulse", "sentinels": [("127.0.0.1", 26379)], "socket_timeout": None}]
    )

    pool = layer.create_pool(0)

    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "taskpulse"
    assert pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs["port"] == 26379


class PubSubThatLosesItsConnectionOnce:
    """Stands in for redis-py's PubSub: its first read fails as a crashed Redis makes it fail."""

    subscribed = True

    def __init__(self) -> None:
        self.reads = 0

    async def get_message(self, *, timeout: float, **kwargs):
        await asyncio.sleep(timeout)
        self.reads += 1
        if self.reads == 1:
            raise redis_exceptions.ConnectionError("Connection closed by server.")
        return None


def test_once_its_lost_connection_is_back_the_pubsub_layer_tells_every_channel_to_resync(monkeypatch):
    monkeypatch.setattr(redis_layers, "RECONNECT_SECONDS", 0)
    layer = RedisPubSubChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}])

    async def scenario():
        channel = await layer.new_channel()
        shard = layer._get_layer()._shards[0]
        shard._pubsub = PubSubThatLosesItsConnectionOnce()
        try:
            return await asyncio.wait_for(layer.receive(channel), 5)
        finally:
            await layer.flush()

    assert async_to_sync(scenario)() == {"type": broadcast.RESYNC_HANDLER}


def _subscribers(channel: str) -> int:
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        return dict(client.pubsub_numsub(channel))[channel.encode()]


def test_a_closed_pub_sub_channel_is_forgotten_with_what_was_queued_and_unsubscribed():
    layer = RedisPubSubChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}])

    async def scenario():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "task.event", "seq": 1})  # arrives, never received
        await asyncio.sleep(0.2)
        subscribed = await asyncio.to_thread(_subscribers, channel)
        await layer.close_channel(channel)
        try:
            kept = channel in layer._get_layer().channels
            return subscribed, kept, await asyncio.to_thread(_subscribers, channel)
        finally:
            await layer.flush()

    assert async_to_sync(scenario)() == (1, False, 0)


def test_a_new_pub_sub_channel_interrupted_while_subscribing_is_not_kept():
    async def scenario():
        link = await _slow_link_to_redis(delay=0.3)
        port = link.sockets[0].getsockname()[1]
        address = f"redis://127.0.0.1:{port}"
        layer = RedisPubSubChannelLayer(hosts=[{"address": address, "socket_timeout": None}])
        try:
            subscribing = asyncio.ensure_future(layer.new_channel())
            await asyncio.sleep(0.1)  # the SUBSCRIBE is on its way, not yet confirmed
            subscribing.cancel()
            await asyncio.gather(subscribing, return_exceptions=True)
            return dict(layer._get_layer().channels)
        finally:
            await layer.flush()
            link.close()

    assert async_to_sync(scenario)() == {}


def test_a_closed_core_channel_drops_what_was_buffered_for_it():
    layer = RedisChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}])

    async def scenario():
        receiver, other = await layer.new_channel(), await layer.new_channel()
        await layer.send(other, {"type": "task.event", "seq": 1})
        await layer.send(receiver, {"type": "task.event", "seq": 2})
        received = await asyncio.wait_for(layer.receive(receiver), 5)  # buffers other's message
        buffered = other in layer.receive_buffer
        await layer.close_channel(other)
        try:
            return received["seq"], buffered, other in layer.receive_buffer
        finally:
            await layer.flush()

    assert async_to_sync(scenario)() == (2, True, False)


def test_a_channel_queue_gives_its_messages_in_order_to_a_getter_that_waited():
    async def scenario():
        queue = redis_layers.ChannelQueue()
        waiting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait("first")
        queue.put_nowait("second")
        return await waiting, await queue.get()

    assert async_to_sync(scenario)() == ("first", "second")


def test_a_channel_queue_getter_cancelled_after_its_wake_up_passes_the_message_on():
    async def scenario():
        queue = redis_layers.ChannelQueue()
        cancelled = asyncio.ensure_future(queue.get())
        other = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait("message")  # wakes the first getter, which is cancelled before it runs
        cancelled.cancel()
        return await asyncio.wait_for(other, 1), cancelled.cancelled()

    assert async_to_sync(scenario)() == ("message", True)


def test_a_cancelled_channel_queue_getter_is_not_woken_again():
    async def scenario():
        queue = redis_layers.ChannelQueue()
        cancelled = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        queue.put_nowait("message")
        return queue._waiters, await queue.get()

    assert async_to_sync(scenario)() == ([], "message")


def test_a_new_pub_sub_channel_gets_the_lighter_queue():
    layer = RedisPubSubChannelLayer(hosts=[{"address": settings.REDIS_URL, "socket_timeout": None}])

    async def scenario():
        channel = await layer.new_channel()
        kind = type(layer._get_layer().channels[channel])
        await layer.close_channel(channel)
        await layer.flush()
        return kind

    assert async_to_sync(scenario)() is redis_layers.ChannelQueue
