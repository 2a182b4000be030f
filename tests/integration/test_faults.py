"""Faults injected into the real processes mid-task. Each test follows a task with a client that
resumes from its last seq, and checks that it ends holding every event 1..final exactly once,
with the same final state as the database."""

import asyncio
import json
import os
import signal
from datetime import timedelta

import pytest

from django.utils import timezone

from tasks_app import maintenance, services
from tasks_app.models import Task, TaskEvent, TaskStatus
from tasks_app.progress import ProgressReporter
from tests.integration.follower import ResumingFollower
from tests.processes import WS_PING_INTERVAL, WS_PING_TIMEOUT, log_in, start_daphne, start_redis, start_worker

pytestmark = pytest.mark.integration

LONG_TICKER = {"kind": "ticker", "params": {"steps": 20, "interval": 0.3}}


def submit(http, body=LONG_TICKER) -> str:
    response = http.post(f"{http.base_url}/api/tasks/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["task_id"]


def after_messages(count: int, action):
    """A fault that runs `action(follower, ws)` once, after the follower has `count` messages."""
    done = []

    async def fault(follower, ws):
        if len(follower.messages) >= count and not done:
            done.append(True)
            await action(follower, ws)

    return fault


def assert_matches_database(follower: ResumingFollower, complete: dict) -> Task:
    task = Task.objects.get(pk=follower.task_id)
    follower.assert_exactly_once_up_to(task.last_seq)
    assert (complete["status"], complete["progress"], complete["result"], complete["seq"]) == (
        task.status,
        round(task.progress, 2),
        task.result,
        task.last_seq,
    )
    return task


async def close_from_client(follower, ws):
    await ws.close()


async def stop_reading_then_close(follower, ws):
    await asyncio.sleep(3)  # events keep coming meanwhile, unread
    await ws.close()


@pytest.mark.parametrize(
    "fault", [close_from_client, stop_reading_then_close], ids=["closes", "stops reading"]
)
def test_a_client_cut_off_mid_task_resumes_exactly(http, fault):
    follower = ResumingFollower(http, http.base_url, submit(http))

    complete = asyncio.run(follower.follow(after_messages(4, fault)))

    assert_matches_database(follower, complete)
    assert follower.connections >= 2


def test_a_stalled_reader_is_dropped_without_holding_up_others_and_still_ends_exact(http):
    # Long enough to outlive the stall, so the drop is Daphne's doing and not the task's end.
    task_id = submit(http, {"kind": "ticker", "params": {"steps": 40, "interval": 0.5}})
    stalled = ResumingFollower(http, http.base_url, task_id, max_queue=1)
    steady = ResumingFollower(http, http.base_url, task_id)

    async def stall(follower, ws):
        # Read nothing: the frames pile up, pings go unanswered, and Daphne drops the socket.
        await asyncio.sleep(WS_PING_INTERVAL + WS_PING_TIMEOUT + 4)

    async def both():
        return await asyncio.gather(stalled.follow(after_messages(3, stall)), steady.follow())

    stalled_complete, steady_complete = asyncio.run(both())

    assert_matches_database(stalled, stalled_complete)
    assert_matches_database(steady, steady_complete)
    assert stalled.connections >= 2, "the stalled socket was dropped, not buffered for without bound"
    assert steady.connections == 1


def test_daphne_killed_mid_task_is_survived_by_a_reconnecting_client(http, daphne_server):
    follower = ResumingFollower(http, http.base_url, submit(http))

    async def kill_and_restart(follower, ws):
        await asyncio.to_thread(daphne_server.kill)
        await asyncio.to_thread(daphne_server.start_again, daphne_server.answers)

    complete = asyncio.run(follower.follow(after_messages(4, kill_and_restart)))

    assert_matches_database(follower, complete)
    assert follower.connections >= 2


def test_a_worker_killed_mid_task_runs_it_again_in_the_same_event_log(http, celery_worker):
    follower = ResumingFollower(http, http.base_url, submit(http))

    async def kill_the_pool_process(follower, ws):
        (child,) = celery_worker.children()
        os.kill(child, signal.SIGKILL)

    complete = asyncio.run(follower.follow(after_messages(4, kill_the_pool_process)))

    task = assert_matches_database(follower, complete)
    assert (task.status, task.attempt) == (TaskStatus.COMPLETED, 2)


def test_a_task_whose_worker_never_returns_is_swept_and_its_clients_are_told(http, celery_worker, settings):
    follower = ResumingFollower(http, http.base_url, submit(http))

    async def kill_worker_then_sweep(follower, ws):
        await asyncio.to_thread(celery_worker.kill)
        later = timezone.now() + timedelta(seconds=settings.TASKPULSE_STALE_TASK_SECONDS + 1)
        await asyncio.to_thread(_sweep, later)

    try:
        complete = asyncio.run(follower.follow(after_messages(4, kill_worker_then_sweep)))
    finally:
        celery_worker.start_again(celery_worker.ready)

    task = assert_matches_database(follower, complete)
    assert task.status == TaskStatus.FAILED
    assert "stopped responding" in complete["error"]


def _sweep(now) -> None:
    from django.db import connection

    try:
        maintenance.tasks_fail_stale(after=maintenance.stale_after_default(), now=now)
    finally:
        connection.close()


def stop_cleanly(redis) -> None:
    redis.stop(keep_log_open=True)


def crash(redis) -> None:
    """SIGKILL, as a crash or the out-of-memory killer would."""
    redis.kill()


@pytest.mark.parametrize(
    ("take_down", "down_seconds"),
    [(stop_cleanly, 1), (crash, 1), (crash, 1), (crash, 1), (crash, 10), (crash, 60)],
    ids=[
        "stopped 1 s",
        "killed 1 s",
        "killed 1 s again",
        "killed 1 s a third time",
        "killed 10 s",
        "killed 60 s",
    ],
)
def test_redis_going_away_mid_task_is_survived_by_every_process_and_nothing_is_lost(
    process_env, logs_dir, live_user, take_down, down_seconds
):
    """Redis taken down, then back on the same port; a task that ends meanwhile still reaches its
    followers once Redis is back (the channel layer's resync)."""
    redis = start_redis(logs_dir, "redis-own")
    env = {**process_env, "REDIS_URL": redis.url}
    daphne = start_daphne(env, logs_dir, "daphne-own-redis")
    worker = start_worker(env, logs_dir, "celery-worker-own-redis", as_bin_run=True)
    try:
        http = log_in(daphne.base_url, live_user)
        follower = ResumingFollower(http, daphne.base_url, submit(http))

        async def take_redis_down(follower, ws):
            await asyncio.to_thread(take_down, redis)
            await asyncio.sleep(down_seconds)
            await asyncio.to_thread(redis.start_again, redis.answers)

        complete = asyncio.run(follower.follow(after_messages(4, take_redis_down)))
        assert_matches_database(follower, complete)
        assert (worker.popen.poll(), daphne.popen.poll()) == (None, None), worker.log()[-3000:]

        # The same worker and server take new work without having been restarted.
        next_task = ResumingFollower(
            http, daphne.base_url, submit(http, {"kind": "ticker", "params": {"steps": 2, "interval": 0}})
        )
        assert asyncio.run(next_task.follow())["status"] == "completed"
    finally:
        for process in (worker, daphne, redis):
            process.stop()


def test_a_reporter_called_100000_times_stays_bounded_and_exact(http, live_user, monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda task_id: None)  # the test process is the worker
    task = services.task_create(owner=live_user, kind="ticker", params={"steps": 1, "interval": 0})
    calls = 100_000

    def work() -> None:
        from django.db import connection

        try:
            services.task_start(task_id=task.id)
            reporter = ProgressReporter(task.id)
            reporter.step("Counting", until=100)
            for number in range(1, calls + 1):
                reporter.update(number, calls, f"{number:,} of {calls:,}")
            reporter.flush()
            services.task_complete(task_id=task.id, result={"calls": calls})
        finally:
            connection.close()

    follower = ResumingFollower(http, http.base_url, str(task.id))

    async def ping_while_busy(follower, ws):
        if len(follower.messages) == 3:
            await ws.send(json.dumps({"type": "ping"}))

    async def run_and_follow():
        busy = asyncio.create_task(asyncio.to_thread(work))
        complete = await follower.follow(ping_while_busy)
        await busy
        return complete

    complete = asyncio.run(run_and_follow())

    assert_matches_database(follower, complete)
    types = [message["type"] for message in follower.messages]
    assert types.index("pong") < types.index("complete"), "the socket answered while the reporter was busy"
    last_progress = [message for message in follower.messages if message["type"] == "progress"][-1]
    assert (last_progress["current"], last_progress["progress"]) == (calls, 100.0)
    assert TaskEvent.objects.filter(task=task).count() < 1000, "coalesced to a bounded number of events"
