"""The core channel layer (CHANNEL_LAYER_KIND=core) under a crowd: more concurrent commands than
its pool has connections."""

import asyncio

from asgiref.sync import async_to_sync

from django.conf import settings

from tasks_app import broadcast
from tasks_app.channel_layer import RedisChannelLayer

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
