"""Network faults between the app and Redis or PostgreSQL, through the fault-injecting proxy
(tests/fault_proxy.py): added latency for a whole task, every connection dropped mid-task, and a
link that stalls mid-task, then recovers or is cut. A follower that resumes ends with every event
exactly once, and the task completes in its first attempt."""

import asyncio
import re
from urllib.parse import urlsplit

import pytest

from django.db import connection

from tasks_app.models import TaskStatus
from tests.fault_proxy import FaultProxy
from tests.integration.follower import ResumingFollower
from tests.integration.test_faults import after_messages, assert_matches_database, submit
from tests.processes import log_in, start_daphne, start_redis, start_worker

pytestmark = pytest.mark.integration


@pytest.fixture
def proxied(process_env, logs_dir, live_user):
    """Daphne and a worker whose Redis (channel layer and broker) and database are each reached
    through a fault proxy. Yields (daphne, worker, {"redis": proxy, "database": proxy})."""
    redis = start_redis(logs_dir, "redis-network-faults")
    redis_proxy = FaultProxy("127.0.0.1", urlsplit(redis.url).port)
    env = {**process_env, "REDIS_URL": redis_proxy.url("redis://127.0.0.1:{port}/0")}
    proxies = {"redis": redis_proxy}
    if connection.vendor == "postgresql":
        database = connection.settings_dict
        proxies["database"] = FaultProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
        env["DATABASE_URL"] = re.sub(r":\d+/", f":{proxies['database'].port}/", process_env["DATABASE_URL"])
    daphne = start_daphne(env, logs_dir, "daphne-network-faults")
    worker = start_worker(env, logs_dir, "worker-network-faults", as_bin_run=True)
    yield daphne, worker, proxies
    for process in (worker, daphne, redis):
        process.stop()
    for proxy in proxies.values():
        proxy.close()


async def stall_then_heal(proxy):
    proxy.stall()
    await asyncio.sleep(3)
    proxy.heal()


async def stall_then_cut(proxy):
    """A partition that the network finally reports: held bytes are lost with the connections."""
    proxy.stall()
    await asyncio.sleep(3)
    proxy.drop_all()
    proxy.heal()


async def drop_every_connection(proxy):
    proxy.drop_all()


async def add_latency(proxy):
    proxy.add_latency(0.03)


@pytest.mark.parametrize("link", ["redis", "database"])
@pytest.mark.parametrize(
    "fault",
    [add_latency, drop_every_connection, stall_then_heal, stall_then_cut],
    ids=["30 ms latency", "connections dropped", "stalled 3 s", "stalled 3 s then cut"],
)
def test_a_network_fault_mid_task_loses_and_repeats_nothing(proxied, live_user, link, fault):
    daphne, worker, proxies = proxied
    if link not in proxies:
        pytest.skip("the database link is proxied only to PostgreSQL")
    http = log_in(daphne.base_url, live_user)
    follower = ResumingFollower(http, daphne.base_url, submit(http))

    async def inject(follower, ws):
        await fault(proxies[link])

    complete = asyncio.run(follower.follow(after_messages(4, inject)))

    task = assert_matches_database(follower, complete)
    assert (task.status, task.attempt) == (TaskStatus.COMPLETED, 1), worker.log()[-3000:]
    assert (worker.popen.poll(), daphne.popen.poll()) == (None, None)
