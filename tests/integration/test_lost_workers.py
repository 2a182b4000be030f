"""A whole worker killed mid-task (SIGKILL of its main process and pool, as a crash or the
out-of-memory killer would) and another started: the task runs again as a new attempt in the same
event log, and its follower ends with every event exactly once. With Redis as the broker the lost
worker's lease runs out and beat sends the task again; RabbitMQ gives the message back at once."""

import asyncio
from datetime import timedelta

import pytest

from django.utils import timezone

from tasks_app.models import TaskEvent, TaskStatus
from tests.integration.follower import ResumingFollower
from tests.integration.test_faults import after_messages, assert_matches_database, submit
from tests.processes import log_in, start_daphne, start_redis, start_worker

pytestmark = pytest.mark.integration

# The promise (docs/operations.md): with the default lease of 30 s, within 1.5 leases.
RECOVERED_WITHIN = timedelta(seconds=60)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_env(request, process_env, logs_dir):
    """The environment of a system of its own: its own Redis (channel layer, and the broker for
    `redis`), or RabbitMQ as the broker."""
    redis = start_redis(logs_dir, f"redis-lost-worker-{request.param}")
    env = {**process_env, "REDIS_URL": redis.url}
    if request.param == "rabbitmq":
        env["CELERY_BROKER_URL"] = request.getfixturevalue("rabbitmq_url")
    yield request.param, env
    redis.stop()


def test_a_whole_worker_killed_mid_task_is_replaced_and_its_task_runs_again(broker_env, logs_dir, live_user):
    broker, env = broker_env
    daphne = start_daphne(env, logs_dir, f"daphne-lost-worker-{broker}")
    workers = [start_worker(env, logs_dir, f"worker-lost-{broker}-first", as_bin_run=True)]
    killed_at = []
    try:
        http = log_in(daphne.base_url, live_user)
        follower = ResumingFollower(http, daphne.base_url, submit(http))

        async def kill_the_worker_and_start_another(follower, ws):
            await asyncio.to_thread(workers[0].kill)
            killed_at.append(timezone.now())
            workers.append(
                await asyncio.to_thread(
                    start_worker, env, logs_dir, f"worker-lost-{broker}-second", as_bin_run=True
                )
            )

        complete = asyncio.run(follower.follow(after_messages(4, kill_the_worker_and_start_another)))

        task = assert_matches_database(follower, complete)
        assert (task.status, task.attempt) == (TaskStatus.COMPLETED, 2)
        # Redis: sent again as dispatch 2 once the lease ran out; RabbitMQ: the same message back.
        assert task.dispatch == (2 if broker == "redis" else 1)
        restarted = TaskEvent.objects.get(
            task=task, payload__attempt=2, payload__message__startswith="Started"
        )
        assert restarted.created_at - killed_at[0] < RECOVERED_WITHIN
    finally:
        for process in (*workers, daphne):
            process.stop()
