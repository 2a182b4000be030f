"""channels-redis's two channel layers, each with one fix Taskpulse relies on.

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
"""

import asyncio
import itertools

import redis.asyncio as redis
from channels_redis import core, pubsub
from redis.utils import str_if_bytes

# How long a subscription may wait for Redis to confirm it; a lost connection fails the caller
# (a consumer's connect) instead of leaving it waiting for ever.
SUBSCRIBE_CONFIRM_SECONDS = 10


class RedisChannelLayer(core.RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        return redis.BlockingConnectionPool.from_url(host.pop("address"), **host)


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    def _get_layer(self):
        new = asyncio.get_running_loop() not in self._layers
        layer = super()._get_layer()
        if new:
            layer._shards = [ConfirmedSubscriptionShard(shard.host, layer) for shard in layer._shards]
        return layer


class ConfirmedSubscriptionShard(pubsub.RedisSingleShardConnection):
    """One Redis connection's subscriptions, each confirmed by a PING answered after it."""

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
