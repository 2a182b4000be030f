"""channels-redis's channel layer, with connection pools that wait for a free connection.

redis-py 8 caps an asyncio pool at 100 connections and fails the 101st command at once
(MaxConnectionsError). A crowd connecting or leaving together (a server restart, a closing
event) makes more concurrent group_add/group_discard calls than that, and they failed: the
benchmark in bench/idle_connections.py saw 669 of 2,000 closes fail that way. A blocking pool
makes them wait their turn instead, with the same bound on connections to Redis.
"""

import redis.asyncio as redis
from channels_redis import core


class RedisChannelLayer(core.RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        return redis.BlockingConnectionPool.from_url(host.pop("address"), **host)
