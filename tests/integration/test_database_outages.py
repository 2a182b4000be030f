"""The database going away mid-task, as operators meet it: every connection of Taskpulse's
processes killed (pg_terminate_backend, as a failover or an administrator does), the server
itself crashed and started again, or no database at all for a while. The reporter, the
consumers, the SSE stream and the API carry on once it is back, without a restart, and a
follower that resumes ends with every event exactly once."""

import asyncio
import os
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import psycopg2
import pytest

from django.db import connection

from tasks_app.models import TaskStatus
from tasks_app.unavailable import RETRY_AFTER_SECONDS
from tasks_app.worker.running import DATABASE_AWAY
from tests.fault_proxy import FaultProxy
from tests.integration.follower import ResumingFollower
from tests.integration.test_faults import after_messages, assert_matches_database, submit
from tests.processes import (
    ROOT,
    log_in,
    start_daphne,
    start_postgres,
    start_redis,
    start_worker,
    user_creation,
)

pytestmark = pytest.mark.integration

APPLICATION_NAME = "taskpulse-database-fault"


def kill_connections() -> int:
    """pg_terminate_backend every connection of the processes under test (by their
    application_name, so that the session's own server and worker are spared)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            [APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def database_proxy(process_env):
    """A fault proxy in front of the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    settings_dict = connection.settings_dict
    proxy = FaultProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432))
    yield proxy
    proxy.close()


def start_system(env: dict, logs_dir, name: str):
    """Daphne and a worker as bin/run starts it, with a Redis of their own, so that this worker,
    not the session's, runs the task."""
    redis = start_redis(logs_dir, f"redis-{name}")
    env = {**env, "REDIS_URL": redis.url, "PGAPPNAME": APPLICATION_NAME}
    daphne = start_daphne(env, logs_dir, f"daphne-{name}")
    worker = start_worker(env, logs_dir, f"worker-{name}", as_bin_run=True)
    return daphne, worker, redis


@pytest.fixture
def system(process_env, logs_dir, live_user):
    if connection.vendor != "postgresql":
        pytest.skip("kills PostgreSQL connections")
    daphne, worker, redis = start_system(process_env, logs_dir, "database-fault")
    yield daphne, worker
    for process in (worker, daphne, redis):
        process.stop()


@pytest.fixture
def system_behind_proxy(process_env, logs_dir, live_user, database_proxy, request):
    """The system reaching the database through the fault proxy; `outage_limit` (indirect
    parametrization) sets TASKPULSE_DATABASE_OUTAGE_SECONDS."""
    env = {
        **process_env,
        "DATABASE_URL": re.sub(r":\d+/", f":{database_proxy.port}/", process_env["DATABASE_URL"]),
        "TASKPULSE_DATABASE_OUTAGE_SECONDS": str(getattr(request, "param", 60)),
    }
    daphne, worker, redis = start_system(env, logs_dir, "database-proxy")
    yield daphne, worker
    for process in (worker, daphne, redis):
        process.stop()


@pytest.fixture(scope="module")
def own_postgres(logs_dir):
    """A PostgreSQL server of the tests' own with Taskpulse's schema and one user, iris: crashing
    the session's server would take every other test's database with it."""
    server = start_postgres(logs_dir, "postgres-crashed")
    admin = psycopg2.connect(server.url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE taskpulse")
    admin.close()
    server.database_url = server.url.rsplit("/", 1)[0] + "/taskpulse"
    env = {**os.environ, "DATABASE_URL": server.database_url}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "shell", "-v", "0", "-c", user_creation("iris")], env=env, cwd=ROOT, check=True)
    yield server
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture
def system_on_own_postgres(process_env, logs_dir, own_postgres):
    daphne, worker, redis = start_system(
        {**process_env, "DATABASE_URL": own_postgres.database_url}, logs_dir, "own-postgres"
    )
    yield daphne, worker
    for process in (worker, daphne, redis):
        process.stop()


@pytest.mark.parametrize("kills", [1, 3], ids=["once", "three times a second apart"])
def test_connections_killed_mid_task_are_survived_and_nothing_is_lost_or_repeated(system, live_user, kills):
    daphne, worker = system
    http = log_in(daphne.base_url, live_user)
    follower = ResumingFollower(http, daphne.base_url, submit(http))
    killed = []

    async def kill_repeatedly(follower, ws):
        for _ in range(kills):
            killed.append(await asyncio.to_thread(kill_connections))
            await asyncio.sleep(1)

    complete = asyncio.run(follower.follow(after_messages(4, kill_repeatedly)))

    task = assert_matches_database(follower, complete)
    assert all(killed), "there were connections to kill"
    assert (task.status, task.attempt) == (TaskStatus.COMPLETED, 1), worker.log()[-3000:]
    assert (worker.popen.poll(), daphne.popen.poll()) == (None, None)
    # The API answers again.
    assert http.get(f"{daphne.base_url}/api/tasks/{task.id}/", timeout=10).status_code == 200


def test_a_database_away_for_seconds_is_ridden_out_and_meanwhile_the_api_answers_503(
    system_behind_proxy, database_proxy, live_user
):
    """The database refusing every connection for 5 s, as while it restarts."""
    daphne, worker = system_behind_proxy
    http = log_in(daphne.base_url, live_user)
    follower = ResumingFollower(http, daphne.base_url, submit(http))
    answers = []

    async def take_the_database_away(follower, ws):
        await asyncio.to_thread(database_proxy.drop_all, refuse_for=5)
        await asyncio.sleep(0.5)
        answers.append(await asyncio.to_thread(http.get, f"{daphne.base_url}/api/tasks/", timeout=10))

    complete = asyncio.run(follower.follow(after_messages(4, take_the_database_away)))

    task = assert_matches_database(follower, complete)
    assert (task.status, task.attempt) == (TaskStatus.COMPLETED, 1), worker.log()[-3000:]
    (away,) = answers
    assert (away.status_code, away.headers["Content-Type"]) == (503, "application/json"), away.text
    assert (away.json()["error"], away.headers["Retry-After"]) == (
        "database_unavailable",
        str(RETRY_AFTER_SECONDS),
    )
    assert http.get(f"{daphne.base_url}/api/tasks/", timeout=10).status_code == 200


@pytest.mark.parametrize("system_behind_proxy", [2], indirect=True, ids=["limit 2 s"])
def test_a_database_away_past_the_limit_stops_the_work_and_fails_the_task_once_it_is_back(
    system_behind_proxy, database_proxy, live_user
):
    daphne, _worker = system_behind_proxy
    http = log_in(daphne.base_url, live_user)
    follower = ResumingFollower(http, daphne.base_url, submit(http))

    async def take_the_database_away(follower, ws):
        await asyncio.to_thread(database_proxy.drop_all, refuse_for=6)

    complete = asyncio.run(follower.follow(after_messages(4, take_the_database_away)))

    task = assert_matches_database(follower, complete)
    assert (task.status, task.error, task.attempt) == (TaskStatus.FAILED, DATABASE_AWAY, 1)
    assert [message["type"] for message in follower.messages].count("complete") == 1


@pytest.mark.parametrize("crashes", [1, 3], ids=["once", "three times"])
def test_the_database_server_crashing_and_starting_again_mid_task_loses_nothing(
    system_on_own_postgres, own_postgres, crashes
):
    """The PostgreSQL server and every backend SIGKILLed (the out-of-memory killer, a crashed
    host's service restarted), down for a second, then started again: it recovers from its log,
    and the task carries on where it was."""
    daphne, worker = system_on_own_postgres
    http = log_in(daphne.base_url, SimpleNamespace(username="iris"))
    follower = ResumingFollower(http, daphne.base_url, submit(http))

    async def crash_the_database(follower, ws):
        for _ in range(crashes):
            await asyncio.to_thread(own_postgres.kill)
            await asyncio.sleep(1)
            await asyncio.to_thread(own_postgres.start_again, own_postgres.answers)
            await asyncio.sleep(1)

    complete = asyncio.run(follower.follow(after_messages(4, crash_the_database)))

    task = http.get(f"{daphne.base_url}/api/tasks/{follower.task_id}/", timeout=10).json()
    follower.assert_exactly_once_up_to(task["seq"])
    fields = ("status", "result", "seq")
    assert [complete[field] for field in fields] == [task[field] for field in fields]
    assert (task["status"], task["attempt"]) == (TaskStatus.COMPLETED, 1), worker.log()[-3000:]
    assert (worker.popen.poll(), daphne.popen.poll()) == (None, None)
