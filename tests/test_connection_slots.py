"""Each user's open connections, counted in Redis across server processes."""

import asyncio
import os
import socket
import time

import pytest
import redis
from asgiref.sync import async_to_sync

from django.conf import settings

from tasks_app.realtime import connection_slots

# How this process's slots are named in Redis: "<host>:<pid>|<connection id>".
THIS_PROCESS = f"{socket.gethostname()}:{os.getpid()}".encode()


@pytest.fixture(autouse=True)
def limit_of_two(settings):
    settings.TASKPULSE_MAX_CONNECTIONS_PER_USER = 2


def take(connection_id: str, user_id: int = 1) -> bool:
    return async_to_sync(connection_slots.slot_take)(user_id=user_id, connection_id=connection_id)


def test_a_user_gets_up_to_the_limit_and_no_more():
    assert [take("a"), take("b"), take("c")] == [True, True, False]


def test_a_released_slot_can_be_taken_again():
    take("a")
    take("b")

    async_to_sync(connection_slots.slot_release)(user_id=1, connection_id="a")

    assert take("c") is True


def test_renewing_a_held_slot_is_not_a_second_connection():
    take("a")
    take("b")

    assert take("a") is True


def test_users_are_counted_apart():
    take("a", user_id=1)
    take("b", user_id=1)

    assert take("c", user_id=2) is True


def test_a_crowd_connecting_at_once_is_counted_whole(settings):
    """Past 100 commands at once a plain redis.asyncio pool fails the rest, and the slots of a
    crowd reconnecting after a restart went uncounted (let in, as if Redis were down)."""
    settings.TASKPULSE_MAX_CONNECTIONS_PER_USER = 1000
    crowd = 300

    async def connect_all():
        return await asyncio.gather(
            *(connection_slots.slot_take(user_id=1, connection_id=f"c{n}") for n in range(crowd))
        )

    assert all(async_to_sync(connect_all)())
    assert redis.Redis.from_url(settings.REDIS_URL).zcard("taskpulse:connections:1") == crowd


def test_a_crowd_leaving_at_once_releases_every_slot(settings):
    settings.TASKPULSE_MAX_CONNECTIONS_PER_USER = 1000
    names = [f"c{n}" for n in range(300)]

    async def connect_then_leave_all():
        for name in names:
            await connection_slots.slot_take(user_id=1, connection_id=name)
        await asyncio.gather(
            *(connection_slots.slot_release(user_id=1, connection_id=name) for name in names)
        )

    async_to_sync(connect_then_leave_all)()

    assert redis.Redis.from_url(settings.REDIS_URL).zcard("taskpulse:connections:1") == 0


def test_a_stopping_process_releases_the_slots_it_holds_and_no_others():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.zadd("taskpulse:connections:1", {"other-process": time.time() + 60})
    take("a", user_id=1)
    take("b", user_id=2)

    async_to_sync(connection_slots.slots_release_held)()

    assert client.zrange("taskpulse:connections:1", 0, -1) == [b"other-process"]
    assert client.zrange("taskpulse:connections:2", 0, -1) == []


def test_a_slot_whose_lease_ended_is_free_again():
    """What a server process that died without releasing its slots leaves behind."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.zadd("taskpulse:connections:1", {"dead-a": time.time() - 1, "dead-b": time.time() - 1})

    assert take("a") is True
    assert client.zrange("taskpulse:connections:1", 0, -1) == [THIS_PROCESS + b"|a"]


def test_the_slots_are_counted_by_server_process_and_transport():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.zadd("taskpulse:connections:7", {"web-2:41|specific.x!y": time.time() + 60})
    take("specific.a!b", user_id=1)
    take("sse.0f0f", user_id=2)

    counted = async_to_sync(connection_slots.slots_by_process)()

    assert counted == {
        THIS_PROCESS.decode(): {"websocket": 1, "sse": 1},
        "web-2:41": {"websocket": 1, "sse": 0},
    }
    assert async_to_sync(connection_slots.slots_by_transport)() == {"websocket": 2, "sse": 1}


def test_no_limit_when_it_is_zero(settings):
    settings.TASKPULSE_MAX_CONNECTIONS_PER_USER = 0

    assert all(take(str(n)) for n in range(5))


def test_an_unreachable_redis_lets_the_connection_in(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    assert take("a") is True
