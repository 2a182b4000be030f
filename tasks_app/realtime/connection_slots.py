"""Each user's open connections (WebSocket and SSE), counted across every server process.

A connection holds a slot: a member of the user's sorted set in Redis, "<server process>|<connection
id>" (so that the monitoring page counts each process's), scored with the time its lease ends.
Open connections renew their lease; a server process that dies without releasing its slots frees
them when their leases end. One Lua script prunes, counts and adds, so two processes cannot both
take the last slot.
"""

import asyncio
import logging
import os
import socket
import weakref
from collections import Counter
from typing import cast

import redis.asyncio as redis
from redis.asyncio.sentinel import Sentinel

from django.conf import settings

logger = logging.getLogger(__name__)

# Connection ids of SSE streams start so; WebSocket ones are Channels' channel names.
SSE_PREFIX = "sse."

_TAKE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# A crowd connecting or leaving at once (a restart) waits its turn for one of these, with the same
# bound on connections to Redis; a plain pool fails every command past 100 at once.
POOL_CONNECTIONS = 50
POOL_WAIT_SECONDS = 20
# One client per event loop: a redis.asyncio connection belongs to the loop that opened it.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.Redis]" = weakref.WeakKeyDictionary()
# The slots this process holds (connection id: user id), released together when it stops.
_held: dict[str, int] = {}


def lease_seconds() -> int:
    """Long enough to outlast two renewals (one per TASKPULSE_AUTH_RECHECK_SECONDS)."""
    return int(2 * settings.TASKPULSE_AUTH_RECHECK_SECONDS) + 5


async def slot_take(*, user_id: int, connection_id: str) -> bool:
    """Take (or renew) a slot for the connection; False when the user already holds
    TASKPULSE_MAX_CONNECTIONS_PER_USER. If Redis cannot be reached the connection is let in:
    the limit guards against abuse, and must not turn a Redis hiccup into an outage."""
    limit = settings.TASKPULSE_MAX_CONNECTIONS_PER_USER
    if limit <= 0:
        return True
    try:
        taken = await _client().eval(_TAKE, 1, _key(user_id), _member(connection_id), limit, lease_seconds())
    except redis.RedisError:
        logger.warning("Could not count user %s's connections; letting this one in", user_id, exc_info=True)
        return True
    if taken:
        _held[connection_id] = user_id
    return bool(taken)


async def slot_release(*, user_id: int, connection_id: str) -> None:
    if _held.pop(connection_id, None) is None:
        return  # never taken here (no limit, or refused), or released already
    try:
        await _client().zrem(_key(user_id), _member(connection_id))
    except redis.RedisError:
        logger.warning("Could not release a connection slot of user %s; its lease will end", user_id)


async def slots_release_held() -> int:
    """Release every slot this process holds, in one round trip; returns how many.

    For a server that is stopping: its connections' own releases never run (the server stops
    their consumers once the sockets are closed), and slots left to their leases would count
    against the same users' reconnecting clients, refusing some of them with 4429 after every
    restart."""
    held = list(_held.items())
    _held.clear()
    if not held:
        return 0
    try:
        async with _client().pipeline(transaction=False) as pipe:
            for connection_id, user_id in held:
                pipe.zrem(_key(user_id), _member(connection_id))
            await pipe.execute()
    except redis.RedisError:
        logger.warning(
            "Could not release this process's %d connection slots; their leases will end", len(held)
        )
        return 0
    return len(held)


_KEY_PREFIX = "taskpulse:connections:"


def _key(user_id: int) -> str:
    return f"{_KEY_PREFIX}{user_id}"


def _member(connection_id: str) -> str:
    # "|" is in neither a channel name nor an SSE connection id.
    return f"{socket.gethostname()}:{os.getpid()}|{connection_id}"


def _client() -> redis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        if settings.REDIS_SENTINELS:
            # redis-py has no blocking pool for a Sentinel-managed master; its pool fails past the cap.
            client = Sentinel(settings.REDIS_SENTINELS).master_for(
                settings.REDIS_SENTINEL_MASTER,
                db=settings.REDIS_SENTINEL_DB,
                socket_timeout=5,
                max_connections=POOL_CONNECTIONS,
            )
        else:
            pool = redis.BlockingConnectionPool.from_url(
                settings.REDIS_URL,
                socket_timeout=5,
                max_connections=POOL_CONNECTIONS,
                timeout=POOL_WAIT_SECONDS,
            )
            client = redis.Redis(connection_pool=pool)
        _clients[loop] = client
    return client


async def slots_total() -> int | None:
    """Slots held now by every user: the connected clients. None when Redis cannot be reached."""
    by_transport = await slots_by_transport()
    return None if by_transport is None else sum(by_transport.values())


async def slots_by_transport() -> dict[str, int] | None:
    """Slots held now, as {"websocket": n, "sse": n}. None when Redis cannot be reached."""
    counted = await slots_by_process()
    if counted is None:
        return None
    totals = {"websocket": 0, "sse": 0}
    for by_transport in counted.values():
        for transport, count in by_transport.items():
            totals[transport] += count
    return totals


async def slots_by_process() -> dict[str, dict[str, int]] | None:
    """Slots held now by each server process ("host:pid"), as {"websocket": n, "sse": n}. None
    when Redis cannot be reached."""
    counts: Counter[tuple[str, str]] = Counter()
    try:
        client = _client()
        now, _ = await client.time()
        async for key in client.scan_iter(match=_KEY_PREFIX + "*"):
            # Without scores, the members alone (redis-py types every reply the same).
            members = cast(list[bytes], await client.zrangebyscore(key, f"({now}", "+inf"))
            for member in members:
                process, _bar, connection_id = member.decode().rpartition("|")
                transport = "sse" if connection_id.startswith(SSE_PREFIX) else "websocket"
                counts[(process or "unknown", transport)] += 1
    except redis.RedisError:
        logger.warning("Could not count the connected clients", exc_info=True)
        return None
    processes: dict[str, dict[str, int]] = {}
    for (process, transport), count in sorted(counts.items()):
        processes.setdefault(process, {"websocket": 0, "sse": 0})[transport] = count
    return processes
