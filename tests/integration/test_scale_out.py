"""Issue 7: several servers and workers on real engines. Two Daphne processes behind nginx
(deploy/nginx/taskpulse-proxy.conf, as shipped), two Celery workers, and the channel layer
sharded over two Redis servers; clients connect through nginx with no sticky session."""

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest
import redis
import requests
from channels_redis.utils import _consistent_hash

from django.conf import settings

from tasks_app.models import Task, TaskStatus
from tasks_app.realtime.broadcast import task_group
from tests.integration.follower import ResumingFollower
from tests.processes import ROOT, Process, _free_port, log_in, start_daphne, start_redis, start_worker

pytestmark = pytest.mark.integration

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Longer than a test task runs, so that a task is given to the other worker only once its own died.
VISIBILITY_TIMEOUT_SECONDS = 10
TICKER = {"kind": "ticker", "params": {"steps": 20, "interval": 0.25}}
CLIENTS_PER_TASK = 2


def nginx_config(directory: Path, port: int, upstreams: list[str]) -> Path:
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=5s;" for address in upstreams)
    temp_paths = "\n".join(
        f"    {name}_temp_path {directory / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = directory / "nginx.conf"
    config.write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
{temp_paths}
    access_log {directory / "access.log"};
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream taskpulse {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        include {ROOT / "deploy" / "nginx" / "taskpulse-proxy.conf"};
    }}
}}
"""
    )
    return config


@pytest.fixture
def cluster(process_env, logs_dir, tmp_path, live_user):
    """nginx → two Daphne; two workers; two channel layer shards and a broker of the test's own."""
    if not Path(NGINX).exists():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but nginx is not installed (bin/test installs it as root)")
        pytest.skip("nginx is not installed (bin/test installs Debian's nginx-light as root)")
    shards = [start_redis(logs_dir, name=f"redis-shard-{n}") for n in "ab"]
    broker = start_redis(logs_dir, name="redis-broker")
    env = {
        **process_env,
        "CHANNEL_LAYER_REDIS_URLS": ",".join(shard.url for shard in shards),
        "CELERY_BROKER_URL": broker.url,
        "TASKPULSE_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
        "TASKPULSE_BEHIND_PROXY": "1",
    }
    servers = [start_daphne(env, logs_dir, name=f"daphne-{n}") for n in "ab"]
    workers = [start_worker(env, logs_dir, name=f"worker-{n}") for n in "ab"]
    port = _free_port()
    config = nginx_config(tmp_path, port, [server.base_url.removeprefix("http://") for server in servers])
    proxy = Process("nginx", [NGINX, "-p", str(tmp_path), "-c", str(config)], os.environ.copy(), logs_dir)
    proxy.base_url = f"http://127.0.0.1:{port}"
    proxy.wait_until(lambda: _answers(proxy.base_url), "reachable")
    http = log_in(proxy.base_url, live_user)
    yield {"http": http, "servers": servers, "workers": workers, "shards": shards, "proxy": proxy}
    for process in [proxy, *servers, *workers, broker, *shards]:
        process.stop()


def _answers(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/accounts/login/", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def submit(http, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = http.post(f"{http.base_url}/api/tasks/", json=TICKER, timeout=10)
        assert response.status_code == 201, response.text
        ids.append(response.json()["task_id"])
    return ids


def follow_all(http, task_ids: list[str], fault) -> list[tuple[ResumingFollower, dict]]:
    followers = [
        ResumingFollower(http, http.base_url, task_id)
        for task_id in task_ids
        for _ in range(CLIENTS_PER_TASK)
    ]

    async def run():
        first = followers[0]
        completes = await asyncio.gather(
            *(follower.follow(fault if follower is first else None) for follower in followers)
        )
        return list(zip(followers, completes, strict=True))

    return asyncio.run(run())


def once(action):
    done = []

    async def fault(follower, ws):
        if len(follower.messages) >= 4 and not done:
            done.append(True)
            await asyncio.to_thread(action)

    return fault


def worker_running(workers: list[Process], task_ids: list[str]) -> Process:
    for worker in workers:
        if any(f"[{task_id}] received" in worker.log_since_start() for task_id in task_ids[:1]):
            return worker
    raise AssertionError("no worker received the first task")


def assert_every_client_got_every_event_once(results) -> None:
    for follower, complete in results:
        task = Task.objects.get(pk=follower.task_id)
        follower.assert_exactly_once_up_to(task.last_seq)
        assert (complete["status"], complete["seq"]) == (TaskStatus.COMPLETED, task.last_seq)


def test_killing_a_server_and_a_worker_mid_task_loses_no_event_for_any_client(cluster):
    http, servers, workers = cluster["http"], cluster["servers"], cluster["workers"]
    shards = cluster["shards"]
    task_ids = submit_until_groups_hash_to_every_shard(http, len(shards))
    groups_while_live = {}

    def kill_one_of_each():
        groups_while_live.update(groups_on_shards(shards))
        worker_running(workers, task_ids).kill()
        servers[0].kill()

    results = follow_all(http, task_ids, once(kill_one_of_each))

    assert_every_client_got_every_event_once(results)
    first = Task.objects.get(pk=task_ids[0])
    assert first.attempt == 2, "the killed worker's task ran again on the other worker"
    for task_id in task_ids:
        group = task_group(task_id)
        assert groups_while_live.get(group) == shard_of(group, len(shards)), f"{group} lived on its shard"


def test_a_rolling_restart_drains_a_server_and_lets_a_worker_finish_its_task(cluster):
    http, servers, workers = cluster["http"], cluster["servers"], cluster["workers"]
    task_ids = submit(http, 2)

    def stop_one_of_each_gracefully():
        running = worker_running(workers, task_ids)
        running.popen.send_signal(signal.SIGTERM)  # warm shutdown: finish the task, then exit
        servers[0].popen.send_signal(signal.SIGTERM)

    results = follow_all(http, task_ids, once(stop_one_of_each_gracefully))

    assert_every_client_got_every_event_once(results)
    assert Task.objects.get(pk=task_ids[0]).attempt == 1, "the stopping worker finished its task"
    drained = [follower for follower, _ in results if 1012 in follower.close_codes]
    assert drained, "clients of the stopped server were told 1012 and resumed elsewhere"


def submit_until_groups_hash_to_every_shard(http, shard_count: int) -> list[str]:
    """Three tasks, and more while their groups all hash to one shard (task ids are random), so that
    the test always sees groups spread over every shard."""
    task_ids = submit(http, 3)
    while len({shard_of(task_group(task_id), shard_count) for task_id in task_ids}) < shard_count:
        assert len(task_ids) < 12, "random task ids kept hashing to a single shard"
        task_ids += submit(http, 1)
    return task_ids


def shard_of(group: str, shard_count: int) -> int:
    """The shard channels-redis puts a group on: the core layer hashes the group's name, the
    pub/sub layer the name of the Redis channel it publishes the group on."""
    hashed = group if settings.CHANNEL_LAYER_KIND == "core" else f"asgi__group__{group}"
    return _consistent_hash(hashed, shard_count)


def groups_on_shards(shards: list[Process]) -> dict[str, int]:
    """Which shard holds each channel layer group right now: a sorted set of members (core), or
    a Redis channel that servers subscribe to (pub/sub)."""
    found = {}
    for index, shard in enumerate(shards):
        client = redis.Redis.from_url(shard.url)
        if settings.CHANNEL_LAYER_KIND == "core":
            names = [
                key.decode().removeprefix("asgi:group:") for key in client.scan_iter(match="asgi:group:*")
            ]
        else:
            names = [
                name.decode().removeprefix("asgi__group__")
                for name in client.pubsub_channels("asgi__group__*")
            ]
        found.update(dict.fromkeys(names, index))
    return found


def test_events_stream_through_nginx_as_they_happen_not_when_a_buffer_fills(cluster):
    http = cluster["http"]
    (task_id,) = submit(http, 1)
    statuses_at_arrival = []

    url = f"{http.base_url}/sse/tasks/{task_id}/"
    with http.get(url, headers={"Sec-Fetch-Site": "same-origin"}, stream=True, timeout=60) as response:
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                statuses_at_arrival.append(Task.objects.get(pk=task_id).status)
            if line == "event: complete":
                break

    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert statuses_at_arrival.count(TaskStatus.RUNNING) >= 5, "progress arrived while the task ran"
