"""channels-redis's two channel layers, each with the fixes Taskpulse relies on.

Written against channels-redis 4.3.0 and redis 8.1.0 (pinned in requirements.txt; the internals
used are checked by tests/test_upstream_contracts.py). No upstream issue covers either fix; both
are written up in docs/upstream.md, which says when to delete each.

RedisChannelLayer (core): redis-py 8 caps an asyncio pool at 100 connections and fails the 101st
command at once (MaxConnectionsError). A crowd connecting or leaving together (a server restart,
a closing event) makes more concurrent group_add/group_discard calls than that, and they failed.
A blocking pool makes them wait their turn instead, with the same bound on connections to Redis.
Sentinel hosts (`master_name` and `sentinels`) keep channels-redis's own Sentinel pool, which
redis-py has no blocking form of.

RedisPubSubChannelLayer (pubsub): channels-redis's group_add returns once SUBSCRIBE is written
to the socket, not once Redis has acted on it, and Redis drops what is published to a channel
before then. A consumer joins its task's group and then reads the task's history; an event
published in between was in neither. This layer's group_add (and new_channel) return only when
Redis has answered a PING sent after the SUBSCRIBE on the same connection, which it does in order.

Its channels get a ChannelQueue: channels-redis gives each an asyncio.Queue, which allocates three
deques and an Event, about 3 KB held by each open socket for its life; the layer uses only its
`put_nowait` and `get`.

Both: `close_channel`, which gives back a channel its consumer is done with. channels-redis
drops a channel only when a receive waiting on it is cancelled (channels_redis issue 384), and
Channels' consumers do not always leave one waiting: a consumer whose last receive had just
returned when its socket closed, or whose `new_channel` was interrupted, kept its channel (and,
on pub/sub, its Redis subscription and every message sent to it) for the process's life. The
soak found it: about 0.5 KB of server memory per follow (docs/performance.md).
"""

import asyncio
import itertools
import logging
import uuid

import redis.asyncio as redis
from channels_redis import core, pubsub
from redis.utils import str_if_bytes

from tasks_app.realtime import broadcast

# How long a subscription may wait for Redis to confirm it; a lost connection fails the caller
# (a consumer's connect) instead of leaving it waiting for ever.
SUBSCRIBE_CONFIRM_SECONDS = 10
# How long the receiving loop waits before it tries a lost connection again.
RECONNECT_SECONDS = 1

logger = logging.getLogger(__name__)


class RedisChannelLayer(core.RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        return redis.BlockingConnectionPool.from_url(host.pop("address"), **host)

    async def close_channel(self, channel: str) -> None:
        """Drop what was buffered for the channel. A message that reaches the process later is
        still kept (channels_redis issue 384); group_discard first makes that rare."""
        self.receive_buffer.pop(channel, None)


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    def _get_layer(self):
        new = asyncio.get_running_loop() not in self._layers
        layer = super()._get_layer()
        if new:
            layer._shards = [ConfirmedSubscriptionShard(shard.host, layer) for shard in layer._shards]
        return layer

    async def new_channel(self, prefix: str = "specific.") -> str:
        layer = self._get_layer()
        channel = f"{layer.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            layer.channels[channel] = ChannelQueue()
            await layer._get_shard(channel).subscribe(channel)
        except BaseException:
            # A consumer interrupted here never receives on the channel, so nothing else drops it.
            await self.close_channel(channel)
            raise
        return channel

    async def close_channel(self, channel: str) -> None:
        """Forget the channel and what is queued for it, and unsubscribe from it."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)


class ChannelQueue:
    """What channels-redis's pub/sub layer uses of the asyncio.Queue it gives each channel
    (`put_nowait`, `get`), without the three deques and the Event an asyncio.Queue allocates:
    3 KB less for each open socket, which holds one for its life (docs/performance.md)."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list = []
        self._waiters: list[asyncio.Future] = []

    def put_nowait(self, item) -> None:
        self._items.append(item)
        self._wake_one()

    async def get(self):
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif self._items:
                    self._wake_one()  # woken, then cancelled: the item is another getter's
                raise
        return self._items.pop(0)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return


class ConfirmedSubscriptionShard(pubsub.RedisSingleShardConnection):
    """One Redis connection's subscriptions, each confirmed by a PING answered after it; and once
    the connection comes back after a loss (redis-py subscribes again by itself), a resync
    message to every channel of the process, since what Redis was sent meanwhile is gone."""

    _tokens = itertools.count()

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._unconfirmed_channels: dict[str, asyncio.Future] = {}
        self._unanswered_pings: dict[str, tuple[str, asyncio.Future]] = {}

    async def subscribe(self, channel):
        async with self._lock:
            confirmed = self._unconfirmed_channels.get(channel)
            if channel not in self._subscribed_to:
                self._ensure_redis()
                self._ensure_receiver()
                await self._pubsub.subscribe(channel)
                self._subscribed_to.add(channel)
                confirmed = asyncio.get_running_loop().create_future()
                token = f"taskpulse-subscribed-{next(self._tokens)}"
                self._unconfirmed_channels[channel] = confirmed
                self._unanswered_pings[token] = (channel, confirmed)
                await self._pubsub.ping(token)
        if confirmed is not None:
            # Shielded: one caller giving up must not cancel the wait of others on this channel.
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_CONFIRM_SECONDS)

    async def _do_receiving(self):
        lost = False
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    if lost:
                        lost = False
                        self._tell_every_channel_to_resync()
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except Exception:
                lost = True
                logger.warning("Lost the pub/sub connection to Redis; retrying", exc_info=True)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _tell_every_channel_to_resync(self):
        logger.warning("Pub/sub connection to Redis is back; every channel re-reads what it missed")
        resync = self.channel_layer.channel_layer.serialize({"type": broadcast.RESYNC_HANDLER})
        for queue in list(self.channel_layer.channels.values()):
            queue.put_nowait(resync)

    def _receive_message(self, message):
        if message is not None and message["type"] == "pong":
            channel, confirmed = self._unanswered_pings.pop(str_if_bytes(message["data"]), (None, None))
            if channel is not None and confirmed is not None:
                if self._unconfirmed_channels.get(channel) is confirmed:
                    del self._unconfirmed_channels[channel]
                confirmed.set_result(None)
            return
        super()._receive_message(message)

    async def flush(self):
        await super().flush()
        for _, confirmed in self._unanswered_pings.values():
            confirmed.cancel()
        self._unanswered_pings.clear()
        self._unconfirmed_channels.clear()
